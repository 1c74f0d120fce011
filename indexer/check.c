/* check.c - seogo_check: reads every table of one snapshot through the format's decoders and
 * verifies that the tables agree with one another and with the stats record. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h" /* sg_grow_array */
#include "check.h"

/* What the check keeps of a passage: enough to check the documents, norms and postings that
 * name it. Kept in pid order (the order of the "passages" table). */
typedef struct chk_passage {
  uint32_t pid, doc_id, end, line_end;
  uint16_t length; /* from "norms" (0 until they are read) */
  uint8_t claimed; /* a document's range holds it */
} chk_passage;

/* The record being checked, formatted for a person only when it has a problem. */
typedef struct key_ref {
  const char *what;           /* "doc", "term", "stats", ... */
  const unsigned char *bytes; /* a key shown as text or hex after `what`, or NULL */
  size_t len;
  int64_t id, id_end; /* shown after `what` when >= 0 and bytes is NULL */
  int64_t block;      /* ", block N" when >= 0 */
} key_ref;

typedef struct checker {
  sg_store *s;
  MDB_txn *txn;
  int (*fn)(void *ctx, const seogo_problem *problem);
  void *ctx;
  int stopped; /* fn asked to stop */
  uint64_t problems;
  seogo_error first; /* the first problem, for the returned message */
  int have_stats;
  sg_stats stats;
  sg_stats counted; /* the same counts, from the tables */
  chk_passage *psg;
  size_t npsg, psg_cap;
  uint32_t *by_pid; /* pid -> index in psg + 1 (0: none), up to max_pid; NULL when the ids
                       are too sparse for it to pay (then psg is searched) */
  uint32_t max_pid;
  sg_passage *page;       /* a "passages" page decoded: SG_PASSAGES_PER_KEY slots */
  sg_page_doc *page_docs; /* and the documents it names */
  sg_block block;
  key_ref at;    /* the record being checked */
  char key[160]; /* at, formatted for a problem */
} checker;

/* ---- keys for people ----------------------------------------------------------------------- */

static void key_set(checker *c, const char *what, const void *bytes, size_t len, int64_t id,
                    int64_t id_end, int64_t block) {
  c->at = (key_ref){what, bytes, len, id, id_end, block};
}

static void key_id(checker *c, const char *what, uint64_t id) {
  key_set(c, what, NULL, 0, (int64_t)id, -1, -1);
}

static void key_bytes(checker *c, const char *what, const void *bytes, size_t len, int64_t block) {
  key_set(c, what, bytes, len, -1, -1, block);
}

static void key_name(checker *c, const char *what) {
  key_set(c, what, NULL, 0, -1, -1, -1);
}

/* Whether stored key bytes can be shown as they are: printable UTF-8. */
static int printable_utf8(const unsigned char *p, size_t n) {
  for (size_t i = 0; i < n;) {
    unsigned char b = p[i];
    size_t len = b < 0x80             ? 1
                 : (b & 0xE0) == 0xC0 ? 2
                 : (b & 0xF0) == 0xE0 ? 3
                 : (b & 0xF8) == 0xF0 ? 4
                                      : 0;
    if (!len || (b < 0x80 && (b < 0x20 || b == 0x7F)) || len > n - i) return 0;
    for (size_t j = 1; j < len; j++)
      if ((p[i + j] & 0xC0) != 0x80) return 0;
    i += len;
  }
  return 1;
}

static void format_key(checker *c) {
  const key_ref *k = &c->at;
  sg_buf b = {0};
  sg_buf_printf(&b, "%s", k->what);
  if (k->bytes && printable_utf8(k->bytes, k->len) && k->len <= 96) {
    sg_buf_printf(&b, " %.*s", (int)k->len, (const char *)k->bytes);
  } else if (k->bytes) {
    sg_buf_printf(&b, " 0x");
    for (size_t i = 0; i < k->len && i < 32; i++) sg_buf_printf(&b, "%02x", k->bytes[i]);
    if (k->len > 32) sg_buf_printf(&b, "...");
  } else if (k->id >= 0) {
    sg_buf_printf(&b, " %" PRId64, k->id);
    if (k->id_end >= 0) sg_buf_printf(&b, "-%" PRId64, k->id_end);
  }
  if (k->block >= 0) sg_buf_printf(&b, ", block %" PRId64, k->block);
  snprintf(c->key, sizeof c->key, "%.*s", (int)b.len, b.data ? (const char *)b.data : "");
  sg_buf_free(&b);
}

