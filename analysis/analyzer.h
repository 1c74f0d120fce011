/* analyzer.h - the one text analyzer, used by the indexer and by query parsing alike.
 *
 * Pipeline (each stage in its own file):
 *   normalize.c  original UTF-8 -> normalized text N with a map back to original byte offsets:
 *                invalid UTF-8 replaced by U+FFFD, NFKC (utf8proc), NFD Hangul composed,
 *                default-ignorables (soft hyphen, ZWSP, BOM, ...) removed, full-width folded.
 *                Case is kept in N so that ICU sentence rules still see capitals; terms are
 *                case-folded later.
 *   repair.c     layout detection and PDF line repair on N (see "Line repair" below).
 *   segment.c    ICU word and sentence break iteration over N (UText over UTF-8, no copy to
 *                UTF-16); stretches where ICU's answer is certain (Hangul syllables, ASCII
 *                letters and digits, always-breaking punctuation) skip ICU and give the same
 *                words, and sentence ends are found by scanning lines for terminators, with
 *                ICU run only over the few characters around an uncertain one.
 *   korean.c     Hangul runs -> syllable bigrams (single syllable for one-syllable words), the
 *                particle/ending stripper that marks a word's stem end, query-side stripping.
 *   english.c    Latin words -> case-folded Snowball English stems; U.S. -> us; numbers.
 *   analyzer.c   drives the stages and emits sg_token records.
 *
 * Positions: every word takes one position, except a Hangul or CJK run of n >= 2 characters,
 * whose n-1 bigrams take n-1 consecutive positions. So the pieces of one Korean word are
 * adjacent, and a phrase "A B" of two Korean words matches at gap 1 (separate words) or gap 2
 * (written together, or A followed by a one-syllable particle).
 *
 * Line repair (documents only, never queries):
 *   - a line ending in a Hangul syllable with no trailing whitespace, followed (after any blank
 *     lines) by a line starting with a Hangul syllable, continues the same word: the break is
 *     removed (전 / 략 -> 전략). Guard: the line must not be short relative to the document's
 *     long lines (a heading such as "국문요약" is not a wrapped line): layout.short_line is
 *     half the 90th-percentile line length. An ordinary article (8 or more lines, not PDF-like)
 *     has no wrapped lines at all; its short_line is 65535, so nothing there joins mid-word.
 *   - a Latin word hyphenated at a line end (infra- / structure) is joined and the hyphen
 *     dropped when the next line starts with a lowercase letter.
 *   - in documents laid out like PDF extraction (short physical lines), any other break between
 *     non-empty lines that does not end a sentence (and does not follow a short line, such as
 *     a heading) becomes a single space, so sentences (and passages) continue across physical
 *     lines.
 *   Line numbers always refer to the original text.
 */
#ifndef SEOGO_ANALYZER_H
#define SEOGO_ANALYZER_H

#include <stddef.h>
#include <stdint.h>

#include "base.h"

/* Bumped whenever analysis output changes for some input: indexes record it and refuse to be
 * searched by another analyzer version. */
#define SG_ANALYZER_VERSION 2

/* Longest term in bytes; longer words are truncated at a character boundary. */
#define SG_MAX_TERM_BYTES 120

/* One term of the analyzed text. Term bytes live in sg_analysis.terms at [term_off,
 * term_off+term_len). Flags are SEOGO_TERM_* from seogo.h. */
typedef struct sg_token {
  uint32_t term_off;
  uint16_t term_len;
  uint16_t flags;
  uint32_t pos;        /* position (see above) */
  uint32_t start, end; /* byte range in the original text */
  uint32_t line;       /* 1-based line of start */
  uint32_t line_end;   /* 1-based line of end-1 */
} sg_token;

/* A line repair applied to the original: bytes [start, end) of the original are not part of
 * the repaired text; `space` says whether a single space stands in their place. Snippets use
 * these to show the repaired text. */
typedef struct sg_join {
  uint32_t start, end;
  uint8_t space;
} sg_join;

/* Layout parameters found by document analysis; stored with the document so that re-analysis
 * of any part of it (for snippets) repairs lines exactly as indexing did. */
typedef struct sg_layout {
  uint8_t pdf_like;       /* short physical lines: soft breaks become spaces */
  uint16_t short_line;    /* lines with fewer characters than this never join mid-word */
} sg_layout;

