/* prepare.c - the part of adding a document that needs no index state: reading the file,
 * hashing, decoding to UTF-8, analysis and passages. Safe in any thread. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "batch.h"

void sg_prepared_init(seogo_prepared *p) {
  memset(p, 0, sizeof *p);
  sg_analysis_init(&p->analysis);
}

void sg_prepared_clear(seogo_prepared *p) {
  free(p->name);
  free(p->file_path);
  free(p->raw_alloc);
  free(p->text_alloc);
  p->name = p->file_path = p->raw_alloc = p->text_alloc = NULL;
  p->raw = p->text = NULL;
  p->raw_len = p->text_len = 0;
  p->size = p->hash = 0;
  p->mtime = 0;
  p->first_invalid_line = 0;
  memset(&p->rec, 0, sizeof p->rec);
  p->state = SG_PREP_EMPTY;
  /* the term map is rebuilt per document; its memory could be kept, but a fresh map stays
   * small for small documents */
  sg_strmap_free(&p->terms);
  sg_buf_clear(&p->arena);
}

void sg_prepared_destroy(seogo_prepared *p) {
  sg_prepared_clear(p);
  sg_analysis_free(&p->analysis);
  sg_spans_free(&p->spans);
  sg_strmap_free(&p->terms);
  sg_buf_free(&p->arena);
  free(p->dterms);
  free(p->tok_term);
  free(p->order);
}

int sg_prepared_begin(seogo_prepared *p, const char *name, const char *file_path,
                      seogo_error *err) {
  sg_prepared_clear(p);
  if (!name || !*name) return sg_fail(err, SEOGO_EINVAL, "no document name given");
  if (strlen(name) > SG_MAX_PATH_BYTES)
    return sg_fail(err, SEOGO_ELIMIT, "%.60s...: names are limited to %d bytes", name,
                   SG_MAX_PATH_BYTES);
  if (!(p->name = strdup(name)) || (file_path && !(p->file_path = strdup(file_path))))
    return sg_fail(err, SEOGO_ENOMEM, "out of memory");
  return SEOGO_OK;
}

/* The name messages use for the document. */
static const char *shown(const seogo_prepared *p) { return p->file_path ? p->file_path : p->name; }

