/* writer.c - adding, replacing and removing documents: changes are buffered in memory and
 * written in one LMDB transaction per commit (redone after growing the map when it is full). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "indexer.h"

/* Internal status: the map filled up during the batch; grow it and write the batch again. */
#define SG_RETRY_GROW 100

/* LMDB's largest key (the default build); longer document names cannot be "paths" keys. */
#define SG_MAX_PATH_BYTES 511

/* ---- A map from byte strings to dense indexes (terms, paths) ------------------------------ */

typedef struct strkey {
  uint32_t off, len, hash;
} strkey;

typedef struct strmap {
  uint32_t *slots; /* index + 1; 0 = empty */
  size_t nslots;
  strkey *keys;
  size_t count, cap;
  sg_buf bytes;
} strmap;

static uint32_t hash_bytes(const void *data, size_t len) {
  uint64_t h = sg_hash64(data, len);
  return (uint32_t)(h ^ (h >> 32));
}

static const char *strmap_key(const strmap *m, size_t i, size_t *len) {
  *len = m->keys[i].len;
  return (const char *)m->bytes.data + m->keys[i].off;
}

static long strmap_find(const strmap *m, const void *key, size_t len, uint32_t h) {
  if (!m->nslots) return -1;
  for (size_t s = h & (m->nslots - 1);; s = (s + 1) & (m->nslots - 1)) {
    uint32_t v = m->slots[s];
    if (!v) return -1;
    const strkey *k = &m->keys[v - 1];
    if (k->hash == h && k->len == len && !memcmp(m->bytes.data + k->off, key, len))
      return (long)v - 1;
  }
}

static int strmap_rehash(strmap *m) {
  size_t n = m->nslots ? m->nslots * 2 : 1024;
  uint32_t *slots = calloc(n, sizeof *slots);
  if (!slots) return -1;
  for (size_t i = 0; i < m->count; i++) {
    size_t s = m->keys[i].hash & (n - 1);
    while (slots[s]) s = (s + 1) & (n - 1);
    slots[s] = (uint32_t)i + 1;
  }
  free(m->slots);
  m->slots = slots;
  m->nslots = n;
  return 0;
}

/* Index of key, added when absent; -1 when memory runs out. */
static long strmap_intern(strmap *m, const void *key, size_t len) {
  uint32_t h = hash_bytes(key, len);
  long found = strmap_find(m, key, len, h);
  if (found >= 0) return found;
  if ((m->count + 1) * 2 > m->nslots && strmap_rehash(m)) return -1;
  if (m->count == m->cap) {
    size_t cap = m->cap ? m->cap * 2 : 256;
    strkey *keys = realloc(m->keys, cap * sizeof *keys);
    if (!keys) return -1;
    m->keys = keys;
    m->cap = cap;
  }
  if (m->bytes.len + len > UINT32_MAX || sg_buf_append(&m->bytes, key, len)) return -1;
  m->keys[m->count] = (strkey){(uint32_t)(m->bytes.len - len), (uint32_t)len, h};
  size_t s = h & (m->nslots - 1);
  while (m->slots[s]) s = (s + 1) & (m->nslots - 1);
  m->slots[s] = (uint32_t)m->count + 1;
  return (long)m->count++;
}

static void strmap_free(strmap *m) {
  free(m->slots);
  free(m->keys);
  sg_buf_free(&m->bytes);
  memset(m, 0, sizeof *m);
}

/* ---- The batch held in memory until commit ------------------------------------------------ */

/* A document added in this batch. */
typedef struct pending_doc {
  sg_doc rec;           /* rec.path is set when written (the path map may move) */
  long path;            /* index in the path map */
  uint32_t doc_id;
  char *text;           /* owned */
  sg_passage *passages; /* rec.npassages */
  int dead;             /* replaced or removed again within the batch */
} pending_doc;

/* A committed document to remove at commit, with the terms its text yields. */
typedef struct pending_removal {
  uint32_t doc_id, first_pid, npassages;
  uint64_t text_len;
  long path; /* index in the path map */
  sg_buf terms; /* each: varint length, bytes */
} pending_removal;

/* A committed document whose file was touched but not changed: its record gets the new mtime. */
typedef struct pending_touch {
  uint32_t doc_id;
  sg_buf rec;
} pending_touch;

/* Per path in the batch: what happened to it. */
typedef struct path_state {
  long doc;     /* live pending_doc index, or -1 */
  int removed;  /* the committed document under this path is scheduled for removal */
} path_state;

/* Postings buffered for one term: per passage, varint pid delta (from the term's previous
 * pid), varint tf, tf varints (gap << 2 | flags). */
typedef struct term_postings {
  uint32_t last_pid;
  uint32_t count;
  sg_buf list;
} term_postings;

typedef struct occurrence {
  uint32_t term;       /* term index */
  uint32_t pos_flags;  /* (position << 2) | flags, relative to the passage */
} occurrence;

typedef struct pid_range {
  uint32_t first, end;
} pid_range;

struct sg_writer {
  seogo_index *index;
  sg_store *store;
  sg_analyzer *analyzer;
  sg_analysis analysis;         /* of the document being added */
  sg_analysis removed_analysis; /* of a document being removed (while one is being added) */
  sg_spans spans;

  uint64_t next_doc_id, next_pid; /* the next ids to hand out */
  uint64_t pending_bytes;

  strmap paths;
  path_state *path_states;
  size_t path_states_cap;
  pending_doc *docs;
  size_t ndocs, docs_cap;
  pending_removal *removals;
  size_t nremovals, removals_cap;
  pending_touch *touches;
  size_t ntouches, touches_cap;
  pid_range *dead;
  size_t ndead, dead_cap;

  strmap terms;
  term_postings *postings;
  size_t postings_cap;

  occurrence *occ; /* scratch: one passage's term occurrences */
  size_t occ_cap;
  sg_block block; /* scratch for block rewrites */
  sg_buf key, val;
};

/* Grows *arr (of *cap elements of size `size`) to hold n elements. */
static int grow_array(void *arr, size_t *cap, size_t n, size_t size) {
  if (n <= *cap) return 0;
  size_t c = *cap ? *cap : 16;
  while (c < n) c *= 2;
  void *p = realloc(*(void **)arr, c * size);
  if (!p) return -1;
  *(void **)arr = p;
  *cap = c;
  return 0;
}

static int oom(seogo_error *err) { return sg_fail(err, SEOGO_ENOMEM, "out of memory"); }

static int load_next_ids(sg_writer *w, seogo_error *err) {
  MDB_txn *txn;
  int rc = sg_store_read_begin(w->store, &txn, err);
  if (rc) return rc;
  sg_stats stats;
  rc = sg_store_get_stats(w->store, txn, &stats, err);
  sg_store_read_end(w->store, txn);
  if (rc) return rc;
  w->next_doc_id = stats.next_doc_id;
  w->next_pid = stats.next_passage_id;
  return SEOGO_OK;
}

