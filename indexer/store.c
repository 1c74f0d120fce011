/* store.c - the index directory (LOCK, CURRENT, generations), its LMDB environment, version
 * checks and map growth. */
#include "format.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "analyzer.h"

/* Readers map far more than the file holds (mapping past the end costs address space only), so
 * a writer in another process rarely outgrows them; when it does, they remap. */
#define SG_READ_MAP_RESERVE (sizeof(size_t) >= 8 ? (size_t)8 << 30 : (size_t)256 << 20)

/* ---- errors -------------------------------------------------------------------------------- */

int sg_store_mdb_error(int rc, const char *what, seogo_error *err) {
  switch (rc) {
    case MDB_MAP_FULL:
      return sg_fail(err, SEOGO_EFULL, "%s: the index map is full", what);
    case ENOSPC:
    case EDQUOT:
      return sg_fail(err, SEOGO_EFULL, "%s: the disk is full", what);
    case EFBIG:
      return sg_fail(err, SEOGO_EFULL, "%s: the index file has reached the file size limit "
                     "(ulimit -f)", what);
    case ENOMEM:
      return sg_fail(err, SEOGO_ENOMEM, "%s: out of memory", what);
    case EACCES:
    case EROFS:
    case EPERM:
      return sg_fail(err, SEOGO_EREADONLY, "%s: %s", what, strerror(rc));
    case MDB_CORRUPTED:
    case MDB_INVALID:
    case MDB_PAGE_NOTFOUND:
    case MDB_VERSION_MISMATCH:
    case MDB_INCOMPATIBLE:
    case MDB_BAD_VALSIZE:
      return sg_fail(err, SEOGO_ECORRUPT, "%s: the index is corrupt (%s)", what,
                     mdb_strerror(rc));
    default:
      return sg_fail(err, SEOGO_EIO, "%s: %s", what, mdb_strerror(rc));
  }
}

/* Space below this on the index's file system makes an EIO from LMDB a full disk. */
#define SG_LOW_SPACE ((uint64_t)16 << 20)

/* Whether data.mdb ends within a page or so of the process's file size limit (a write past
 * it is cut short, which LMDB reports as EIO). */
static int at_file_size_limit(const sg_store *s) {
  struct rlimit rl;
  if (getrlimit(RLIMIT_FSIZE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY) return 0;
  size_t n = strlen(s->gen_dir) + sizeof "/data.mdb";
  char *path = malloc(n);
  struct stat st;
  int near = 0;
  if (path) {
    snprintf(path, n, "%s/data.mdb", s->gen_dir);
    near = stat(path, &st) == 0 && (uint64_t)st.st_size + 65536 >= (uint64_t)rl.rlim_cur;
  }
  free(path);
  return near;
}

int sg_store_write_error(sg_store *s, int rc, seogo_error *err) {
  struct statvfs fs;
  if (rc == EIO && at_file_size_limit(s))
    rc = EFBIG;
  else if (rc == EIO && statvfs(s->gen_dir, &fs) == 0 &&
           (uint64_t)fs.f_bavail * fs.f_frsize < SG_LOW_SPACE)
    rc = ENOSPC;
  return sg_store_mdb_error(rc, s->dir, err);
}

static int errno_status(int e) {
  if (e == EACCES || e == EROFS || e == EPERM) return SEOGO_EREADONLY;
  if (e == ENOSPC || e == EDQUOT) return SEOGO_EFULL;
  return SEOGO_EIO;
}

/* ---- paths and the directory ------------------------------------------------------------- */

static char *join_path(const char *dir, const char *name) {
  size_t n = strlen(dir) + strlen(name) + 2;
  char *p = malloc(n);
  if (p) snprintf(p, n, "%s/%s", dir, name);
  return p;
}

static char *gen_path(const char *dir, unsigned gen) {
  char name[32];
  snprintf(name, sizeof name, "gen-%06u", gen);
  return join_path(dir, name);
}

/* Parses "gen-NNNNNN" (at least one digit); 0 when name is not a generation. */
static unsigned parse_gen(const char *name, size_t len) {
  if (len < 5 || len > 14 || memcmp(name, "gen-", 4) != 0) return 0;
  unsigned long v = 0;
  for (size_t i = 4; i < len; i++) {
    if (name[i] < '0' || name[i] > '9') return 0;
    v = v * 10 + (unsigned long)(name[i] - '0');
  }
  return v > 0 && v < 1000000000UL ? (unsigned)v : 0;
}

/* Reads CURRENT: SEOGO_OK with *gen, SEOGO_NOTFOUND when absent, SEOGO_ECORRUPT when garbled. */
static int read_current(const char *dir, unsigned *gen, seogo_error *err) {
  char *path = join_path(dir, "CURRENT");
  if (!path) return sg_fail(err, SEOGO_ENOMEM, "out of memory");
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  free(path);
  if (fd < 0) {
    if (errno == ENOENT) return SEOGO_NOTFOUND;
    return sg_fail(err, SEOGO_EIO, "%s/CURRENT: %s", dir, strerror(errno));
  }
  char buf[32];
  ssize_t n = read(fd, buf, sizeof buf);
  close(fd);
  if (n < 2 || buf[n - 1] != '\n' || !(*gen = parse_gen(buf, (size_t)n - 1)))
    return sg_fail(err, SEOGO_ECORRUPT,
                   "index at %s is damaged: its CURRENT file is unreadable; rebuild it with "
                   "seogo-index --rebuild",
                   dir);
  return SEOGO_OK;
}

static int fsync_dir(const char *dir) {
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return -1;
  int rc = fsync(fd);
  close(fd);
  return rc;
}

/* Replaces CURRENT atomically: readers see the old generation or the new one, never neither. */
static int write_current(const char *dir, unsigned gen, seogo_error *err) {
  char *tmp = join_path(dir, "CURRENT.tmp"), *cur = join_path(dir, "CURRENT");
  int rc = SEOGO_OK;
  if (!tmp || !cur) {
    rc = sg_fail(err, SEOGO_ENOMEM, "out of memory");
    goto done;
  }
  char line[32];
  int n = snprintf(line, sizeof line, "gen-%06u\n", gen);
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0 || write(fd, line, (size_t)n) != n || fsync(fd) != 0) {
    int e = errno;
    if (fd >= 0) close(fd);
    rc = sg_fail(err, errno_status(e), "%s: %s", tmp, strerror(e));
    goto done;
  }
  close(fd);
  if (rename(tmp, cur) != 0) {
    rc = sg_fail(err, errno_status(errno), "%s: %s", cur, strerror(errno));
    goto done;
  }
  fsync_dir(dir);
done:
  free(tmp);
  free(cur);
  return rc;
}

