/* seogo-index.c - the indexing program: adds, updates and removes the documents of files and
 * directory trees, and shows what an index holds. Uses only the public API (seogo.h). */
#include <errno.h>
#include <dirent.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fault.h"
#include "seogo.h"

#define COMMIT_MB 32                      /* commit a batch after this much text ... */
#define COMMIT_SECONDS 5.0                /* ... or after this long */
#define PROGRESS_SECONDS 0.25
#define CHECK_SHOWN 20                    /* problems --check prints; it counts the rest */

static const char *program = "seogo-index";

static const char usage_text[] =
    "usage: seogo-index [-d INDEX] [options] PATH...\n"
    "       seogo-index [-d INDEX] --remove PATH...\n"
    "       seogo-index [-d INDEX] --stats [--list]\n"
    "       seogo-index [-d INDEX] --check [PATH...]\n"
    "       seogo-index --analyze [--query] < TEXT\n"
    "\n"
    "Indexes text files (.txt in directory trees; files named on the command line whatever\n"
    "their name) for seogo-search. Re-running it updates the index: unchanged files are\n"
    "skipped, changed files re-indexed, and documents whose files are gone from a directory\n"
    "given as PATH are removed. UTF-8 (with or without BOM), UTF-16 with BOM and CP949/EUC-KR\n"
    "are read; binary and empty files are skipped with a warning.\n"
    "\n"
    "Documents are named by their path as typed, made relative to the current directory and\n"
    "normalized (\"./corpus//a.txt\" is \"corpus/a.txt\"; absolute paths stay absolute), so\n"
    "run seogo-index from the same directory to update an index.\n"
    "\n"
    "options:\n"
    "  -d, --index DIR   the index directory (default: $SEOGO_INDEX, else ./.seogo)\n"
    "      --rebuild     build the index afresh from PATH...; searches see the old index\n"
    "                    until the new one is complete\n"
    "      --remove      remove the documents of PATH... (a file, or all under a directory)\n"
    "      --stats       print what the index holds; with --list, also each document\n"
    "      --check       read the whole index and check that its tables agree; with PATH...,\n"
    "                    then update it from them, only if it is sound (every update checks\n"
    "                    LMDB's pages at least, and refuses an index whose pages are damaged)\n"
    "      --analyze     print the terms the analyzer makes of standard input: position,\n"
    "                    line(s), byte range, flags (W word start, S stem end, H Hangul,\n"
    "                    C Han/kana, N number, L Latin) and term; --query analyzes it as a query\n"
    "      --batch-mb N  commit after N MB of text (default 32) or 5 seconds; an interrupted\n"
    "                    run keeps what was committed, and the next run skips it\n"
    "  -q, --quiet       no progress line and no summary\n"
    "  -v, --verbose     print what happened to each file\n"
    "  -h, --help        this help\n"
    "      --version     the library version\n"
    "\n"
    "exit status: 0 when the run completed (even if some files were skipped), 1 when --check\n"
    "found the index damaged, 2 on a usage error or a failure that stopped the run, 3 when\n"
    "the program crashed reading a damaged index (nothing was changed since its last commit;\n"
    "rebuild it with --rebuild), 130 when interrupted (what was committed stays).\n";

typedef enum mode { MODE_INDEX, MODE_REMOVE, MODE_STATS, MODE_ANALYZE } mode;

typedef struct options {
  const char *index_dir;
  mode mode;
  int rebuild, list, query, quiet, verbose, check;
  unsigned batch_mb;
  char **paths;
  int npaths;
} options;

/* ---- small helpers -------------------------------------------------------------------------- */

static void warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void warn(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "%s: ", program);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
}

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *xmalloc(size_t n) {
  void *p = malloc(n ? n : 1);
  if (!p) {
    warn("out of memory");
    exit(2);
  }
  return p;
}

static char *xstrdup(const char *s) {
  size_t n = strlen(s) + 1;
  return memcpy(xmalloc(n), s, n);
}

static char *join(const char *dir, const char *name) {
  size_t a = strlen(dir), b = strlen(name);
  int slash = a > 0 && dir[a - 1] != '/';
  char *p = xmalloc(a + slash + b + 1);
  memcpy(p, dir, a);
  if (slash) p[a] = '/';
  memcpy(p + a + slash, name, b + 1);
  return p;
}