/* Returns SEOGO_ECORRUPT to stop the walk when the callback asked to stop, else SEOGO_OK. */
static int problem(checker *c, const char *table, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int problem(checker *c, const char *table, const char *fmt, ...) {
  char msg[384];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  format_key(c);
  if (c->problems++ == 0) sg_fail(&c->first, SEOGO_ECORRUPT, "%s (%s): %s", table, c->key, msg);
  seogo_problem p = {table, c->key, msg};
  if (c->fn && c->fn(c->ctx, &p)) c->stopped = 1;
  return c->stopped ? SEOGO_ECORRUPT : SEOGO_OK;
}

/* ---- LMDB access ------------------------------------------------------------------------------
 */

/* An LMDB failure inside a table: damage LMDB itself found is a problem of that table (the
 * walk of the table ends); anything else (memory, I/O) makes the check impossible. */
static int mdb_failure(checker *c, int rc, const char *table, seogo_error *err) {
  seogo_error e;
  int st = sg_store_mdb_error(rc, table, &e);
  if (st != SEOGO_ECORRUPT) return sg_fail(err, (seogo_status)st, "%s", e.message);
  key_name(c, "its pages");
  int stop = problem(c, table, "LMDB cannot read it: %s", mdb_strerror(rc));
  return stop ? stop : SEOGO_NOTFOUND;
}

/* Walks every record of a table in key order, calling `visit` for each. */
static int walk(checker *c, MDB_dbi dbi, const char *table,
                int (*visit)(checker *c, const MDB_val *k, const MDB_val *v), seogo_error *err) {
  MDB_cursor *cur;
  int rc = mdb_cursor_open(c->txn, dbi, &cur);
  if (rc) return sg_store_mdb_error(rc, table, err);
  MDB_val k, v;
  int st = SEOGO_OK;
  for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); !rc && !st;
       rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
    st = visit(c, &k, &v);
  mdb_cursor_close(cur);
  if (st) return st == SEOGO_NOTFOUND ? SEOGO_OK : st;
  if (rc && rc != MDB_NOTFOUND) {
    st = mdb_failure(c, rc, table, err);
    return st == SEOGO_NOTFOUND ? SEOGO_OK : st;
  }
  return SEOGO_OK;
}

/* mdb_get by a be32 id; SEOGO_NOTFOUND when absent, 1 on an LMDB failure (already reported
 * as a problem, or an error in c->first's place: the caller only needs "not usable"). */
static int get_id(checker *c, MDB_dbi dbi, uint32_t id, MDB_val *v) {
  unsigned char k[4];
  sg_put_be32(k, id);
  MDB_val key = {4, k};
  int rc = mdb_get(c->txn, dbi, &key, v);
  return rc == 0 ? SEOGO_OK : rc == MDB_NOTFOUND ? SEOGO_NOTFOUND : 1;
}

static uint32_t id_key(const MDB_val *k) {
  return sg_get_be32(k->mv_data);
}

/* The tables keyed by an id (docs, text, passages, norms) have 4-byte keys. */
static int not_an_id_key(checker *c, const MDB_val *k, const char *table) {
  key_bytes(c, "key", k->mv_data, k->mv_size, -1);
  return problem(c, table, "the key is not 4 bytes");
}

/* ---- passages ------------------------------------------------------------------------------ */

/* A page names a document by the path of its record. */
static int page_doc_path(checker *c, const sg_page_doc *d) {
  MDB_val v;
  sg_doc doc;
  int rc = get_id(c, c->s->docs, d->doc_id, &v);
  if (rc == SEOGO_NOTFOUND)
    return problem(c, "passages", "the page names document %u, which does not exist",
                   (unsigned)d->doc_id);
  if (rc || sg_doc_decode(v.mv_data, v.mv_size, &doc, NULL)) return SEOGO_OK; /* docs reports it */
  if (doc.path_len != d->path_len || memcmp(doc.path, d->path, d->path_len))
    return problem(c, "passages", "the page gives document %u the path %.*s, its record %.*s",
                   (unsigned)d->doc_id, (int)d->path_len, d->path, (int)doc.path_len, doc.path);
  return SEOGO_OK;
}