static void clear_batch(sg_writer *w) {
  for (size_t i = 0; i < w->ndocs; i++) {
    free(w->docs[i].text);
    free(w->docs[i].passages);
  }
  for (size_t i = 0; i < w->nremovals; i++) sg_buf_free(&w->removals[i].terms);
  for (size_t i = 0; i < w->ntouches; i++) sg_buf_free(&w->touches[i].rec);
  for (size_t i = 0; i < w->terms.count; i++) sg_buf_free(&w->postings[i].list);
  w->ndocs = w->nremovals = w->ntouches = w->ndead = 0;
  strmap_free(&w->paths);
  strmap_free(&w->terms);
  w->pending_bytes = 0;
}

int sg_writer_new(seogo_index *index, sg_writer **out, seogo_error *err) {
  sg_writer *w = calloc(1, sizeof *w);
  if (!w) return oom(err);
  w->index = index;
  w->store = index->store;
  sg_analysis_init(&w->analysis);
  sg_analysis_init(&w->removed_analysis);
  sg_block_init(&w->block);
  int rc = load_next_ids(w, err);
  if (rc) {
    sg_writer_free(w);
    return rc;
  }
  *out = w;
  return SEOGO_OK;
}

void sg_writer_free(sg_writer *w) {
  if (!w) return;
  clear_batch(w);
  if (w->analyzer) sg_analyzer_free(w->analyzer);
  sg_analysis_free(&w->analysis);
  sg_analysis_free(&w->removed_analysis);
  sg_spans_free(&w->spans);
  sg_block_free(&w->block);
  sg_buf_free(&w->key);
  sg_buf_free(&w->val);
  free(w->path_states);
  free(w->docs);
  free(w->removals);
  free(w->touches);
  free(w->dead);
  free(w->postings);
  free(w->occ);
  free(w);
}

static int writer_of(seogo_index *index, sg_writer **w, seogo_error *err) {
  if (!index) return sg_fail(err, SEOGO_EINVAL, "no index handle");
  if (!index->writer)
    return sg_fail(err, SEOGO_EREADONLY, "the index at %s was opened read-only",
                   index->store->dir);
  *w = index->writer;
  return SEOGO_OK;
}

/* ---- Looking up the current version of a document ----------------------------------------- */

/* What the index (committed state plus this batch) holds under a path. */
typedef struct existing {
  int found;
  int committed;       /* in the committed state (else pending in this batch) */
  long pending;        /* pending_doc index when !committed */
  uint32_t doc_id;
  sg_doc rec;          /* rec.path is not valid */
} existing;

static long path_index(sg_writer *w, const char *name, size_t len, int add) {
  uint32_t h = hash_bytes(name, len);
  long i = strmap_find(&w->paths, name, len, h);
  if (i >= 0 || !add) return i;
  i = strmap_intern(&w->paths, name, len);
  if (i < 0) return -1;
  if (grow_array(&w->path_states, &w->path_states_cap, (size_t)i + 1, sizeof *w->path_states))
    return -1;
  w->path_states[i] = (path_state){-1, 0};
  return i;
}

static int lookup_committed(sg_writer *w, MDB_txn *txn, const char *name, size_t len,
                            existing *ex, seogo_error *err) {
  MDB_val key = {len, (void *)name}, v;
  int rc = mdb_get(txn, w->store->paths, &key, &v);
  if (rc == MDB_NOTFOUND) return SEOGO_OK;
  if (rc) return sg_store_mdb_error(rc, name, err);
  if (v.mv_size != 4) return sg_fail(err, SEOGO_ECORRUPT, "index is corrupt: bad path record");
  unsigned char id[4];
  memcpy(id, v.mv_data, 4);
  MDB_val dkey = {4, id};
  if ((rc = mdb_get(txn, w->store->docs, &dkey, &v)))
    return rc == MDB_NOTFOUND
               ? sg_fail(err, SEOGO_ECORRUPT, "index is corrupt: %s has no document record", name)
               : sg_store_mdb_error(rc, name, err);
  if ((rc = sg_doc_decode(v.mv_data, v.mv_size, &ex->rec, err))) return rc;
  ex->rec.path = NULL;
  ex->found = ex->committed = 1;
  ex->doc_id = sg_get_be32(id);
  return SEOGO_OK;
}

static int find_existing(sg_writer *w, const char *name, size_t len, existing *ex,
                         seogo_error *err) {
  memset(ex, 0, sizeof *ex);
  ex->pending = -1;
  long p = path_index(w, name, len, 0);
  if (p >= 0 && w->path_states[p].doc >= 0) {
    const pending_doc *d = &w->docs[w->path_states[p].doc];
    ex->found = 1;
    ex->pending = w->path_states[p].doc;
    ex->doc_id = d->doc_id;
    ex->rec = d->rec;
    return SEOGO_OK;
  }
  if (p >= 0 && w->path_states[p].removed) return SEOGO_OK;
  MDB_txn *txn;
  int rc = sg_store_read_begin(w->store, &txn, err);
  if (rc) return rc;
  rc = lookup_committed(w, txn, name, len, ex, err);
  sg_store_read_end(w->store, txn);
  return rc;
}

/* ---- Scheduling removals ------------------------------------------------------------------- */

static int ensure_analyzer(sg_writer *w, seogo_error *err) {
  return w->analyzer ? SEOGO_OK : sg_analyzer_new(&w->analyzer, err);
}

/* Collects the distinct terms of the analysis into buf (varint length, bytes each). */
static int collect_terms(const sg_analysis *r, sg_buf *buf) {
  strmap seen = {0};
  int rc = 0;
  for (size_t i = 0; i < r->ntokens && !rc; i++) {
    const sg_token *t = &r->tokens[i];
    size_t before = seen.count;
    long k = strmap_intern(&seen, sg_token_term(r, t), t->term_len);
    if (k < 0) rc = -1;
    else if (seen.count > before)
      rc = sg_buf_put_varint(buf, t->term_len) ||
           sg_buf_append(buf, sg_token_term(r, t), t->term_len);
  }
  strmap_free(&seen);
  return rc;
}

/* Schedules the removal of a committed document: its stored text is analyzed again (the
 * same text and analyzer give the same terms) to learn which terms' postings to rewrite. */
