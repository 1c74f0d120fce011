/* snippet.c - snippets: re-analyzes a hit's passage in its original text, finds the query's
 * words among its terms, picks the window with the best cluster of them and copies it with the
 * PDF line repairs applied, recording highlight ranges in the snippet's bytes. */
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "searcher.h"

/* Window boundaries move to a space this close by, so that words are not cut. */
#define SNAP_CHARS 12
static const char ELLIPSIS[] = "\xE2\x80\xA6"; /* U+2026 */

typedef struct match {
  uint32_t start, end;        /* bytes of the passage span */
  uint32_t pos_start, pos_end; /* positions of its first and last term */
  size_t unit, pattern;
  int forward, backward;      /* phrase words: reachable from the phrase's start / end */
} match;

typedef struct matches {
  match *m;
  size_t n, cap;
} matches;

void sg_snippet_init(sg_snippet *s) { memset(s, 0, sizeof *s); }

void sg_snippet_free(sg_snippet *s) {
  sg_buf_free(&s->text);
  free(s->ranges);
  memset(s, 0, sizeof *s);
}

static int nomem(seogo_error *err) { return sg_fail(err, SEOGO_ENOMEM, "out of memory"); }

static int add_match(matches *ms, const match *found) {
  if (ms->n == ms->cap) {
    size_t cap = ms->cap ? 2 * ms->cap : 16;
    match *m = realloc(ms->m, cap * sizeof *m);
    if (!m) return -1;
    ms->m = m;
    ms->cap = cap;
  }
  ms->m[ms->n++] = *found;
  return 0;
}

static size_t char_len(const char *s, size_t n, int32_t *cp) {
  utf8proc_int32_t c = -1;
  utf8proc_ssize_t k = utf8proc_iterate((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)n, &c);
  *cp = k > 0 ? c : -1;
  return k > 0 ? (size_t)k : 1;
}

/* ---- finding the query's words among the passage's terms ---------------------------------- */

/* Tokens grouped by position: by_pos[p - base] is the first token at position p. */
typedef struct pos_index {
  const sg_analysis *an;
  size_t *first;
  uint32_t base, span;
} pos_index;

static int pos_index_build(pos_index *ix, const sg_analysis *an) {
  memset(ix, 0, sizeof *ix);
  ix->an = an;
  if (an->ntokens == 0) return 0;
  ix->base = an->tokens[0].pos;
  uint32_t last = an->tokens[an->ntokens - 1].pos;
  if (last < ix->base) return 0; /* positions not ascending: index nothing but single terms */
  ix->span = last - ix->base + 1;
  ix->first = malloc(ix->span * sizeof *ix->first);
  if (!ix->first) return -1;
  for (uint32_t i = 0; i < ix->span; i++) ix->first[i] = SIZE_MAX;
  for (size_t i = an->ntokens; i-- > 0;) {
    uint32_t p = an->tokens[i].pos;
    if (p >= ix->base && p - ix->base < ix->span) ix->first[p - ix->base] = i;
  }
  return 0;
}

static int term_is(const sg_analysis *an, const sg_token *t, const char *s, size_t n) {
  return t->term_len == n && memcmp(sg_token_term(an, t), s, n) == 0;
}

/* The token at `pos` with term s that continues a word (no WORD_START), or NULL. */
static const sg_token *continuation(const pos_index *ix, uint32_t pos, const char *s, size_t n) {
  if (pos < ix->base || pos - ix->base >= ix->span) return NULL;
  size_t i = ix->first[pos - ix->base];
  for (; i < ix->an->ntokens && ix->an->tokens[i].pos == pos; i++) {
    const sg_token *t = &ix->an->tokens[i];
    if (!(t->flags & SEOGO_TERM_WORD_START) && term_is(ix->an, t, s, n)) return t;
  }
  return NULL;
}

