/* analyzer.c - the analysis pipeline (normalize, repair, segment, Korean/English terms) and
 * the public seogo_analyze(). */
#include <stdlib.h>
#include <string.h>

#include "analysis_int.h"

struct sg_analyzer {
  sg_segmenter *segmenter;
  sg_stemmer *stemmer;
  size_t chunk_bytes;
};

int sg_analyzer_new(sg_analyzer **out, seogo_error *err) {
  *out = NULL;
  sg_analyzer *a = calloc(1, sizeof *a);
  if (!a) return sg_fail(err, SEOGO_ENOMEM, "out of memory creating the analyzer");
  int rc = sg_segmenter_new(&a->segmenter, err);
  if (rc) {
    free(a);
    return rc;
  }
  a->stemmer = sg_stemmer_new();
  if (!a->stemmer) {
    sg_analyzer_free(a);
    return sg_fail(err, SEOGO_ENOMEM, "Snowball English stemmer unavailable");
  }
  a->chunk_bytes = SG_CHUNK_BYTES;
  *out = a;
  return SEOGO_OK;
}

void sg_analyzer_set_chunk_bytes(sg_analyzer *a, size_t bytes) {
  a->chunk_bytes = bytes ? bytes : SG_CHUNK_BYTES;
}

size_t sg_analyzer_chunk_bytes(const sg_analyzer *a) { return a->chunk_bytes; }

void sg_analyzer_free(sg_analyzer *a) {
  if (!a) return;
  sg_segmenter_free(a->segmenter);
  sg_stemmer_free(a->stemmer);
  free(a);
}

void sg_analysis_init(sg_analysis *r) { memset(r, 0, sizeof *r); }

void sg_analysis_free(sg_analysis *r) {
  if (!r) return;
  sg_buf_free(&r->norm);
  sg_buf_free(&r->terms);
  free(r->norm_to_orig);
  free(r->tokens);
  free(r->joins);
  free(r->sentence_ends);
  free(r->line_starts);
  free(r->drops);
  sg_analysis_init(r);
}

uint32_t sg_line_of(const sg_analysis *r, uint32_t off) {
  size_t lo = 0, hi = r->nlines;
  while (lo < hi) { /* first line starting after off */
    size_t mid = lo + (hi - lo) / 2;
    if (r->line_starts[mid] <= off) lo = mid + 1;
    else hi = mid;
  }
  return lo ? (uint32_t)lo : 1;
}

/* ---- Emitting terms ----------------------------------------------------------------------- */

static int grow_tokens(sg_analysis *r) {
  size_t cap = r->tokens_cap ? r->tokens_cap * 2 : 256;
  sg_token *t = realloc(r->tokens, cap * sizeof *t);
  if (!t) return SEOGO_ENOMEM;
  r->tokens = t;
  r->tokens_cap = cap;
  return SEOGO_OK;
}

/* Tokens come in ascending order, so the line of each is found by walking forward. */
static void set_lines(sg_emitter *e, sg_token *t) {
  const sg_analysis *r = e->r;
  size_t k = e->line_cursor;
  while (k + 1 < r->nlines && r->line_starts[k + 1] <= t->start) k++;
  e->line_cursor = k;
  t->line = (uint32_t)(k + 1);
  uint32_t last = t->end > t->start ? t->end - 1 : t->start;
  while (k + 1 < r->nlines && r->line_starts[k + 1] <= last) k++;
  t->line_end = (uint32_t)(k + 1);
}

int sg_emit_term(sg_emitter *e, const char *term, size_t len, unsigned flags, size_t nstart,
                 size_t nend) {
  sg_analysis *r = e->r;
  if (e->next_pos == UINT32_MAX || len > UINT32_MAX - r->terms.len) return SEOGO_ELIMIT;
  if (r->ntokens == r->tokens_cap && grow_tokens(r)) return SEOGO_ENOMEM;
  size_t off = r->terms.len;
  /* a term is a few bytes: the copy is inlined rather than a call per term */
  if (r->terms.cap - off < len && sg_buf_reserve(&r->terms, len)) return SEOGO_ENOMEM;
  for (size_t i = 0; i < len; i++) r->terms.data[off + i] = (unsigned char)term[i];
  r->terms.len = off + len;
  sg_token *t = &r->tokens[r->ntokens++];
  t->term_off = (uint32_t)off;
  t->term_len = (uint16_t)len;
  t->flags = (uint16_t)flags;
  t->pos = e->next_pos++;
  t->start = r->norm_to_orig[nstart];
  t->end = sg_orig_end(r, nend);
  set_lines(e, t);
  return SEOGO_OK;
}

/* ---- Words to terms ------------------------------------------------------------------------ */

typedef struct word_walk {
  sg_emitter emitter;
  sg_stemmer *stemmer;
  int query;
  size_t cjk_start, cjk_end; /* pending Han/kana run (ICU splits it into dictionary words) */
} word_walk;

static int is_han_or_kana(int32_t cp) {
  return (cp >= 0x2E80 && cp <= 0x2FDF) || cp == 0x3005 || cp == 0x3007 ||
         (cp >= 0x3021 && cp <= 0x3029) || (cp >= 0x3038 && cp <= 0x303B) ||
         (cp >= 0x3040 && cp <= 0x30FF) || (cp >= 0x31F0 && cp <= 0x31FF) ||
         (cp >= 0x3400 && cp <= 0x4DBF) || (cp >= 0x4E00 && cp <= 0x9FFF) ||
         (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x20000 && cp <= 0x3FFFF);
}