/* Removes a generation directory: LMDB keeps only data.mdb and lock.mdb in it. */
static void remove_gen(const char *dir, unsigned gen) {
  char *g = gen_path(dir, gen);
  if (!g) return;
  char *data = join_path(g, "data.mdb"), *lock = join_path(g, "lock.mdb");
  if (data) unlink(data);
  if (lock) unlink(lock);
  rmdir(g);
  free(data);
  free(lock);
  free(g);
}

/* Scans the directory: the highest generation present, and whether anything in it is not
 * ours (then it is somebody else's directory, and we must not write into it). */
static int scan_dir(const char *dir, unsigned *max_gen, int *foreign, seogo_error *err) {
  DIR *d = opendir(dir);
  if (!d) return sg_fail(err, errno_status(errno), "%s: %s", dir, strerror(errno));
  *max_gen = 0;
  *foreign = 0;
  struct dirent *e;
  while ((e = readdir(d))) {
    const char *n = e->d_name;
    if (!strcmp(n, ".") || !strcmp(n, "..")) continue;
    unsigned g = parse_gen(n, strlen(n));
    if (g > *max_gen) *max_gen = g;
    if (!g && strcmp(n, "LOCK") && strcmp(n, "CURRENT") && strcmp(n, "CURRENT.tmp")) *foreign = 1;
  }
  closedir(d);
  return SEOGO_OK;
}

/* Removes generations other than `keep`: leftovers of a rebuild that was interrupted, or of a
 * publish whose clean-up did not finish. Only called while holding the writer lock. */
static void remove_stale_gens(const char *dir, unsigned keep) {
  DIR *d = opendir(dir);
  if (!d) return;
  unsigned stale[64];
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)) && n < 64) {
    unsigned g = parse_gen(e->d_name, strlen(e->d_name));
    if (g && g != keep) stale[n++] = g;
  }
  closedir(d);
  for (int i = 0; i < n; i++) remove_gen(dir, stale[i]);
}

static int make_dirs(const char *path, seogo_error *err) {
  char *p = strdup(path);
  if (!p) return sg_fail(err, SEOGO_ENOMEM, "out of memory");
  for (char *q = p + 1;; q++) {
    if (*q != '/' && *q) continue;
    char c = *q;
    *q = 0;
    if (mkdir(p, 0777) != 0 && errno != EEXIST) {
      int e = errno;
      int rc = sg_fail(err, errno_status(e), "cannot create the index directory %s: %s", p,
                       strerror(e));
      free(p);
      return rc;
    }
    if (!c) break;
    *q = c;
  }
  free(p);
  return SEOGO_OK;
}

/* ---- the LMDB environment ----------------------------------------------------------------- */

static int open_dbis(sg_store *s, int create, seogo_error *err) {
  MDB_txn *txn;
  int rc = mdb_txn_begin(s->env, NULL, s->writable ? 0 : MDB_RDONLY, &txn);
  if (rc) return sg_store_mdb_error(rc, s->dir, err);
  struct {
    const char *name;
    MDB_dbi *dbi;
  } dbs[] = {{"meta", &s->meta},         {"docs", &s->docs},   {"paths", &s->paths},
             {"text", &s->text},         {"passages", &s->passages},
             {"norms", &s->norms},       {"terms", &s->terms}, {"postings", &s->postings}};
  for (size_t i = 0; i < sizeof dbs / sizeof dbs[0]; i++) {
    rc = mdb_dbi_open(txn, dbs[i].name, create ? MDB_CREATE : 0, dbs[i].dbi);
    if (rc) {
      mdb_txn_abort(txn);
      if (rc == MDB_NOTFOUND || rc == MDB_INCOMPATIBLE)
        return sg_fail(err, SEOGO_ECORRUPT,
                       "%s is not a Seogo index (its database has no \"%s\" table)", s->dir,
                       dbs[i].name);
      return sg_store_mdb_error(rc, s->dir, err);
    }
  }
  rc = mdb_txn_commit(txn);
  return rc ? sg_store_mdb_error(rc, s->dir, err) : SEOGO_OK;
}