static int seq_match(const pos_index *ix, const sg_pattern *p, const sg_token *t, match *m) {
  if (!term_is(ix->an, t, p->terms[0], p->lens[0])) return 0;
  if (p->word_start && !(t->flags & SEOGO_TERM_WORD_START)) return 0;
  for (size_t i = 1; i < p->nterms; i++) {
    const sg_token *next = continuation(ix, t->pos + (uint32_t)i, p->terms[i], p->lens[i]);
    if (!next || ix->first == NULL) return 0;
    m->end = next->end;
    m->pos_end = next->pos;
  }
  return 1;
}

/* A one-syllable query word highlights the syllable itself, also where it starts a bigram. */
static int syllable_match(const sg_analysis *an, const sg_pattern *p, const sg_token *t,
                          const char *span, uint32_t *end) {
  const char *term = sg_token_term(an, t);
  if (t->term_len < p->lens[0] || memcmp(term, p->terms[0], p->lens[0]) != 0) return 0;
  if (t->term_len == p->lens[0]) return 1;
  int32_t cp;
  if (char_len(term + p->lens[0], t->term_len - p->lens[0], &cp) != t->term_len - p->lens[0])
    return 0;
  if (p->word_start && !(t->flags & SEOGO_TERM_WORD_START)) return 0;
  size_t first = char_len(span + t->start, t->end - t->start, &cp);
  if (cp >= 0xAC00 && cp <= 0xD7A3 && first < t->end - t->start) *end = t->start + (uint32_t)first;
  return 1;
}

static int find_matches(const sg_analysis *an, const char *span, const sg_pattern *patterns,
                        size_t npatterns, matches *out) {
  pos_index ix;
  if (pos_index_build(&ix, an)) return -1;
  int rc = 0;
  for (size_t i = 0; i < an->ntokens && !rc; i++) {
    const sg_token *t = &an->tokens[i];
    for (size_t k = 0; k < npatterns && !rc; k++) {
      const sg_pattern *p = &patterns[k];
      match m = {t->start, t->end, t->pos, t->pos, p->unit, k, 1, 1};
      int hit = 0;
      if (p->kind == SG_PAT_SEQ) hit = seq_match(&ix, p, t, &m);
      else if (p->kind == SG_PAT_SYLLABLE) hit = syllable_match(an, p, t, span, &m.end);
      else hit = t->term_len >= p->lens[0] &&
                 memcmp(sg_token_term(an, t), p->terms[0], p->lens[0]) == 0;
      if (hit && m.end > m.start) rc = add_match(out, &m);
    }
  }
  free(ix.first);
  return rc;
}

/* Whether match b can follow match a as the next word of their phrase. */
static int follows(const sg_pattern *patterns, const match *a, const match *b) {
  const sg_pattern *pa = &patterns[a->pattern], *pb = &patterns[b->pattern];
  if (pa->group < 0 || pa->group != pb->group || pb->member != pa->member + 1) return 0;
  uint32_t max_gap = pa->korean ? 2 : 1;
  return b->pos_start > a->pos_end && b->pos_start - a->pos_end <= max_gap;
}

/* Keeps the words of a phrase only where they stand in the phrase: each must be reachable
 * from a first word going forward and from a last word going backward. */
static void keep_phrases(const sg_pattern *patterns, size_t npatterns, matches *ms) {
  for (size_t i = 0; i < ms->n; i++) {
    const sg_pattern *p = &patterns[ms->m[i].pattern];
    int last = p->group >= 0 && (ms->m[i].pattern + 1 >= npatterns ||
                                 patterns[ms->m[i].pattern + 1].group != p->group);
    ms->m[i].forward = p->group < 0 || p->member == 0;
    ms->m[i].backward = p->group < 0 || last;
  }
  for (int changed = 1; changed;) {
    changed = 0;
    for (size_t i = 0; i < ms->n; i++) {
      for (size_t j = 0; j < ms->n; j++) {
        match *a = &ms->m[i], *b = &ms->m[j];
        if (!follows(patterns, a, b)) continue;
        if (a->forward && !b->forward) b->forward = changed = 1;
        if (b->backward && !a->backward) a->backward = changed = 1;
      }
    }
  }
  size_t kept = 0;
  for (size_t i = 0; i < ms->n; i++)
    if (ms->m[i].forward && ms->m[i].backward) ms->m[kept++] = ms->m[i];
  ms->n = kept;
}

