/* fuzz_analyzer.c - fuzz target for the analyzer: any bytes, analyzed as a document, a query
 * or a span of a document with a given layout (the first byte chooses), keep the contract of
 * analyzer.h: every token inside the text on the right lines, terms of valid UTF-8 without
 * NUL and within the length limit, positions in order, the maps monotonic. */
#include <string.h>
#include <utf8proc.h>

#include "analyzer.h"
#include "fuzz.h"

static sg_analyzer *fa_analyzer;
static sg_analysis fa_result;

static void fa_cleanup(void) {
  sg_analysis_free(&fa_result);
  sg_analyzer_free(fa_analyzer);
}

static int fa_valid_utf8(const char *s, size_t n) {
  for (size_t i = 0; i < n;) {
    utf8proc_int32_t cp;
    utf8proc_ssize_t k = utf8proc_iterate((const utf8proc_uint8_t *)s + i,
                                          (utf8proc_ssize_t)(n - i), &cp);
    if (k <= 0) return 0;
    i += (size_t)k;
  }
  return 1;
}

static void fa_check_maps(const sg_analysis *r, size_t len, int mode) {
  FUZZ_ASSERT(r->norm_to_orig[r->norm.len] == len);
  for (size_t i = 0; i < r->norm.len; i++) FUZZ_ASSERT(r->norm_to_orig[i] <= r->norm_to_orig[i + 1]);
  FUZZ_ASSERT(fa_valid_utf8((const char *)r->norm.data, r->norm.len));
  FUZZ_ASSERT(r->nlines >= 1 && r->line_starts[0] == 0);
  for (size_t i = 1; i < r->nlines; i++) {
    FUZZ_ASSERT(r->line_starts[i - 1] < r->line_starts[i] && r->line_starts[i] <= len);
  }
  if (mode == SG_ANALYZE_DOCUMENT && r->nsentences) {
    for (size_t i = 1; i < r->nsentences; i++)
      FUZZ_ASSERT(r->sentence_ends[i - 1] <= r->sentence_ends[i]);
    FUZZ_ASSERT(r->sentence_ends[r->nsentences - 1] == r->norm.len);
  }
  for (size_t i = 0; i < r->njoins; i++) {
    FUZZ_ASSERT(r->joins[i].start <= r->joins[i].end && r->joins[i].end <= len);
    if (i) FUZZ_ASSERT(r->joins[i - 1].end <= r->joins[i].start);
  }
}

static void fa_check_tokens(const sg_analysis *r, size_t len) {
  for (size_t i = 0; i < r->ntokens; i++) {
    const sg_token *t = &r->tokens[i];
    const char *term = sg_token_term(r, t);
    FUZZ_ASSERT(t->term_len >= 1 && t->term_len <= SG_MAX_TERM_BYTES);
    FUZZ_ASSERT((size_t)t->term_off + t->term_len <= r->terms.len);
    FUZZ_ASSERT(memchr(term, 0, t->term_len) == NULL);
    FUZZ_ASSERT(fa_valid_utf8(term, t->term_len));
    FUZZ_ASSERT(t->start < t->end && t->end <= len);
    FUZZ_ASSERT(t->line >= 1 && t->line <= t->line_end && t->line_end <= r->nlines);
    FUZZ_ASSERT(t->line == sg_line_of(r, t->start));
    FUZZ_ASSERT(t->line_end == sg_line_of(r, t->end - 1));
    if (i) FUZZ_ASSERT(r->tokens[i - 1].pos <= t->pos);
  }
}

static int fuzz_analyzer(const uint8_t *data, size_t size) {
  if (!fa_analyzer) {
    seogo_error err;
    if (sg_analyzer_new(&fa_analyzer, &err)) abort();
    sg_analysis_init(&fa_result);
    atexit(fa_cleanup);
  }
  if (size == 0) return 0;
  int mode = data[0] % 3;
  fa_result.layout.pdf_like = (data[0] >> 2) & 1;
  fa_result.layout.short_line = (uint16_t)((data[0] >> 3) * 4);
  fa_result.span_lead_chars = mode == SG_ANALYZE_SPAN ? (uint32_t)(data[0] >> 5) : 0;
  const char *text = (const char *)data + 1;
  size_t len = size - 1;
  seogo_error err;
  int rc = sg_analyze(fa_analyzer, text, len, mode, &fa_result, &err);
  FUZZ_ASSERT(rc == SEOGO_OK);
  if (rc) return 0;
  fa_check_maps(&fa_result, len, mode);
  fa_check_tokens(&fa_result, len);
  return 0;
}

FUZZ_TARGET(fuzz_analyzer)