static const char *human_bytes(uint64_t n, char *buf, size_t size) {
  if (n < 1024) snprintf(buf, size, "%" PRIu64 " B", n);
  else if (n < ((uint64_t)1 << 20)) snprintf(buf, size, "%.1f KB", (double)n / 1024);
  else if (n < ((uint64_t)1 << 30)) snprintf(buf, size, "%.1f MB", (double)n / (1 << 20));
  else snprintf(buf, size, "%.2f GB", (double)n / (1 << 30));
  return buf;
}

/* Normalizes a path lexically: "." and empty components go, "a/../" folds; a relative path
 * stays relative ("." for the current directory), an absolute one absolute. */
static char *normalize_path(const char *in) {
  size_t n = strlen(in);
  char *out = xmalloc(n + 2);
  int absolute = in[0] == '/';
  size_t len = 0, depth = 0; /* depth: components that a ".." may fold */
  const char *p = in;
  while (*p) {
    while (*p == '/') p++;
    const char *s = p;
    while (*p && *p != '/') p++;
    size_t c = (size_t)(p - s);
    if (c == 0 || (c == 1 && s[0] == '.')) continue;
    if (c == 2 && s[0] == '.' && s[1] == '.') {
      if (depth > 0) {
        while (len > 0 && out[len - 1] != '/') len--;
        if (len > 0) len--;
        depth--;
        continue;
      }
      if (absolute) continue; /* "/.." is "/" */
    } else {
      depth++;
    }
    if (len > 0 || absolute) out[len++] = '/';
    memcpy(out + len, s, c);
    len += c;
  }
  if (len == 0) {
    if (absolute) out[len++] = '/';
    else out[len++] = '.';
  }
  out[len] = 0;
  return out;
}

/* Whether document path `doc` lies under directory `dir` (both normalized). */
static int path_under(const char *doc, const char *dir) {
  if (!strcmp(dir, ".")) return doc[0] != '/' && strncmp(doc, "../", 3) != 0 && strcmp(doc, "..");
  size_t n = strlen(dir);
  if (n == 1 && dir[0] == '/') return doc[0] == '/';
  return !strncmp(doc, dir, n) && doc[n] == '/';
}

static int has_txt_suffix(const char *name) {
  size_t n = strlen(name);
  return n > 4 && !strcasecmp(name + n - 4, ".txt");
}

/* ---- collecting files ------------------------------------------------------------------------- */

typedef struct file_item {
  char *path; /* normalized: the document's name, and the file to read */
  uint64_t size;
} file_item;

typedef struct dev_ino {
  dev_t dev;
  ino_t ino;
} dev_ino;

typedef struct walk {
  file_item *files;
  size_t nfiles, files_cap;
  dev_ino *seen; /* directories visited: a symlink loop is entered once */
  size_t nseen, seen_cap;
  dev_ino index_dir;
  int have_index_dir;
  uint64_t total_bytes;
  unsigned other_files, walk_errors;
  int verbose;
} walk;

static void *grow(void *p, size_t *cap, size_t n, size_t size) {
  if (n <= *cap) return p;
  size_t c = *cap ? *cap * 2 : 64;
  while (c < n) c *= 2;
  p = realloc(p, c * size);
  if (!p) {
    warn("out of memory");
    exit(2);
  }
  *cap = c;
  return p;
}

static void add_file(walk *w, char *path, const struct stat *st) {
  w->files = grow(w->files, &w->files_cap, w->nfiles + 1, sizeof *w->files);
  w->files[w->nfiles++] = (file_item){path, (uint64_t)st->st_size};
  w->total_bytes += (uint64_t)st->st_size;
}

static int seen_before(walk *w, const struct stat *st) {
  for (size_t i = 0; i < w->nseen; i++)
    if (w->seen[i].dev == st->st_dev && w->seen[i].ino == st->st_ino) return 1;
  w->seen = grow(w->seen, &w->seen_cap, w->nseen + 1, sizeof *w->seen);
  w->seen[w->nseen++] = (dev_ino){st->st_dev, st->st_ino};
  return 0;
}