static int match_compare(const void *a, const void *b) {
  const match *x = a, *y = b;
  if (x->start != y->start) return x->start < y->start ? -1 : 1;
  return x->end < y->end ? -1 : x->end > y->end;
}

/* ---- choosing the window -------------------------------------------------------------------- */

/* Character index of each byte offset of the span (continuation bytes map to their character). */
static uint32_t *char_index(const char *span, size_t n, uint32_t *nchars) {
  uint32_t *ci = malloc((n + 1) * sizeof *ci);
  if (!ci) return NULL;
  uint32_t c = 0;
  for (size_t i = 0; i < n;) {
    int32_t cp;
    size_t k = char_len(span + i, n - i, &cp);
    for (size_t j = 0; j < k && i + j < n; j++) ci[i + j] = c;
    i += k;
    c++;
  }
  ci[n] = c;
  *nchars = c;
  return ci;
}

/* The run of matches within `chars` characters that holds the most distinct units, then the
 * most matches; returns its first and last match. */
static void best_cluster(const matches *ms, const uint32_t *ci, uint32_t chars, size_t *first,
                         size_t *last) {
  size_t best_score = 0;
  *first = *last = 0;
  for (size_t i = 0; i < ms->n; i++) {
    size_t j = i, distinct = 0;
    uint64_t seen = 0;
    for (; j < ms->n && ci[ms->m[j].end] - ci[ms->m[i].start] <= chars; j++) {
      uint64_t bit = 1ull << (ms->m[j].unit % 64);
      if (!(seen & bit)) distinct++;
      seen |= bit;
    }
    if (j == i) j = i + 1; /* a single match longer than the window */
    size_t score = distinct * 100000 + (j - i);
    if (score > best_score) {
      best_score = score;
      *first = i;
      *last = j - 1;
    }
  }
}

