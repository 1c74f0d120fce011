/* passage.c - cuts an analyzed document into passages: runs of one to a few ICU sentences,
 * bounded in length, never across a paragraph break. */
#include <stdlib.h>
#include <string.h>

#include "indexer.h"

/* A passage this short may take in a longer next sentence (up to the hard maximum) rather
 * than stand alone: a heading or a one-word line is poor retrieval context on its own. */
#define SG_PASSAGE_TINY 50

/* A sentence, or a piece of an overlong one. */
typedef struct unit {
  uint32_t tok_start, tok_end;
  uint32_t start, end; /* original byte range */
  uint32_t chars;
  int para_before;     /* a paragraph break separates it from the previous unit */
} unit;

typedef struct units {
  unit *items;
  size_t count, cap;
} units;

static int units_push(units *u, const unit *x) {
  if (u->count == u->cap) {
    size_t cap = u->cap ? u->cap * 2 : 64;
    unit *items = realloc(u->items, cap * sizeof *items);
    if (!items) return -1;
    u->items = items;
    u->cap = cap;
  }
  u->items[u->count++] = *x;
  return 0;
}

/* Characters (code points, line breaks excluded) in text[start, end). */
static uint32_t count_chars(const char *text, uint32_t start, uint32_t end) {
  uint32_t n = 0;
  for (uint32_t i = start; i < end; i++) {
    unsigned char c = (unsigned char)text[i];
    n += (c & 0xc0) != 0x80 && c != '\n' && c != '\r';
  }
  return n;
}

