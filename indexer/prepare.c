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

void sg_prep_scratch_init(sg_prep_scratch *s) {
  memset(s, 0, sizeof *s);
  sg_analysis_init(&s->analysis);
}

void sg_prep_scratch_free(sg_prep_scratch *s) {
  sg_analysis_free(&s->analysis);
  free(s->tok_term);
  free(s->occ);
  sg_prep_scratch_init(s);
}

void sg_prepared_init(seogo_prepared *p) {
  memset(p, 0, sizeof *p);
  sg_prep_scratch_init(&p->scratch);
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
  sg_prep_scratch_free(&p->scratch);
  sg_spans_free(&p->spans);
  sg_strmap_free(&p->terms);
  sg_buf_free(&p->arena);
  free(p->dterms);
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

/* Most of a document's term occurrences repeat a term seen a moment before; a small
 * direct-mapped cache of terms of up to 8 bytes (Korean bigrams, most stems), keyed by their
 * bytes in one word, answers those without hashing and probing the term map. */
#define TERM_CACHE_SLOTS 4096 /* a power of two */

typedef struct term_slot {
  uint64_t key;
  uint32_t len; /* 0: empty */
  uint32_t k;
} term_slot;

/* The term's bytes in one word; r->terms has 8 defined bytes after its last term. */
static inline uint64_t term_word(const unsigned char *p, size_t len) {
  uint64_t v;
  memcpy(&v, p, 8);
  return len == 8 ? v : v & ((UINT64_C(1) << (8 * len)) - 1);
}

static long intern_cached(seogo_prepared *p, term_slot *cache, const unsigned char *term,
                          size_t len) {
  if (!cache || len > 8) return sg_strmap_intern(&p->terms, term, len);
  uint64_t key = term_word(term, len);
  term_slot *slot = &cache[((key + len) * UINT64_C(0x9E3779B97F4A7C15)) >> 52];
  if (slot->len == len && slot->key == key) return slot->k;
  long k = sg_strmap_intern(&p->terms, term, len);
  if (k >= 0) *slot = (term_slot){key, (uint32_t)len, (uint32_t)k};
  return k;
}

/* Interns each token's term (tok_term) and counts the tokens of each term (dterms[k].count,
 * used as a counter here). */
static int intern_tokens(seogo_prepared *p) {
  sg_prep_scratch *sc = &p->scratch;
  sg_analysis *r = &sc->analysis;
  if (sg_grow_array(&sc->tok_term, &sc->tok_cap, r->ntokens + 1, sizeof *sc->tok_term)) return -1;
  term_slot *cache = NULL; /* without memory for it, every term goes to the map */
  if (sg_buf_reserve(&r->terms, 8) == 0) {
    memset(r->terms.data + r->terms.len, 0, 8);
    cache = calloc(TERM_CACHE_SLOTS, sizeof *cache);
  }
  for (size_t t = 0; t < r->ntokens; t++) sc->tok_term[t] = UINT32_MAX;
  for (size_t i = 0; i < p->spans.count; i++) {
    const sg_span *s = &p->spans.items[i];
    for (uint32_t t = s->tok_start; t < s->tok_end; t++) {
      const sg_token *tok = &r->tokens[t];
      /* terms never hold 0x00: sg_text_decode refuses text with NUL bytes as binary */
      if (!tok->term_len || tok->pos - s->pos_base >= SG_MAX_POSITIONS) continue;
      size_t before = p->terms.count;
      long k = intern_cached(p, cache, r->terms.data + tok->term_off, tok->term_len);
      if (k < 0) goto fail;
      if (p->terms.count > before) { /* grown with the terms, not the tokens: it waits with
                                        the document for the writer */
        if (sg_grow_array(&p->dterms, &p->dterms_cap, p->terms.count, sizeof *p->dterms)) goto fail;
        memset(&p->dterms[k], 0, sizeof p->dterms[k]);
      }
      p->dterms[k].count++;
      sc->tok_term[t] = (uint32_t)k;
    }
  }
  free(cache);
  return 0;
fail:
  free(cache);
  return -1;
}

/* A term occurrence as the grouping sorts it: passage number, position in the passage (below
 * SG_MAX_POSITIONS, 16 bits) and the two flags, in one word that encode_term reads in turn. */
#define OCC_PASSAGE_SHIFT 18

static inline uint64_t occurrence(uint32_t passage, uint32_t pos, unsigned tok_flags) {
  unsigned flags =
      (tok_flags & SEOGO_TERM_WORD_START ? 1u : 0u) | (tok_flags & SEOGO_TERM_STEM_END ? 2u : 0u);
  return (uint64_t)passage << OCC_PASSAGE_SHIFT | (uint64_t)pos << 2 | flags;
}

/* Encodes the occurrences occ[from, to) of one term (in passage and position order). */
static int encode_term(seogo_prepared *p, sg_doc_term *dt, const uint64_t *occ, size_t from,
                       size_t to) {
  /* at most two 5-byte varints per passage and a 3-byte one per occurrence */
  if (sg_buf_reserve(&p->arena, (to - from) * (2 * 5 + 3))) return -1;
  unsigned char *q = p->arena.data + p->arena.len;
  dt->off = (uint32_t)p->arena.len;
  dt->count = 0;
  for (size_t i = from; i < to;) {
    uint32_t pi = (uint32_t)(occ[i] >> OCC_PASSAGE_SHIFT);
    size_t j = i + 1;
    while (j < to && (uint32_t)(occ[j] >> OCC_PASSAGE_SHIFT) == pi) j++;
    if (dt->count) q += sg_varint_encode(q, pi - dt->last);
    if (!dt->count) dt->first = pi;
    dt->last = pi;
    dt->count++;
    q += sg_varint_encode(q, j - i);
    uint32_t prev = 0;
    for (; i < j; i++) {
      uint32_t pos = (uint32_t)(occ[i] >> 2) & 0xFFFF, gap = pos >= prev ? pos - prev : 0;
      q += sg_varint_encode(q, (uint64_t)gap << 2 | (occ[i] & 3));
      prev += gap;
    }
  }
  p->arena.len = (size_t)(q - p->arena.data);
  dt->bytes = (uint32_t)(p->arena.len - dt->off);
  return 0;
}

/* Groups the document's postings by term: a stable counting sort of the occurrences by term,
 * reading the tokens in order, keeps each term's occurrences in passage and position order. */
static int group_postings(seogo_prepared *p) {
  sg_strmap_free(&p->terms);
  sg_buf_clear(&p->arena);
  if (intern_tokens(p)) return -1;
  sg_prep_scratch *sc = &p->scratch;
  const sg_analysis *r = &sc->analysis;
  size_t nterms = p->terms.count, total = 0;
  if (sg_grow_array(&sc->occ, &sc->occ_cap, r->ntokens + 1, sizeof *sc->occ)) return -1;
  for (size_t k = 0; k < nterms; k++) { /* counts become start offsets */
    uint32_t c = p->dterms[k].count;
    p->dterms[k].off = (uint32_t)total;
    total += c;
  }
  for (size_t i = 0; i < p->spans.count; i++) {
    const sg_span *s = &p->spans.items[i];
    for (uint32_t t = s->tok_start; t < s->tok_end; t++) {
      uint32_t k = sc->tok_term[t];
      if (k == UINT32_MAX) continue;
      const sg_token *tok = &r->tokens[t];
      sc->occ[p->dterms[k].off++] = occurrence((uint32_t)i, tok->pos - s->pos_base, tok->flags);
    }
  }
  size_t from = 0;
  for (size_t k = 0; k < nterms; k++) {
    size_t to = p->dterms[k].off; /* the end of term k's occurrences after the fill */
    if (encode_term(p, &p->dterms[k], sc->occ, from, to)) return -1;
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

/* ---- Huge documents: analysis in chunks ------------------------------------------------------
 * A document longer than the analyzer's chunk size is analyzed piece by piece, so that the
 * per-byte and per-token arrays of the analysis (about 17 times the text) exist for one piece
 * at a time; only its passages and its postings grouped by term, a few bytes per term
 * occurrence, are kept for the whole. The layout (PDF-like, short lines) is detected first
 * over the whole, piece by piece, so that each piece repairs lines as the whole would.
 *
 * Where a piece is cut decides how faithful the result is. Best, a paragraph break after a
 * line that no repair can join to the next (it does not end in Hangul or a hyphen) in a
 * document that is not PDF-like: passages never cross it either, so the result is exactly the
 * whole document's. Else a line end after . ? or !, then after any ASCII character but a
 * hyphen: the terms, positions and byte ranges are still exactly the whole's, but a passage
 * may end at the cut where the whole would have gone on. Else (a line longer than half a
 * chunk) a blank before a letter or digit, with the same guarantee; else any character
 * boundary, where one word may be cut in two. */

typedef struct chunk_piece { /* one chunk's postings of one term */
  uint32_t next;             /* next piece of the term, or UINT32_MAX */
  uint32_t first, last, count; /* document passage numbers */
  size_t off;
  uint32_t bytes;
} chunk_piece;

typedef struct chunked {
  sg_strmap terms;     /* the document's terms, in order of first occurrence */
  uint32_t *head, *tail; /* per term: its first and last piece */
  size_t head_cap, tail_cap;
  chunk_piece *pieces;
  size_t npieces, pieces_cap;
  sg_buf bytes;        /* the pieces' postings */
  sg_spans spans;      /* the document's passages */
} chunked;

static void chunked_free(chunked *c) {
  sg_strmap_free(&c->terms);
  free(c->head);
  free(c->tail);
  free(c->pieces);
  sg_buf_free(&c->bytes);
  sg_spans_free(&c->spans);
}

/* The last non-blank byte of the line that ends with the line feed at text[nl], or 0. */
static unsigned char line_last(const char *text, size_t from, size_t nl) {
  size_t k = nl;
  if (k > from && text[k - 1] == '\r') k--;
  while (k > from && (text[k - 1] == ' ' || text[k - 1] == '\t')) k--;
  return k > from && text[k - 1] != '\n' ? (unsigned char)text[k - 1] : 0;
}

/* Whether a blank line follows the line feed at text[nl]. */
static int blank_line_after(const char *text, size_t nl, size_t end) {
  size_t k = nl + 1;
  while (k < end && (text[k] == ' ' || text[k] == '\t' || text[k] == '\r')) k++;
  return k < end && text[k] == '\n';
}

/* The character boundary at or before `at` (after `from`), else the one after it. */
static size_t char_boundary(const char *text, size_t from, size_t at, size_t len) {
  size_t k = at;
  while (k > from + 1 && k < len && ((unsigned char)text[k] & 0xC0) == 0x80) k--;
  if (k < len && ((unsigned char)text[k] & 0xC0) == 0x80)
    for (k = at; k < len && ((unsigned char)text[k] & 0xC0) == 0x80;) k++;
  return k;
}

enum { CUT_PARAGRAPH, CUT_SENTENCE, CUT_LINE, CUT_BLANK, NCUT_KINDS };

static int cut_fits(const char *text, size_t lo, size_t k, size_t end, int kind) {
  if (kind == CUT_BLANK) {
    unsigned char c = (unsigned char)text[k + 1];
    return text[k] == ' ' && k + 1 < end &&
           ((c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') ||
            (c >= 0xEA && c <= 0xED));
  }
  if (text[k] != '\n') return 0;
  /* after a blank line, the line before it could still join the next (전 / 략) */
  unsigned char last = line_last(text, lo, k);
  if (!last || last >= 0x80 || last == '-') return 0;
  if (kind == CUT_PARAGRAPH) return blank_line_after(text, k, end);
  if (kind == CUT_SENTENCE) return last == '.' || last == '?' || last == '!';
  return 1;
}

/* Where the chunk starting at `from` ends (see above). */
static size_t chunk_end(const char *text, size_t from, size_t len, size_t chunk, int pdf_like) {
  if (len - from <= chunk) return len;
  size_t hi = from + chunk, lo = from + chunk / 2;
  for (int kind = pdf_like ? CUT_SENTENCE : CUT_PARAGRAPH; kind < NCUT_KINDS; kind++)
    for (size_t k = hi - 1; k > lo; k--)
      if (cut_fits(text, from, k, len, kind)) return k + 1;
  return char_boundary(text, from, hi, len);
}

/* The layout of the whole text, scanned in pieces cut after line feeds. */
static int chunked_layout(const char *text, size_t len, size_t chunk, sg_analysis *scratch,
                          sg_layout *layout) {
  sg_layout_stats st;
  memset(&st, 0, sizeof st);
  for (size_t from = 0; from < len;) {
    size_t to = len - from <= chunk ? len : from + chunk;
    size_t nl = to;
    while (to < len && nl > from && text[nl - 1] != '\n') nl--;
    if (to < len && nl > from) to = nl;
    else
      to = char_boundary(text, from, to, len);
    int rc = sg_layout_scan(text + from, to - from, scratch, &st);
    if (rc) return rc;
    from = to;
  }
  sg_layout_finish(&st, layout);
  return SEOGO_OK;
}

/* Adds the chunk's grouped postings (p->terms, dterms, arena; passages numbered from 0) to
 * the document's, its passages numbered from `base`. */
static int chunked_add_postings(chunked *c, const seogo_prepared *p, uint32_t base) {
  for (size_t k = 0; k < p->terms.count; k++) {
    const sg_doc_term *dt = &p->dterms[k];
    if (!dt->count) continue;
    size_t len;
    const char *term = sg_strmap_key(&p->terms, k, &len);
    size_t before = c->terms.count;
    long i = sg_strmap_intern_hashed(&c->terms, term, len, p->terms.keys[k].hash);
    if (i < 0 || sg_grow_array(&c->head, &c->head_cap, c->terms.count, sizeof *c->head) ||
        sg_grow_array(&c->tail, &c->tail_cap, c->terms.count, sizeof *c->tail))
      return -1;
    if (sg_grow_array(&c->pieces, &c->pieces_cap, c->npieces + 1, sizeof *c->pieces)) return -1;
    uint32_t n = (uint32_t)c->npieces++;
    c->pieces[n] = (chunk_piece){UINT32_MAX, base + dt->first, base + dt->last, dt->count,
                                 c->bytes.len, dt->bytes};
    if (sg_buf_append(&c->bytes, p->arena.data + dt->off, dt->bytes)) return -1;
    if (c->terms.count > before) c->head[i] = n;
    else c->pieces[c->tail[i]].next = n;
    c->tail[i] = n;
  }
  return 0;
}

/* Adds the chunk's passages, which start at text offset `at`, line `line_base` + 1 and
 * position `pos_base`. */
static int chunked_add_spans(chunked *c, const sg_spans *sp, uint32_t at, uint32_t line_base,
                             uint32_t pos_base) {
  if (sg_grow_array(&c->spans.items, &c->spans.cap, c->spans.count + sp->count + 1,
                    sizeof *c->spans.items))
    return -1;
  for (size_t i = 0; i < sp->count; i++) {
    sg_span s = sp->items[i];
    s.start += at;
    s.end += at;
    s.line_start += line_base;
    s.line_end += line_base;
    s.pos_base += pos_base;
    c->spans.items[c->spans.count++] = s;
  }
  return 0;
}

/* Hands the document's passages and postings over to p, as group_postings leaves them. */
static int chunked_finish(chunked *c, seogo_prepared *p) {
  sg_strmap_free(&p->terms);
  sg_buf_clear(&p->arena);
  p->terms = c->terms;
  memset(&c->terms, 0, sizeof c->terms);
  sg_spans_free(&p->spans);
  p->spans = c->spans;
  memset(&c->spans, 0, sizeof c->spans);
  if (sg_grow_array(&p->dterms, &p->dterms_cap, p->terms.count + 1, sizeof *p->dterms)) return -1;
  for (size_t k = 0; k < p->terms.count; k++) {
    sg_doc_term *dt = &p->dterms[k];
    dt->off = (uint32_t)p->arena.len;
    dt->count = 0;
    for (uint32_t n = c->head[k]; n != UINT32_MAX; n = c->pieces[n].next) {
      const chunk_piece *pc = &c->pieces[n];
      if (dt->count && sg_buf_put_varint(&p->arena, pc->first - dt->last)) return -1;
      if (sg_buf_append(&p->arena, c->bytes.data + pc->off, pc->bytes)) return -1;
      if (!dt->count) dt->first = pc->first;
      dt->last = pc->last;
      dt->count += pc->count;
    }
    dt->bytes = (uint32_t)(p->arena.len - dt->off);
  }
  return 0;
}

/* Characters of the original text from the last line break before `end` (or `from`) to end:
 * the lead of a line that the next chunk starts in the middle of. */
static uint32_t partial_line_chars(const char *text, size_t from, size_t end) {
  size_t k = end;
  while (k > from && text[k - 1] != '\n' && text[k - 1] != '\r') k--;
  uint32_t n = 0;
  for (; k < end; k++) n += ((unsigned char)text[k] & 0xC0) != 0x80;
  return n;
}

/* span_lead_chars for the chunk after text[from, to), analyzed into r with lead `lead`. */
static uint32_t next_lead(const char *text, size_t from, size_t to, uint32_t lead,
                          const sg_analysis *r) {
  if (text[to - 1] == '\n') return 0;
  return lead * (r->nlines == 1) + partial_line_chars(text, from, to);
}

static int analyze_chunked(seogo_prepared *p, sg_analyzer *a, size_t chunk, uint32_t *nlines,
                           seogo_error *err) {
  sg_analysis *r = &p->scratch.analysis;
  chunked c;
  memset(&c, 0, sizeof c);
  sg_layout layout;
  int rc = chunked_layout(p->text, p->text_len, chunk, r, &layout);
  uint32_t line_base = 0, lead = 0, passages = 0, pos_base = 0;
  for (size_t from = 0; !rc && from < p->text_len;) {
    size_t to = chunk_end(p->text, from, p->text_len, chunk, layout.pdf_like);
    r->layout = layout;
    r->span_lead_chars = lead;
    rc = sg_analyze(a, p->text + from, to - from, SG_ANALYZE_CHUNK, r, err);
    if (!rc) rc = sg_passages_build(p->text + from, to - from, r, &p->spans, err);
    if (rc) break;
    if (passages + p->spans.count < passages || group_postings(p) ||
        chunked_add_spans(&c, &p->spans, (uint32_t)from, line_base, pos_base) ||
        chunked_add_postings(&c, p, passages)) {
      rc = sg_fail(err, SEOGO_ENOMEM, "out of memory");
      break;
    }
    passages += (uint32_t)p->spans.count;
    if (r->ntokens) pos_base += r->tokens[r->ntokens - 1].pos + 1;
    int at_line_start = p->text[to - 1] == '\n';
    line_base += (uint32_t)r->nlines - 1 + (at_line_start && to < p->text_len);
    lead = next_lead(p->text, from, to, lead, r);
    from = to;
  }
  *nlines = line_base + 1;
  if (!rc && chunked_finish(&c, p)) rc = sg_fail(err, SEOGO_ENOMEM, "out of memory");
  chunked_free(&c);
  r->layout = layout;
  return rc;
}

/* Appends the new terms of r's tokens to out (varint length, bytes each). */
static int collect_new_terms(const sg_analysis *r, sg_strmap *seen, sg_buf *out) {
  for (size_t i = 0; i < r->ntokens; i++) {
    const sg_token *t = &r->tokens[i];
    size_t before = seen->count;
    if (sg_strmap_intern(seen, sg_token_term(r, t), t->term_len) < 0) return -1;
    if (seen->count > before && (sg_buf_put_varint(out, t->term_len) ||
                                 sg_buf_append(out, sg_token_term(r, t), t->term_len)))
      return -1;
  }
  return 0;
}

int sg_text_terms(sg_analyzer *a, const char *text, size_t len, sg_analysis *r, sg_buf *out,
                  seogo_error *err) {
  size_t chunk = sg_analyzer_chunk_bytes(a);
  int in_chunks = len > chunk, rc = SEOGO_OK;
  sg_layout layout = {0, 0};
  if (in_chunks && (rc = chunked_layout(text, len, chunk, r, &layout)) != SEOGO_OK)
    return sg_fail(err, rc, "out of memory analyzing a text of %zu bytes", len);
  sg_strmap seen;
  memset(&seen, 0, sizeof seen);
  uint32_t lead = 0;
  for (size_t from = 0; !rc && from < len;) {
    size_t to = in_chunks ? chunk_end(text, from, len, chunk, layout.pdf_like) : len;
    r->layout = layout;
    r->span_lead_chars = lead;
    rc = sg_analyze(a, text + from, to - from, in_chunks ? SG_ANALYZE_CHUNK : SG_ANALYZE_DOCUMENT,
                    r, err);
    if (!rc && collect_new_terms(r, &seen, out)) rc = sg_fail(err, SEOGO_ENOMEM, "out of memory");
    if (!rc) lead = next_lead(text, from, to, lead, r);
    from = to;
  }
  sg_strmap_free(&seen);
  return rc;
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
  size_t chunk = sg_analyzer_chunk_bytes(a);
  uint32_t nlines = 0;
  const sg_analysis *r = &p->scratch.analysis;
  if (p->text_len > chunk) {
    rc = analyze_chunked(p, a, chunk, &nlines, err);
  } else {
    rc = sg_analyze(a, p->text, p->text_len, SG_ANALYZE_DOCUMENT, &p->scratch.analysis, err);
    if (!rc) rc = sg_passages_build(p->text, p->text_len, r, &p->spans, err);
    if (!rc && group_postings(p)) rc = sg_fail(err, SEOGO_ENOMEM, "out of memory");
    nlines = (uint32_t)r->nlines;
  }
  if (rc) return rc;
  sg_doc *rec = &p->rec;
  memset(rec, 0, sizeof *rec);
  rec->size = p->size;
  rec->mtime = p->mtime;
  rec->hash = p->hash;
  rec->nlines = nlines;
  memcpy(rec->encoding, t.encoding, sizeof rec->encoding);
  rec->pdf_like = r->layout.pdf_like;
  rec->short_line = r->layout.short_line;
  rec->text_len = p->text_len;
  rec->invalid = t.invalid + r->invalid_sequences;
  p->first_invalid_line = t.invalid ? t.first_invalid_line : r->first_invalid_line;
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

static void swap_scratch(seogo_prepared *p, sg_prep_scratch *s) {
  sg_prep_scratch held = p->scratch;
  p->scratch = *s;
  *s = held;
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
      sg_prep_scratch *lent = sg_index_borrow_scratch(index); /* NULL: p's own */
      if (lent) swap_scratch(p, lent);
      rc = sg_prepared_analyze(p, a, err);
      if (lent) {
        swap_scratch(p, lent);
        sg_index_release_scratch(index, lent);
      }
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
