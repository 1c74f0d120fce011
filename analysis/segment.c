/* segment.c - ICU word and sentence boundaries over the normalized UTF-8 text (UText, no
 * copy to UTF-16). */
#include <stdlib.h>
#include <string.h>
#include <unicode/ubrk.h>
#include <unicode/utext.h>

#include "analysis_int.h"

/* ICU break iterators report int32_t offsets, so text is handed to them in windows. Both word
 * and sentence rules always break after a line feed, so windows end at one when they can. */
#define WINDOW_MAX ((size_t)1 << 30)

struct sg_segmenter {
  UBreakIterator *words;
  UBreakIterator *sentences;
  UText *text;
};

static int icu_status(UErrorCode st) {
  return st == U_MEMORY_ALLOCATION_ERROR ? SEOGO_ENOMEM : SEOGO_EINVAL;
}

int sg_segmenter_new(sg_segmenter **out, seogo_error *err) {
  *out = NULL;
  sg_segmenter *s = calloc(1, sizeof *s);
  if (!s) return sg_fail(err, SEOGO_ENOMEM, "out of memory creating the word segmenter");
  UErrorCode st = U_ZERO_ERROR;
  s->words = ubrk_open(UBRK_WORD, "", NULL, 0, &st);
  if (U_SUCCESS(st)) s->sentences = ubrk_open(UBRK_SENTENCE, "", NULL, 0, &st);
  if (U_FAILURE(st)) {
    sg_segmenter_free(s);
    return sg_fail(err, icu_status(st), "ICU break iterators unavailable: %s", u_errorName(st));
  }
  *out = s;
  return SEOGO_OK;
}

void sg_segmenter_free(sg_segmenter *s) {
  if (!s) return;
  ubrk_close(s->words);
  ubrk_close(s->sentences);
  utext_close(s->text);
  free(s);
}

/* Length of the next window of text[0, len): at most WINDOW_MAX, ending after a line feed. */
static size_t window_len(const char *text, size_t len) {
  if (len <= WINDOW_MAX) return len;
  size_t w = WINDOW_MAX;
  while (w > WINDOW_MAX / 2 && text[w - 1] != '\n') w--;
  if (text[w - 1] != '\n') {
    w = WINDOW_MAX;
    while (w > 1 && ((unsigned char)text[w] & 0xC0) == 0x80) w--;
  }
  return w;
}

static int set_text(sg_segmenter *s, UBreakIterator *bi, const char *text, size_t len) {
  UErrorCode st = U_ZERO_ERROR;
  s->text = utext_openUTF8(s->text, text, (int64_t)len, &st);
  if (U_SUCCESS(st)) ubrk_setUText(bi, s->text, &st);
  return U_FAILURE(st) ? icu_status(st) : SEOGO_OK;
}

static int word_kind(int32_t status) {
  if (status >= UBRK_WORD_IDEO && status < UBRK_WORD_IDEO_LIMIT) return SG_WORD_IDEO;
  if (status >= UBRK_WORD_KANA && status < UBRK_WORD_KANA_LIMIT) return SG_WORD_KANA;
  if (status >= UBRK_WORD_LETTER && status < UBRK_WORD_LETTER_LIMIT) return SG_WORD_LETTER;
  if (status >= UBRK_WORD_NUMBER && status < UBRK_WORD_NUMBER_LIMIT) return SG_WORD_NUMBER;
  return 0;
}

static int icu_words(sg_segmenter *s, const char *text, size_t len, size_t base, sg_word_fn fn,
                     void *ctx) {
  int rc = set_text(s, s->words, text, len);
  if (rc) return rc;
  int32_t a = ubrk_first(s->words), b;
  while ((b = ubrk_next(s->words)) != UBRK_DONE) {
    int kind = word_kind(ubrk_getRuleStatus(s->words));
    if (kind && (rc = fn(ctx, base + (size_t)a, base + (size_t)b, kind)) != 0) return rc;
    a = b;
  }
  return SEOGO_OK;
}

int sg_segment_words(sg_segmenter *s, const char *text, size_t len, sg_word_fn fn, void *ctx) {
  for (size_t off = 0; off < len;) {
    size_t w = window_len(text + off, len - off);
    int rc = icu_words(s, text + off, w, off, fn, ctx);
    if (rc) return rc;
    off += w;
  }
  return SEOGO_OK;
}

static int add_sentence_end(sg_analysis *r, size_t end) {
  if (r->nsentences == r->sentences_cap) {
    size_t cap = r->sentences_cap ? r->sentences_cap * 2 : 64;
    uint32_t *p = realloc(r->sentence_ends, cap * sizeof *p);
    if (!p) return SEOGO_ENOMEM;
    r->sentence_ends = p;
    r->sentences_cap = cap;
  }
  r->sentence_ends[r->nsentences++] = (uint32_t)end;
  return SEOGO_OK;
}

int sg_segment_sentences(sg_segmenter *s, sg_analysis *r) {
  const char *text = (const char *)r->norm.data;
  r->nsentences = 0;
  for (size_t off = 0; off < r->norm.len;) {
    size_t w = window_len(text + off, r->norm.len - off);
    int rc = set_text(s, s->sentences, text + off, w);
    if (rc) return rc;
    int32_t b;
    ubrk_first(s->sentences);
    while ((b = ubrk_next(s->sentences)) != UBRK_DONE) {
      if ((rc = add_sentence_end(r, off + (size_t)b)) != 0) return rc;
    }
    off += w;
  }
  return SEOGO_OK;
}