static int is_space(unsigned char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

/* Whether text[from, to) holds a blank line: a line break, optional blanks, a line break. */
static int has_blank_line(const char *text, uint32_t from, uint32_t to) {
  int breaks = 0;
  for (uint32_t i = from; i < to; i++) {
    unsigned char c = (unsigned char)text[i];
    if (c == '\n') {
      if (++breaks == 2) return 1;
    } else if (c != ' ' && c != '\t' && c != '\r') {
      breaks = 0;
    }
  }
  return 0;
}

static uint32_t line_of(const sg_analysis *r, uint32_t off) {
  if (!r->nlines) return 1;
  size_t lo = 0, hi = r->nlines; /* line_starts[lo] <= off < line_starts[hi] */
  while (hi - lo > 1) {
    size_t mid = lo + (hi - lo) / 2;
    if (r->line_starts[mid] <= off) lo = mid;
    else hi = mid;
  }
  return (uint32_t)lo + 1;
}

/* Adds sentence [start, end) with tokens [t0, t1), cut at word starts into pieces of at most
 * SG_PASSAGE_SOFT_MAX characters when it is longer than SG_PASSAGE_HARD_MAX. */
static int add_sentence(const char *text, const sg_analysis *r, units *u, uint32_t start,
                        uint32_t end, uint32_t t0, uint32_t t1) {
  unit x = {t0, t1, start, end, count_chars(text, start, end), 0};
  if (x.chars <= SG_PASSAGE_HARD_MAX || t1 - t0 < 2) return units_push(u, &x);
  uint32_t piece_tok = t0, piece_start = start, chars = 0, at = start;
  for (uint32_t t = t0; t < t1; t++) {
    const sg_token *tok = &r->tokens[t];
    uint32_t tok_start = tok->start < at ? at : tok->start;
    chars += count_chars(text, at, tok_start);
    at = tok_start;
    if (t > piece_tok && chars > SG_PASSAGE_SOFT_MAX && (tok->flags & SEOGO_TERM_WORD_START)) {
      unit piece = {piece_tok, t, piece_start, tok_start, chars, 0};
      if (units_push(u, &piece)) return -1;
      piece_tok = t;
      piece_start = tok_start;
      chars = 0;
    }
  }
  unit last = {piece_tok, t1, piece_start, end, chars + count_chars(text, at, end), 0};
  return units_push(u, &last);
}

/* Sentences (normalized offsets) become units with original byte ranges and their tokens. */
static int make_units(const char *text, size_t len, const sg_analysis *r, units *u) {
  uint32_t tok = 0, prev_norm = 0;
  size_t nsent = r->nsentences ? r->nsentences : 1;
  for (size_t i = 0; i < nsent; i++) {
    uint32_t norm_end = r->nsentences ? r->sentence_ends[i] : (uint32_t)r->norm.len;
    if (norm_end > r->norm.len) norm_end = (uint32_t)r->norm.len;
    if (norm_end < prev_norm) continue;
    uint32_t start = r->norm_to_orig ? r->norm_to_orig[prev_norm] : 0;
    uint32_t end = r->norm_to_orig ? r->norm_to_orig[norm_end] : (uint32_t)len;
    if (i + 1 == nsent) end = (uint32_t)len; /* the last sentence takes whatever follows */
    if (end > len) end = (uint32_t)len;
    if (start > end) start = end;
    uint32_t t0 = tok;
    while (tok < r->ntokens && (r->tokens[tok].start < end || i + 1 == nsent)) tok++;
    if (add_sentence(text, r, u, start, end, t0, tok)) return -1;
    prev_norm = norm_end;
  }
  return 0;
}

static void mark_paragraphs(const char *text, const sg_analysis *r, units *u) {
  if (r->layout.pdf_like) return; /* soft breaks are gone; blank lines mean nothing there */
  for (size_t i = 1; i < u->count; i++) {
    const unit *a = &u->items[i - 1], *b = &u->items[i];
    uint32_t from = a->tok_end > a->tok_start ? r->tokens[a->tok_end - 1].end : a->start;
    uint32_t to = b->tok_end > b->tok_start ? r->tokens[b->tok_start].start : b->end;
    if (from < to) u->items[i].para_before = has_blank_line(text, from, to);
  }
}

static int push_span(sg_spans *out, const sg_span *s) {
  if (out->count == out->cap) {
    size_t cap = out->cap ? out->cap * 2 : 64;
    sg_span *items = realloc(out->items, cap * sizeof *items);
    if (!items) return -1;
    out->items = items;
    out->cap = cap;
  }
  out->items[out->count++] = *s;
  return 0;
}

/* Emits units [i, j) as one passage, unless it holds no term. */
static int emit(const char *text, const sg_analysis *r, const unit *us, size_t i, size_t j,
                sg_spans *out) {
  sg_span s = {us[i].tok_start, us[j - 1].tok_end, us[i].start, us[j - 1].end, 0, 0, 0, 0};
  if (s.tok_end <= s.tok_start) return 0;
  while (s.start < s.end && is_space((unsigned char)text[s.start])) s.start++;
  while (s.end > s.start && is_space((unsigned char)text[s.end - 1])) s.end--;
  const sg_token *first = &r->tokens[s.tok_start];
  if (first->start < s.start) s.start = first->start;
  if (r->tokens[s.tok_end - 1].end > s.end) s.end = r->tokens[s.tok_end - 1].end;
  uint32_t max_pos = first->pos;
  for (uint32_t t = s.tok_start; t < s.tok_end; t++)
    if (r->tokens[t].pos > max_pos) max_pos = r->tokens[t].pos;
  s.pos_base = first->pos;
  s.length = max_pos - first->pos + 1;
  s.line_start = line_of(r, s.start);
  s.line_end = line_of(r, s.end > s.start ? s.end - 1 : s.start);
  return push_span(out, &s);
}

/* Extends the last passage over units [i, j), which follow it directly. */
static void extend_last(const char *text, const sg_analysis *r, const unit *us, size_t i,
                        size_t j, sg_spans *out) {
  sg_span *s = &out->items[out->count - 1];
  if (us[j - 1].tok_end <= us[i].tok_start) return; /* nothing to add but blanks or marks */
  uint32_t end = us[j - 1].end;
  while (end > s->end && is_space((unsigned char)text[end - 1])) end--;
  for (uint32_t t = s->tok_end; t < us[j - 1].tok_end; t++)
    if (r->tokens[t].pos - s->pos_base + 1 > s->length) s->length = r->tokens[t].pos - s->pos_base + 1;
  s->tok_end = us[j - 1].tok_end;
  if (r->tokens[s->tok_end - 1].end > end) end = r->tokens[s->tok_end - 1].end;
  s->end = end;
  s->line_end = line_of(r, end > s->start ? end - 1 : s->start);
}

/* Whether the passage of units [i, j) should take in unit j too. */
static int extend(const unit *us, size_t i, size_t j, uint32_t chars) {
  uint32_t next = us[j].chars;
  if (us[j].para_before || chars >= SG_PASSAGE_AIM) return 0;
  int tiny = chars < SG_PASSAGE_TINY;
  if (chars + next > (tiny ? SG_PASSAGE_HARD_MAX : SG_PASSAGE_SOFT_MAX)) return 0;
  return j - i < SG_PASSAGE_MAX_SENTENCES || tiny;
}

int sg_passages_build(const char *text, size_t len, const sg_analysis *r, sg_spans *out,
                      seogo_error *err) {
  out->count = 0;
  units u = {0};
  int rc = SEOGO_OK;
  if (make_units(text, len, r, &u)) {
    rc = sg_fail(err, SEOGO_ENOMEM, "out of memory");
    goto done;
  }
  mark_paragraphs(text, r, &u);
  uint32_t prev_chars = 0; /* of the passage just emitted; 0 when none can be extended */
  for (size_t i = 0; i < u.count;) {
    size_t j = i + 1;
    uint32_t chars = u.items[i].chars;
    while (j < u.count && extend(u.items, i, j, chars)) chars += u.items[j++].chars;
    /* a short tail ("11. 8.)." after a date cut by ICU, a table cell) joins the passage
     * before it rather than stand alone */
    if (chars < SG_PASSAGE_TINY && prev_chars && !u.items[i].para_before &&
        prev_chars + chars <= SG_PASSAGE_HARD_MAX) {
      extend_last(text, r, u.items, i, j, out);
      prev_chars += chars;
    } else {
      size_t before = out->count;
      if (emit(text, r, u.items, i, j, out)) {
        rc = sg_fail(err, SEOGO_ENOMEM, "out of memory");
        goto done;
      }
      prev_chars = out->count > before ? chars : 0;
    }
    i = j;
  }
done:
  free(u.items);
  return rc;
}

void sg_spans_free(sg_spans *s) {
  free(s->items);
  memset(s, 0, sizeof *s);
}