static int visit_passage(checker *c, const MDB_val *k, const MDB_val *v) {
  if (k->mv_size != 4) return not_an_id_key(c, k, "passages");
  uint32_t key = id_key(k);
  uint64_t first = (uint64_t)key * SG_PASSAGES_PER_KEY;
  key_set(c, "passages", NULL, 0, (int64_t)first, (int64_t)(first + SG_PASSAGES_PER_KEY - 1), -1);
  if ((!c->page && !(c->page = malloc(SG_PASSAGES_PER_KEY * sizeof *c->page))) ||
      (!c->page_docs && !(c->page_docs = malloc(SG_PASSAGES_PER_KEY * sizeof *c->page_docs))))
    return SEOGO_ENOMEM;
  seogo_error e;
  uint32_t n, ndocs;
  if (sg_passage_page_decode(v->mv_data, v->mv_size, c->page, &n, c->page_docs, &ndocs, &e))
    return problem(c, "passages", "%s", e.message);
  for (uint32_t i = 0; i < ndocs; i++) {
    int st = page_doc_path(c, &c->page_docs[i]);
    if (st) return st;
  }
  uint64_t last = first + n - 1;
  if (last > UINT32_MAX || (c->have_stats && last >= c->stats.next_passage_id) ||
      (first == 0 && c->page[0].doc_id))
    return problem(c, "passages", "the ids are out of range (the next passage id is %" PRIu64 ")",
                   c->stats.next_passage_id);
  for (uint32_t i = 0; i < n; i++) {
    const sg_passage *p = &c->page[i];
    if (!p->doc_id) continue;
    if (sg_grow_array(&c->psg, &c->psg_cap, c->npsg + 1, sizeof *c->psg)) return SEOGO_ENOMEM;
    c->psg[c->npsg++] = (chk_passage){(uint32_t)(first + i), p->doc_id, p->end, p->line_end, 0, 0};
    c->counted.passages++;
  }
  c->max_pid = (uint32_t)last;
  return SEOGO_OK;
}

/* Index of the first kept passage with pid >= target, searching forward from `from`
 * (galloping: postings of a term and documents' ranges come in ascending pid order). */