/* An existing generation's data.mdb must hold every page its meta page counts: LMDB maps the
 * file and trusts it, so reading a page past a truncated end would kill the process (SIGBUS).
 * `before_open` checks only that the file is not empty (LMDB would take it for a new one). */
static int check_data_size(sg_store *s, int before_open, seogo_error *err) {
  char *path = join_path(s->gen_dir, "data.mdb");
  if (!path) return sg_fail(err, SEOGO_ENOMEM, "out of memory");
  struct stat st;
  int found = stat(path, &st) == 0;
  free(path);
  if (!found) return SEOGO_OK; /* a missing generation is the caller's to judge */
  uint64_t need = 1;
  if (!before_open) {
    MDB_envinfo info;
    MDB_stat ms;
    if (mdb_env_info(s->env, &info) || mdb_env_stat(s->env, &ms)) return SEOGO_OK;
    need = ((uint64_t)info.me_last_pgno + 1) * ms.ms_psize;
  }
  if ((uint64_t)st.st_size >= need) return SEOGO_OK;
  return sg_fail(err, SEOGO_ECORRUPT,
                 "index at %s is damaged: %s/data.mdb is %s (%llu bytes); rebuild it with "
                 "seogo-index --rebuild",
                 s->dir, s->gen_dir, st.st_size ? "truncated" : "empty",
                 (unsigned long long)st.st_size);
}

/* LMDB's lock file for its default 126 readers. */
#define SG_LOCK_FILE_BYTES 8192

/* LMDB sizes a new lock.mdb with ftruncate and writes it through a memory map: on a full disk
 * that write finds no block and kills the process with SIGBUS. Allocating the file first turns
 * a full disk into an error. Directories we may not write are left to LMDB's read-only path. */
static int reserve_lock_file(sg_store *s, seogo_error *err) {
  size_t n = strlen(s->gen_dir) + sizeof "/lock.mdb";
  char *path = malloc(n);
  if (!path) return sg_fail(err, SEOGO_ENOMEM, "out of memory");
  snprintf(path, n, "%s/lock.mdb", s->gen_dir);
  int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  int rc = fd < 0 ? 0 : posix_fallocate(fd, 0, SG_LOCK_FILE_BYTES);
  if (fd >= 0) close(fd);
  free(path);
  if (rc == ENOSPC || rc == EDQUOT)
    return sg_fail(err, SEOGO_EFULL, "%s: the disk is full (no room for its lock file)", s->dir);
  return SEOGO_OK;
}

static int env_open(sg_store *s, int create, seogo_error *err) {
  int rc = mdb_env_create(&s->env);
  if (rc) return sg_store_mdb_error(rc, s->dir, err);
  mdb_env_set_maxdbs(s->env, SG_MAX_DBS);
  if (!s->writable) mdb_env_set_mapsize(s->env, SG_READ_MAP_RESERVE);
  else if (create) mdb_env_set_mapsize(s->env, SG_INITIAL_MAP_SIZE);
  unsigned flags = MDB_NOTLS | (s->writable ? 0 : MDB_RDONLY);
  if (!create && (rc = check_data_size(s, 1, err))) return rc;
  if ((rc = reserve_lock_file(s, err))) return rc;
  rc = mdb_env_open(s->env, s->gen_dir, flags, 0644);
  if (!s->writable && (rc == EACCES || rc == EROFS)) {
    /* A read-only directory: no writer can be at work in it, so no reader locks are needed. */
    mdb_env_close(s->env);
    mdb_env_create(&s->env);
    mdb_env_set_maxdbs(s->env, SG_MAX_DBS);
    mdb_env_set_mapsize(s->env, SG_READ_MAP_RESERVE);
    rc = mdb_env_open(s->env, s->gen_dir, flags | MDB_NOLOCK, 0644);
  }
  if (rc) {
    mdb_env_close(s->env);
    s->env = NULL;
    if (rc == ENOENT) return SEOGO_NOTFOUND; /* the caller decides what a missing gen means */
    if (rc == MDB_INVALID || rc == MDB_VERSION_MISMATCH)
      return sg_fail(err, SEOGO_ECORRUPT, "%s is not a Seogo index (%s)", s->dir,
                     mdb_strerror(rc));
    return sg_store_mdb_error(rc, s->dir, err);
  }
  if (!create && (rc = check_data_size(s, 0, err))) return rc;
  /* readers killed while reading leave their slots taken, which keeps old pages from reuse */
  if (s->writable) mdb_reader_check(s->env, NULL);
  MDB_envinfo info;
  mdb_env_info(s->env, &info);
  s->map_size = info.me_mapsize;
  if (s->writable && s->map_size < SG_INITIAL_MAP_SIZE) {
    if ((rc = mdb_env_set_mapsize(s->env, SG_INITIAL_MAP_SIZE)))
      return sg_store_mdb_error(rc, s->dir, err);
    s->map_size = SG_INITIAL_MAP_SIZE;
  }
  return open_dbis(s, create, err);
}

static int get_meta(sg_store *s, MDB_txn *txn, const char *name, MDB_val *val, seogo_error *err) {
  MDB_val key = {strlen(name), (void *)name};
  int rc = mdb_get(txn, s->meta, &key, val);
  if (rc == MDB_NOTFOUND)
    return sg_fail(err, SEOGO_ECORRUPT, "%s is not a Seogo index (no \"%s\" in its meta table)",
                   s->dir, name);
  return rc ? sg_store_mdb_error(rc, s->dir, err) : SEOGO_OK;
}

