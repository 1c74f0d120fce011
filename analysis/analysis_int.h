/* analysis_int.h - interfaces between the analyzer's own stages; not a contract for others. */
#ifndef SEOGO_ANALYSIS_INT_H
#define SEOGO_ANALYSIS_INT_H

#include <stddef.h>
#include <stdint.h>

#include "analyzer.h"

/* ---- Unicode helpers shared by the stages ---------------------------------------------- */

static inline int sg_is_hangul_syllable(int32_t cp) { return cp >= 0xAC00 && cp <= 0xD7A3; }

/* Hangul syllables and jamo (conjoining, compatibility, extended A/B, half-width). */
static inline int sg_is_hangul(int32_t cp) {
  return sg_is_hangul_syllable(cp) || (cp >= 0x1100 && cp <= 0x11FF) ||
         (cp >= 0x3130 && cp <= 0x318F) || (cp >= 0xA960 && cp <= 0xA97F) ||
         (cp >= 0xD7B0 && cp <= 0xD7FF) || (cp >= 0xFFA0 && cp <= 0xFFDC);
}

/* The Hangul syllable encoded at p (end: end of the text), or 0: the hot path's check. */
static inline int32_t sg_syllable_at(const unsigned char *p, const unsigned char *end) {
  if (end - p < 3 || p[0] < 0xEA || p[0] > 0xED || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80)
    return 0;
  int32_t cp = (int32_t)(((p[0] & 0x0Fu) << 12) | ((p[1] & 0x3Fu) << 6) | (p[2] & 0x3Fu));
  return sg_is_hangul_syllable(cp) ? cp : 0;
}

/* Decodes the well-formed UTF-8 character at p (n > 0 bytes available) into *cp; returns its
 * length, or 0 when the bytes there are not a well-formed character. */
static inline size_t sg_utf8_decode(const unsigned char *p, size_t n, int32_t *cp) {
  unsigned c = p[0];
  if (c < 0x80) {
    *cp = (int32_t)c;
    return 1;
  }
  if (c < 0xC2 || c > 0xF4) return 0;
  if (c < 0xE0) {
    if (n < 2 || (p[1] & 0xC0) != 0x80) return 0;
    *cp = (int32_t)(((c & 0x1Fu) << 6) | (p[1] & 0x3Fu));
    return 2;
  }
  if (c < 0xF0) {
    if (n < 3 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80) return 0;
    if ((c == 0xE0 && p[1] < 0xA0) || (c == 0xED && p[1] > 0x9F)) return 0;
    *cp = (int32_t)(((c & 0x0Fu) << 12) | ((p[1] & 0x3Fu) << 6) | (p[2] & 0x3Fu));
    return 3;
  }
  if (n < 4 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80 || (p[3] & 0xC0) != 0x80)
    return 0;
  if ((c == 0xF0 && p[1] < 0x90) || (c == 0xF4 && p[1] > 0x8F)) return 0;
  *cp = (int32_t)(((c & 0x07u) << 18) | ((p[1] & 0x3Fu) << 12) | ((p[2] & 0x3Fu) << 6) |
                  (p[3] & 0x3Fu));
  return 4;
}

/* ---- normalize.c / repair.c -------------------------------------------------------------- */

/* Detects the layout (DOCUMENT) and repairs line breaks in r->norm and r->norm_to_orig in
 * place, recording r->joins. */
int sg_repair_lines(sg_analysis *r, int mode);

/* Original end offset of the normalized text that ends at N offset `nend` (exclusive): the
 * end of the last character's source, excluding characters dropped after it. */
uint32_t sg_orig_end(const sg_analysis *r, size_t nend);

/* ---- segment.c ---------------------------------------------------------------------------- */

typedef struct sg_segmenter sg_segmenter;

enum sg_word_kind { SG_WORD_NUMBER = 1, SG_WORD_LETTER = 2, SG_WORD_KANA = 3, SG_WORD_IDEO = 4 };

/* Called for each word [start, end) of the text in order; a nonzero return stops the walk
 * and is passed on. */
typedef int (*sg_word_fn)(void *ctx, size_t start, size_t end, int kind);

int sg_segmenter_new(sg_segmenter **out, seogo_error *err);
void sg_segmenter_free(sg_segmenter *s);

/* Walks the words of text (UTF-8, len bytes). Returns 0, the callback's nonzero value, or a
 * seogo_status when ICU fails. */
int sg_segment_words(sg_segmenter *s, const char *text, size_t len, sg_word_fn fn, void *ctx);

/* The same walk with ICU over every byte (the fast path's reference); offsets are reported
 * plus `base`. */
int sg_segment_words_icu(sg_segmenter *s, const char *text, size_t len, size_t base,
                         sg_word_fn fn, void *ctx);

/* Fills r->sentence_ends from r->norm. */
int sg_segment_sentences(sg_segmenter *s, sg_analysis *r);
/* The same with ICU over every byte (the reference of the one above). */
int sg_segment_sentences_icu(sg_segmenter *s, sg_analysis *r);
/* For tests: whether ICU's only ASCII sentence terminators are . ! ? (the scan assumes it). */
int sg_ascii_terminators_are_dot_bang_question(const sg_segmenter *s);

/* ---- analyzer.c: where the term producers put their terms -------------------------------- */

typedef struct sg_emitter {
  sg_analysis *r;
  const char *norm;    /* r->norm.data */
  uint32_t next_pos;   /* position of the next term */
  size_t line_cursor;  /* index into r->line_starts of the last token's line */
} sg_emitter;

/* Appends a term made from N bytes [nstart, nend) with the next position. Returns SEOGO_OK or
 * SEOGO_ENOMEM / SEOGO_ELIMIT. */
int sg_emit_term(sg_emitter *e, const char *term, size_t len, unsigned flags, size_t nstart,
                 size_t nend);

/* ---- korean.c / english.c ---------------------------------------------------------------- */

/* Emits the bigrams of the Hangul (script_flag SEOGO_TERM_HANGUL) or Han/kana
 * (SEOGO_TERM_CJK) run N[start, end). In a query, a Hangul word's particle or ending is
 * dropped first. */
int sg_korean_run(sg_emitter *e, size_t start, size_t end, unsigned script_flag, int query);

/* For tests: whether korean.c's suffix table is in the order its lookup needs. */
int sg_korean_suffixes_sorted(void);

/* Emits the term(s) of the Latin-script or numeric word N[start, end). */
int sg_english_word(sg_emitter *e, sg_stemmer *s, size_t start, size_t end);

#endif /* SEOGO_ANALYSIS_INT_H */