static size_t passage_at_or_after(const checker *c, size_t from, uint32_t target) {
  size_t lo = from, step = 1, hi = from;
  while (hi < c->npsg && c->psg[hi].pid < target) {
    lo = hi + 1;
    hi += step;
    step *= 2;
  }
  if (hi > c->npsg) hi = c->npsg;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (c->psg[mid].pid < target)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

static const chk_passage *find_passage(const checker *c, size_t *from, uint32_t pid) {
  if (c->by_pid) {
    uint32_t i = pid <= c->max_pid ? c->by_pid[pid] : 0;
    return i ? &c->psg[i - 1] : NULL;
  }
  *from = passage_at_or_after(c, *from, pid);
  return *from < c->npsg && c->psg[*from].pid == pid ? &c->psg[*from] : NULL;
}

/* A direct map from pid to passage, when it costs at most a few bytes per passage: lookups
 * are most of the check's time (one per posting). */
static int map_passages(checker *c) {
  if (c->npsg == 0 || c->max_pid > 16 * (uint64_t)c->npsg + (1u << 20)) return SEOGO_OK;
  if (!(c->by_pid = calloc((size_t)c->max_pid + 1, sizeof *c->by_pid))) return SEOGO_ENOMEM;
  for (size_t i = 0; i < c->npsg; i++) c->by_pid[c->psg[i].pid] = (uint32_t)i + 1;
  return SEOGO_OK;
}

static int unclaimed_passages(checker *c) {
  for (size_t i = 0; i < c->npsg; i++) {
    if (c->psg[i].claimed) continue;
    key_id(c, "passage", c->psg[i].pid);
    int st = problem(c, "passages", "no document holds it (it names document %u)",
                     (unsigned)c->psg[i].doc_id);
    if (st) return st;
  }
  return SEOGO_OK;
}

/* ---- documents, paths, text ------------------------------------------------------------------ */

static int doc_text(checker *c, uint32_t doc_id, const sg_doc *d) {
  MDB_val v;
  int rc = get_id(c, c->s->text, doc_id, &v);
  if (rc == SEOGO_NOTFOUND) return problem(c, "docs", "it has no stored text");
  if (rc) return problem(c, "text", "LMDB cannot read the document's text");
  if (v.mv_size != d->text_len)
    return problem(c, "text", "the stored text has %zu bytes, the document record says %" PRIu64,
                   v.mv_size, d->text_len);
  return SEOGO_OK;
}

static int doc_path(checker *c, uint32_t doc_id, const sg_doc *d) {
  MDB_val k = {d->path_len, (void *)d->path}, v;
  int rc = d->path_len ? mdb_get(c->txn, c->s->paths, &k, &v) : MDB_NOTFOUND;
  if (rc == MDB_NOTFOUND) return problem(c, "paths", "the document's path has no record");
  if (rc) return problem(c, "paths", "LMDB cannot read the document's path: %s", mdb_strerror(rc));
  if (v.mv_size != 4 || id_key(&v) != doc_id)
    return problem(c, "paths", "the document's path names another document");
  return SEOGO_OK;
}

/* Passage i of a document's range: it names the document, no other document holds it, and it
 * lies within the document's text. */
static int doc_passage(checker *c, uint32_t doc_id, const sg_doc *d, chk_passage *p) {
  if (p->doc_id != doc_id)
    return problem(c, "passages", "passage %u of the document names document %u", (unsigned)p->pid,
                   (unsigned)p->doc_id);
  if (p->claimed)
    return problem(c, "docs", "its passage %u belongs to another document too", (unsigned)p->pid);
  p->claimed = 1;
  if (p->end > d->text_len)
    return problem(c, "passages", "passage %u ends at byte %u, after the text's end (%" PRIu64 ")",
                   (unsigned)p->pid, (unsigned)p->end, d->text_len);
  if (p->line_end > d->nlines)
    return problem(c, "passages", "passage %u ends on line %u of a text of %u lines",
                   (unsigned)p->pid, (unsigned)p->line_end, (unsigned)d->nlines);
  return SEOGO_OK;
}

/* The document's passages are first_pid .. first_pid+npassages-1. A missing one is reported
 * once; the others are still claimed, so that they are not reported as strays. */
static int doc_passages(checker *c, uint32_t doc_id, const sg_doc *d) {
  size_t at = 0;
  int missing = 0, st;
  for (uint32_t i = 0; i < d->npassages; i++) {
    uint32_t pid = d->first_pid + i;
    chk_passage *p = (chk_passage *)find_passage(c, &at, pid);
    if (p && (st = doc_passage(c, doc_id, d, p))) return st;
    if (!p && !missing++ &&
        (st = problem(c, "docs", "its passage %u does not exist", (unsigned)pid)))
      return st;
    if (!p && at >= c->npsg) break; /* a range past every passage: the rest are missing too */
  }
  return SEOGO_OK;
}

static int visit_doc(checker *c, const MDB_val *k, const MDB_val *v) {
  if (k->mv_size != 4) return not_an_id_key(c, k, "docs");
  uint32_t doc_id = id_key(k);
  key_id(c, "doc", doc_id);
  sg_doc d;
  seogo_error e;
  if (sg_doc_decode(v->mv_data, v->mv_size, &d, &e)) return problem(c, "docs", "%s", e.message);
  if (doc_id == 0 || (c->have_stats && doc_id >= c->stats.next_doc_id))
    return problem(c, "docs", "the id is out of range (the next document id is %" PRIu64 ")",
                   c->stats.next_doc_id);
  c->counted.documents++;
  c->counted.text_bytes += d.text_len;
  int st;
  if ((st = doc_path(c, doc_id, &d)) || (st = doc_text(c, doc_id, &d))) return st;
  return doc_passages(c, doc_id, &d);
}

static int visit_path(checker *c, const MDB_val *k, const MDB_val *v) {
  key_bytes(c, "path", k->mv_data, k->mv_size, -1);
  if (v->mv_size != 4) return problem(c, "paths", "the value is not a 4-byte document id");
  MDB_val dv;
  sg_doc d;
  int rc = get_id(c, c->s->docs, id_key(v), &dv);
  if (rc == SEOGO_NOTFOUND)
    return problem(c, "paths", "it names document %u, which does not exist", (unsigned)id_key(v));
  if (rc || sg_doc_decode(dv.mv_data, dv.mv_size, &d, NULL)) return SEOGO_OK; /* seen in docs */
  if (d.path_len != k->mv_size || memcmp(d.path, k->mv_data, k->mv_size))
    return problem(c, "paths", "it names document %u, whose path is another", (unsigned)id_key(v));
  return SEOGO_OK;
}

static int visit_text(checker *c, const MDB_val *k, const MDB_val *v) {
  (void)v; /* its size is checked with the document; its bytes are never interpreted */
  if (k->mv_size != 4) return not_an_id_key(c, k, "text");
  key_id(c, "doc", id_key(k));
  MDB_val dv;
  if (get_id(c, c->s->docs, id_key(k), &dv) == SEOGO_NOTFOUND)
    return problem(c, "text", "text of a document that does not exist");
  return SEOGO_OK;
}

/* ---- norms ---------------------------------------------------------------------------------- */

typedef struct norms_walk {
  checker *c;
  size_t next; /* the first passage not yet matched with a norm */
} norms_walk;

static int missing_norm(checker *c, const chk_passage *p) {
  key_id(c, "passage", p->pid);
  return problem(c, "norms", "passage %u has no length in the norms", (unsigned)p->pid);
}

/* Passage lengths of one norms record: each slot holds its passage's length (which the check
 * keeps for the postings), or 0 when there is no such passage. */
static int check_norms_record(checker *c, size_t *next, uint64_t base, const MDB_val *v) {
  int st = SEOGO_OK, reported = 0; /* a record's first problem only: garbage has thousands */
  for (uint32_t i = 0; i < SG_NORMS_PER_KEY && !st; i++) {
    uint64_t pid = base + i;
    uint32_t got = sg_norm_at(v->mv_data, v->mv_size, i);
    int exists = *next < c->npsg && c->psg[*next].pid == pid;
    if (exists) {
      c->psg[(*next)++].length = (uint16_t)got;
      c->counted.tokens += got;
    }
    if (exists && got == 0 && !reported++)
      st = problem(c, "norms", "passage %" PRIu64 " has no length (no terms)", pid);
    else if (!exists && got != 0 && !reported++)
      st = problem(c, "norms", "passage %" PRIu64 " has length %u here, but no record", pid,
                   (unsigned)got);
  }
  return st;
}

static int visit_norms(checker *c, const MDB_val *k, const MDB_val *v, size_t *next) {
  if (k->mv_size != 4) return not_an_id_key(c, k, "norms");
  uint64_t base = (uint64_t)id_key(k) * SG_NORMS_PER_KEY;
  int st;
  while (*next < c->npsg && c->psg[*next].pid < base)
    if ((st = missing_norm(c, &c->psg[(*next)++]))) return st;
  key_set(c, "passages", NULL, 0, (int64_t)base, (int64_t)(base + SG_NORMS_PER_KEY - 1), -1);
  if (!sg_norms_size_ok(v->mv_size))
    return problem(c, "norms", "the record has %zu bytes, not an even number from 2 to %d",
                   v->mv_size, 2 * SG_NORMS_PER_KEY);
  if (!sg_norm_at(v->mv_data, v->mv_size, (uint32_t)(v->mv_size / 2 - 1)))
    return problem(c, "norms", "the record ends in a zero length");
  size_t at = *next;
  st = check_norms_record(c, &at, base, v);
  while (*next < c->npsg && c->psg[*next].pid < base + SG_NORMS_PER_KEY) (*next)++;
  return st;
}

static int walk_norms(checker *c, seogo_error *err) {
  MDB_cursor *cur;
  int rc = mdb_cursor_open(c->txn, c->s->norms, &cur);
  if (rc) return sg_store_mdb_error(rc, "norms", err);
  MDB_val k, v;
  size_t next = 0;
  int st = SEOGO_OK;
  for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); !rc && !st;
       rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
    st = visit_norms(c, &k, &v, &next);
  mdb_cursor_close(cur);
  if (!st && rc && rc != MDB_NOTFOUND) {
    st = mdb_failure(c, rc, "norms", err);
    return st == SEOGO_NOTFOUND ? SEOGO_OK : st;
  }
  while (!st && next < c->npsg) st = missing_norm(c, &c->psg[next++]);
  return st;
}