static int check_version(sg_store *s, MDB_txn *txn, const char *what, uint32_t expected,
                         seogo_error *err) {
  MDB_val v;
  int rc = get_meta(s, txn, what, &v, err);
  if (rc) return rc;
  if (v.mv_size != 4)
    return sg_fail(err, SEOGO_ECORRUPT, "index at %s is corrupt: bad %s version record", s->dir,
                   what);
  uint32_t found = sg_get_be32(v.mv_data);
  if (found != expected)
    return sg_fail(err, SEOGO_EVERSION,
                   "index at %s was written by %s version %u; this is version %u: rebuild it "
                   "with seogo-index --rebuild",
                   s->dir, what, (unsigned)found, (unsigned)expected);
  return SEOGO_OK;
}

static int check_meta(sg_store *s, seogo_error *err) {
  MDB_txn *txn;
  int rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn);
  if (rc) return sg_store_mdb_error(rc, s->dir, err);
  MDB_val v;
  rc = get_meta(s, txn, "magic", &v, err);
  if (!rc && (v.mv_size != SG_MAGIC_LEN || memcmp(v.mv_data, SG_MAGIC, SG_MAGIC_LEN)))
    rc = sg_fail(err, SEOGO_ECORRUPT, "%s is not a Seogo index (wrong magic)", s->dir);
  if (!rc) rc = check_version(s, txn, "format", SG_FORMAT_VERSION, err);
  if (!rc) rc = check_version(s, txn, "analyzer", SG_ANALYZER_VERSION, err);
  sg_stats stats;
  if (!rc) rc = sg_store_get_stats(s, txn, &stats, err);
  mdb_txn_abort(txn);
  return rc;
}

static int put_meta(sg_store *s, MDB_txn *txn, const char *name, const void *data, size_t len) {
  MDB_val key = {strlen(name), (void *)name}, val = {len, (void *)data};
  return mdb_put(txn, s->meta, &key, &val, 0);
}

/* Writes the meta records of a new, empty generation. */
static int init_meta(sg_store *s, seogo_error *err) {
  MDB_txn *txn;
  int rc = mdb_txn_begin(s->env, NULL, 0, &txn);
  if (rc) return sg_store_mdb_error(rc, s->dir, err);
  unsigned char fmt[4], ana[4];
  sg_put_be32(fmt, SG_FORMAT_VERSION);
  sg_put_be32(ana, SG_ANALYZER_VERSION);
  sg_stats stats = {.next_doc_id = 1, .next_passage_id = 1};
  if ((rc = put_meta(s, txn, "magic", SG_MAGIC, SG_MAGIC_LEN)) ||
      (rc = put_meta(s, txn, "format", fmt, 4)) || (rc = put_meta(s, txn, "analyzer", ana, 4))) {
    mdb_txn_abort(txn);
    return sg_store_mdb_error(rc, s->dir, err);
  }
  if ((rc = sg_store_put_stats(s, txn, &stats, err))) {
    mdb_txn_abort(txn);
    return rc;
  }
  rc = mdb_txn_commit(txn);
  return rc ? sg_store_mdb_error(rc, s->dir, err) : SEOGO_OK;
}

/* Creates generation `gen` afresh (removing any half-built leftover of the same number). */
static int create_gen(sg_store *s, unsigned gen, seogo_error *err) {
  remove_gen(s->dir, gen);
  s->gen = gen;
  free(s->gen_dir);
  if (!(s->gen_dir = gen_path(s->dir, gen))) return sg_fail(err, SEOGO_ENOMEM, "out of memory");
  if (mkdir(s->gen_dir, 0777) != 0)
    return sg_fail(err, errno_status(errno), "%s: %s", s->gen_dir, strerror(errno));
  int rc = env_open(s, 1, err);
  if (rc == SEOGO_NOTFOUND) rc = sg_fail(err, SEOGO_EIO, "%s vanished", s->gen_dir);
  return rc ? rc : init_meta(s, err);
}

/* A rebuild's commits are read by nobody until sg_store_publish, which syncs once: syncing
 * each of them would only make the rebuild wait for the disk. Every other commit is synced,
 * to be durable when it returns. */
static void set_sync(sg_store *s) {
  mdb_env_set_flags(s->env, MDB_NOSYNC, s->fresh && !s->published);
}

static int open_gen(sg_store *s, unsigned gen, seogo_error *err) {
  s->gen = gen;
  free(s->gen_dir);
  if (!(s->gen_dir = gen_path(s->dir, gen))) return sg_fail(err, SEOGO_ENOMEM, "out of memory");
  int rc = env_open(s, 0, err);
  return rc ? rc : check_meta(s, err);
}

/* ---- opening --------------------------------------------------------------------------------- */

/* A directory without CURRENT: the start of a first run that was stopped before its first
 * commit (LOCK and generations only) holds nothing yet; anything else is not an index. */