static int schedule_removal(sg_writer *w, long path, const existing *ex, seogo_error *err) {
  int rc = ensure_analyzer(w, err);
  if (rc) return rc;
  if (grow_array(&w->removals, &w->removals_cap, w->nremovals + 1, sizeof *w->removals))
    return oom(err);
  pending_removal *r = &w->removals[w->nremovals];
  memset(r, 0, sizeof *r);
  MDB_txn *txn;
  if ((rc = sg_store_read_begin(w->store, &txn, err))) return rc;
  unsigned char id[4];
  sg_put_be32(id, ex->doc_id);
  MDB_val key = {4, id}, text = {0, NULL};
  rc = mdb_get(txn, w->store->text, &key, &text);
  if (rc == MDB_NOTFOUND) rc = SEOGO_OK; /* nothing to re-analyze: no postings either */
  else if (rc) rc = sg_store_mdb_error(rc, w->store->dir, err);
  if (!rc && text.mv_size)
    rc = sg_analyze(w->analyzer, text.mv_data, text.mv_size, SG_ANALYZE_DOCUMENT,
                    &w->removed_analysis, err);
  if (!rc && text.mv_size && collect_terms(&w->removed_analysis, &r->terms)) rc = oom(err);
  sg_store_read_end(w->store, txn);
  if (rc) {
    sg_buf_free(&r->terms);
    return rc;
  }
  r->doc_id = ex->doc_id;
  r->first_pid = ex->rec.first_pid;
  r->npassages = ex->rec.npassages;
  r->text_len = ex->rec.text_len;
  r->path = path;
  w->path_states[path].removed = 1;
  w->nremovals++;
  return SEOGO_OK;
}

static int mark_dead(sg_writer *w, pending_doc *d) {
  if (d->rec.npassages) {
    if (grow_array(&w->dead, &w->dead_cap, w->ndead + 1, sizeof *w->dead)) return -1;
    w->dead[w->ndead++] = (pid_range){d->rec.first_pid, d->rec.first_pid + d->rec.npassages};
  }
  d->dead = 1;
  w->pending_bytes -= d->rec.text_len;
  free(d->text);
  d->text = NULL;
  return 0;
}

/* Takes the existing version of a document out of the index (at commit, or now if pending). */
static int retire(sg_writer *w, long path, const existing *ex, seogo_error *err) {
  if (!ex->committed) {
    if (mark_dead(w, &w->docs[ex->pending])) return oom(err);
    w->path_states[path].doc = -1;
    return SEOGO_OK;
  }
  return schedule_removal(w, path, ex, err);
}

int seogo_remove(seogo_index *index, const char *name, seogo_error *err) {
  sg_writer *w = NULL;
  int rc = writer_of(index, &w, err);
  if (rc) return rc;
  if (!name || !*name) return sg_fail(err, SEOGO_EINVAL, "no document name given");
  size_t len = strlen(name);
  existing ex;
  if ((rc = find_existing(w, name, len, &ex, err))) return rc;
  if (!ex.found) return sg_fail(err, SEOGO_NOTFOUND, "%s is not in the index", name);
  long path = path_index(w, name, len, 1);
  if (path < 0) return oom(err);
  return retire(w, path, &ex, err);
}

/* ---- Buffering a new document ------------------------------------------------------------- */

static int cmp_occurrence(const void *a, const void *b) {
  const occurrence *x = a, *y = b;
  if (x->term != y->term) return x->term < y->term ? -1 : 1;
  return x->pos_flags < y->pos_flags ? -1 : x->pos_flags > y->pos_flags;
}

/* Appends one posting (pid, sorted occurrences occ[0..n) of one term) to the term's list. */
static int append_posting(term_postings *tp, uint32_t pid, const occurrence *occ, size_t n) {
  if (sg_buf_put_varint(&tp->list, pid - tp->last_pid) || sg_buf_put_varint(&tp->list, n))
    return -1;
  uint32_t prev = 0;
  for (size_t i = 0; i < n; i++) {
    uint32_t pos = occ[i].pos_flags >> 2;
    if (sg_buf_put_varint(&tp->list, (uint64_t)(pos - prev) << 2 | (occ[i].pos_flags & 3)))
      return -1;
    prev = pos;
  }
  tp->last_pid = pid;
  tp->count++;
  return 0;
}

/* Buffers the postings of one passage. */
static int buffer_passage(sg_writer *w, const sg_analysis *r, const sg_span *s, uint32_t pid) {
  size_t n = 0;
  if (grow_array(&w->occ, &w->occ_cap, s->tok_end - s->tok_start, sizeof *w->occ)) return -1;
  for (uint32_t t = s->tok_start; t < s->tok_end; t++) {
    const sg_token *tok = &r->tokens[t];
    const char *term = sg_token_term(r, tok);
    uint32_t rel = tok->pos - s->pos_base;
    if (!tok->term_len || memchr(term, 0, tok->term_len) || rel >= SG_MAX_POSITIONS) continue;
    size_t before = w->terms.count;
    if (grow_array(&w->postings, &w->postings_cap, before + 1, sizeof *w->postings)) return -1;
    long k = strmap_intern(&w->terms, term, tok->term_len);
    if (k < 0) return -1;
    if (w->terms.count > before) memset(&w->postings[k], 0, sizeof w->postings[k]);
    unsigned flags = (tok->flags & SEOGO_TERM_WORD_START ? 1u : 0u) |
                     (tok->flags & SEOGO_TERM_STEM_END ? 2u : 0u);
    w->occ[n++] = (occurrence){(uint32_t)k, rel << 2 | flags};
  }
  qsort(w->occ, n, sizeof *w->occ, cmp_occurrence);
  for (size_t i = 0; i < n;) {
    size_t j = i + 1;
    while (j < n && w->occ[j].term == w->occ[i].term) j++;
    if (append_posting(&w->postings[w->occ[i].term], pid, w->occ + i, j - i)) return -1;
    i = j;
  }
  return 0;
}

/* Records the analyzed text as a pending document under `path`, taking ownership of text. */
static int buffer_document(sg_writer *w, long path, char *text, const sg_doc *rec,
                           seogo_error *err) {
  const sg_spans *sp = &w->spans;
  if (w->next_doc_id > UINT32_MAX || w->next_pid + sp->count > (uint64_t)UINT32_MAX + 1)
    return sg_fail(err, SEOGO_ELIMIT, "the index has run out of document or passage ids");
  if (grow_array(&w->docs, &w->docs_cap, w->ndocs + 1, sizeof *w->docs)) return oom(err);
  pending_doc *d = &w->docs[w->ndocs];
  memset(d, 0, sizeof *d);
  d->rec = *rec;
  d->path = path;
  d->doc_id = (uint32_t)w->next_doc_id;
  d->rec.first_pid = (uint32_t)w->next_pid;
  d->rec.npassages = (uint32_t)sp->count;
  d->passages = malloc((sp->count ? sp->count : 1) * sizeof *d->passages);
  if (!d->passages) return oom(err);
  d->text = text;
  w->ndocs++;
  w->next_doc_id++;
  w->next_pid += sp->count;
  w->pending_bytes += rec->text_len;
  w->path_states[path].doc = (long)(w->ndocs - 1);
  for (size_t i = 0; i < sp->count; i++) {
    const sg_span *s = &sp->items[i];
    d->passages[i] = (sg_passage){d->doc_id, s->start, s->end, s->line_start, s->line_end,
                                  s->length > SG_MAX_POSITIONS ? SG_MAX_POSITIONS : s->length};
    if (buffer_passage(w, &w->analysis, s, d->rec.first_pid + (uint32_t)i)) {
      /* the pids of a half-buffered document are dropped at commit */
      w->path_states[path].doc = -1;
      mark_dead(w, d);
      return oom(err);
    }
  }
  return SEOGO_OK;
}

