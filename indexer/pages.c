/* pages.c - walks the LMDB B-trees of a snapshot page by page, read with pread from data.mdb,
 * checking the page structure that LMDB trusts, so that seogo_check finds a damaged page
 * before LMDB follows it. Written against LMDB 0.9's data format (MDB_DATA_VERSION 1) on
 * 64-bit builds; elsewhere the walk is skipped. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"

/* The layout mdb.c reads (native byte order, as LMDB writes it). */
#define PAGE_HEADER 16     /* pgno u64, pad u16, flags u16, lower u16, upper u16 | pages u32 */
#define NODE_HEADER 8      /* lo u16, hi u16, flags u16, ksize u16; then key, then data */
#define P_BRANCH 0x01
#define P_LEAF 0x02
#define P_OVERFLOW 0x04
#define P_META 0x08
#define P_LEAF2 0x20
#define P_SUBP 0x40
#define F_BIGDATA 0x01     /* leaf node: the data is in overflow pages, the node holds their pgno */
#define F_SUBDATA 0x02     /* leaf node of the main tree: the data is a named database's record */
#define F_DUPDATA 0x04
#define META_MAGIC 0xBEEFC0DEu
#define META_AT PAGE_HEADER /* magic u32, version u32, address, mapsize, dbs[2], last_pg, txnid */
#define DB_RECORD 48        /* pad u32, flags u16, depth u16, 4 counters u64, root u64 */
#define NO_PAGE (~(uint64_t)0)
#define MAX_DEPTH 32        /* B-trees of 2^64 records are far shallower */

typedef struct walker {
  int fd;
  size_t psize;
  uint64_t npages;       /* pages the snapshot may use: last_pg + 1 */
  unsigned char *seen;   /* a bit per page: reached already */
  unsigned char *bufs;   /* a page buffer per tree level */
  const char *table;
  int main_tree;         /* walking the main tree: leaves name the databases */
  int free_tree;         /* walking LMDB's free page lists */
  char (*names)[64];     /* the databases the main tree names, and their records */
  unsigned char (*recs)[DB_RECORD];
  size_t nnames;
  sg_page_problem_fn fn;
  void *ctx;
  int *damaged, stop;
} walker;

static uint16_t get16(const unsigned char *p) {
  uint16_t v;
  memcpy(&v, p, 2);
  return v;
}

static uint32_t get32(const unsigned char *p) {
  uint32_t v;
  memcpy(&v, p, 4);
  return v;
}

static uint64_t get64(const unsigned char *p) {
  uint64_t v;
  memcpy(&v, p, 8);
  return v;
}