static int no_current(const char *dir, seogo_error *err) {
  unsigned max_gen;
  int foreign;
  char *lock = join_path(dir, "LOCK");
  int started = lock && access(lock, F_OK) == 0;
  free(lock);
  if (scan_dir(dir, &max_gen, &foreign, NULL) == SEOGO_OK && !foreign && (started || max_gen))
    return sg_fail(err, SEOGO_EIO,
                   "index at %s holds nothing yet: its first indexing run stopped before its "
                   "first commit; run seogo-index again",
                   dir);
  return sg_fail(err, SEOGO_ECORRUPT, "%s is not a Seogo index (it has no CURRENT file)", dir);
}

static int open_for_read(sg_store *s, seogo_error *err) {
  struct stat st;
  if (stat(s->dir, &st) != 0)
    return sg_fail(err, SEOGO_EIO, "no index at %s (%s); create one with seogo-index", s->dir,
                   strerror(errno));
  if (!S_ISDIR(st.st_mode))
    return sg_fail(err, SEOGO_ECORRUPT, "%s is not a Seogo index (not a directory)", s->dir);
  /* A rebuild may publish and delete the generation between our reading CURRENT and opening
   * it: read CURRENT again then. */
  for (int attempt = 0; attempt < 5; attempt++) {
    unsigned gen;
    int rc = read_current(s->dir, &gen, err);
    if (rc == SEOGO_NOTFOUND) return no_current(s->dir, err);
    if (rc) return rc;
    rc = open_gen(s, gen, err);
    if (rc != SEOGO_NOTFOUND) return rc;
  }
  return sg_fail(err, SEOGO_ECORRUPT, "index at %s is damaged: %s is missing", s->dir,
                 s->gen_dir);
}

static int take_lock(sg_store *s, unsigned flags, seogo_error *err) {
  char *path = join_path(s->dir, "LOCK");
  if (!path) return sg_fail(err, SEOGO_ENOMEM, "out of memory");
  s->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  free(path);
  if (s->lock_fd < 0) {
    int e = errno;
    if (errno_status(e) == SEOGO_EREADONLY)
      return sg_fail(err, SEOGO_EREADONLY, "index at %s is read-only (%s)", s->dir, strerror(e));
    return sg_fail(err, SEOGO_EIO, "%s/LOCK: %s", s->dir, strerror(e));
  }
  int op = LOCK_EX | ((flags & SG_STORE_NOWAIT) ? LOCK_NB : 0);
  while (flock(s->lock_fd, op) != 0) {
    if (errno == EINTR) continue;
    int e = errno;
    close(s->lock_fd);
    s->lock_fd = -1;
    if (e == EWOULDBLOCK)
      return sg_fail(err, SEOGO_EBUSY, "another process is writing to the index at %s", s->dir);
    return sg_fail(err, SEOGO_EIO, "%s/LOCK: %s", s->dir, strerror(e));
  }
  return SEOGO_OK;
}

static int open_for_write(sg_store *s, unsigned flags, seogo_error *err) {
  int rc = make_dirs(s->dir, err);
  if (rc) return rc;
  unsigned max_gen, gen = 0;
  int foreign;
  if ((rc = scan_dir(s->dir, &max_gen, &foreign, err))) return rc;
  rc = read_current(s->dir, &gen, err);
  int exists = rc != SEOGO_NOTFOUND;
  if (!exists && foreign)
    return sg_fail(err, SEOGO_ECORRUPT,
                   "%s is not a Seogo index (it holds other files); choose a new or empty "
                   "directory",
                   s->dir);
  if (rc && (rc != SEOGO_ECORRUPT || !(flags & SG_STORE_FRESH)) && rc != SEOGO_NOTFOUND)
    return rc;
  if ((rc = take_lock(s, flags, err))) return rc;
  /* Another writer may have finished a rebuild while we waited for the lock. */
  rc = read_current(s->dir, &gen, err);
  if (rc == SEOGO_NOTFOUND) {
    scan_dir(s->dir, &max_gen, &foreign, NULL);
    if ((rc = create_gen(s, max_gen + 1, err))) return rc;
    return write_current(s->dir, s->gen, err);
  }
  if (flags & SG_STORE_FRESH) {
    /* a garbled CURRENT is no obstacle to a rebuild: rebuilding is the cure */
    s->fresh = 1;
    s->prev_gen = rc == SEOGO_OK ? gen : 0;
    scan_dir(s->dir, &max_gen, &foreign, NULL);
    unsigned next = (max_gen > gen ? max_gen : gen) + 1;
    remove_stale_gens(s->dir, s->prev_gen);
    if ((rc = create_gen(s, next, err))) return rc;
    set_sync(s);
    return SEOGO_OK;
  }
  if (rc) return rc;
  remove_stale_gens(s->dir, gen);
  rc = open_gen(s, gen, err);
  if (rc == SEOGO_NOTFOUND)
    rc = sg_fail(err, SEOGO_ECORRUPT,
                 "index at %s is damaged: %s is missing; rebuild it with seogo-index --rebuild",
                 s->dir, s->gen_dir);
  return rc;
}

int sg_store_open(const char *path, unsigned flags, sg_store **out, seogo_error *err) {
  *out = NULL;
  if (!path || !*path) return sg_fail(err, SEOGO_EINVAL, "no index path given");
  sg_store *s = calloc(1, sizeof *s);
  if (!s) return sg_fail(err, SEOGO_ENOMEM, "out of memory");
  s->lock_fd = -1;
  s->writable = (flags & SG_STORE_WRITE) != 0;
  pthread_mutex_init(&s->map_lock, NULL);
  pthread_cond_init(&s->map_cond, NULL);
  if (!(s->dir = strdup(path))) {
    sg_store_close(s);
    return sg_fail(err, SEOGO_ENOMEM, "out of memory");
  }
  size_t n = strlen(s->dir);
  while (n > 1 && s->dir[n - 1] == '/') s->dir[--n] = 0;
  int rc = s->writable ? open_for_write(s, flags, err) : open_for_read(s, err);
  if (rc) {
    sg_store_close(s);
    return rc;
  }
  *out = s;
  return SEOGO_OK;
}