/* ---- Adding ----------------------------------------------------------------------------------- */

typedef struct source {
  const char *name;      /* the document's name in the index */
  const char *file_path; /* for messages */
  const void *data;
  size_t len;
  uint64_t size;
  int64_t mtime;
} source;

static void fill_info(seogo_add_info *info, seogo_add_outcome outcome, const sg_doc *rec,
                      uint64_t size) {
  if (!info) return;
  memset(info, 0, sizeof *info);
  info->outcome = outcome;
  info->passages = rec->npassages;
  info->bytes = size;
  memcpy(info->encoding, rec->encoding, sizeof info->encoding);
  info->invalid_sequences = rec->invalid;
}

/* The same content under a new mtime: only the record changes. */
static int touch(sg_writer *w, const existing *ex, const char *name, size_t len, int64_t mtime,
                 seogo_error *err) {
  if (!ex->committed) {
    w->docs[ex->pending].rec.mtime = mtime;
    return SEOGO_OK;
  }
  if (grow_array(&w->touches, &w->touches_cap, w->ntouches + 1, sizeof *w->touches))
    return oom(err);
  pending_touch *t = &w->touches[w->ntouches];
  memset(t, 0, sizeof *t);
  sg_doc rec = ex->rec;
  rec.path = name;
  rec.path_len = len;
  rec.mtime = mtime;
  t->doc_id = ex->doc_id;
  if (sg_doc_encode(&t->rec, &rec)) {
    sg_buf_free(&t->rec);
    return oom(err);
  }
  w->ntouches++;
  return SEOGO_OK;
}

/* Decodes, analyzes and cuts the source into passages; fills rec (but ids) and *text. */
static int prepare(sg_writer *w, const source *src, sg_doc *rec, char **text,
                   seogo_add_info *info, seogo_error *err) {
  sg_text t;
  int rc = sg_text_decode(&t, src->data, src->len, err);
  if (rc) {
    char why[sizeof err->message];
    if (err) {
      snprintf(why, sizeof why, "%s", err->message);
      sg_fail(err, rc, "%s: %s", src->file_path, why);
    }
    return rc;
  }
  if (t.len > UINT32_MAX - 1) {
    sg_text_free(&t);
    return sg_fail(err, SEOGO_ELIMIT, "%s: larger than 4 GiB", src->file_path);
  }
  if (!(rc = ensure_analyzer(w, err)))
    rc = sg_analyze(w->analyzer, t.data, t.len, SG_ANALYZE_DOCUMENT, &w->analysis, err);
  if (!rc) rc = sg_passages_build(t.data, t.len, &w->analysis, &w->spans, err);
  if (!rc && !(*text = malloc(t.len ? t.len : 1))) rc = oom(err);
  if (rc) {
    sg_text_free(&t);
    return rc;
  }
  memcpy(*text, t.data, t.len);
  memset(rec, 0, sizeof *rec);
  rec->size = src->size;
  rec->mtime = src->mtime;
  rec->hash = sg_hash64(src->data, src->len);
  rec->nlines = (uint32_t)w->analysis.nlines;
  memcpy(rec->encoding, t.encoding, sizeof rec->encoding);
  rec->pdf_like = w->analysis.layout.pdf_like;
  rec->short_line = w->analysis.layout.short_line;
  rec->text_len = t.len;
  rec->invalid = t.invalid + w->analysis.invalid_sequences;
  if (info) {
    info->invalid_sequences = rec->invalid;
    info->first_invalid_line = t.invalid ? t.first_invalid_line : w->analysis.first_invalid_line;
  }
  sg_text_free(&t);
  return SEOGO_OK;
}

static int add_source(sg_writer *w, const source *src, const existing *ex, seogo_add_info *info,
                      seogo_error *err) {
  size_t name_len = strlen(src->name);
  long path = path_index(w, src->name, name_len, 1);
  if (path < 0) return oom(err);
  uint64_t hash = sg_hash64(src->data, src->len);
  if (ex->found && ex->rec.hash == hash && ex->rec.size == src->size) {
    int rc = ex->rec.mtime == src->mtime ? SEOGO_OK
                                         : touch(w, ex, src->name, name_len, src->mtime, err);
    if (!rc) fill_info(info, SEOGO_UNCHANGED, &ex->rec, src->size);
    return rc;
  }
  seogo_add_info local;
  if (!info) info = &local;
  memset(info, 0, sizeof *info);
  sg_doc rec;
  char *text = NULL;
  int rc = prepare(w, src, &rec, &text, info, err);
  if (!rc && ex->found) rc = retire(w, path, ex, err);
  if (rc) {
    free(text);
    return rc;
  }
  if ((rc = buffer_document(w, path, text, &rec, err))) return rc;
  uint32_t invalid = info->invalid_sequences, first = info->first_invalid_line;
  fill_info(info, ex->found ? SEOGO_UPDATED : SEOGO_ADDED, &w->docs[w->ndocs - 1].rec,
            src->size);
  info->first_invalid_line = first;
  info->invalid_sequences = invalid;
  return SEOGO_OK;
}

static int check_name(const char *name, seogo_error *err) {
  if (!name || !*name) return sg_fail(err, SEOGO_EINVAL, "no document name given");
  if (strlen(name) > SG_MAX_PATH_BYTES)
    return sg_fail(err, SEOGO_ELIMIT, "%.60s...: names are limited to %d bytes", name,
                   SG_MAX_PATH_BYTES);
  return SEOGO_OK;
}

int seogo_add_buffer(seogo_index *index, const char *name, const void *data, size_t len,
                     int64_t mtime, seogo_add_info *info, seogo_error *err) {
  sg_writer *w = NULL;
  int rc = writer_of(index, &w, err);
  if (rc || (rc = check_name(name, err))) return rc;
  if (!data && len) return sg_fail(err, SEOGO_EINVAL, "%s: no data", name);
  existing ex;
  if ((rc = find_existing(w, name, strlen(name), &ex, err))) return rc;
  source src = {name, name, data ? data : "", len, len, mtime};
  return add_source(w, &src, &ex, info, err);
}

/* Reads a whole file (which may change size while we read). */
static int read_file(const char *path, int fd, size_t size_hint, char **out, size_t *len,
                     seogo_error *err) {
  size_t cap = size_hint + 1, n = 0;
  char *buf = malloc(cap);
  if (!buf) return oom(err);
  for (;;) {
    if (n == cap) {
      if (cap > ((size_t)1 << 32)) {
        free(buf);
        return sg_fail(err, SEOGO_ELIMIT, "%s: larger than 4 GiB", path);
      }
      char *p = realloc(buf, cap * 2);
      if (!p) {
        free(buf);
        return oom(err);
      }
      buf = p;
      cap *= 2;
    }
    ssize_t r = read(fd, buf + n, cap - n);
    if (r == 0) break;
    if (r < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      free(buf);
      return sg_fail(err, SEOGO_EIO, "%s: %s", path, strerror(e));
    }
    n += (size_t)r;
  }
  *out = buf;
  *len = n;
  return SEOGO_OK;
}