static int cmp_names(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static void walk_dir(walk *w, const char *dir, const struct stat *st);

static void walk_entry(walk *w, char *path, int named) {
  struct stat st;
  if (stat(path, &st) != 0) {
    warn("skipped %s: %s", path, strerror(errno));
    w->walk_errors++;
    free(path);
    return;
  }
  if (S_ISDIR(st.st_mode)) {
    walk_dir(w, path, &st);
    free(path);
  } else if (S_ISREG(st.st_mode) && (named || has_txt_suffix(path))) {
    add_file(w, path, &st);
  } else {
    if (w->verbose) warn("skipped %s: not a .txt file", path);
    w->other_files++;
    free(path);
  }
}

static void walk_dir(walk *w, const char *dir, const struct stat *st) {
  if (seen_before(w, st)) return;
  if (w->have_index_dir && st->st_dev == w->index_dir.dev && st->st_ino == w->index_dir.ino)
    return;
  DIR *d = opendir(dir);
  if (!d) {
    warn("skipped %s: %s", dir, strerror(errno));
    w->walk_errors++;
    return;
  }
  char **names = NULL;
  size_t n = 0, cap = 0;
  struct dirent *e;
  while ((e = readdir(d))) {
    if (e->d_name[0] == '.') continue; /* hidden files and directories (.git, .seogo) */
    names = grow(names, &cap, n + 1, sizeof *names);
    names[n++] = xstrdup(e->d_name);
  }
  closedir(d);
  qsort(names, n, sizeof *names, cmp_names); /* the same tree gives the same ids */
  for (size_t i = 0; i < n; i++) {
    char *joined = join(dir, names[i]);
    char *path = normalize_path(joined);
    free(joined);
    free(names[i]);
    walk_entry(w, path, 0);
  }
  free(names);
}

/* ---- progress and summary ----------------------------------------------------------------------- */

typedef struct tally {
  unsigned added, updated, removed, unchanged;
  unsigned skipped_binary, skipped_empty, skipped_encoding, skipped_unreadable, skipped_other;
  unsigned converted, damaged, ignored;
  uint64_t passages, bytes_done;
  size_t files_done;
  double start, last_progress;
  int progress_shown;
} tally;

static unsigned skipped(const tally *t) {
  return t->skipped_binary + t->skipped_empty + t->skipped_encoding + t->skipped_unreadable +
         t->skipped_other;
}

static void clear_progress(tally *t) {
  if (!t->progress_shown) return;
  fputs("\r\033[K", stderr);
  t->progress_shown = 0;
}

static void show_progress(tally *t, const walk *w, int force) {
  double now = now_seconds();
  if (!force && now - t->last_progress < PROGRESS_SECONDS) return;
  t->last_progress = now;
  double secs = now - t->start, mb = (double)t->bytes_done / (1 << 20);
  double rate = secs > 0 ? mb / secs : 0;
  double left = (double)(w->total_bytes - t->bytes_done) / (1 << 20);
  char eta[32] = "";
  if (rate > 0 && t->bytes_done < w->total_bytes)
    snprintf(eta, sizeof eta, ", ETA %.0f s", left / rate);
  fprintf(stderr, "\r\033[K%zu/%zu files, %.1f/%.1f MB, %.1f MB/s%s", t->files_done, w->nfiles,
          mb, (double)w->total_bytes / (1 << 20), rate, eta);
  fflush(stderr);
  t->progress_shown = 1;
}

static void print_summary(seogo_index *index, const tally *t, const char *index_dir) {
  printf("documents: %u added, %u updated, %u removed, %u unchanged, %u skipped\n", t->added,
         t->updated, t->removed, t->unchanged, skipped(t));
  if (skipped(t)) {
    printf("skipped:");
    const char *sep = " ";
    const struct {
      unsigned n;
      const char *why;
    } reasons[] = {{t->skipped_binary, "binary"},
                   {t->skipped_empty, "empty"},
                   {t->skipped_encoding, "unknown encoding"},
                   {t->skipped_unreadable, "unreadable or vanished"},
                   {t->skipped_other, "other errors"}};
    for (size_t i = 0; i < sizeof reasons / sizeof reasons[0]; i++) {
      if (!reasons[i].n) continue;
      printf("%s%u %s", sep, reasons[i].n, reasons[i].why);
      sep = ", ";
    }
    printf("\n");
  }
  if (t->ignored)
    printf("ignored: %u file%s not .txt\n", t->ignored, t->ignored == 1 ? "" : "s");
  seogo_index_stats st;
  seogo_error err;
  char size[32];
  if (seogo_index_stats_get(index, &st, &err) == SEOGO_OK)
    printf("index %s: %" PRIu64 " documents, %" PRIu64 " passages, %" PRIu64 " terms, %s "
           "without the text\n",
           index_dir, st.documents, st.passages, st.terms,
           human_bytes(st.index_bytes, size, sizeof size));
  double secs = now_seconds() - t->start;
  printf("time: %.2f s (%.1f MB/s)\n", secs,
         secs > 0 ? (double)t->bytes_done / (1 << 20) / secs : 0.0);
}

/* ---- indexing ------------------------------------------------------------------------------------ */

static volatile sig_atomic_t interrupted;

static void on_signal(int sig) {
  (void)sig;
  interrupted = 1;
}

static void count_skip(tally *t, int rc) {
  switch (rc) {
    case SEOGO_EBINARY: t->skipped_binary++; break;
    case SEOGO_EEMPTY: t->skipped_empty++; break;
    case SEOGO_EENCODING: t->skipped_encoding++; break;
    case SEOGO_EIO: t->skipped_unreadable++; break;
    default: t->skipped_other++; break;
  }
}

static void report_added(const options *o, tally *t, const char *path,
                         const seogo_add_info *info) {
  const char *what[] = {"added", "updated", "unchanged"};
  if (info->outcome == SEOGO_ADDED) t->added++;
  else if (info->outcome == SEOGO_UPDATED) t->updated++;
  else t->unchanged++;
  if (info->outcome != SEOGO_UNCHANGED) t->passages += info->passages;
  if (info->outcome == SEOGO_UNCHANGED) return;
  if (strcmp(info->encoding, "UTF-8") != 0) {
    t->converted++;
    warn("%s: converted from %s", path, info->encoding);
  }
  if (info->invalid_sequences) {
    t->damaged++;
    warn("warning: %s: line %u: %u invalid UTF-8 sequence%s replaced by U+FFFD", path,
         info->first_invalid_line, info->invalid_sequences,
         info->invalid_sequences == 1 ? "" : "s");
  }
  if (o->verbose) warn("%s %s (%u passages, %s)", what[info->outcome], path, info->passages,
                       info->encoding);
}

/* Reports each file as seogo_add_files finishes with it, and keeps the progress line. */
typedef struct indexing {
  const options *o;
  const walk *w;
  tally *t;
  int tty;
} indexing;

static int on_file(void *ctx, const seogo_file_report *r) {
  indexing *run = ctx;
  tally *t = run->t;
  if (run->tty) clear_progress(t);
  t->files_done++;
  t->bytes_done += run->w->files[r->index].size;
  if (r->status == SEOGO_OK) {
    report_added(run->o, t, r->path, r->info);
  } else {
    warn("skipped %s", r->error->message);
    count_skip(t, r->status);
  }
  if (run->tty) show_progress(t, run->w, 0);
  return interrupted;
}

/* Analysis threads read files a few ahead while this thread adds them in order and commits
 * every --batch-mb or COMMIT_SECONDS (seogo_add_files). */
static int index_files(seogo_index *index, const options *o, const walk *w, tally *t) {
  if (!w->nfiles) return SEOGO_OK;
  const char **paths = xmalloc(w->nfiles * sizeof *paths);
  for (size_t i = 0; i < w->nfiles; i++) paths[i] = w->files[i].path;
  indexing run = {o, w, t, isatty(2) && !o->quiet};
  seogo_add_files_options how = {.commit_bytes = (uint64_t)o->batch_mb << 20,
                                 .commit_seconds = COMMIT_SECONDS,
                                 .on_file = on_file,
                                 .ctx = &run};
  seogo_error err;
  int rc = seogo_add_files(index, paths, NULL, w->nfiles, &how, &err);
  if (rc) warn("%s", err.message);
  if (run.tty) clear_progress(t);
  free(paths);
  return rc;
}

/* Removal of the documents under some directories whose files no longer exist. */
typedef struct gone {
  char **dirs;     /* normalized directories (or files) to look under */
  int ndirs;
  int only_missing; /* remove only documents whose file is gone */
  char **victims;
  size_t nvictims, cap;
} gone;

static int collect_gone(void *ctx, const char *path, const seogo_document *doc) {
  (void)doc;
  gone *g = ctx;
  for (int i = 0; i < g->ndirs; i++) {
    if (strcmp(path, g->dirs[i]) != 0 && !path_under(path, g->dirs[i])) continue;
    struct stat st;
    if (g->only_missing && (stat(path, &st) == 0 || errno != ENOENT)) return 0;
    g->victims = grow(g->victims, &g->cap, g->nvictims + 1, sizeof *g->victims);
    g->victims[g->nvictims++] = xstrdup(path);
    return 0;
  }
  return 0;
}

static int remove_gone(seogo_index *index, const options *o, gone *g, tally *t) {
  seogo_error err;
  int rc = seogo_documents_each(index, collect_gone, g, &err);
  if (rc) {
    warn("cannot list the index: %s", err.message);
    return rc;
  }
  for (size_t i = 0; i < g->nvictims; i++) {
    if (rc == SEOGO_OK) {
      int r = seogo_remove(index, g->victims[i], &err);
      if (r == SEOGO_OK) {
        t->removed++;
        if (o->verbose) warn("removed %s", g->victims[i]);
      } else if (r != SEOGO_NOTFOUND) {
        warn("cannot remove %s: %s", g->victims[i], err.message);
        rc = r;
      }
    }
    free(g->victims[i]);
  }
  free(g->victims);
  g->victims = NULL;
  g->nvictims = g->cap = 0;
  return rc;
}

static int open_index(const options *o, unsigned flags, seogo_index **index) {
  seogo_error err;
  int rc = seogo_open(o->index_dir, flags, index, &err);
  if (rc == SEOGO_EBUSY) {
    warn("%s; waiting for it to finish", err.message);
    rc = seogo_open(o->index_dir, flags & ~(unsigned)SEOGO_OPEN_NOWAIT, index, &err);
  }
  if (rc) warn("%s", err.message);
  return rc;
}

/* ---- --check ------------------------------------------------------------------------------------ */

typedef struct check_report {
  const char *index_dir;
  uint64_t problems;
} check_report;

static int print_problem(void *ctx, const seogo_problem *p) {
  check_report *r = ctx;
  if (r->problems == 0) printf("index %s: damaged\n", r->index_dir);
  if (r->problems++ < CHECK_SHOWN) printf("  %s, %s: %s\n", p->table, p->key, p->message);
  fflush(stdout); /* shown even if LMDB then crashes on the damage (see fault_checking) */
  return 0;       /* go on: the count says how far the damage goes */
}

/* Checks the open index: 0 when it is sound, 1 when it is damaged, 2 when it cannot be
 * checked. */
static int check_index(seogo_index *index, const options *o) {
  check_report r = {o->index_dir, 0};
  seogo_index_stats st;
  seogo_error err;
  fault_checking(program, o->index_dir, 1);
  int rc = seogo_check(index, print_problem, &r, &st, &err);
  fault_reading(program, o->index_dir);
  if (rc == SEOGO_OK) {
    if (!o->quiet)
      printf("index %s: ok (%" PRIu64 " documents, %" PRIu64 " passages, %" PRIu64 " terms)\n",
             o->index_dir, st.documents, st.passages, st.terms);
    return 0;
  }
  if (r.problems > CHECK_SHOWN) printf("  and %" PRIu64 " more\n", r.problems - CHECK_SHOWN);
  fflush(stdout);
  if (rc != SEOGO_ECORRUPT || !r.problems) {
    warn("%s", err.message);
    return rc == SEOGO_ECORRUPT ? 1 : 2;
  }
  warn("the index at %s is damaged (%" PRIu64 " problem%s); run seogo-index --rebuild PATH... "
       "to rebuild it", o->index_dir, r.problems, r.problems == 1 ? "" : "s");
  return 1;
}

/* Before an update: LMDB's pages, so that damage is refused instead of crashing the writer. */
static int pages_sound(seogo_index *index, const options *o) {
  check_report r = {o->index_dir, 0};
  seogo_error err;
  int rc = seogo_check_pages(index, print_problem, &r, &err);
  if (rc == SEOGO_OK) return 1;
  if (r.problems > CHECK_SHOWN) printf("  and %" PRIu64 " more\n", r.problems - CHECK_SHOWN);
  fflush(stdout);
  if (rc == SEOGO_ECORRUPT && r.problems)
    warn("the index at %s is damaged; nothing was changed; run seogo-index --rebuild PATH... to "
         "rebuild it", o->index_dir);
  else
    warn("%s", err.message);
  return 0;
}

/* An index too damaged to open is reported as damaged by --check. */
static int damaged_at_open(void) {
  warn("run seogo-index --rebuild PATH... to rebuild it");
  return 1;
}

static int run_check(const options *o) {
  seogo_index *index;
  seogo_error err;
  fault_checking(program, o->index_dir, 1); /* opening reads LMDB's table list already */
  int rc = seogo_open(o->index_dir, SEOGO_OPEN_READ, &index, &err);
  fault_reading(program, o->index_dir);
  if (rc) {
    warn("%s", err.message);
    return rc == SEOGO_ECORRUPT ? damaged_at_open() : 2;
  }
  int status = check_index(index, o);
  seogo_close(index);
  return status;
}

static void free_walk(walk *w) {
  for (size_t i = 0; i < w->nfiles; i++) free(w->files[i].path);
  free(w->files);
  free(w->seen);
}

static int run_index(const options *o) {
  walk w = {0};
  w.verbose = o->verbose;
  struct stat st;
  if (stat(o->index_dir, &st) == 0) {
    w.index_dir = (dev_ino){st.st_dev, st.st_ino};
    w.have_index_dir = 1;
  }
  gone g = {xmalloc(sizeof(char *) * (size_t)o->npaths), 0, 1, NULL, 0, 0};
  for (int i = 0; i < o->npaths; i++) {
    char *path = normalize_path(o->paths[i]);
    if (stat(path, &st) == 0 && !S_ISDIR(st.st_mode)) {
      walk_entry(&w, path, 1);
      continue;
    }
    g.dirs[g.ndirs++] = xstrdup(path); /* a tree, or a path that is gone */
    walk_entry(&w, path, 1);
  }
  seogo_index *index;
  unsigned flags = SEOGO_OPEN_WRITE | SEOGO_OPEN_NOWAIT | (o->rebuild ? SEOGO_OPEN_REBUILD : 0);
  int rc = open_index(o, flags, &index), damaged = 0;
  if (rc == SEOGO_ECORRUPT && o->check) damaged = damaged_at_open();
  if (!rc && o->check && (damaged = check_index(index, o))) {
    seogo_close(index);
    rc = SEOGO_ECORRUPT; /* updating a damaged index would spread the damage */
  } else if (!rc && !o->check && !o->rebuild && !pages_sound(index, o)) {
    seogo_close(index);
    rc = SEOGO_ECORRUPT;
  }
  tally t = {0};
  t.start = now_seconds();
  t.skipped_unreadable = w.walk_errors;
  t.ignored = w.other_files;
  if (!rc) {
    rc = index_files(index, o, &w, &t);
    if (!rc && !interrupted && !o->rebuild) rc = remove_gone(index, o, &g, &t);
    seogo_error err;
    if (!rc && interrupted && o->rebuild) {
      warn("interrupted: the rebuild is abandoned; the index is as it was");
    } else if (!rc) {
      /* commits; after a rebuild, also makes the new index the current one */
      if ((rc = seogo_publish(index, &err))) warn("cannot commit to the index: %s", err.message);
      else if (interrupted) warn("interrupted: the files indexed so far are committed");
    }
    if (!rc && !o->quiet) print_summary(index, &t, o->index_dir);
    seogo_close(index);
  }
  for (int i = 0; i < g.ndirs; i++) free(g.dirs[i]);
  free(g.dirs);
  free_walk(&w);
  if (damaged) return damaged;
  if (rc) return 2;
  return interrupted ? 130 : 0;
}

static int run_remove(const options *o) {
  seogo_index *index;
  if (open_index(o, SEOGO_OPEN_WRITE | SEOGO_OPEN_NOWAIT, &index)) return 2;
  if (!pages_sound(index, o)) {
    seogo_close(index);
    return 2;
  }
  gone g = {xmalloc(sizeof(char *) * (size_t)o->npaths), 0, 0, NULL, 0, 0};
  for (int i = 0; i < o->npaths; i++) g.dirs[g.ndirs++] = normalize_path(o->paths[i]);
  tally t = {0};
  t.start = now_seconds();
  int rc = remove_gone(index, o, &g, &t);
  seogo_error err;
  if (!rc && (rc = seogo_commit(index, &err))) warn("cannot commit to the index: %s", err.message);
  if (!rc && t.removed == 0) warn("no documents in the index under the given paths");
  if (!rc && !o->quiet) printf("documents: %u removed\n", t.removed);
  seogo_close(index);
  for (int i = 0; i < g.ndirs; i++) free(g.dirs[i]);
  free(g.dirs);
  return rc ? 2 : 0;
}

/* ---- --stats ----------------------------------------------------------------------------------- */

static int print_document(void *ctx, const char *path, const seogo_document *doc) {
  (void)ctx;
  char size[32];
  printf("  %s  (%u passages, %u lines, %s, %s)\n", path, doc->passages, doc->lines,
         doc->encoding, human_bytes(doc->size, size, sizeof size));
  return 0;
}

static int run_stats(const options *o) {
  seogo_index *index;
  seogo_error err;
  if (seogo_open(o->index_dir, SEOGO_OPEN_READ, &index, &err)) {
    warn("%s", err.message);
    return 2;
  }
  seogo_index_stats st;
  int rc = seogo_index_stats_get(index, &st, &err);
  if (!rc) {
    char a[32], b[32];
    printf("index       %s\n", o->index_dir);
    printf("format      %u (analyzer %u, library %s)\n", st.format_version, st.analyzer_version,
           seogo_version());
    printf("documents   %" PRIu64 "\n", st.documents);
    printf("passages    %" PRIu64 "\n", st.passages);
    printf("terms       %" PRIu64 "\n", st.terms);
    printf("postings    %" PRIu64 "\n", st.postings);
    printf("tokens      %" PRIu64 " (%.1f per passage)\n", st.tokens,
           st.passages ? (double)st.tokens / (double)st.passages : 0.0);
    char c[32], d[32];
    printf("text        %s (%s on disk)\n", human_bytes(st.text_bytes, a, sizeof a),
           human_bytes(st.text_disk_bytes, c, sizeof c));
    printf("index size  %s without the text (%s on disk in all)\n",
           human_bytes(st.index_bytes, b, sizeof b), human_bytes(st.disk_bytes, d, sizeof d));
    if (o->list) rc = seogo_documents_each(index, print_document, NULL, &err);
  }
  if (rc) warn("%s", err.message);
  seogo_close(index);
  return rc ? 2 : 0;
}

/* ---- --analyze --------------------------------------------------------------------------------- */

static int print_term(void *ctx, const seogo_term *t) {
  (void)ctx;
  char lines[32], flags[8];
  if (t->line_end != t->line) snprintf(lines, sizeof lines, "%u-%u", t->line, t->line_end);
  else snprintf(lines, sizeof lines, "%u", t->line);
  const struct {
    unsigned bit;
    char c;
  } names[] = {{SEOGO_TERM_WORD_START, 'W'}, {SEOGO_TERM_STEM_END, 'S'},
               {SEOGO_TERM_HANGUL, 'H'},     {SEOGO_TERM_CJK, 'C'},
               {SEOGO_TERM_NUMBER, 'N'},     {SEOGO_TERM_LATIN, 'L'}};
  size_t n = 0;
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    if (t->flags & names[i].bit) flags[n++] = names[i].c;
  flags[n] = 0;
  printf("%-6u %-7s %6u-%-6u %-4s %.*s\n", t->position, lines, t->start, t->end, flags,
         (int)t->len, t->text);
  return 0;
}

static int run_analyze(const options *o) {
  size_t len = 0, cap = 1 << 16;
  char *text = xmalloc(cap);
  size_t n;
  while ((n = fread(text + len, 1, cap - len, stdin)) > 0) {
    len += n;
    if (len == cap) {
      char *p = realloc(text, cap *= 2);
      if (!p) {
        free(text);
        warn("out of memory");
        return 2;
      }
      text = p;
    }
  }
  printf("%-6s %-7s %13s %-4s %s\n", "pos", "line", "bytes", "flag", "term");
  uint32_t invalid = 0;
  seogo_error err;
  int rc = seogo_analyze(text, len, o->query, print_term, NULL, &invalid, &err);
  free(text);
  if (rc) {
    warn("%s", err.message);
    return 2;
  }
  if (invalid) warn("warning: %u invalid UTF-8 sequences replaced by U+FFFD", invalid);
  return 0;
}

/* ---- command line ------------------------------------------------------------------------------ */

static int usage_error(const char *fmt, const char *arg) {
  fprintf(stderr, "%s: ", program);
  fprintf(stderr, fmt, arg);
  fprintf(stderr, "\nTry '%s --help' for more information.\n", program);
  return 2;
}

static int parse_args(int argc, char **argv, options *o) {
  o->paths = xmalloc(sizeof(char *) * (size_t)argc);
  int only_paths = 0;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (only_paths || a[0] != '-' || !a[1]) {
      o->paths[o->npaths++] = argv[i];
    } else if (!strcmp(a, "--")) {
      only_paths = 1;
    } else if (!strcmp(a, "-d") || !strcmp(a, "--index")) {
      if (++i >= argc) return usage_error("%s needs a directory", a);
      o->index_dir = argv[i];
    } else if (!strncmp(a, "--index=", 8)) {
      o->index_dir = a + 8;
    } else if (!strcmp(a, "--batch-mb")) {
      char *end;
      unsigned long mb = ++i < argc ? strtoul(argv[i], &end, 10) : 0;
      if (i >= argc || *end || mb == 0 || mb > 65536)
        return usage_error("%s needs a number of megabytes (1-65536)", a);
      o->batch_mb = (unsigned)mb;
    } else if (!strcmp(a, "--rebuild")) {
      o->rebuild = 1;
    } else if (!strcmp(a, "--remove")) {
      o->mode = MODE_REMOVE;
    } else if (!strcmp(a, "--check")) {
      o->check = 1;
    } else if (!strcmp(a, "--stats")) {
      o->mode = MODE_STATS;
    } else if (!strcmp(a, "--list")) {
      o->list = 1;
    } else if (!strcmp(a, "--analyze")) {
      o->mode = MODE_ANALYZE;
    } else if (!strcmp(a, "--query")) {
      o->query = 1;
    } else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
      o->quiet = 1;
    } else if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) {
      o->verbose = 1;
    } else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
      fputs(usage_text, stdout);
      exit(0);
    } else if (!strcmp(a, "--version")) {
      printf("seogo-index %s\n", seogo_version());
      exit(0);
    } else {
      return usage_error("unknown option %s", a);
    }
  }
  if (!o->batch_mb) o->batch_mb = COMMIT_MB;
  if (!o->index_dir || !*o->index_dir) {
    const char *env = getenv("SEOGO_INDEX");
    o->index_dir = env && *env ? env : ".seogo";
  }
  if (o->check && (o->mode != MODE_INDEX || o->rebuild))
    return usage_error("%s", "--check goes alone or with PATHs to index (not with --rebuild, "
                             "--remove, --stats or --analyze)");
  if (((o->mode == MODE_INDEX && !o->check) || o->mode == MODE_REMOVE) && o->npaths == 0)
    return usage_error("%s", o->mode == MODE_REMOVE ? "--remove needs a PATH"
                                                    : "no PATH to index given");
  if ((o->mode == MODE_STATS || o->mode == MODE_ANALYZE) && o->npaths)
    return usage_error("unexpected argument %s", o->paths[0]);
  if (o->rebuild && o->mode != MODE_INDEX) return usage_error("%s", "--rebuild indexes PATHs");
  if (o->list && o->mode != MODE_STATS) return usage_error("%s", "--list goes with --stats");
  if (o->query && o->mode != MODE_ANALYZE) return usage_error("%s", "--query goes with --analyze");
  return 0;
}

int main(int argc, char **argv) {
  options o = {0};
  if (parse_args(argc, argv, &o)) {
    free(o.paths);
    return 2;
  }
  fault_guard(program, o.index_dir);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  int rc;
  switch (o.mode) {
    case MODE_REMOVE: rc = run_remove(&o); break;
    case MODE_STATS: rc = run_stats(&o); break;
    case MODE_ANALYZE: rc = run_analyze(&o); break;
    default: rc = o.check && !o.npaths ? run_check(&o) : run_index(&o); break;
  }
  free(o.paths);
  return rc;
}