/* ---- terms and postings
 * -------------------------------------------------------------------------- */

/* What the postings blocks of one term add up to. */
typedef struct term_sum {
  const unsigned char *term;
  size_t len;
  uint64_t df, cf;
  uint32_t nblocks, last_pid;
  uint32_t max_tf, min_len; /* the largest tf and the shortest passage of the postings */
  size_t at;                /* passage search position */
  int damaged;              /* a block was bad: its counts are unknown */
} term_sum;

/* Each posting names an existing passage long enough for its positions and no shorter than
 * the block's bound (block-max scoring trusts it). */
static int block_passages(checker *c, term_sum *t) {
  const sg_block *b = &c->block;
  for (uint32_t i = 0; i < b->count; i++) {
    const chk_passage *p = find_passage(c, &t->at, b->pids[i]);
    if (!p) return problem(c, "postings", "passage %u does not exist", (unsigned)b->pids[i]);
    if (p->length < t->min_len) t->min_len = p->length;
    if (p->length < b->min_len)
      return problem(c, "postings", "passage %u has length %u, below the block's bound %u",
                     (unsigned)b->pids[i], (unsigned)p->length, (unsigned)b->min_len);
    uint32_t last = b->pos_start[i + 1] - 1; /* positions ascend: the last is the largest */
    if ((b->positions[last] >> 2) >= p->length)
      return problem(c, "postings", "position %u in passage %u, which has %u",
                     (unsigned)(b->positions[last] >> 2), (unsigned)b->pids[i],
                     (unsigned)p->length);
  }
  return SEOGO_OK;
}