int seogo_add_file(seogo_index *index, const char *file_path, const char *name,
                   seogo_add_info *info, seogo_error *err) {
  sg_writer *w = NULL;
  int rc = writer_of(index, &w, err);
  if (rc) return rc;
  if (!file_path || !*file_path) return sg_fail(err, SEOGO_EINVAL, "no file given");
  if (!name) name = file_path;
  if ((rc = check_name(name, err))) return rc;
  int fd = open(file_path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return sg_fail(err, SEOGO_EIO, "%s: %s", file_path, strerror(errno));
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    int e = errno;
    int is_file = S_ISREG(st.st_mode);
    close(fd);
    return sg_fail(err, SEOGO_EIO, "%s: %s", file_path,
                   is_file ? strerror(e) : "not a regular file");
  }
  existing ex;
  if ((rc = find_existing(w, name, strlen(name), &ex, err))) {
    close(fd);
    return rc;
  }
  if (ex.found && ex.rec.size == (uint64_t)st.st_size && ex.rec.mtime == (int64_t)st.st_mtime) {
    close(fd);
    fill_info(info, SEOGO_UNCHANGED, &ex.rec, (uint64_t)st.st_size);
    return SEOGO_OK;
  }
  char *data = NULL;
  size_t len = 0;
  rc = read_file(file_path, fd, (size_t)st.st_size, &data, &len, err);
  close(fd);
  if (rc) return rc;
  source src = {name, file_path, data, len, len, (int64_t)st.st_mtime};
  rc = add_source(w, &src, &ex, info, err);
  free(data);
  return rc;
}

uint64_t seogo_pending_bytes(const seogo_index *index) {
  return index && index->writer ? index->writer->pending_bytes : 0;
}

/* ---- Writing the batch --------------------------------------------------------------------- */

/* Maps an LMDB failure inside the batch: a full map means "grow and redo". */
static int mdb_fail(sg_writer *w, int rc, seogo_error *err) {
  if (rc == MDB_MAP_FULL) return SG_RETRY_GROW;
  return sg_store_mdb_error(rc, w->store->dir, err);
}

static int put(sg_writer *w, MDB_txn *txn, MDB_dbi dbi, const void *k, size_t klen,
               const void *v, size_t vlen, unsigned flags, seogo_error *err) {
  MDB_val key = {klen, (void *)k}, val = {vlen, (void *)v};
  int rc = mdb_put(txn, dbi, &key, &val, flags);
  return rc ? mdb_fail(w, rc, err) : SEOGO_OK;
}

static int del(sg_writer *w, MDB_txn *txn, MDB_dbi dbi, const void *k, size_t klen,
               seogo_error *err) {
  MDB_val key = {klen, (void *)k};
  int rc = mdb_del(txn, dbi, &key, NULL);
  return rc && rc != MDB_NOTFOUND ? mdb_fail(w, rc, err) : SEOGO_OK;
}

static int del_id(sg_writer *w, MDB_txn *txn, MDB_dbi dbi, uint32_t id, seogo_error *err) {
  unsigned char k[4];
  sg_put_be32(k, id);
  return del(w, txn, dbi, k, 4, err);
}

/* Term record; *found = 0 when the term is new. */
static int get_term(sg_writer *w, MDB_txn *txn, const void *term, size_t len, sg_term_info *t,
                    int *found, seogo_error *err) {
  MDB_val key = {len, (void *)term}, v;
  memset(t, 0, sizeof *t);
  int rc = mdb_get(txn, w->store->terms, &key, &v);
  *found = rc == 0;
  if (rc == MDB_NOTFOUND) return SEOGO_OK;
  if (rc) return mdb_fail(w, rc, err);
  return sg_term_decode(v.mv_data, v.mv_size, t, err);
}

static int put_term(sg_writer *w, MDB_txn *txn, const void *term, size_t len,
                    const sg_term_info *t, seogo_error *err) {
  if (t->df == 0) return del(w, txn, w->store->terms, term, len, err);
  sg_buf_clear(&w->val);
  if (sg_term_encode(&w->val, t)) return oom(err);
  return put(w, txn, w->store->terms, term, len, w->val.data, w->val.len, 0, err);
}

/* Norms: one 512-byte value covers 256 passages; kept while consecutive pids share it. */
typedef struct norms_cursor {
  uint32_t key;
  int loaded, dirty;
  unsigned char val[2 * SG_NORMS_PER_KEY];
} norms_cursor;

static int norms_flush(sg_writer *w, MDB_txn *txn, norms_cursor *nc, seogo_error *err) {
  if (!nc->dirty) return SEOGO_OK;
  nc->dirty = 0;
  unsigned char k[4];
  sg_put_be32(k, nc->key);
  for (size_t i = 0; i < sizeof nc->val; i++)
    if (nc->val[i]) return put(w, txn, w->store->norms, k, 4, nc->val, sizeof nc->val, 0, err);
  return del(w, txn, w->store->norms, k, 4, err);
}

/* Sets the length of passage pid (0 = gone); *old receives the previous length. */
static int norms_set(sg_writer *w, MDB_txn *txn, norms_cursor *nc, uint32_t pid, uint32_t len,
                     uint32_t *old, seogo_error *err) {
  uint32_t key = pid / SG_NORMS_PER_KEY;
  if (!nc->loaded || nc->key != key) {
    int rc = norms_flush(w, txn, nc, err);
    if (rc) return rc;
    unsigned char k[4];
    sg_put_be32(k, key);
    MDB_val mk = {4, k}, v;
    rc = mdb_get(txn, w->store->norms, &mk, &v);
    memset(nc->val, 0, sizeof nc->val);
    if (rc == 0 && v.mv_size == sizeof nc->val) memcpy(nc->val, v.mv_data, sizeof nc->val);
    else if (rc == 0) return sg_fail(err, SEOGO_ECORRUPT, "index is corrupt: bad norms record");
    else if (rc != MDB_NOTFOUND) return mdb_fail(w, rc, err);
    nc->key = key;
    nc->loaded = 1;
  }
  unsigned char *p = nc->val + 2 * (pid % SG_NORMS_PER_KEY);
  if (old) *old = (uint32_t)p[0] | (uint32_t)p[1] << 8;
  p[0] = (unsigned char)len;
  p[1] = (unsigned char)(len >> 8);
  nc->dirty = 1;
  return SEOGO_OK;
}