void sg_store_close(sg_store *s) {
  if (!s) return;
  if (s->env) mdb_env_close(s->env);
  /* an unpublished rebuild is abandoned: the current generation stays as it was */
  if (s->fresh && !s->published && s->gen) remove_gen(s->dir, s->gen);
  if (s->lock_fd >= 0) close(s->lock_fd);
  pthread_mutex_destroy(&s->map_lock);
  pthread_cond_destroy(&s->map_cond);
  free(s->dir);
  free(s->gen_dir);
  free(s);
}

int sg_store_publish(sg_store *s, seogo_error *err) {
  if (!s->fresh || s->published) return SEOGO_OK;
  int rc = mdb_env_sync(s->env, 1);
  if (rc) return sg_store_mdb_error(rc, s->dir, err);
  if ((rc = write_current(s->dir, s->gen, err))) return rc;
  s->published = 1;
  set_sync(s);
  /* Readers that opened the old generation keep their open files; new ones follow CURRENT. */
  if (s->prev_gen) remove_gen(s->dir, s->prev_gen);
  s->prev_gen = 0;
  return SEOGO_OK;
}

/* ---- transactions and map growth -------------------------------------------------------------- */

/* Runs set_mapsize once no read transaction of this process is open. */
static int remap(sg_store *s, size_t size, seogo_error *err) {
  pthread_mutex_lock(&s->map_lock);
  while (s->remapping) pthread_cond_wait(&s->map_cond, &s->map_lock);
  s->remapping = 1;
  while (s->reads > 0) pthread_cond_wait(&s->map_cond, &s->map_lock);
  int rc = mdb_env_set_mapsize(s->env, size);
  if (!rc) {
    MDB_envinfo info;
    mdb_env_info(s->env, &info);
    s->map_size = info.me_mapsize;
  }
  s->remapping = 0;
  pthread_cond_broadcast(&s->map_cond);
  pthread_mutex_unlock(&s->map_lock);
  return rc ? sg_store_mdb_error(rc, s->dir, err) : SEOGO_OK;
}

int sg_store_read_begin(sg_store *s, MDB_txn **txn, seogo_error *err) {
  *txn = NULL;
  for (int attempt = 0; attempt < 8; attempt++) {
    pthread_mutex_lock(&s->map_lock);
    while (s->remapping) pthread_cond_wait(&s->map_cond, &s->map_lock);
    s->reads++;
    pthread_mutex_unlock(&s->map_lock);
    int rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, txn);
    if (rc == SEOGO_OK) return SEOGO_OK;
    sg_store_read_end(s, NULL);
    if (rc != MDB_MAP_RESIZED) return sg_store_mdb_error(rc, s->dir, err);
    /* a writer in another process grew the map beyond ours: adopt its size */
    if ((rc = remap(s, 0, err))) return rc;
  }
  return sg_fail(err, SEOGO_EIO, "%s: the index map keeps changing size", s->dir);
}

void sg_store_read_end(sg_store *s, MDB_txn *txn) {
  if (txn) mdb_txn_abort(txn);
  pthread_mutex_lock(&s->map_lock);
  if (s->reads > 0) s->reads--;
  if (s->reads == 0) pthread_cond_broadcast(&s->map_cond);
  pthread_mutex_unlock(&s->map_lock);
}

int sg_store_write_begin(sg_store *s, MDB_txn **txn, seogo_error *err) {
  *txn = NULL;
  if (!s->writable)
    return sg_fail(err, SEOGO_EREADONLY, "the index at %s was opened read-only", s->dir);
  int rc = mdb_txn_begin(s->env, NULL, 0, txn);
  if (rc == MDB_MAP_RESIZED) {
    if ((rc = remap(s, 0, err))) return rc;
    rc = mdb_txn_begin(s->env, NULL, 0, txn);
  }
  return rc ? sg_store_mdb_error(rc, s->dir, err) : SEOGO_OK;
}

int sg_store_commit(sg_store *s, MDB_txn *txn, seogo_error *err) {
  int rc = mdb_txn_commit(txn);
  if (rc == SEOGO_OK) return SEOGO_OK;
  if (rc == MDB_MAP_FULL) {
    int grc = sg_store_grow(s, err);
    if (grc) return grc;
    sg_fail(err, SEOGO_EFULL, "%s: the index map was full and has grown; redo the transaction",
            s->dir);
    if (err) err->line = 1;
    return SEOGO_EFULL;
  }
  return sg_store_write_error(s, rc, err);
}

int sg_store_grow(sg_store *s, seogo_error *err) {
  size_t size = s->map_size ? s->map_size : SG_INITIAL_MAP_SIZE;
  if (size > SIZE_MAX / 2)
    return sg_fail(err, SEOGO_EFULL, "%s: the index has reached its size limit", s->dir);
  return remap(s, size * 2, err);
}