/* The result of analyzing one text. Reuse one across calls to avoid reallocation. */
typedef struct sg_analysis {
  sg_buf norm;            /* normalized text N */
  uint32_t *norm_to_orig; /* for each byte of N, the original byte offset it came from;
                             has norm.len + 1 entries, the last one = original length */
  size_t map_cap;
  sg_token *tokens;
  size_t ntokens, tokens_cap;
  sg_buf terms;           /* term bytes */
  sg_join *joins;
  size_t njoins, joins_cap;
  uint32_t *sentence_ends; /* N offsets where a sentence ends (ascending, last = norm.len);
                              DOCUMENT mode only. Blank lines belong to the sentence before */
  size_t nsentences, sentences_cap;
  uint32_t *line_starts;  /* original offsets where each line starts; line_starts[0] = 0 */
  size_t nlines, lines_cap;
  uint32_t invalid_sequences; /* invalid UTF-8 sequences replaced */
  uint32_t first_invalid_line;
  sg_layout layout;       /* as detected (documents) or as given */
  sg_join *drops;         /* original ranges that normalization dropped without a trace
                             (default-ignorables: soft hyphen, ZWSP, BOM, ...), ascending and
                             merged; token ranges never end inside one (`space` is 0) */
  size_t ndrops, drops_cap;
  uint32_t span_lead_chars; /* SPAN, set by the caller like `layout`: characters on the span's
                               first line before the span starts (0 when it starts a line), so
                               that repair judges that line by its whole length */
} sg_analysis;

typedef struct sg_analyzer sg_analyzer; /* ICU iterators and the stemmer; one per thread */

int sg_analyzer_new(sg_analyzer **out, seogo_error *err);
void sg_analyzer_free(sg_analyzer *a);

/* Documents longer than this are analyzed in pieces of about this many bytes, cut where the
 * analysis of the whole would cut a passage anyway when it can (see prepare.c), so that memory
 * stays bounded for a huge document. The size is the analyzer's so that tests can make it
 * tiny for one thread; 0 restores the default. */
#define SG_CHUNK_BYTES ((size_t)4 << 20)
void sg_analyzer_set_chunk_bytes(sg_analyzer *a, size_t bytes);
size_t sg_analyzer_chunk_bytes(const sg_analyzer *a);

void sg_analysis_init(sg_analysis *r);
void sg_analysis_free(sg_analysis *r);

enum sg_analyze_mode {
  SG_ANALYZE_DOCUMENT = 0, /* detect layout, repair lines, find sentences */
  SG_ANALYZE_QUERY = 1,    /* one query word or phrase: strip Korean particles, no repair */
  SG_ANALYZE_SPAN = 2,     /* part of a document with a known layout (r->layout preset) */
  SG_ANALYZE_CHUNK = 3,    /* a piece of a huge document (prepare.c): layout preset and
                              span_lead_chars as SPAN, sentences found as DOCUMENT */
  SG_ANALYZE_QUOTED = 4    /* a "quoted" query text: as QUERY, but Korean words keep their
                              particles and endings (quotes ask for the text as written) */
};
/* Line repair decides each break from the two lines around it and the layout only, so a SPAN
 * repairs exactly as its document did when it ends at a line end and the caller sets
 * r->span_lead_chars (or the span starts at a line start). */

/* Analyzes `len` bytes of `text` into r (previous contents replaced). Offsets in r are
 * relative to `text`. Returns SEOGO_OK, SEOGO_ENOMEM, or SEOGO_ELIMIT for text over 4 GiB. */
int sg_analyze(sg_analyzer *a, const char *text, size_t len, int mode, sg_analysis *r,
               seogo_error *err);

/* The layout of a document too large to normalize at once: sg_layout_scan each of its
 * consecutive pieces (cut after line feeds, so that no line is counted in two pieces), then
 * sg_layout_finish gives what SG_ANALYZE_DOCUMENT would detect over the whole. `scratch` holds
 * the piece's normalized text in between. */
#define SG_LAYOUT_BUCKETS 1024
typedef struct sg_layout_stats {
  uint32_t hist[SG_LAYOUT_BUCKETS]; /* lines by characters */
  size_t lines, sentence_ends;
} sg_layout_stats;
int sg_layout_scan(const char *text, size_t len, sg_analysis *scratch, sg_layout_stats *st);
void sg_layout_finish(const sg_layout_stats *st, sg_layout *layout);

/* Term bytes of token t. */
static inline const char *sg_token_term(const sg_analysis *r, const sg_token *t) {
  return (const char *)r->terms.data + t->term_off;
}

/* 1-based line of original byte offset `off` (binary search in r->line_starts). */
uint32_t sg_line_of(const sg_analysis *r, uint32_t off);

/* ---- Stage interfaces (used by analyzer.c; exposed for unit tests) ---------------------- */

/* normalize.c: fills r->norm, r->norm_to_orig, r->joins, r->line_starts, invalid counts;
 * with `repair`, detects r->layout (unless mode is SPAN) and applies line repair. */
int sg_normalize(const char *text, size_t len, int mode, sg_analysis *r);

/* korean.c */
/* Length in bytes of the particle or ending at the end of the Hangul word w (UTF-8, n
 * bytes) that leaves a stem of at least two syllables; 0 when none applies. */
size_t sg_korean_suffix_len(const char *w, size_t n);

/* english.c */
typedef struct sg_stemmer sg_stemmer;
sg_stemmer *sg_stemmer_new(void);
void sg_stemmer_free(sg_stemmer *s);
/* Stems the case-folded Latin word w (n bytes) into out; returns the stem length. out must
 * hold SG_MAX_TERM_BYTES bytes. */
size_t sg_stem_english(sg_stemmer *s, const char *w, size_t n, char *out);

#endif /* SEOGO_ANALYZER_H */