/* A block rewrite found while scanning a term's blocks, applied after the scan. */
typedef struct block_edit {
  uint32_t old_key, new_key; /* new_key 0: delete the block */
  sg_buf data;
} block_edit;

/* Drops pids [lo, hi] from block b (decoded) into arrays of a new block; returns removed
 * postings and their total tf. */
static void filter_block(sg_block *b, uint32_t lo, uint32_t hi, uint32_t *removed,
                         uint64_t *removed_tf) {
  uint32_t n = 0, at = 0;
  *removed = 0;
  *removed_tf = 0;
  for (uint32_t i = 0; i < b->count; i++) {
    uint32_t s = b->pos_start[i], e = b->pos_start[i + 1];
    if (b->pids[i] >= lo && b->pids[i] <= hi) {
      (*removed)++;
      *removed_tf += e - s;
      continue;
    }
    b->pids[n] = b->pids[i];
    b->pos_start[n] = at;
    memmove(b->positions + at, b->positions + s, (e - s) * sizeof *b->positions);
    at += e - s;
    n++;
  }
  b->pos_start[n] = at;
  b->count = n;
}

/* Positions the cursor on the first block of `term` that may hold pid lo. */
static int seek_block(MDB_cursor *c, sg_buf *key, const char *term, size_t len, uint32_t lo,
                      MDB_val *k, MDB_val *v) {
  if (sg_postings_key(key, term, len, lo)) return ENOMEM;
  *k = (MDB_val){key->len, key->data};
  int rc = mdb_cursor_get(c, k, v, MDB_SET_RANGE);
  if (rc == 0 && k->mv_size == key->len && !memcmp(k->mv_data, key->data, key->len)) return 0;
  /* the block before may start below lo and reach it */
  int prc = mdb_cursor_get(c, k, v, rc == MDB_NOTFOUND ? MDB_LAST : MDB_PREV);
  if (prc == 0 && k->mv_size == len + 5 && !memcmp(k->mv_data, term, len)) return 0;
  if (rc) return rc;
  *k = (MDB_val){key->len, key->data};
  return mdb_cursor_get(c, k, v, MDB_SET_RANGE);
}

/* Scans the blocks of one term that may hold pids [lo, hi] and records the edits. */
static int plan_block_edits(sg_writer *w, MDB_txn *txn, const char *term, size_t len,
                            uint32_t lo, uint32_t hi, block_edit **edits, size_t *nedits,
                            size_t *cap, uint32_t *removed, uint64_t *removed_tf,
                            seogo_error *err) {
  MDB_cursor *c;
  int rc = mdb_cursor_open(txn, w->store->postings, &c);
  if (rc) return mdb_fail(w, rc, err);
  MDB_val k, v;
  rc = seek_block(c, &w->key, term, len, lo, &k, &v);
  for (; rc == 0; rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
    size_t tlen;
    uint32_t key_pid, count, last, max_tf;
    if (sg_postings_key_parse(k.mv_data, k.mv_size, &tlen, &key_pid) || tlen != len ||
        memcmp(k.mv_data, term, len) || key_pid > hi)
      break;
    if ((rc = sg_block_peek(v.mv_data, v.mv_size, key_pid, &count, &last, &max_tf, err)))
      goto done;
    if (last < lo) continue;
    if ((rc = sg_block_decode(v.mv_data, v.mv_size, key_pid, &w->block, err))) goto done;
    uint32_t r;
    uint64_t rtf;
    filter_block(&w->block, lo, hi, &r, &rtf);
    if (!r) continue;
    *removed += r;
    *removed_tf += rtf;
    if (grow_array(edits, cap, *nedits + 1, sizeof **edits)) {
      rc = oom(err);
      goto done;
    }
    block_edit *e = &(*edits)[(*nedits)++];
    memset(e, 0, sizeof *e);
    e->old_key = key_pid;
    if (w->block.count) {
      e->new_key = w->block.pids[0];
      if (sg_block_encode(&e->data, e->new_key, w->block.count, w->block.pids,
                          w->block.pos_start, w->block.positions)) {
        rc = oom(err);
        goto done;
      }
    }
  }
  /* only a cursor failure (an LMDB code) or the end of the term's blocks gets here */
  if (rc == MDB_NOTFOUND) rc = SEOGO_OK;
  else if (rc == ENOMEM) rc = oom(err);
  else if (rc) rc = mdb_fail(w, rc, err);
done:
  mdb_cursor_close(c);
  return rc;
}

/* Removes pids [lo, hi] from the postings of one term and updates its record. */
static int remove_term_postings(sg_writer *w, MDB_txn *txn, const char *term, size_t len,
                                uint32_t lo, uint32_t hi, sg_stats *stats, seogo_error *err) {
  block_edit *edits = NULL;
  size_t nedits = 0, cap = 0;
  uint32_t removed = 0;
  uint64_t removed_tf = 0;
  int rc = plan_block_edits(w, txn, term, len, lo, hi, &edits, &nedits, &cap, &removed,
                            &removed_tf, err);
  sg_term_info t;
  int found = 0, deleted = 0;
  if (!rc && nedits) rc = get_term(w, txn, term, len, &t, &found, err);
  for (size_t i = 0; !rc && i < nedits; i++) {
    block_edit *e = &edits[i];
    if (e->new_key == e->old_key) {
      sg_postings_key(&w->key, term, len, e->old_key);
      rc = put(w, txn, w->store->postings, w->key.data, w->key.len, e->data.data, e->data.len,
               0, err);
      continue;
    }
    sg_postings_key(&w->key, term, len, e->old_key);
    rc = del(w, txn, w->store->postings, w->key.data, w->key.len, err);
    if (!e->new_key) {
      deleted++;
    } else if (!rc) {
      sg_postings_key(&w->key, term, len, e->new_key);
      rc = put(w, txn, w->store->postings, w->key.data, w->key.len, e->data.data, e->data.len,
               0, err);
    }
  }
  if (!rc && found) {
    if (t.df < removed || t.cf < removed_tf || t.nblocks < (uint32_t)deleted)
      rc = sg_fail(err, SEOGO_ECORRUPT, "index is corrupt: term counts disagree with postings");
    else {
      t.df -= removed;
      t.cf -= removed_tf;
      t.nblocks -= (uint32_t)deleted;
      if (t.df == 0) stats->terms--;
      stats->postings -= removed;
      rc = put_term(w, txn, term, len, &t, err);
    }
  }
  for (size_t i = 0; i < nedits; i++) sg_buf_free(&edits[i].data);
  free(edits);
  return rc;
}