int sg_store_set_map_size(sg_store *s, size_t bytes, seogo_error *err) {
  return remap(s, bytes, err);
}

uint64_t sg_store_disk_bytes(const sg_store *s) {
  uint64_t total = 0;
  const char *names[] = {"data.mdb", "lock.mdb"};
  for (int i = 0; i < 2; i++) {
    char *p = join_path(s->gen_dir, names[i]);
    struct stat st;
    if (p && stat(p, &st) == 0) total += (uint64_t)st.st_size;
    free(p);
  }
  return total;
}

/* ---- records in the meta and norms tables ------------------------------------------------------ */

int sg_store_get_stats(sg_store *s, MDB_txn *txn, sg_stats *out, seogo_error *err) {
  MDB_val v;
  int rc = get_meta(s, txn, "stats", &v, err);
  return rc ? rc : sg_stats_decode(v.mv_data, v.mv_size, out, err);
}

int sg_store_put_stats(sg_store *s, MDB_txn *txn, const sg_stats *in, seogo_error *err) {
  unsigned char buf[8 * SG_VARINT_MAX];
  sg_buf b = {buf, 0, sizeof buf}; /* fits: eight varints */
  sg_stats_encode(&b, in);
  int rc = put_meta(s, txn, "stats", b.data, b.len);
  return rc ? sg_store_mdb_error(rc, s->dir, err) : SEOGO_OK;
}

/* The group holding pid is the one with the greatest key <= pid. */
int sg_store_get_passage(sg_store *s, MDB_txn *txn, uint32_t pid, sg_passage *out,
                         seogo_error *err) {
  unsigned char k[4];
  sg_put_be32(k, pid / SG_PASSAGES_PER_KEY);
  MDB_val key = {4, k}, v;
  int rc = mdb_get(txn, s->passages, &key, &v);
  if (rc == MDB_NOTFOUND) return SEOGO_NOTFOUND;
  if (rc) return sg_store_mdb_error(rc, "passages", err);
  sg_passage_page pg;
  if ((rc = sg_passage_page_open(&pg, v.mv_data, v.mv_size, err))) return rc;
  return sg_passage_page_get(&pg, pid % SG_PASSAGES_PER_KEY, out, NULL, err);
}

int sg_store_get_norm(sg_store *s, MDB_txn *txn, uint32_t pid, uint32_t *length,
                      seogo_error *err) {
  unsigned char k[4];
  sg_put_be32(k, pid / SG_NORMS_PER_KEY);
  MDB_val key = {4, k}, v;
  *length = 0;
  int rc = mdb_get(txn, s->norms, &key, &v);
  if (rc == MDB_NOTFOUND) return SEOGO_OK;
  if (rc) return sg_store_mdb_error(rc, s->dir, err);
  if (!sg_norms_size_ok(v.mv_size))
    return sg_fail(err, SEOGO_ECORRUPT, "index is corrupt: bad norms record");
  *length = sg_norm_at(v.mv_data, v.mv_size, pid % SG_NORMS_PER_KEY);
  return SEOGO_OK;
}

/* ---- packing: a compact copy of the generation ------------------------------------------------ */

/* Records copied per write transaction of a pack: bounds the transaction's dirty pages. */
#define SG_PACK_TXN_RECORDS 20000
#define SG_PACK_TXN_BYTES ((size_t)64 << 20)

/* The databases of a store in copy order (meta first: the copy's own meta records are then
 * overwritten by the original's). */
static void store_dbis(const sg_store *s, MDB_dbi out[SG_MAX_DBS]) {
  const MDB_dbi dbis[SG_MAX_DBS] = {s->meta, s->docs,  s->paths, s->text,
                                    s->passages, s->norms, s->terms, s->postings};
  memcpy(out, dbis, sizeof dbis);
}

/* Copies one database in key order. MDB_APPEND fills each page before starting the next
 * (inserts in the middle leave pages half full), and no freed page is carried over; through
 * one cursor, which stays on the last page, each put costs no descent from the root. */
static int copy_db(sg_store *to, MDB_txn *rtxn, MDB_dbi from, MDB_dbi dst, int append,
                   seogo_error *err) {
  MDB_cursor *c, *wc = NULL;
  int rc = mdb_cursor_open(rtxn, from, &c);
  if (rc) return sg_store_mdb_error(rc, to->dir, err);
  MDB_txn *w = NULL;
  MDB_val k, v;
  size_t n = 0, bytes = 0;
  for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
       rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
    if (!w && (rc = mdb_txn_begin(to->env, NULL, 0, &w))) break;
    if (!wc && (rc = mdb_cursor_open(w, dst, &wc))) break;
    if ((rc = mdb_cursor_put(wc, &k, &v, append ? MDB_APPEND : 0))) break;
    bytes += k.mv_size + v.mv_size;
    if (++n % SG_PACK_TXN_RECORDS == 0 || bytes > SG_PACK_TXN_BYTES) {
      rc = mdb_txn_commit(w); /* closes wc */
      w = NULL;
      wc = NULL;
      bytes = 0;
      if (rc) break;
    }
  }
  mdb_cursor_close(c);
  if (rc == MDB_NOTFOUND) rc = w ? mdb_txn_commit(w) : 0;
  else if (w) mdb_txn_abort(w);
  return rc ? sg_store_write_error(to, rc, err) : SEOGO_OK;
}