static int is_space_byte(unsigned char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

/* Byte offset of character index c (the first byte whose index is c). */
static size_t byte_of_char(const uint32_t *ci, size_t n, uint32_t c) {
  size_t lo = 0, hi = n;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (ci[mid] < c) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/* Chooses [*ws, *we) in bytes of the span. */
static void choose_window(const char *span, size_t n, const uint32_t *ci, uint32_t nchars,
                          const matches *ms, uint32_t chars, size_t *ws, size_t *we) {
  *ws = 0;
  *we = n;
  if (nchars <= chars) return;
  uint32_t cs = 0, ce = 0;
  if (ms->n) {
    size_t first, last;
    best_cluster(ms, ci, chars, &first, &last);
    cs = ci[ms->m[first].start];
    ce = ci[ms->m[last].end];
    for (size_t k = first; k <= last; k++)
      if (ci[ms->m[k].end] > ce) ce = ci[ms->m[k].end];
  }
  uint32_t width = ce > cs ? ce - cs : 0;
  uint32_t lead = width < chars ? (chars - width) / 3 : 0;
  uint32_t start = cs > lead ? cs - lead : 0;
  uint32_t end = start + chars < nchars ? start + chars : nchars;
  if (end - start < chars) start = end > chars ? end - chars : 0;
  size_t bs = byte_of_char(ci, n, start), be = byte_of_char(ci, n, end);
  /* start after a nearby space, end before one, without cutting a highlighted word */
  if (bs > 0) {
    for (size_t k = bs, c = 0; k < n && c < SNAP_CHARS; k++) {
      if ((span[k] & 0xC0) != 0x80) c++;
      if (is_space_byte((unsigned char)span[k])) {
        int skips = 0;
        for (size_t i = 0; i < ms->n; i++)
          if (ms->m[i].end > bs && ms->m[i].start <= k) skips = 1;
        if (!skips) bs = k + 1;
        break;
      }
    }
  }
  if (be < n) {
    for (size_t k = be, c = 0; k > bs && c < SNAP_CHARS; k--) {
      if ((span[k - 1] & 0xC0) != 0x80) c++;
      if (is_space_byte((unsigned char)span[k - 1])) {
        int cuts = 0;
        for (size_t i = 0; i < ms->n; i++)
          if (ms->m[i].start < be && ms->m[i].end > k - 1) cuts = 1;
        if (!cuts) be = k - 1;
        break;
      }
    }
  }
  *ws = bs;
  *we = be;
}

/* ---- copying the window ------------------------------------------------------------------- */

typedef struct copier {
  sg_buf *out;
  int pending_space;
  size_t last_end; /* out length after the last non-space byte */
} copier;

static int emit(copier *c, const char *bytes, size_t n) {
  if (c->pending_space && c->out->len > 0 && sg_buf_putc(c->out, ' ')) return -1;
  c->pending_space = 0;
  if (sg_buf_append(c->out, bytes, n)) return -1;
  c->last_end = c->out->len;
  return 0;
}

static int add_range(sg_snippet *s, uint32_t start, uint32_t end) {
  if (end <= start) return 0;
  if (s->nranges && start <= s->ranges[s->nranges - 1].end) {
    if (end > s->ranges[s->nranges - 1].end) s->ranges[s->nranges - 1].end = end;
    return 0;
  }
  if (s->nranges == s->ranges_cap) {
    size_t cap = s->ranges_cap ? 2 * s->ranges_cap : 8;
    seogo_range *r = realloc(s->ranges, cap * sizeof *r);
    if (!r) return -1;
    s->ranges = r;
    s->ranges_cap = cap;
  }
  s->ranges[s->nranges++] = (seogo_range){start, end};
  return 0;
}

/* Copies span[ws, we) into the snippet: removed line breaks skipped (or one space), dropped
 * invisible characters skipped, whitespace
 * runs shown as one space, invalid UTF-8 as U+FFFD; highlight ranges follow the copied bytes. */
static int copy_window(const sg_analysis *an, const char *span, size_t ws, size_t we,
                       const matches *ms, sg_snippet *s) {
  copier c = {.out = &s->text};
  size_t j = 0, d = 0, h = 0;
  int open = 0;
  uint32_t open_at = 0;
  while (h < ms->n && ms->m[h].end <= ws) h++;
  for (size_t i = ws; i < we;) {
    while (j < an->njoins && an->joins[j].end <= i) j++;
    if (open && i >= ms->m[h].end) {
      if (add_range(s, open_at, (uint32_t)c.last_end)) return -1;
      open = 0;
      h++;
      while (h < ms->n && ms->m[h].end <= i) h++;
    }
    if (j < an->njoins && an->joins[j].start <= i) {
      if (an->joins[j].space) c.pending_space = 1;
      i = an->joins[j].end;
      continue;
    }
    /* invisible characters normalization dropped (soft hyphens, zero-width spaces) */
    while (d < an->ndrops && an->drops[d].end <= i) d++;
    if (d < an->ndrops && an->drops[d].start <= i) {
      i = an->drops[d].end;
      continue;
    }
    unsigned char b = (unsigned char)span[i];
    if (is_space_byte(b) || b < 0x20 || b == 0x7F) {
      c.pending_space = 1;
      i++;
      continue;
    }
    int32_t cp;
    size_t k = char_len(span + i, we - i, &cp);
    if (c.pending_space && c.out->len > 0) {
      if (sg_buf_putc(c.out, ' ')) return -1;
      c.pending_space = 0;
    }
    if (!open && h < ms->n && i >= ms->m[h].start) {
      open = 1;
      open_at = (uint32_t)c.out->len;
    }
    if (cp < 0 ? emit(&c, "\xEF\xBF\xBD", 3) : emit(&c, span + i, k)) return -1;
    i += k;
  }
  if (open && add_range(s, open_at, (uint32_t)c.last_end)) return -1;
  s->text.len = c.last_end; /* no trailing space */
  return 0;
}

static int finish_text(sg_snippet *s, int cut_start, int cut_end) {
  if (cut_end && (sg_buf_putc(&s->text, ' ') || sg_buf_append(&s->text, ELLIPSIS, 3))) return -1;
  if (cut_start) {
    size_t shift = sizeof ELLIPSIS; /* the ellipsis and a space */
    if (sg_buf_reserve(&s->text, shift)) return -1;
    memmove(s->text.data + shift, s->text.data, s->text.len);
    memcpy(s->text.data, ELLIPSIS, 3);
    s->text.data[3] = ' ';
    s->text.len += shift;
    for (size_t i = 0; i < s->nranges; i++) {
      s->ranges[i].start += (uint32_t)shift;
      s->ranges[i].end += (uint32_t)shift;
    }
  }
  if (sg_buf_putc(&s->text, 0)) return -1;
  s->text.len--;
  return 0;
}

/* Characters on the passage's first line before it starts, so that line repair judges that line
 * by its whole length as indexing did; a line longer than any short-line threshold is long. */
#define LEAD_SCAN_MAX 65536

uint32_t sg_snippet_lead_chars(const char *doc_text, uint32_t start) {
  uint32_t chars = 0;
  for (uint32_t i = start, scanned = 0; i > 0 && scanned < LEAD_SCAN_MAX; i--, scanned++) {
    unsigned char b = (unsigned char)doc_text[i - 1];
    if (b == '\n') break;
    chars += (b & 0xC0) != 0x80;
  }
  return chars;
}

int sg_snippet_make(sg_analyzer *a, const char *doc_text, size_t doc_len, const sg_doc *d,
                    const sg_passage *p, const sg_pattern *patterns, size_t npatterns,
                    uint32_t chars, sg_snippet *out, seogo_error *err) {
  sg_buf_clear(&out->text);
  out->nranges = 0;
  if (p->end > doc_len || p->start > p->end)
    return sg_fail(err, SEOGO_ECORRUPT, "index is corrupt: a passage lies outside its text");
  const char *span = doc_text + p->start;
  size_t n = p->end - p->start;
  sg_analysis an;
  sg_analysis_init(&an);
  an.layout.pdf_like = d->pdf_like;
  an.layout.short_line = (uint16_t)(d->short_line > UINT16_MAX ? UINT16_MAX : d->short_line);
  an.span_lead_chars = sg_snippet_lead_chars(doc_text, p->start);
  matches ms = {0};
  uint32_t nchars = 0, *ci = NULL;
  int rc = sg_analyze(a, span, n, SG_ANALYZE_SPAN, &an, err);
  if (!rc && (find_matches(&an, span, patterns, npatterns, &ms) ||
              !(ci = char_index(span, n, &nchars))))
    rc = nomem(err);
  if (!rc) keep_phrases(patterns, npatterns, &ms);
  if (!rc) {
    if (ms.n) qsort(ms.m, ms.n, sizeof *ms.m, match_compare);
    size_t ws, we;
    choose_window(span, n, ci, nchars, &ms, chars ? chars : 1, &ws, &we);
    int cut_start = 0, cut_end = 0;
    for (size_t i = 0; i < ws; i++) cut_start |= !is_space_byte((unsigned char)span[i]);
    for (size_t i = we; i < n; i++) cut_end |= !is_space_byte((unsigned char)span[i]);
    if (copy_window(&an, span, ws, we, &ms, out) || finish_text(out, cut_start, cut_end))
      rc = nomem(err);
  }
  free(ci);
  free(ms.m);
  sg_analysis_free(&an);
  return rc;
}