static int check_block(checker *c, term_sum *t, uint32_t key_pid, const MDB_val *v) {
  seogo_error e;
  int rc = sg_block_decode(v->mv_data, v->mv_size, key_pid, &c->block, &e);
  if (rc == SEOGO_ENOMEM) return rc;
  t->nblocks++;
  if (rc) {
    t->damaged = 1;
    return problem(c, "postings", "%s", e.message);
  }
  const sg_block *b = &c->block;
  if (b->pids[0] != key_pid) {
    t->damaged = 1;
    return problem(c, "postings", "its first passage is %u, not the key's", (unsigned)b->pids[0]);
  }
  if (t->nblocks > 1 && key_pid <= t->last_pid)
    return problem(c, "postings", "it overlaps the term's previous block (which ends at %u)",
                   (unsigned)t->last_pid);
  t->last_pid = b->last_pid;
  t->df += b->count;
  for (uint32_t i = 0; i < b->count; i++) t->cf += b->tfs[i];
  if (b->max_tf > t->max_tf) t->max_tf = b->max_tf;
  return block_passages(c, t);
}

/* Compares a term record with what its blocks add up to. */
static int check_term(checker *c, const term_sum *t, const MDB_val *rec) {
  key_bytes(c, "term", t->term, t->len, -1);
  sg_term_info info;
  seogo_error e;
  if (sg_term_decode(rec->mv_data, rec->mv_size, &info, &e))
    return problem(c, "terms", "%s", e.message);
  c->counted.terms++;
  c->counted.postings += info.df;
  if (t->damaged) return SEOGO_OK;
  if (info.df != t->df || info.cf != t->cf || info.nblocks != t->nblocks)
    return problem(c, "terms",
                   "the record counts %" PRIu64 " passages, %" PRIu64
                   " occurrences and %u blocks; "
                   "its postings hold %" PRIu64 ", %" PRIu64 " and %u",
                   info.df, info.cf, (unsigned)info.nblocks, t->df, t->cf, (unsigned)t->nblocks);
  /* bounds for block-max scoring: an understated one would drop hits silently */
  if (info.max_tf < t->max_tf || info.min_len > t->min_len)
    return problem(c, "terms",
                   "the record bounds tf by %u and lengths from %u; its postings have tf %u "
                   "and a passage of length %u",
                   (unsigned)info.max_tf, (unsigned)info.min_len, (unsigned)t->max_tf,
                   (unsigned)t->min_len);
  return SEOGO_OK;
}

static int cmp_bytes(const void *a, size_t alen, const void *b, size_t blen) {
  int d = memcmp(a, b, alen < blen ? alen : blen);
  return d ? d : alen < blen ? -1 : alen > blen;
}

/* The terms table is read in step with the postings: both are in term byte order (a term's
 * postings keys are the term, 0x00 and a pid, and terms never hold 0x00). */
typedef struct term_walk {
  MDB_cursor *terms;
  MDB_val k, v;
  int rc; /* of the terms cursor: 0 while it stands on a record */
} term_walk;