static int bad(walker *w, uint64_t pgno, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int bad(walker *w, uint64_t pgno, const char *fmt, ...) {
  char msg[256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  *w->damaged = 1;
  if (w->fn(w->ctx, w->table, pgno, msg)) w->stop = 1;
  return -1;
}

/* Reads `len` bytes of page pgno; -1 (reported) when it lies outside the snapshot's pages or
 * the file, or is not the page it says it is. */
static int read_page(walker *w, uint64_t pgno, unsigned char *buf, size_t len, seogo_error *err) {
  if (pgno >= w->npages) return bad(w, pgno, "the page lies beyond the last page (%" PRIu64 ")", w->npages - 1);
  ssize_t n = pread(w->fd, buf, len, (off_t)(pgno * w->psize));
  if (n < 0) {
    sg_fail(err, SEOGO_EIO, "data.mdb: %s", strerror(errno));
    return -2;
  }
  if ((size_t)n < len) return bad(w, pgno, "the page lies beyond the end of the file");
  if (get64(buf) != pgno) return bad(w, pgno, "the page says it is page %" PRIu64, get64(buf));
  return 0;
}

static int mark_seen(walker *w, uint64_t pgno) {
  unsigned char bit = (unsigned char)(1u << (pgno & 7));
  if (w->seen[pgno >> 3] & bit) return bad(w, pgno, "the page is reached twice");
  w->seen[pgno >> 3] |= bit;
  return 0;
}

/* The overflow pages holding a value of dsize bytes. */
static int check_overflow(walker *w, uint64_t pgno, uint64_t dsize, seogo_error *err) {
  unsigned char head[PAGE_HEADER];
  int rc = read_page(w, pgno, head, sizeof head, err);
  if (rc) return rc;
  uint32_t pages = get32(head + 12);
  uint64_t need = (dsize + PAGE_HEADER + w->psize - 1) / w->psize;
  if (!(get16(head + 10) & P_OVERFLOW)) return bad(w, pgno, "a value's overflow page is not one");
  if (pages < need || pgno + pages > w->npages)
    return bad(w, pgno, "the overflow run of %u pages cannot hold %" PRIu64 " bytes", (unsigned)pages, dsize);
  for (uint32_t i = 0; i < pages; i++)
    if (mark_seen(w, pgno + i)) return -1;
  return 0;
}

/* A free list record: a count, then that many page numbers, none of them in use (the trees
 * are walked first) or free twice: a writer would hand such a page out and overwrite data. */
static int check_free_list(walker *w, uint64_t pgno, const unsigned char *d, uint64_t dsize) {
  if (dsize < 8 || dsize % 8 || get64(d) != dsize / 8 - 1)
    return bad(w, pgno, "a free page list has a bad size");
  for (uint64_t i = 1; i < dsize / 8; i++) {
    uint64_t free_pg = get64(d + 8 * i);
    if (free_pg < 2 || free_pg >= w->npages)
      return bad(w, pgno, "a free page list names page %" PRIu64 ", out of range", free_pg);
    unsigned char bit = (unsigned char)(1u << (free_pg & 7));
    if (w->seen[free_pg >> 3] & bit)
      return bad(w, pgno, "a free page list names page %" PRIu64 ", which is in use or free twice",
                 free_pg);
    w->seen[free_pg >> 3] |= bit;
  }
  return 0;
}

static int walk_page(walker *w, uint64_t pgno, unsigned level, unsigned depth, seogo_error *err);

/* One node of a page: inside the page, and what it points to sound. */
static int check_node(walker *w, uint64_t pgno, const unsigned char *page, size_t at, int branch,
                      unsigned level, unsigned depth, seogo_error *err) {
  const unsigned char *n = page + at;
  uint64_t lo = get16(n), hi = get16(n + 2), flags = get16(n + 4), ksize = get16(n + 6);
  if (at + NODE_HEADER + ksize > w->psize) return bad(w, pgno, "a key runs past the page");
  if (branch) return walk_page(w, lo | hi << 16 | flags << 32, level + 1, depth, err);
  uint64_t dsize = lo | hi << 16;
  const unsigned char *d = n + NODE_HEADER + ksize;
  if (flags & ~(uint64_t)(F_BIGDATA | F_SUBDATA) || (flags & F_SUBDATA && !w->main_tree))
    return bad(w, pgno, "a record has flags 0x%x that Seogo never uses", (unsigned)flags);
  if (flags & F_BIGDATA) {
    if (at + NODE_HEADER + ksize + 8 > w->psize) return bad(w, pgno, "a record runs past the page");
    return check_overflow(w, get64(d), dsize, err);
  }
  if (at + NODE_HEADER + ksize + dsize > w->psize) return bad(w, pgno, "a record runs past the page");
  if (w->free_tree) return check_free_list(w, pgno, d, dsize);
  if (w->main_tree && flags & F_SUBDATA) {
    if (dsize != DB_RECORD || ksize >= 64 || w->nnames >= SG_MAX_DBS * 2)
      return bad(w, pgno, "a database record is bad");
    memcpy(w->names[w->nnames], n + NODE_HEADER, ksize);
    w->names[w->nnames][ksize] = 0;
    memcpy(w->recs[w->nnames++], d, DB_RECORD);
  }
  return 0;
}

/* A branch or leaf page at `level` (0: the root) of a tree of `depth` levels. */
static int walk_page(walker *w, uint64_t pgno, unsigned level, unsigned depth, seogo_error *err) {
  unsigned char *page = w->bufs + (size_t)level * w->psize;
  int rc = read_page(w, pgno, page, w->psize, err);
  if (rc || (rc = mark_seen(w, pgno))) return rc;
  int branch = level + 1 < depth;
  unsigned flags = get16(page + 10), lower = get16(page + 12), upper = get16(page + 14);
  if ((flags & (P_BRANCH | P_LEAF | P_OVERFLOW | P_META | P_LEAF2 | P_SUBP)) !=
      (branch ? P_BRANCH : P_LEAF))
    return bad(w, pgno, "the page should be a %s page (flags 0x%x)", branch ? "branch" : "leaf", flags);
  if (lower < PAGE_HEADER || lower > upper || upper > w->psize || lower % 2)
    return bad(w, pgno, "the page's free space bounds are bad (%u, %u)", lower, upper);
  size_t nkeys = (lower - PAGE_HEADER) / 2;
  if (branch && nkeys == 0) return bad(w, pgno, "a branch page without children");
  for (size_t i = 0; i < nkeys && !w->stop; i++) {
    size_t at = get16(page + PAGE_HEADER + 2 * i);
    if (at < upper || at % 2 || at + NODE_HEADER > w->psize)
      return bad(w, pgno, "node %zu lies outside the page's records", i);
    if ((rc = check_node(w, pgno, page, at, branch, level, depth, err)) == -2) return rc;
    if (rc && !branch) return rc; /* a bad leaf: the rest of it is not worth reading */
  }
  return 0;
}

/* A tree from its database record (the depth at +6, the root at +40). */
static int walk_tree(walker *w, const char *table, const unsigned char *rec, seogo_error *err) {
  uint64_t root = get64(rec + 40);
  unsigned depth = get16(rec + 6);
  w->table = table;
  if (root == NO_PAGE) return 0;
  if (depth == 0 || depth > MAX_DEPTH) return bad(w, root, "the tree's depth (%u) is bad", depth);
  return walk_page(w, root, 0, depth, err) == -2 ? -2 : 0;
}

/* The meta page of the snapshot: the one of the two whose transaction id is the snapshot's.
 * None when a writer has committed twice since (then the walk is skipped). */
static int find_meta(walker *w, MDB_txn *txn, unsigned char *meta, seogo_error *err) {
  for (uint64_t m = 0; m < 2; m++) {
    ssize_t n = pread(w->fd, meta, w->psize, (off_t)(m * w->psize));
    if (n < 0) return sg_fail(err, SEOGO_EIO, "data.mdb: %s", strerror(errno));
    if ((size_t)n == w->psize && get32(meta + META_AT) == META_MAGIC &&
        get64(meta + META_AT + 128) == (uint64_t)mdb_txn_id(txn))
      return SEOGO_OK;
  }
  return SEOGO_NOTFOUND;
}

static int walk_all(walker *w, MDB_txn *txn, seogo_error *err) {
  unsigned char *meta = w->bufs;
  int rc = find_meta(w, txn, meta, err);
  if (rc) return rc == SEOGO_NOTFOUND ? SEOGO_OK : rc;
  w->npages = get64(meta + META_AT + 120) + 1;
  unsigned char free_rec[DB_RECORD], main_rec[DB_RECORD];
  memcpy(free_rec, meta + META_AT + 24, DB_RECORD);
  memcpy(main_rec, meta + META_AT + 24 + DB_RECORD, DB_RECORD);
  if (!(w->seen = calloc((size_t)(w->npages / 8 + 1), 1)))
    return sg_fail(err, SEOGO_ENOMEM, "out of memory");
  w->seen[0] |= 3; /* the meta pages */
  w->main_tree = 1;
  if (walk_tree(w, "", main_rec, err) == -2) return SEOGO_EIO;
  w->main_tree = 0;
  for (size_t i = 0; i < w->nnames && !w->stop; i++)
    if (walk_tree(w, w->names[i], w->recs[i], err) == -2) return SEOGO_EIO;
  w->free_tree = 1; /* last: its lists must name none of the pages seen in use */
  if (!w->stop && walk_tree(w, "", free_rec, err) == -2) return SEOGO_EIO;
  return SEOGO_OK;
}

int sg_check_pages(sg_store *s, MDB_txn *txn, sg_page_problem_fn fn, void *ctx, int *damaged,
                   seogo_error *err) {
  *damaged = 0;
  MDB_stat st;
  if (sizeof(size_t) != 8 || mdb_env_stat(s->env, &st) || st.ms_psize < 512) return SEOGO_OK;
  char path[4096];
  snprintf(path, sizeof path, "%s/data.mdb", s->gen_dir);
  walker w = {.psize = st.ms_psize, .fn = fn, .ctx = ctx, .damaged = damaged};
  if ((w.fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
    return sg_fail(err, SEOGO_EIO, "%s: %s", path, strerror(errno));
  w.bufs = malloc(w.psize * (MAX_DEPTH + 1));
  w.names = calloc(SG_MAX_DBS * 2, sizeof *w.names);
  w.recs = calloc(SG_MAX_DBS * 2, sizeof *w.recs);
  int rc = w.bufs && w.names && w.recs ? walk_all(&w, txn, err)
                                       : sg_fail(err, SEOGO_ENOMEM, "out of memory");
  close(w.fd);
  free(w.bufs);
  free(w.names);
  free(w.recs);
  free(w.seen);
  return rc;
}
