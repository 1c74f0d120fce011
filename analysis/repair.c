/* repair.c - PDF line repair over N: layout detection, words broken at line ends, soft line
 * breaks; N and its map are compacted in place and each repair is recorded in r->joins. */
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "analysis_int.h"

/* PDF extraction gives many short physical lines that mostly do not end a sentence. */
#define PDF_MIN_LINES 8
#define PDF_MAX_P90_CHARS 100
#define LENGTH_BUCKETS SG_LAYOUT_BUCKETS

typedef struct line {
  size_t start;       /* N offset of the first byte */
  size_t content_end; /* N offset after the last non-blank byte */
  size_t end;         /* N offset of the '\n' (or the end of N) */
  uint32_t chars;     /* characters in [start, content_end), or UINT32_MAX: not counted */
  uint32_t lead_chars; /* characters of the line before the text starts (SPAN) */
  int32_t first_cp;   /* character at start */
  int32_t last_cp;    /* character before content_end */
} line;

static int is_blank(unsigned char c) { return c == ' ' || c == '\t'; }

static int32_t char_before(const unsigned char *n, size_t end, size_t *at) {
  size_t k = end - 1;
  while (k > 0 && (n[k] & 0xC0) == 0x80 && end - k < 4) k--;
  int32_t cp;
  if (!sg_utf8_decode(n + k, end - k, &cp)) cp = 0xFFFD;
  if (at) *at = k;
  return cp;
}

static uint32_t count_chars(const unsigned char *p, size_t n) {
  uint32_t chars = 0;
  for (size_t k = 0; k < n; k++) chars += (p[k] & 0xC0) != 0x80;
  return chars;
}

/* Reads the line starting at N offset `start`; false when it is blank. Characters are
 * counted only `with_chars` (else l->chars is UINT32_MAX, "not counted"). */
static int read_line(const sg_analysis *r, size_t start, line *l, int with_chars) {
  const unsigned char *n = r->norm.data;
  const unsigned char *nl = memchr(n + start, '\n', r->norm.len - start);
  l->start = start;
  l->end = nl ? (size_t)(nl - n) : r->norm.len;
  size_t e = l->end;
  while (e > start && is_blank(n[e - 1])) e--;
  l->content_end = e;
  if (e == start) return 0;
  l->chars = with_chars ? count_chars(n + start, e - start) : UINT32_MAX;
  if (!sg_utf8_decode(n + start, e - start, &l->first_cp)) l->first_cp = 0xFFFD;
  l->last_cp = char_before(n, e, NULL);
  return 1;
}

static int is_sentence_end(int32_t cp) {
  return cp == '.' || cp == '?' || cp == '!' || cp == 0x3002;
}

static int is_closer(int32_t cp) {
  return cp == '"' || cp == '\'' || cp == ')' || cp == ']' || cp == '}' || cp == 0x2019 ||
         cp == 0x201D || cp == 0x300D || cp == 0x300F || cp == 0x3009 || cp == 0x300B;
}

/* Whether the line ends a sentence: . ? ! 。 possibly followed by closing quotes/brackets. */
static int ends_sentence(const sg_analysis *r, const line *l) {
  const unsigned char *n = r->norm.data;
  size_t end = l->content_end;
  int32_t cp = l->last_cp;
  for (int closers = 0; is_closer(cp) && closers < 4 && end > l->start; closers++) {
    size_t at;
    char_before(n, end, &at);
    end = at;
    if (end == l->start) return 0;
    cp = char_before(n, end, NULL);
  }
  return is_sentence_end(cp);
}

static int is_ascii_letter(int32_t cp) { return (cp | 0x20) >= 'a' && (cp | 0x20) <= 'z'; }

static int is_lowercase_letter(int32_t cp) {
  if (cp < 0x80) return cp >= 'a' && cp <= 'z';
  return utf8proc_category(cp) == UTF8PROC_CATEGORY_LL;
}

/* infra- : a Latin letter and a hyphen end the line. */
static int ends_hyphenated(const sg_analysis *r, const line *l) {
  if (l->last_cp != '-' || l->content_end - l->start < 2) return 0;
  return is_ascii_letter(r->norm.data[l->content_end - 2]);
}

/* ---- Layout ------------------------------------------------------------------------------ */

/* Adds the non-blank lines of N to st. */
static void count_lines(const sg_analysis *r, sg_layout_stats *st) {
  line l;
  for (size_t start = 0; start < r->norm.len;) {
    if (read_line(r, start, &l, 1)) {
      st->lines++;
      st->hist[l.chars < LENGTH_BUCKETS ? l.chars : LENGTH_BUCKETS - 1]++;
      st->sentence_ends += ends_sentence(r, &l);
    }
    start = l.end + 1;
  }
}

int sg_layout_scan(const char *text, size_t len, sg_analysis *scratch, sg_layout_stats *st) {
  int rc = sg_normalize(text, len, SG_ANALYZE_QUERY, scratch);
  if (!rc) count_lines(scratch, st);
  return rc;
}

void sg_layout_finish(const sg_layout_stats *st, sg_layout *layout) {
  const uint32_t *hist = st->hist;
  size_t lines = st->lines, sentence_ends = st->sentence_ends;
  size_t rank = (lines * 9 + 9) / 10, seen = 0, p90 = 0;
  while (p90 < LENGTH_BUCKETS - 1 && seen + hist[p90] < rank) seen += hist[p90++];
  uint16_t half = (uint16_t)((p90 + 1) / 2 ? (p90 + 1) / 2 : 1);
  layout->pdf_like = lines >= PDF_MIN_LINES && p90 <= PDF_MAX_P90_CHARS &&
                     (lines - sentence_ends) * 2 >= lines;
  /* In an ordinary article with many lines, every line break is real: a line ending in a
   * Hangul syllable is a heading or an item, never half a word. */
  if (layout->pdf_like || lines < PDF_MIN_LINES) layout->short_line = half;
  else layout->short_line = UINT16_MAX;
}