static int terms_before(checker *c, term_walk *tw, const void *term, size_t len) {
  while (tw->rc == 0 && (!term || cmp_bytes(tw->k.mv_data, tw->k.mv_size, term, len) < 0)) {
    key_bytes(c, "term", tw->k.mv_data, tw->k.mv_size, -1);
    int st = problem(c, "terms", "the term has no postings");
    if (st) return st;
    tw->rc = mdb_cursor_get(tw->terms, &tw->k, &tw->v, MDB_NEXT);
  }
  return SEOGO_OK;
}

/* Ends a term's run of blocks: its record must follow in the terms table. */
static int finish_term(checker *c, term_walk *tw, const term_sum *t) {
  if (!t->term) return SEOGO_OK;
  int st = terms_before(c, tw, t->term, t->len);
  if (st) return st;
  if (tw->rc == 0 && cmp_bytes(tw->k.mv_data, tw->k.mv_size, t->term, t->len) == 0) {
    st = check_term(c, t, &tw->v);
    tw->rc = mdb_cursor_get(tw->terms, &tw->k, &tw->v, MDB_NEXT);
    return st;
  }
  key_bytes(c, "term", t->term, t->len, -1);
  return problem(c, "terms", "the term has postings but no record");
}

static int visit_postings(checker *c, term_walk *tw, term_sum *t, const MDB_val *k,
                          const MDB_val *v) {
  size_t tlen;
  uint32_t key_pid;
  if (sg_postings_key_parse(k->mv_data, k->mv_size, &tlen, &key_pid)) {
    key_bytes(c, "key", k->mv_data, k->mv_size, -1);
    return problem(c, "postings", "the key is not a term, 0x00 and a passage id");
  }
  if (!t->term || tlen != t->len || memcmp(t->term, k->mv_data, tlen)) {
    int st = finish_term(c, tw, t);
    if (st) return st;
    *t = (term_sum){.term = k->mv_data, .len = tlen, .min_len = UINT32_MAX};
  }
  key_bytes(c, "term", k->mv_data, tlen, key_pid);
  return check_block(c, t, key_pid, v);
}

static int walk_postings(checker *c, seogo_error *err) {
  MDB_cursor *cur;
  term_walk tw = {0};
  int rc = mdb_cursor_open(c->txn, c->s->postings, &cur);
  if (rc) return sg_store_mdb_error(rc, "postings", err);
  if ((rc = mdb_cursor_open(c->txn, c->s->terms, &tw.terms))) {
    mdb_cursor_close(cur);
    return sg_store_mdb_error(rc, "terms", err);
  }
  tw.rc = mdb_cursor_get(tw.terms, &tw.k, &tw.v, MDB_FIRST);
  term_sum t = {0};
  MDB_val k, v;
  int st = SEOGO_OK;
  for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); !rc && !st;
       rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
    st = visit_postings(c, &tw, &t, &k, &v);
  if (!st && rc && rc != MDB_NOTFOUND)
    st = mdb_failure(c, rc, "postings", err);
  else if (!st)
    st = finish_term(c, &tw, &t);
  if (!st) st = terms_before(c, &tw, NULL, 0);
  if (!st && tw.rc && tw.rc != MDB_NOTFOUND) st = mdb_failure(c, tw.rc, "terms", err);
  mdb_cursor_close(tw.terms);
  mdb_cursor_close(cur);
  if (st == SEOGO_ENOMEM) return sg_fail(err, SEOGO_ENOMEM, "out of memory");
  return st == SEOGO_NOTFOUND ? SEOGO_OK : st;
}

/* ---- stats ------------------------------------------------------------------------------------
 */

static int check_count(checker *c, const char *what, uint64_t stored, uint64_t counted) {
  if (stored == counted) return SEOGO_OK;
  return problem(c, "meta", "it counts %" PRIu64 " %s; the tables hold %" PRIu64, stored, what,
                 counted);
}

static int check_stats(checker *c) {
  if (!c->have_stats) return SEOGO_OK;
  const sg_stats *s = &c->stats, *n = &c->counted;
  key_name(c, "stats");
  int st;
  if ((st = check_count(c, "documents", s->documents, n->documents)) ||
      (st = check_count(c, "passages", s->passages, n->passages)) ||
      (st = check_count(c, "tokens (passage lengths)", s->tokens, n->tokens)) ||
      (st = check_count(c, "postings", s->postings, n->postings)) ||
      (st = check_count(c, "terms", s->terms, n->terms)) ||
      (st = check_count(c, "bytes of text", s->text_bytes, n->text_bytes)))
    return st;
  return SEOGO_OK;
}