static int copy_store(sg_store *s, sg_store *to, seogo_error *err) {
  MDB_txn *rtxn;
  int rc = sg_store_read_begin(s, &rtxn, err);
  if (rc) return rc;
  MDB_dbi from[SG_MAX_DBS], dst[SG_MAX_DBS];
  store_dbis(s, from);
  store_dbis(to, dst);
  for (int i = 0; i < SG_MAX_DBS && !rc; i++) rc = copy_db(to, rtxn, from[i], dst[i], i > 0, err);
  sg_store_read_end(s, rtxn);
  if (!rc && (rc = mdb_env_sync(to->env, 1))) rc = sg_store_write_error(to, rc, err);
  return rc;
}

/* Moves the copy's environment into s once no read transaction of this process is open. */
static void adopt(sg_store *s, sg_store *t) {
  pthread_mutex_lock(&s->map_lock);
  while (s->remapping) pthread_cond_wait(&s->map_cond, &s->map_lock);
  s->remapping = 1;
  while (s->reads > 0) pthread_cond_wait(&s->map_cond, &s->map_lock);
  mdb_env_close(s->env);
  s->env = t->env;
  t->env = NULL;
  s->meta = t->meta, s->docs = t->docs, s->paths = t->paths, s->text = t->text;
  s->passages = t->passages, s->norms = t->norms, s->terms = t->terms;
  s->postings = t->postings;
  char *dir = s->gen_dir;
  s->gen_dir = t->gen_dir;
  t->gen_dir = dir;
  unsigned gen = s->gen;
  s->gen = t->gen;
  t->gen = gen;
  s->map_size = t->map_size;
  s->remapping = 0;
  pthread_cond_broadcast(&s->map_cond);
  pthread_mutex_unlock(&s->map_lock);
}

static void discard_copy(sg_store *t, int remove) {
  if (t->env) mdb_env_close(t->env);
  if (remove && t->gen) remove_gen(t->dir, t->gen);
  pthread_mutex_destroy(&t->map_lock);
  pthread_cond_destroy(&t->map_cond);
  free(t->dir);
  free(t->gen_dir);
  free(t);
}

int sg_store_pack(sg_store *s, seogo_error *err) {
  if (!s->writable || s->lock_fd < 0 || (s->fresh && s->published))
    return sg_fail(err, SEOGO_EINVAL, "%s: only the writer can pack the index", s->dir);
  unsigned max_gen = 0;
  int foreign;
  int rc = scan_dir(s->dir, &max_gen, &foreign, err);
  if (rc) return rc;
  sg_store *t = calloc(1, sizeof *t);
  if (!t || !(t->dir = strdup(s->dir))) {
    free(t);
    return sg_fail(err, SEOGO_ENOMEM, "out of memory");
  }
  t->lock_fd = -1;
  t->writable = 1;
  pthread_mutex_init(&t->map_lock, NULL);
  pthread_cond_init(&t->map_cond, NULL);
  unsigned next = (max_gen > s->gen ? max_gen : s->gen) + 1;
  rc = create_gen(t, next, err);
  /* the copy is never larger than the original's pages */
  if (!rc && (rc = mdb_env_set_mapsize(t->env, s->map_size))) rc = sg_store_mdb_error(rc, s->dir, err);
  if (!rc) {
    t->map_size = s->map_size;
    mdb_env_set_flags(t->env, MDB_NOSYNC, 1); /* one sync at the end instead of one a commit */
    rc = copy_store(s, t, err);
  }
  /* A published generation is replaced through CURRENT (readers see the old or the new one,
   * never neither; a crash before this leaves the copy to the next writer's clean-up). A
   * rebuild not yet published just continues in the copy. */
  if (!rc && !s->fresh) rc = write_current(s->dir, next, err);
  if (rc) {
    discard_copy(t, 1);
    return rc;
  }
  adopt(s, t);
  set_sync(s);
  remove_gen(s->dir, t->gen); /* the generation packed: t now holds its number */
  t->gen = 0;
  discard_copy(t, 0);
  return SEOGO_OK;
}

int sg_store_usage(sg_store *s, sg_store_usage_info *out, seogo_error *err) {
  memset(out, 0, sizeof *out);
  MDB_txn *txn;
  int rc = sg_store_read_begin(s, &txn, err);
  if (rc) return rc;
  MDB_dbi dbis[SG_MAX_DBS];
  store_dbis(s, dbis);
  MDB_envinfo info;
  MDB_stat ms;
  mdb_env_info(s->env, &info);
  rc = mdb_stat(txn, 1, &ms); /* the main database: the names of the others */
  uint64_t psize = ms.ms_psize;
  out->used_bytes = rc ? 0 : (ms.ms_branch_pages + ms.ms_leaf_pages + 2) * psize;
  for (int i = 0; i < SG_MAX_DBS && !rc; i++) {
    if ((rc = mdb_stat(txn, dbis[i], &ms))) break;
    uint64_t b = (uint64_t)(ms.ms_branch_pages + ms.ms_leaf_pages + ms.ms_overflow_pages) * psize;
    out->used_bytes += b;
    if (dbis[i] == s->text) out->text_bytes = b;
  }
  sg_store_read_end(s, txn);
  if (rc) return sg_store_mdb_error(rc, s->dir, err);
  out->file_bytes = ((uint64_t)info.me_last_pgno + 1) * psize;
  return SEOGO_OK;
}