static void detect_layout(const sg_analysis *r, sg_layout *layout) {
  sg_layout_stats st;
  memset(&st, 0, sizeof st);
  count_lines(r, &st);
  sg_layout_finish(&st, layout);
}

/* ---- Repairs ----------------------------------------------------------------------------- */

typedef struct compactor {
  sg_analysis *r;
  size_t read;  /* N offset up to which bytes have been moved */
  size_t write; /* N offset where the next kept byte goes */
} compactor;

static int add_join(sg_analysis *r, uint32_t start, uint32_t end, int space) {
  if (r->njoins == r->joins_cap) {
    size_t cap = r->joins_cap ? r->joins_cap * 2 : 64;
    sg_join *p = realloc(r->joins, cap * sizeof *p);
    if (!p) return SEOGO_ENOMEM;
    r->joins = p;
    r->joins_cap = cap;
  }
  r->joins[r->njoins++] = (sg_join){start, end, (uint8_t)(space != 0)};
  return SEOGO_OK;
}

static void keep_until(compactor *c, size_t upto) {
  sg_analysis *r = c->r;
  size_t n = upto - c->read;
  if (c->write != c->read && n) {
    memmove(r->norm.data + c->write, r->norm.data + c->read, n);
    memmove(r->norm_to_orig + c->write, r->norm_to_orig + c->read, n * sizeof(uint32_t));
  }
  c->write += n;
  c->read = upto;
}

/* Removes N bytes [a, b), putting one space in their place when `space`. */
static int remove_range(compactor *c, size_t a, size_t b, int space) {
  sg_analysis *r = c->r;
  uint32_t orig_a = r->norm_to_orig[a], orig_b = r->norm_to_orig[b];
  int rc = add_join(r, orig_a, orig_b, space);
  if (rc) return rc;
  keep_until(c, a);
  if (space) {
    r->norm.data[c->write] = ' ';
    r->norm_to_orig[c->write] = orig_a;
    c->write++;
  }
  c->read = b;
  return SEOGO_OK;
}

/* Whether line a is not short: a heading or a paragraph's last line never joins the next. */
static int long_enough(const sg_analysis *r, const sg_layout *layout, const line *a) {
  uint32_t chars = a->chars;
  if (chars == UINT32_MAX) chars = count_chars(r->norm.data + a->start, a->content_end - a->start);
  return (uint64_t)chars + a->lead_chars >= layout->short_line;
}

/* Whether line b opens with a Korean list marker such as "가. " or "나) ": a section heading
 * that follows a heading line ending in Hangul, not the rest of a broken word. 다 is left out:
 * "다." is far more often the end of a sentence broken before its last syllable. */
static int starts_list_marker(const sg_analysis *r, const line *b) {
  if (b->first_cp != 0xAC00 /* 가 */ && b->first_cp != 0xB098 /* 나 */) return 0;
  const unsigned char *p = r->norm.data + b->start + 3;
  size_t left = b->content_end - (b->start + 3);
  /* a span may end right after the marker, so the end of the line counts as a blank */
  return left >= 1 && (p[0] == '.' || p[0] == ')') && (left == 1 || is_blank(p[1]));
}

/* Decides the break between line a and the next non-blank line b. */
static int repair_break(compactor *c, const sg_layout *layout, const line *a, const line *b) {
  int trailing_blank = a->content_end < a->end;
  int leading_blank = is_blank(c->r->norm.data[b->start]);
  if (!trailing_blank && !leading_blank && sg_is_hangul_syllable(a->last_cp) &&
      sg_is_hangul_syllable(b->first_cp) && !starts_list_marker(c->r, b) &&
      long_enough(c->r, layout, a))
    return remove_range(c, a->end, b->start, 0);
  if (!trailing_blank && !leading_blank && ends_hyphenated(c->r, a) &&
      is_lowercase_letter(b->first_cp))
    return remove_range(c, a->content_end - 1, b->start, 0);
  if (layout->pdf_like && !ends_sentence(c->r, a) && long_enough(c->r, layout, a))
    return remove_range(c, a->end, b->start, !trailing_blank && !leading_blank);
  return SEOGO_OK;
}

int sg_repair_lines(sg_analysis *r, int mode) {
  if (mode == SG_ANALYZE_DOCUMENT) detect_layout(r, &r->layout);
  compactor c = {r, 0, 0};
  line prev, cur;
  int have_prev = 0, rc = SEOGO_OK;
  for (size_t start = 0; !rc && start < r->norm.len; start = cur.end + 1) {
    if (!read_line(r, start, &cur, 0)) continue;
    cur.lead_chars =
        start == 0 && (mode == SG_ANALYZE_SPAN || mode == SG_ANALYZE_CHUNK) ? r->span_lead_chars : 0;
    if (have_prev) rc = repair_break(&c, &r->layout, &prev, &cur);
    prev = cur;
    have_prev = 1;
  }
  if (rc) return rc;
  if (c.read == c.write) return SEOGO_OK;
  keep_until(&c, r->norm.len);
  r->norm_to_orig[c.write] = r->norm_to_orig[r->norm.len];
  r->norm.len = c.write;
  return SEOGO_OK;
}