/* ---- the whole check
 * ------------------------------------------------------------------------------ */

static int read_stats(checker *c) {
  seogo_error e;
  key_name(c, "stats");
  if (sg_store_get_stats(c->s, c->txn, &c->stats, &e)) return problem(c, "meta", "%s", e.message);
  c->have_stats = 1;
  return SEOGO_OK;
}

static int page_problem(void *ctx, const char *table, uint64_t pgno, const char *message) {
  checker *c = ctx;
  key_id(c, "page", pgno);
  return problem(c, *table ? table : "lmdb", "%s", message) != SEOGO_OK;
}

/* LMDB's pages first: a cursor walk over a damaged page could crash, so the tables are read
 * only when every page of the snapshot is sound. */
static int check_pages(checker *c, seogo_error *err) {
  int damaged = 0;
  int rc = sg_check_pages(c->s, c->txn, page_problem, c, &damaged, err);
  return rc ? rc : damaged ? SEOGO_ECORRUPT : SEOGO_OK;
}

/* Runs the walks in order; a nonzero status ends the check (a stop, or an error in err). */
static int run_checks(checker *c, seogo_error *err) {
  int st;
  if ((st = check_pages(c, err)) || (st = read_stats(c)) ||
      (st = walk(c, c->s->passages, "passages", visit_passage, err)) || (st = map_passages(c)) ||
      (st = walk(c, c->s->docs, "docs", visit_doc, err)) ||
      (st = walk(c, c->s->paths, "paths", visit_path, err)) ||
      (st = walk(c, c->s->text, "text", visit_text, err)) || (st = unclaimed_passages(c)) ||
      (st = walk_norms(c, err)) || (st = walk_postings(c, err)) || (st = check_stats(c)))
    return st;
  return SEOGO_OK;
}

static void fill_out(const checker *c, seogo_index_stats *out) {
  memset(out, 0, sizeof *out);
  out->format_version = SG_FORMAT_VERSION;
  out->analyzer_version = SG_ANALYZER_VERSION;
  out->documents = c->counted.documents;
  out->passages = c->counted.passages;
  out->terms = c->counted.terms;
  out->postings = c->counted.postings;
  out->tokens = c->counted.tokens;
  out->text_bytes = c->counted.text_bytes;
  out->index_bytes = sg_store_disk_bytes(c->s);
}

/* The check, or with pages_only its first part. */
static int check(seogo_index *index, int pages_only,
                 int (*fn)(void *ctx, const seogo_problem *problem), void *ctx,
                 seogo_index_stats *out, seogo_error *err) {
  if (!index || !index->store) return sg_fail(err, SEOGO_EINVAL, "index handle is NULL");
  checker c = {.s = index->store, .fn = fn, .ctx = ctx};
  sg_block_init(&c.block);
  int rc = sg_store_read_begin(c.s, &c.txn, err);
  if (rc) return rc;
  rc = pages_only ? check_pages(&c, err) : run_checks(&c, err);
  if (rc == SEOGO_ENOMEM) rc = sg_fail(err, SEOGO_ENOMEM, "out of memory checking the index");
  if ((!rc || rc == SEOGO_ECORRUPT) && c.problems) {
    rc = sg_fail(err, SEOGO_ECORRUPT,
                 "index at %s is damaged: %" PRIu64 " problem%s%s, the first in %s", c.s->dir,
                 c.problems, c.problems == 1 ? "" : "s",
                 c.stopped ? " before the check stopped" : "", c.first.message);
  } else if (!rc && out) {
    fill_out(&c, out);
  }
  sg_store_read_end(c.s, c.txn);
  sg_block_free(&c.block);
  free(c.psg);
  free(c.by_pid);
  free(c.page);
  free(c.page_docs);
  return rc;
}

int seogo_check(seogo_index *index, int (*fn)(void *ctx, const seogo_problem *problem), void *ctx,
                seogo_index_stats *out, seogo_error *err) {
  return check(index, 0, fn, ctx, out, err);
}

int seogo_check_pages(seogo_index *index, int (*fn)(void *ctx, const seogo_problem *problem),
                      void *ctx, seogo_error *err) {
  return check(index, 1, fn, ctx, NULL, err);
}