static int apply_removal(sg_writer *w, MDB_txn *txn, const pending_removal *r, sg_stats *stats,
                         seogo_error *err) {
  int rc = SEOGO_OK;
  uint32_t hi = r->first_pid + r->npassages - 1;
  const unsigned char *p = r->terms.data, *end = p + r->terms.len;
  while (!rc && r->npassages && p < end) {
    uint64_t len;
    if (sg_varint_decode(&p, end, &len) || len > (size_t)(end - p)) break;
    rc = remove_term_postings(w, txn, (const char *)p, (size_t)len, r->first_pid, hi, stats, err);
    p += len;
  }
  norms_cursor nc = {0};
  for (uint32_t i = 0; !rc && i < r->npassages; i++) {
    uint32_t pid = r->first_pid + i, old = 0;
    rc = norms_set(w, txn, &nc, pid, 0, &old, err);
    stats->tokens -= old <= stats->tokens ? old : stats->tokens;
    if (!rc) rc = del_id(w, txn, w->store->passages, pid, err);
  }
  if (!rc) rc = norms_flush(w, txn, &nc, err);
  size_t plen;
  const char *path = strmap_key(&w->paths, (size_t)r->path, &plen);
  if (!rc) rc = del_id(w, txn, w->store->docs, r->doc_id, err);
  if (!rc) rc = del_id(w, txn, w->store->text, r->doc_id, err);
  if (!rc) rc = del(w, txn, w->store->paths, path, plen, err);
  if (!rc) {
    stats->documents -= stats->documents ? 1 : 0;
    stats->passages -= r->npassages <= stats->passages ? r->npassages : stats->passages;
    stats->text_bytes -= r->text_len <= stats->text_bytes ? r->text_len : stats->text_bytes;
  }
  return rc;
}

static int write_document(sg_writer *w, MDB_txn *txn, const pending_doc *d, norms_cursor *nc,
                          sg_stats *stats, seogo_error *err) {
  unsigned char id[4];
  sg_put_be32(id, d->doc_id);
  sg_doc rec = d->rec;
  rec.path = strmap_key(&w->paths, (size_t)d->path, &rec.path_len);
  sg_buf_clear(&w->val);
  if (sg_doc_encode(&w->val, &rec)) return oom(err);
  int rc = put(w, txn, w->store->docs, id, 4, w->val.data, w->val.len, MDB_APPEND, err);
  if (!rc) rc = put(w, txn, w->store->paths, rec.path, rec.path_len, id, 4, 0, err);
  if (!rc) rc = put(w, txn, w->store->text, id, 4, d->text, d->rec.text_len, MDB_APPEND, err);
  for (uint32_t i = 0; !rc && i < d->rec.npassages; i++) {
    const sg_passage *p = &d->passages[i];
    unsigned char pk[4];
    sg_put_be32(pk, d->rec.first_pid + i);
    sg_buf_clear(&w->val);
    if (sg_passage_encode(&w->val, p)) return oom(err);
    rc = put(w, txn, w->store->passages, pk, 4, w->val.data, w->val.len, MDB_APPEND, err);
    if (!rc) rc = norms_set(w, txn, nc, d->rec.first_pid + i, p->length, NULL, err);
    stats->tokens += p->length;
  }
  stats->documents++;
  stats->passages += d->rec.npassages;
  stats->text_bytes += d->rec.text_len;
  return rc;
}

static int cmp_range(const void *a, const void *b) {
  const pid_range *x = a, *y = b;
  return x->first < y->first ? -1 : x->first > y->first;
}

static int is_dead(const sg_writer *w, uint32_t pid) {
  size_t lo = 0, hi = w->ndead;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (w->dead[mid].end <= pid) lo = mid + 1;
    else hi = mid;
  }
  return lo < w->ndead && w->dead[lo].first <= pid;
}

/* The postings of one term to write: the term's last block (when it has room) followed by the
 * buffered postings, laid out as sg_block_encode takes them. */
typedef struct run {
  uint32_t *pids, *starts, *pos;
  size_t n, npos, pids_cap, starts_cap, pos_cap;
} run;

static int run_push(run *r, uint32_t pid, const uint32_t *pos, size_t tf) {
  if (grow_array(&r->pids, &r->pids_cap, r->n + 1, sizeof *r->pids) ||
      grow_array(&r->starts, &r->starts_cap, r->n + 2, sizeof *r->starts) ||
      grow_array(&r->pos, &r->pos_cap, r->npos + tf, sizeof *r->pos))
    return -1;
  r->starts[r->n] = (uint32_t)r->npos;
  r->pids[r->n++] = pid;
  memcpy(r->pos + r->npos, pos, tf * sizeof *pos);
  r->npos += tf;
  r->starts[r->n] = (uint32_t)r->npos;
  return 0;
}

static void run_free(run *r) {
  free(r->pids);
  free(r->starts);
  free(r->pos);
  memset(r, 0, sizeof *r);
}

/* Finds the term's last block; *key_pid = 0 when the term has none. */
static int last_block(sg_writer *w, MDB_txn *txn, const char *term, size_t len,
                      uint32_t *key_pid, MDB_val *data, seogo_error *err) {
  *key_pid = 0;
  MDB_cursor *c;
  int rc = mdb_cursor_open(txn, w->store->postings, &c);
  if (rc) return mdb_fail(w, rc, err);
  if (sg_postings_key(&w->key, term, len, UINT32_MAX)) {
    mdb_cursor_close(c);
    return oom(err);
  }
  MDB_val k = {w->key.len, w->key.data};
  rc = mdb_cursor_get(c, &k, data, MDB_SET_RANGE);
  rc = mdb_cursor_get(c, &k, data, rc == MDB_NOTFOUND ? MDB_LAST : MDB_PREV);
  size_t tlen;
  uint32_t pid;
  if (rc == 0 && !sg_postings_key_parse(k.mv_data, k.mv_size, &tlen, &pid) && tlen == len &&
      !memcmp(k.mv_data, term, len))
    *key_pid = pid;
  mdb_cursor_close(c);
  return rc == 0 || rc == MDB_NOTFOUND ? SEOGO_OK : mdb_fail(w, rc, err);
}

/* Decodes a term's buffered list into r, skipping dead pids; returns postings and tf added. */
static int unpack_buffered(sg_writer *w, const term_postings *tp, run *r, uint32_t *df,
                           uint64_t *cf) {
  const unsigned char *p = tp->list.data, *end = p + tp->list.len;
  uint64_t pid = 0;
  uint32_t pos[SG_MAX_POSITIONS > 4096 ? 4096 : SG_MAX_POSITIONS];
  *df = 0;
  *cf = 0;
  while (p < end) {
    uint64_t delta, tf, v;
    sg_varint_decode(&p, end, &delta);
    sg_varint_decode(&p, end, &tf);
    pid += delta;
    uint32_t *at = tf <= sizeof pos / sizeof pos[0] ? pos : malloc(tf * sizeof *at);
    if (!at) return -1;
    uint32_t abs = 0;
    for (uint64_t j = 0; j < tf; j++) {
      sg_varint_decode(&p, end, &v);
      abs += (uint32_t)(v >> 2);
      at[j] = abs << 2 | (uint32_t)(v & 3);
    }
    int rc = 0;
    if (!w->ndead || !is_dead(w, (uint32_t)pid)) {
      rc = run_push(r, (uint32_t)pid, at, (size_t)tf);
      (*df)++;
      *cf += tf;
    }
    if (at != pos) free(at);
    if (rc) return -1;
  }
  return 0;
}