int sg_prepared_stat(seogo_prepared *p, int *fd, seogo_error *err) {
  /* O_NONBLOCK: opening a FIFO for reading would wait for a writer forever; fstat below
   * refuses it, and reads of a regular file ignore the flag. */
  *fd = open(p->file_path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (*fd < 0) return sg_fail(err, SEOGO_EIO, "%s: %s", p->file_path, strerror(errno));
  struct stat st;
  if (fstat(*fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    int e = errno, regular = S_ISREG(st.st_mode);
    close(*fd);
    *fd = -1;
    return sg_fail(err, SEOGO_EIO, "%s: %s", p->file_path,
                   regular ? strerror(e) : "not a regular file");
  }
  p->size = (uint64_t)st.st_size;
  p->mtime = (int64_t)st.st_mtime;
  p->state = SG_PREP_STAT;
  return SEOGO_OK;
}

/* Reads fd to its end (the file may change size while we read). */
static int read_all(const char *path, int fd, size_t size_hint, char **out, size_t *len,
                    seogo_error *err) {
  size_t cap = size_hint + 1, n = 0;
  char *buf = malloc(cap);
  if (!buf) return sg_fail(err, SEOGO_ENOMEM, "out of memory");
  for (;;) {
    if (n == cap) {
      char *grown = cap > ((size_t)1 << 32) ? NULL : realloc(buf, cap * 2);
      if (!grown) {
        free(buf);
        return cap > ((size_t)1 << 32) ? sg_fail(err, SEOGO_ELIMIT, "%s: larger than 4 GiB", path)
                                       : sg_fail(err, SEOGO_ENOMEM, "out of memory");
      }
      buf = grown;
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

int sg_prepared_read(seogo_prepared *p, int fd, seogo_error *err) {
  int rc = read_all(p->file_path, fd, (size_t)p->size, &p->raw_alloc, &p->raw_len, err);
  close(fd);
  if (rc) return rc;
  p->raw = p->raw_alloc;
  p->size = p->raw_len;
  p->hash = sg_hash64(p->raw, p->raw_len);
  p->state = SG_PREP_READ;
  return SEOGO_OK;
}

void sg_prepared_borrow(seogo_prepared *p, const void *data, size_t len, int64_t mtime) {
  p->raw = data ? data : "";
  p->raw_len = len;
  p->size = len;
  p->mtime = mtime;
  p->hash = sg_hash64(p->raw, len);
  p->state = SG_PREP_READ;
}

/* ---- Grouping the document's postings by term -------------------------------------------- */

static inline int put_varint(sg_buf *b, uint64_t v) {
  if (b->cap - b->len < SG_VARINT_MAX && sg_buf_reserve(b, SG_VARINT_MAX)) return -1;
  unsigned char *q = b->data + b->len;
  while (v >= 0x80) {
    *q++ = (unsigned char)(v | 0x80);
    v >>= 7;
  }
  *q++ = (unsigned char)v;
  b->len = (size_t)(q - b->data);
  return 0;
}

/* Interns each token's term (tok_term) and counts the tokens of each term (dterms[k].count,
 * used as a counter here). */
static int intern_tokens(seogo_prepared *p) {
  const sg_analysis *r = &p->analysis;
  /* a document has at most as many distinct terms as tokens */
  if (sg_grow_array(&p->tok_term, &p->tok_cap, r->ntokens + 1, sizeof *p->tok_term) ||
      sg_grow_array(&p->dterms, &p->dterms_cap, r->ntokens + 1, sizeof *p->dterms))
    return -1;
  for (size_t t = 0; t < r->ntokens; t++) p->tok_term[t] = UINT32_MAX;
  for (size_t i = 0; i < p->spans.count; i++) {
    const sg_span *s = &p->spans.items[i];
    for (uint32_t t = s->tok_start; t < s->tok_end; t++) {
      const sg_token *tok = &r->tokens[t];
      /* terms never hold 0x00: sg_text_decode refuses text with NUL bytes as binary */
      if (!tok->term_len || tok->pos - s->pos_base >= SG_MAX_POSITIONS) continue;
      size_t before = p->terms.count;
      long k = sg_strmap_intern(&p->terms, sg_token_term(r, tok), tok->term_len);
      if (k < 0) return -1;
      if (p->terms.count > before) memset(&p->dterms[k], 0, sizeof p->dterms[k]);
      p->dterms[k].count++;
      p->tok_term[t] = (uint32_t)k;
    }
  }
  return 0;
}

/* Encodes the occurrences order[from, to) of one term (in passage and position order). */
static int encode_term(seogo_prepared *p, sg_doc_term *dt, const uint32_t *tok_passage,
                       size_t from, size_t to) {
  const sg_analysis *r = &p->analysis;
  dt->off = (uint32_t)p->arena.len;
  dt->count = 0;
  for (size_t i = from; i < to;) {
    uint32_t pi = tok_passage[p->order[i]];
    size_t j = i + 1;
    while (j < to && tok_passage[p->order[j]] == pi) j++;
    if (dt->count && put_varint(&p->arena, pi - dt->last)) return -1;
    if (!dt->count) dt->first = pi;
    dt->last = pi;
    dt->count++;
    if (put_varint(&p->arena, j - i)) return -1;
    const sg_span *s = &p->spans.items[pi];
    uint32_t prev = 0;
    for (; i < j; i++) {
      const sg_token *tok = &r->tokens[p->order[i]];
      uint32_t pos = tok->pos - s->pos_base, gap = pos >= prev ? pos - prev : 0;
      unsigned flags = (tok->flags & SEOGO_TERM_WORD_START ? 1u : 0u) |
                       (tok->flags & SEOGO_TERM_STEM_END ? 2u : 0u);
      if (put_varint(&p->arena, (uint64_t)gap << 2 | flags)) return -1;
      prev += gap;
    }
  }
  dt->bytes = (uint32_t)(p->arena.len - dt->off);
  return 0;
}

/* Groups the document's postings by term: a stable counting sort of the tokens by term keeps
 * each term's occurrences in passage and position order. */
static int group_postings(seogo_prepared *p) {
  sg_strmap_free(&p->terms);
  sg_buf_clear(&p->arena);
  if (intern_tokens(p)) return -1;
  const sg_analysis *r = &p->analysis;
  size_t nterms = p->terms.count, total = 0;
  /* tok_passage reuses `order`'s second half: order holds n slots, then n passage numbers */
  if (sg_grow_array(&p->order, &p->order_cap, 2 * r->ntokens + 1, sizeof *p->order)) return -1;
  uint32_t *tok_passage = p->order + r->ntokens;
  for (size_t i = 0; i < p->spans.count; i++)
    for (uint32_t t = p->spans.items[i].tok_start; t < p->spans.items[i].tok_end; t++)
      tok_passage[t] = (uint32_t)i;
  for (size_t k = 0; k < nterms; k++) { /* counts become start offsets */
    uint32_t c = p->dterms[k].count;
    p->dterms[k].off = (uint32_t)total;
    total += c;
  }
  for (size_t t = 0; t < r->ntokens; t++)
    if (p->tok_term[t] != UINT32_MAX) p->order[p->dterms[p->tok_term[t]].off++] = (uint32_t)t;
  size_t from = 0;
  for (size_t k = 0; k < nterms; k++) {
    size_t to = p->dterms[k].off; /* the end of term k's tokens after the fill */
    if (encode_term(p, &p->dterms[k], tok_passage, from, to)) return -1;
    from = to;
  }
  return 0;
}

/* Keeps the decoded text: the raw bytes themselves when they were UTF-8 already. */
static void keep_text(seogo_prepared *p, sg_text *t) {
  if (t->owned.data) {
    p->text_alloc = (char *)t->owned.data;
    t->owned.data = NULL;
    t->owned.len = t->owned.cap = 0;
  }
  p->text = t->data;
  p->text_len = t->len;
}

int sg_prepared_analyze(seogo_prepared *p, sg_analyzer *a, seogo_error *err) {
  sg_text t;
  int rc = sg_text_decode(&t, p->raw, p->raw_len, err);
  if (rc) {
    if (err) {
      char why[sizeof err->message];
      snprintf(why, sizeof why, "%s", err->message);
      sg_fail(err, rc, "%s: %s", shown(p), why);
    }
    return rc;
  }
  if (t.len > UINT32_MAX - 1) {
    sg_text_free(&t);
    return sg_fail(err, SEOGO_ELIMIT, "%s: larger than 4 GiB", shown(p));
  }
  keep_text(p, &t);
  rc = sg_analyze(a, p->text, p->text_len, SG_ANALYZE_DOCUMENT, &p->analysis, err);
  if (!rc) rc = sg_passages_build(p->text, p->text_len, &p->analysis, &p->spans, err);
  if (!rc && group_postings(p)) rc = sg_fail(err, SEOGO_ENOMEM, "out of memory");
  if (rc) return rc;
  sg_doc *rec = &p->rec;
  memset(rec, 0, sizeof *rec);
  rec->size = p->size;
  rec->mtime = p->mtime;
  rec->hash = p->hash;
  rec->nlines = (uint32_t)p->analysis.nlines;
  memcpy(rec->encoding, t.encoding, sizeof rec->encoding);
  rec->pdf_like = p->analysis.layout.pdf_like;
  rec->short_line = p->analysis.layout.short_line;
  rec->text_len = p->text_len;
  rec->invalid = t.invalid + p->analysis.invalid_sequences;
  p->first_invalid_line = t.invalid ? t.first_invalid_line : p->analysis.first_invalid_line;
  p->state = SG_PREP_ANALYZED;
  return SEOGO_OK;
}

int sg_prepared_take_text(seogo_prepared *p, char **alloc, const char **text, seogo_error *err) {
  if (!p->text_alloc && !p->raw_alloc) { /* borrowed from the caller: copy */
    if (!(p->text_alloc = malloc(p->text_len ? p->text_len : 1)))
      return sg_fail(err, SEOGO_ENOMEM, "out of memory");
    if (p->text_len) memcpy(p->text_alloc, p->text, p->text_len);
    p->text = p->text_alloc;
  }
  if (p->text_alloc) {
    *alloc = p->text_alloc;
    p->text_alloc = NULL;
  } else {
    *alloc = p->raw_alloc; /* the text is the raw bytes (past a BOM) */
    p->raw_alloc = NULL;
  }
  *text = p->text;
  return SEOGO_OK;
}

/* ---- The public API for other threads ------------------------------------------------------ */

/* Whether the committed document `name` has this file's size and mtime (then the file need
 * not be read), or its content hash (then it need not be analyzed). */
static int committed_match(seogo_index *index, const seogo_prepared *p, int by_hash) {
  MDB_txn *txn;
  if (sg_store_read_begin(index->store, &txn, NULL)) return 0;
  MDB_val key = {strlen(p->name), p->name}, id, v;
  int match = 0;
  sg_doc d;
  if (mdb_get(txn, index->store->paths, &key, &id) == 0 && id.mv_size == 4 &&
      mdb_get(txn, index->store->docs, &id, &v) == 0 &&
      sg_doc_decode(v.mv_data, v.mv_size, &d, NULL) == SEOGO_OK)
    match = by_hash ? d.size == p->size && d.hash == p->hash
                    : d.size == p->size && d.mtime == p->mtime;
  sg_store_read_end(index->store, txn);
  return match;
}

int seogo_prepare_file(seogo_index *index, const char *file_path, const char *name,
                       seogo_prepared **out, seogo_error *err) {
  if (!out) return sg_fail(err, SEOGO_EINVAL, "no place for the prepared document");
  *out = NULL;
  if (!index || !file_path || !*file_path)
    return sg_fail(err, SEOGO_EINVAL, "no index handle or no file");
  if (!index->writer)
    return sg_fail(err, SEOGO_EREADONLY, "the index at %s was opened read-only",
                   index->store->dir);
  seogo_prepared *p = malloc(sizeof *p);
  if (!p) return sg_fail(err, SEOGO_ENOMEM, "out of memory");
  sg_prepared_init(p);
  int fd = -1;
  int rc = sg_prepared_begin(p, name ? name : file_path, file_path, err);
  if (!rc) rc = sg_prepared_stat(p, &fd, err);
  if (!rc && committed_match(index, p, 0)) {
    close(fd); /* probably unchanged: seogo_add_prepared decides */
    *out = p;
    return SEOGO_OK;
  }
  if (!rc) rc = sg_prepared_read(p, fd, err);
  if (!rc && !committed_match(index, p, 1)) {
    sg_analyzer *a;
    if (!(rc = sg_index_borrow_analyzer(index, &a, err))) {
      rc = sg_prepared_analyze(p, a, err);
      sg_index_release_analyzer(index, a);
    }
  }
  if (rc) {
    seogo_prepared_free(p);
    return rc;
  }
  *out = p;
  return SEOGO_OK;
}

void seogo_prepared_free(seogo_prepared *p) {
  if (!p) return;
  sg_prepared_destroy(p);
  free(p);
}
