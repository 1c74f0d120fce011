/* indexer.h - contracts between the files of indexer/: text decoding, passages, the writer. */
#ifndef SEOGO_INDEXER_H
#define SEOGO_INDEXER_H

#include <stddef.h>
#include <stdint.h>

#include "analyzer.h"
#include "format.h"
#include "index.h"

/* ---- Interface to encoding.c -------------------------------------------------------------- */

/* A document's bytes as UTF-8. `data` points into the caller's input when no conversion was
 * needed, else into `owned`. Invalid UTF-8 sequences are replaced by U+FFFD, so the text is
 * always valid UTF-8. */
typedef struct sg_text {
  const char *data;
  size_t len;
  sg_buf owned;
  char encoding[16];       /* "UTF-8", "UTF-16LE", "UTF-16BE", "CP949", "EUC-KR" */
  uint32_t invalid;        /* invalid UTF-8 sequences replaced */
  uint32_t first_invalid_line;
} sg_text;

/* Detects the encoding of `len` bytes and converts them to UTF-8 in t (initialized here).
 * Errors: SEOGO_EEMPTY (empty or whitespace only), SEOGO_EBINARY, SEOGO_EENCODING,
 * SEOGO_ENOMEM (t is then empty); messages say why, without naming a file (the caller
 * knows its name). */
int sg_text_decode(sg_text *t, const void *data, size_t len, seogo_error *err);
void sg_text_free(sg_text *t);

/* ---- Interface to passage.c --------------------------------------------------------------- */

/* One passage of an analyzed document: tokens [tok_start, tok_end) of the analysis, byte
 * range [start, end) of the text, 1-based inclusive lines, and its first token's position;
 * length = positions it spans (last - first + 1). */
typedef struct sg_span {
  uint32_t tok_start, tok_end;
  uint32_t start, end;
  uint32_t line_start, line_end;
  uint32_t pos_base, length;
} sg_span;

typedef struct sg_spans {
  sg_span *items;
  size_t count, cap;
} sg_spans;

/* Passage sizes, in characters: sentences are grouped until a passage holds about
 * SG_PASSAGE_AIM characters, never past SG_PASSAGE_SOFT_MAX unless a single sentence is longer,
 * and a sentence over SG_PASSAGE_HARD_MAX is cut at word boundaries. */
#define SG_PASSAGE_AIM 150
#define SG_PASSAGE_SOFT_MAX 400
#define SG_PASSAGE_HARD_MAX 600
#define SG_PASSAGE_MAX_SENTENCES 3

/* Splits the analyzed document (text, len) into passages (previous contents of out replaced).
 * Passages without a term are dropped. Returns SEOGO_OK or SEOGO_ENOMEM. */
int sg_passages_build(const char *text, size_t len, const sg_analysis *r, sg_spans *out,
                      seogo_error *err);
void sg_spans_free(sg_spans *s);

/* ---- Interface to prepare.c -------------------------------------------------------------- */

/* Appends to out (varint length, bytes each) the distinct terms that indexing the document
 * text[0, len) yields, analyzing a huge one in chunks as sg_prepared_analyze does (bounded
 * memory; the same terms). r is scratch. For removing a committed document. Returns SEOGO_OK,
 * SEOGO_ENOMEM or SEOGO_ELIMIT. */
int sg_text_terms(sg_analyzer *a, const char *text, size_t len, sg_analysis *r, sg_buf *out,
                  seogo_error *err);

/* ---- Interface to writer.c ---------------------------------------------------------------- */

int sg_writer_new(seogo_index *index, sg_writer **out, seogo_error *err);
void sg_writer_free(sg_writer *w);

#endif /* SEOGO_INDEXER_H */