static int flush_cjk(word_walk *w) {
  if (w->cjk_end == w->cjk_start) return SEOGO_OK;
  int rc = sg_korean_run(&w->emitter, w->cjk_start, w->cjk_end, SEOGO_TERM_CJK, w->query);
  w->cjk_start = w->cjk_end = 0;
  return rc;
}

static int on_word(void *ctx, size_t start, size_t end, int kind) {
  word_walk *w = ctx;
  int32_t cp;
  const unsigned char *p = (const unsigned char *)w->emitter.norm + start;
  if (!sg_utf8_decode(p, end - start, &cp)) cp = 0xFFFD;
  if (kind == SG_WORD_KANA || kind == SG_WORD_IDEO || is_han_or_kana(cp)) {
    if (w->cjk_end != start || w->cjk_end == w->cjk_start) {
      int rc = flush_cjk(w);
      if (rc) return rc;
      w->cjk_start = start;
    }
    w->cjk_end = end;
    return SEOGO_OK;
  }
  int rc = flush_cjk(w);
  if (rc) return rc;
  if (sg_is_hangul(cp))
    return sg_korean_run(&w->emitter, start, end, SEOGO_TERM_HANGUL, w->query);
  return sg_english_word(&w->emitter, w->stemmer, start, end);
}

/* ---- The pipeline --------------------------------------------------------------------------- */

static void reset(sg_analysis *r, int mode) {
  r->norm.len = 0;
  r->ntokens = 0;
  r->terms.len = 0;
  r->njoins = 0;
  r->nsentences = 0;
  r->nlines = 0;
  r->ndrops = 0;
  r->invalid_sequences = 0;
  r->first_invalid_line = 0;
  if (mode != SG_ANALYZE_SPAN && mode != SG_ANALYZE_CHUNK) {
    r->layout = (sg_layout){0, 0};
    r->span_lead_chars = 0;
  }
}

static int fail_status(seogo_error *err, int rc, size_t len) {
  if (rc == SEOGO_ELIMIT)
    return sg_fail(err, rc, "text of %zu bytes is too large to analyze (limit 4 GiB)", len);
  if (rc == SEOGO_ENOMEM)
    return sg_fail(err, rc, "out of memory analyzing a text of %zu bytes", len);
  return sg_fail(err, rc, "text analysis failed (ICU break iteration)");
}

int sg_analyze(sg_analyzer *a, const char *text, size_t len, int mode, sg_analysis *r,
               seogo_error *err) {
  if (!a || !r || (!text && len))
    return sg_fail(err, SEOGO_EINVAL, "sg_analyze: NULL analyzer, result or text");
  if (mode < SG_ANALYZE_DOCUMENT || mode > SG_ANALYZE_QUOTED)
    return sg_fail(err, SEOGO_EINVAL, "sg_analyze: unknown mode %d", mode);
  if (len > UINT32_MAX) return fail_status(err, SEOGO_ELIMIT, len);
  reset(r, mode);
  int rc = sg_normalize(text ? text : "", len, mode, r);
  if (rc) return fail_status(err, rc, len);
  word_walk w = {{r, (const char *)r->norm.data, 0, 0}, a->stemmer, mode == SG_ANALYZE_QUERY, 0, 0};
  rc = sg_segment_words(a->segmenter, w.emitter.norm, r->norm.len, on_word, &w);
  if (!rc) rc = flush_cjk(&w);
  if (!rc && (mode == SG_ANALYZE_DOCUMENT || mode == SG_ANALYZE_CHUNK))
    rc = sg_segment_sentences(a->segmenter, r);
  if (rc) return fail_status(err, rc, len);
  return SEOGO_OK;
}

/* ---- Public API ------------------------------------------------------------------------------ */

int seogo_analyze(const char *text, size_t len, int as_query,
                  int (*fn)(void *ctx, const seogo_term *term), void *ctx,
                  uint32_t *invalid_sequences, seogo_error *err) {
  if (invalid_sequences) *invalid_sequences = 0;
  if ((!text && len) || !fn) return sg_fail(err, SEOGO_EINVAL, "seogo_analyze: NULL text or callback");
  sg_analyzer *a;
  int rc = sg_analyzer_new(&a, err);
  if (rc) return rc;
  sg_analysis r;
  sg_analysis_init(&r);
  rc = sg_analyze(a, text, len, as_query ? SG_ANALYZE_QUERY : SG_ANALYZE_DOCUMENT, &r, err);
  if (!rc) {
    if (invalid_sequences) *invalid_sequences = r.invalid_sequences;
    for (size_t i = 0; i < r.ntokens; i++) {
      const sg_token *t = &r.tokens[i];
      seogo_term term = {sg_token_term(&r, t), t->term_len, t->pos, t->start, t->end,
                         t->line, t->line_end, t->flags};
      if (fn(ctx, &term)) break;
    }
  }
  sg_analysis_free(&r);
  sg_analyzer_free(a);
  return rc;
}