/* Writes one term's buffered postings: fills its last block, then starts new blocks. */
static int flush_term(sg_writer *w, MDB_txn *txn, size_t i, run *r, sg_stats *stats,
                      seogo_error *err) {
  const term_postings *tp = &w->postings[i];
  size_t len;
  const char *term = strmap_key(&w->terms, i, &len);
  sg_term_info t;
  int found;
  int rc = get_term(w, txn, term, len, &t, &found, err);
  if (rc) return rc;
  r->n = r->npos = 0;
  uint32_t merge_key = 0;
  if (found) {
    MDB_val data;
    uint32_t key_pid, count, last, max_tf;
    if ((rc = last_block(w, txn, term, len, &key_pid, &data, err))) return rc;
    if (key_pid &&
        !(rc = sg_block_peek(data.mv_data, data.mv_size, key_pid, &count, &last, &max_tf, err)) &&
        count < SG_BLOCK_MAX) {
      if ((rc = sg_block_decode(data.mv_data, data.mv_size, key_pid, &w->block, err))) return rc;
      for (uint32_t b = 0; b < w->block.count; b++)
        if (run_push(r, w->block.pids[b], w->block.positions + w->block.pos_start[b],
                     w->block.pos_start[b + 1] - w->block.pos_start[b]))
          return oom(err);
      merge_key = key_pid;
    }
    if (rc) return rc;
  }
  size_t kept = r->n;
  uint32_t df;
  uint64_t cf;
  if (unpack_buffered(w, tp, r, &df, &cf)) return oom(err);
  if (!df) return SEOGO_OK;
  if (kept && r->pids[kept] <= r->pids[kept - 1])
    return sg_fail(err, SEOGO_ECORRUPT, "index is corrupt: passage ids of a term out of order");
  uint32_t blocks = 0;
  for (size_t off = 0; off < r->n; off += SG_BLOCK_MAX) {
    uint32_t cnt = (uint32_t)(r->n - off < SG_BLOCK_MAX ? r->n - off : SG_BLOCK_MAX);
    uint32_t key = off == 0 && merge_key ? merge_key : r->pids[off];
    if (sg_block_encode(&w->val, key, cnt, r->pids + off, r->starts + off, r->pos) ||
        sg_postings_key(&w->key, term, len, key))
      return oom(err);
    rc = put(w, txn, w->store->postings, w->key.data, w->key.len, w->val.data, w->val.len, 0,
             err);
    if (rc) return rc;
    blocks++;
  }
  if (!found) stats->terms++;
  t.df += df;
  t.cf += cf;
  t.nblocks += blocks - (merge_key ? 1 : 0);
  stats->postings += df;
  return put_term(w, txn, term, len, &t, err);
}

typedef struct term_ref {
  const unsigned char *bytes;
  uint32_t len, index;
} term_ref;

static int cmp_term_ref(const void *a, const void *b) {
  const term_ref *x = a, *y = b;
  size_t n = x->len < y->len ? x->len : y->len;
  int c = memcmp(x->bytes, y->bytes, n);
  if (c) return c;
  return x->len < y->len ? -1 : x->len > y->len;
}

/* Writes all buffered postings in term order (LMDB pages are then touched in key order). */
static int flush_postings(sg_writer *w, MDB_txn *txn, sg_stats *stats, seogo_error *err) {
  size_t n = w->terms.count;
  if (!n) return SEOGO_OK;
  term_ref *order = malloc(n * sizeof *order);
  if (!order) return oom(err);
  for (size_t i = 0; i < n; i++) {
    size_t len;
    order[i].bytes = (const unsigned char *)strmap_key(&w->terms, i, &len);
    order[i].len = (uint32_t)len;
    order[i].index = (uint32_t)i;
  }
  qsort(order, n, sizeof *order, cmp_term_ref);
  run r = {0};
  int rc = SEOGO_OK;
  for (size_t i = 0; i < n && !rc; i++) rc = flush_term(w, txn, order[i].index, &r, stats, err);
  run_free(&r);
  free(order);
  return rc;
}

static int write_changes(sg_writer *w, MDB_txn *txn, sg_stats *stats, seogo_error *err) {
  int rc = SEOGO_OK;
  /* touches first: a document touched and then replaced within the batch must go */
  for (size_t i = 0; !rc && i < w->ntouches; i++) {
    unsigned char id[4];
    sg_put_be32(id, w->touches[i].doc_id);
    rc = put(w, txn, w->store->docs, id, 4, w->touches[i].rec.data, w->touches[i].rec.len, 0,
             err);
  }
  for (size_t i = 0; !rc && i < w->nremovals; i++)
    rc = apply_removal(w, txn, &w->removals[i], stats, err);
  norms_cursor nc = {0};
  for (size_t i = 0; !rc && i < w->ndocs; i++)
    if (!w->docs[i].dead) rc = write_document(w, txn, &w->docs[i], &nc, stats, err);
  if (!rc) rc = norms_flush(w, txn, &nc, err);
  if (!rc) rc = flush_postings(w, txn, stats, err);
  return rc;
}

/* One attempt at writing the batch in one transaction. */
static int write_batch(sg_writer *w, seogo_error *err) {
  MDB_txn *txn;
  int rc = sg_store_write_begin(w->store, &txn, err);
  if (rc) return rc;
  sg_stats stats;
  rc = sg_store_get_stats(w->store, txn, &stats, err);
  if (!rc) rc = write_changes(w, txn, &stats, err);
  if (!rc) {
    stats.next_doc_id = w->next_doc_id;
    stats.next_passage_id = w->next_pid;
    rc = sg_store_put_stats(w->store, txn, &stats, err);
    if (rc == SEOGO_EFULL) rc = SG_RETRY_GROW;
  }
  if (rc) {
    mdb_txn_abort(txn);
    return rc;
  }
  rc = mdb_txn_commit(txn);
  return rc ? mdb_fail(w, rc, err) : SEOGO_OK;
}

int seogo_commit(seogo_index *index, seogo_error *err) {
  sg_writer *w = NULL;
  int rc = writer_of(index, &w, err);
  if (rc) return rc;
  if (!w->ndocs && !w->nremovals && !w->ntouches) return SEOGO_OK;
  if (w->ndead) qsort(w->dead, w->ndead, sizeof *w->dead, cmp_range);
  while ((rc = write_batch(w, err)) == SG_RETRY_GROW)
    if ((rc = sg_store_grow(w->store, err))) return rc;
  if (rc) return rc;
  clear_batch(w);
  return SEOGO_OK;
}

void seogo_abort(seogo_index *index) {
  if (!index || !index->writer) return;
  clear_batch(index->writer);
  load_next_ids(index->writer, NULL);
}
