/* plan.c - compiles a parsed query into matchers: each word analyzed as the indexer did
 * (SG_ANALYZE_QUERY) into Korean bigram words, Latin and number terms, one-syllable and prefix
 * expansions, compounds written apart and implicit phrases; the positive words become scoring
 * units and highlight patterns. */
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "matcher.h"

/* Prefix and one-syllable expansions read every expanded term's postings up front; bound
 * them so a query like "a*" cannot read the whole index. */
#define SG_EXPAND_MAX 12000

/* Korean compounds are written together or apart (데이터주권, 데이터 주권): a Korean query word
 * of SPLIT_MIN_BIGRAMS+1 to SPLIT_MAX_BIGRAMS+1 syllables also matches as two words, split
 * anywhere that leaves at least two syllables on each side. Quotes ask for the text as
 * written, so a quoted compound matches only written together. */
#define SPLIT_MIN_BIGRAMS 3
#define SPLIT_MAX_BIGRAMS 9

static int nomem(seogo_error *err) { return sg_fail(err, SEOGO_ENOMEM, "out of memory"); }

/* ---- building: words to terms to matchers ---------------------------------------------------- */

typedef struct builder {
  sg_plan *plan;
  long group;     /* phrase group of the patterns being added, or -1 */
  size_t member;  /* the word's index in that phrase */
  sg_reader *r;
  sg_analyzer *a;
  sg_analysis an;
  int quoted;     /* building a "quoted" text: its compounds match only as written */
  seogo_error *err;
} builder;

/* One word of an analyzed query text: tokens [first, first + n). */
typedef struct piece {
  size_t first, n;
  int korean;
  int particle; /* a particle written onto it was dropped (AI를) */
} piece;

static int is_korean_token(const sg_token *t) {
  return (t->flags & (SEOGO_TERM_HANGUL | SEOGO_TERM_CJK)) != 0;
}

/* Splits the analyzed tokens into words: a new word at WORD_START or a position jump. */
static size_t split_pieces(const sg_analysis *an, piece *out, size_t max) {
  size_t n = 0;
  for (size_t i = 0; i < an->ntokens; i++) {
    const sg_token *t = &an->tokens[i];
    int starts = i == 0 || (t->flags & SEOGO_TERM_WORD_START) ||
                 t->pos != an->tokens[i - 1].pos + 1 || is_korean_token(t) != out[n - 1].korean;
    if (starts) {
      if (n == max) break;
      out[n++] = (piece){i, 1, is_korean_token(t), 0};
    } else {
      out[n - 1].n++;
    }
  }
  return n;
}

/* Whether the Hangul piece is a particle (or ending) by the analyzer's own list: it must be
 * stripped from a two-syllable noun ending in an open or a closed syllable. */
static int is_particle(const sg_analysis *an, const piece *pc) {
  char w[64] = "\xEA\xB0\x80\xEA\xB0\x80"; /* 가가 */
  size_t n = 6;
  for (size_t i = 0; i < pc->n; i++) {
    const sg_token *t = &an->tokens[pc->first + i];
    size_t len = t->term_len, take = i == 0 ? len : 3;
    if ((len != 3 && len != 6) || n + take > sizeof w) return 0;
    memcpy(w + n, sg_token_term(an, t) + len - take, take);
    n += take;
  }
  if (sg_korean_suffix_len(w, n) == n - 6) return 1;
  memcpy(w, "\xEA\xB0\x81\xEA\xB0\x81", 6); /* 각각 */
  return sg_korean_suffix_len(w, n) == n - 6;
}

/* A particle written onto a Latin word or a number (AI를, GPU에서) is not searched for: the
 * query means the word, as 반도체를 means 반도체. The word keeps the particle's room: in a
 * phrase the next word may follow it 1 or 2 positions on, as after a Korean word. */
static int written_together(const char *text, uint32_t from, uint32_t to) {
  for (uint32_t k = from; k < to; k++)
    if (strchr(" \t\r\n", text[k])) return 0;
  return from <= to;
}

static size_t drop_particles(const sg_analysis *an, const char *text, piece *pieces, size_t n) {
  size_t kept = 0;
  for (size_t i = 0; i < n; i++) {
    if (kept > 0 && pieces[i].korean && !pieces[kept - 1].korean) {
      const piece *prev = &pieces[kept - 1];
      const sg_token *last = &an->tokens[prev->first + prev->n - 1];
      if (written_together(text, last->end, an->tokens[pieces[i].first].start) &&
          is_particle(an, &pieces[i])) {
        pieces[kept - 1].particle = 1;
        continue;
      }
    }
    pieces[kept++] = pieces[i];
  }
  return kept;
}

static size_t utf8_char_len(const char *s, size_t n) {
  utf8proc_int32_t cp;
  utf8proc_ssize_t k = utf8proc_iterate((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)n, &cp);
  return k > 0 ? (size_t)k : 1;
}

static int add_pattern(builder *b, sg_pattern_kind kind, const sg_token *toks, size_t n,
                       const char *prefix, size_t prefix_len, int word_start) {
  sg_plan *plan = b->plan;
  sg_pattern *ps = realloc(plan->patterns, (plan->npatterns + 1) * sizeof *ps);
  if (!ps) return nomem(b->err);
  plan->patterns = ps;
  sg_pattern *p = &ps[plan->npatterns];
  memset(p, 0, sizeof *p);
  p->kind = kind;
  p->word_start = word_start;
  p->unit = plan->nunits; /* the unit the enclosing word or group is about to become */
  p->group = b->group;
  p->member = b->member;
  p->korean = kind == SG_PAT_SYLLABLE || (toks && is_korean_token(&toks[0]));
  size_t count = prefix ? 1 : n;
  p->terms = calloc(count, sizeof *p->terms);
  p->lens = calloc(count, sizeof *p->lens);
  if (!p->terms || !p->lens) {
    free(p->terms);
    free(p->lens);
    return nomem(b->err);
  }
  plan->npatterns++;
  p->nterms = count;
  for (size_t i = 0; i < count; i++) {
    const char *s = prefix ? prefix : sg_token_term(&b->an, &toks[i]);
    size_t len = prefix ? prefix_len : toks[i].term_len;
    p->terms[i] = malloc(len + 1);
    if (!p->terms[i]) return nomem(b->err);
    memcpy(p->terms[i], s, len);
    p->terms[i][len] = '\0';
    p->lens[i] = len;
  }
  return SEOGO_OK;
}

/* The piece as a sequence of its terms at consecutive positions. */
static int build_seq(builder *b, const piece *pc, int word_start, const char *label,
                     sg_matcher **out) {
  sg_matcher *m = sg_matcher_new(M_SEQ, label, strlen(label));
  if (!m || !(m->post = calloc(pc->n, sizeof *m->post)) ||
      !(m->at = calloc(pc->n, sizeof *m->at))) {
    sg_matcher_free(m);
    return nomem(b->err);
  }
  m->korean = pc->korean;
  m->word_start = word_start;
  *out = m;
  for (size_t i = 0; i < pc->n; i++) {
    const sg_token *t = &b->an.tokens[pc->first + i];
    int rc = sg_postings_open(&m->post[i], b->r, sg_token_term(&b->an, t), t->term_len, b->err);
    m->nterms = i + 1;
    if (rc) return rc;
  }
  return SEOGO_OK;
}

typedef struct expansion {
  char **terms;
  size_t *lens;
  size_t n, cap;
  int syllable;   /* accept only the character itself and bigrams starting with it */
  size_t prefix_len;
  int overflow;
} expansion;

static int collect_expansion(void *ctx, const char *term, size_t len) {
  expansion *x = ctx;
  if (x->syllable && len > x->prefix_len) {
    size_t rest = len - x->prefix_len;
    if (utf8_char_len(term + x->prefix_len, rest) != rest) return 0;
  }
  if (x->n == SG_EXPAND_MAX) {
    x->overflow = 1;
    return 1;
  }
  if (x->n == x->cap) {
    size_t cap = x->cap ? 2 * x->cap : 64;
    char **t = realloc(x->terms, cap * sizeof *t);
    if (t) x->terms = t;
    size_t *l = t ? realloc(x->lens, cap * sizeof *l) : NULL;
    if (!l) return SEOGO_ENOMEM;
    x->lens = l;
    x->cap = cap;
  }
  if (!(x->terms[x->n] = malloc(len))) return SEOGO_ENOMEM;
  memcpy(x->terms[x->n], term, len);
  x->lens[x->n++] = len;
  return 0;
}

static void expansion_free(expansion *x) {
  for (size_t i = 0; i < x->n; i++) free(x->terms[i]);
  free(x->terms);
  free(x->lens);
}

static int rec_compare(const void *a, const void *b) {
  const alt_rec *x = a, *y = b;
  if (x->pid != y->pid) return x->pid < y->pid ? -1 : 1;
  return x->pos < y->pos ? -1 : x->pos > y->pos;
}

/* Appends every occurrence of one expanded term. A one-syllable query word counts its unigram
 * as a whole word and the bigrams it starts as word prefixes (0.8) or compound parts (0.6). */
static int read_expanded_term(builder *b, sg_matcher *m, const char *term, size_t len,
                              int weighted, size_t *cap) {
  sg_postings p;
  int rc = sg_postings_open(&p, b->r, term, len, b->err);
  int unigram = weighted && utf8_char_len(term, len) == len;
  while (!rc && p.pid != SG_PID_END) {
    size_t n;
    const uint32_t *pos = sg_postings_positions(&p, &n, b->err);
    if (!pos) {
      rc = b->err ? (int)b->err->code : SEOGO_ECORRUPT;
      break;
    }
    for (size_t k = 0; k < n; k++) {
      int ws = (pos[k] & SEOGO_TERM_WORD_START) != 0;
      if (m->word_start && !ws) continue;
      if (m->nrecs == *cap) {
        size_t c = *cap ? 2 * *cap : 256;
        alt_rec *r = realloc(m->recs, c * sizeof *r);
        if (!r) {
          rc = nomem(b->err);
          break;
        }
        m->recs = r;
        *cap = c;
      }
      float w = !weighted || unigram ? 1.0f : ws ? 0.8f : 0.6f;
      m->recs[m->nrecs++] = (alt_rec){p.pid, pos[k] >> 2, w};
    }
    if (!rc) rc = sg_postings_seek(&p, p.pid + 1, b->err);
  }
  sg_postings_close(&p);
  return rc;
}

/* A matcher over all terms starting with `prefix` (syllable: the character and its bigrams),
 * their occurrences merged. */
static int build_alt(builder *b, const char *prefix, size_t len, int syllable, int word_start,
                     int column, const char *label, sg_matcher **out) {
  expansion x = {.syllable = syllable, .prefix_len = len};
  int rc = sg_reader_each_prefix(b->r, prefix, len, collect_expansion, &x, b->err);
  if (rc == 1 && x.overflow) rc = SEOGO_OK;
  if (rc == SEOGO_ENOMEM) rc = nomem(b->err);
  if (!rc && x.overflow)
    rc = sg_fail_at(b->err, SEOGO_ELIMIT, column,
                    "'%s' matches more than %d terms: make the prefix longer", label,
                    SG_EXPAND_MAX);
  sg_matcher *m = rc ? NULL : sg_matcher_new(M_ALT, label, strlen(label));
  if (!rc && !m) rc = nomem(b->err);
  if (m) {
    m->korean = syllable;
    m->word_start = word_start;
    m->nexpanded = x.n;
  }
  size_t cap = 0;
  for (size_t i = 0; !rc && i < x.n; i++)
    rc = read_expanded_term(b, m, x.terms[i], x.lens[i], syllable, &cap);
  expansion_free(&x);
  if (!rc && m->nrecs) {
    qsort(m->recs, m->nrecs, sizeof *m->recs, rec_compare);
    if (!(m->alt_occ = malloc(m->nrecs * sizeof *m->alt_occ))) rc = nomem(b->err);
    size_t run = 0;
    for (size_t i = 0; !rc && i < m->nrecs; i++) {
      m->alt_occ[i] = (sg_occ){m->recs[i].pos, m->recs[i].pos, m->recs[i].weight};
      run = i > 0 && m->recs[i].pid == m->recs[i - 1].pid ? run + 1 : 1;
      if ((double)run > m->alt_max) m->alt_max = (double)run;
    }
  }
  if (rc) {
    sg_matcher_free(m);
    return rc;
  }
  *out = m;
  return SEOGO_OK;
}

/* The prefix a Latin prefix query expands: the longest common prefix of the word's stem and
 * its case-folded form, so that "technolog*" and "technology*" both reach the stem
 * "technolog" and "policies*" reaches "polici". */
static size_t latin_prefix(const char *stem, size_t stem_len, const char *orig, size_t orig_len,
                           char *out) {
  utf8proc_uint8_t *folded = NULL;
  utf8proc_ssize_t n = utf8proc_map((const utf8proc_uint8_t *)orig, (utf8proc_ssize_t)orig_len,
                                    &folded, UTF8PROC_CASEFOLD | UTF8PROC_COMPAT |
                                                 UTF8PROC_COMPOSE | UTF8PROC_STABLE);
  size_t common = 0;
  if (n > 0)
    while (common < stem_len && common < (size_t)n && stem[common] == (char)folded[common])
      common++;
  free(folded);
  while (common > 0 && common < stem_len && ((unsigned char)stem[common] & 0xC0) == 0x80)
    common--;
  if (common == 0) common = stem_len;
  memcpy(out, stem, common);
  return common;
}

/* The query text a piece came from (its first term's start to its last term's end). */
static size_t piece_label(const builder *b, const piece *pc, const char *query_text, char *out,
                          size_t size) {
  uint32_t start = b->an.tokens[pc->first].start, end = b->an.tokens[pc->first + pc->n - 1].end;
  size_t n = end > start ? end - start : 0;
  if (n >= size) n = size - 1;
  while (n > 0 && ((unsigned char)query_text[start + n] & 0xC0) == 0x80) n--;
  memcpy(out, query_text + start, n);
  out[n] = '\0';
  return n;
}

/* The Korean word written apart after `k` syllables: its first k syllables ending a word, then
 * the rest starting the next word (after a one-syllable particle at most). */
static int build_split(builder *b, const piece *pc, size_t k, int scored, const char *query_text,
                       sg_matcher **out) {
  piece left = {pc->first, k - 1, 1, 0}, right = {pc->first + k, pc->n - k, 1, 0};
  char label[SG_MAX_TERM_BYTES * 4 + 8];
  sg_matcher *l = NULL, *r = NULL, *phrase = NULL;
  piece_label(b, &left, query_text, label, sizeof label);
  int rc = build_seq(b, &left, 0, label, &l);
  piece_label(b, &right, query_text, label, sizeof label);
  if (!rc) rc = build_seq(b, &right, 1, label, &r);
  if (!rc && !(phrase = sg_matcher_new(M_PHRASE, "split", 5))) rc = nomem(b->err);
  if (!rc && sg_matcher_add_kid(phrase, l)) rc = nomem(b->err);
  else if (!rc) l = NULL;
  if (!rc && sg_matcher_add_kid(phrase, r)) rc = nomem(b->err);
  else if (!rc) r = NULL;
  if (!rc && scored) {
    long group = b->group;
    size_t member = b->member;
    b->group = b->plan->ngroups++;
    b->member = 0;
    rc = add_pattern(b, SG_PAT_SEQ, &b->an.tokens[left.first], left.n, NULL, 0, 0);
    if (!rc) b->plan->patterns[b->plan->npatterns - 1].korean = 0; /* next word at gap 1 */
    b->member = 1;
    if (!rc) rc = add_pattern(b, SG_PAT_SEQ, &b->an.tokens[right.first], right.n, NULL, 0, 1);
    b->group = group;
    b->member = member;
  }
  sg_matcher_free(l);
  sg_matcher_free(r);
  if (rc) {
    sg_matcher_free(phrase);
    return rc;
  }
  /* apart means written apart: "데이터의 센터" is not the compound, nor "데이터 백업 센터" */
  phrase->distance = 1;
  phrase->korean = 1;
  *out = phrase;
  return SEOGO_OK;
}

/* Wraps the whole-word matcher *out in a union with each way of writing the word apart. */
static int add_splits(builder *b, const piece *pc, int scored, const char *query_text,
                      const char *label, sg_matcher **out) {
  sg_matcher *u = sg_matcher_new(M_UNION, label, strlen(label));
  if (!u || sg_matcher_add_kid(u, *out)) {
    sg_matcher_free(u);
    return nomem(b->err);
  }
  *out = u;
  u->korean = 1;
  size_t syllables = pc->n + 1;
  for (size_t k = 2; k + 2 <= syllables; k++) {
    sg_matcher *split = NULL;
    int rc = build_split(b, pc, k, scored, query_text, &split);
    if (!rc && sg_matcher_add_kid(u, split)) {
      sg_matcher_free(split);
      rc = nomem(b->err);
    }
    if (rc) return rc;
  }
  return SEOGO_OK;
}

/* One word (piece) of the query: Korean bigram sequence, a one-syllable word, a Latin or number
 * term, or with `prefix` the terms it begins. Registers its highlight pattern when scored. */
static int build_piece(builder *b, const piece *pc, int prefix, int scored, int column,
                       const char *query_text, sg_matcher **out) {
  const sg_token *t0 = &b->an.tokens[pc->first];
  const char *term = sg_token_term(&b->an, t0);
  int syllable = pc->korean && pc->n == 1 && utf8_char_len(term, t0->term_len) == t0->term_len;
  char label[SG_MAX_TERM_BYTES * 4 + 8];
  size_t label_len = piece_label(b, pc, query_text, label, sizeof label - 2);
  if (prefix && !pc->korean) {
    char p[SG_MAX_TERM_BYTES];
    size_t plen = latin_prefix(term, t0->term_len, query_text + t0->start, t0->end - t0->start, p);
    memcpy(label, p, plen);
    label_len = plen;
    strcpy(label + label_len, "*");
    int rc = build_alt(b, p, plen, 0, 0, column, label, out);
    if (!rc && scored) rc = add_pattern(b, SG_PAT_PREFIX, NULL, 0, p, plen, 0);
    return rc;
  }
  if (prefix) label[label_len++] = '*';
  label[label_len] = '\0';
  if (syllable) {
    int rc = build_alt(b, term, t0->term_len, 1, prefix, column, label, out);
    if (!rc && scored) rc = add_pattern(b, SG_PAT_SYLLABLE, t0, 1, NULL, 0, prefix);
    return rc;
  }
  int rc = build_seq(b, pc, prefix && pc->korean, label, out);
  if (!rc && scored) rc = add_pattern(b, SG_PAT_SEQ, t0, pc->n, NULL, 0, prefix && pc->korean);
  if (!rc && pc->korean && !prefix && !b->quoted && pc->n >= SPLIT_MIN_BIGRAMS &&
      pc->n <= SPLIT_MAX_BIGRAMS)
    rc = add_splits(b, pc, scored, query_text, label, out);
  return rc;
}

#define MAX_PIECES 256

/* A word, prefix or phrase: its pieces, joined as a phrase when there are several. */
static int build_text(builder *b, const sg_qnode *q, int scored, sg_matcher **out) {
  *out = NULL;
  int mode = q->kind == SG_Q_PHRASE ? SG_ANALYZE_QUOTED : SG_ANALYZE_QUERY;
  int rc = sg_analyze(b->a, q->text, q->len, mode, &b->an, b->err);
  if (rc) return rc;
  piece pieces[MAX_PIECES];
  size_t n = drop_particles(&b->an, q->text, pieces, split_pieces(&b->an, pieces, MAX_PIECES));
  if (n == 0) return SEOGO_OK;
  sg_matcher *phrase = NULL;
  b->group = -1;
  b->quoted = q->kind == SG_Q_PHRASE;
  if (n > 1) {
    phrase = sg_matcher_new(M_PHRASE, q->text, q->len);
    if (!phrase) return nomem(b->err);
    b->group = b->plan->ngroups++;
  }
  for (size_t i = 0; i < n; i++) {
    sg_matcher *m = NULL;
    int prefix = q->kind == SG_Q_PREFIX && i == n - 1;
    b->member = i;
    rc = build_piece(b, &pieces[i], prefix, scored, q->column, q->text, &m);
    if (!rc && pieces[i].particle) {
      m->particle_gap = 1;
      if (scored && b->plan->npatterns) b->plan->patterns[b->plan->npatterns - 1].korean = 1;
    }
    if (!rc && phrase && sg_matcher_add_kid(phrase, m)) rc = nomem(b->err);
    if (rc) {
      if (phrase != m) sg_matcher_free(m);
      sg_matcher_free(phrase);
      return rc;
    }
    if (!phrase) *out = m;
  }
  if (phrase) {
    phrase->korean = phrase->kids[n - 1]->korean;
    *out = phrase;
  }
  return SEOGO_OK;
}

static int add_unit(builder *b, sg_matcher *m, const char *label, int grouped) {
  sg_plan *plan = b->plan;
  sg_unit **units = realloc(plan->units, (plan->nunits + 1) * sizeof *units);
  if (!units) return nomem(b->err);
  plan->units = units;
  sg_unit *u = calloc(1, sizeof *u);
  if (!u || !(u->label = strdup(label))) {
    free(u);
    return nomem(b->err);
  }
  u->m = m;
  m->unit = u;
  u->grouped = grouped;
  u->from_term = m->kind == M_SEQ && m->nterms == 1 && !m->word_start;
  units[plan->nunits++] = u;
  return SEOGO_OK;
}

static int build(builder *b, const sg_qnode *q, int scored, sg_matcher **out);

static int build_near(builder *b, const sg_qnode *q, int scored, sg_matcher **out) {
  sg_matcher *near = sg_matcher_new(M_NEAR, "NEAR", 4);
  if (!near) return nomem(b->err);
  near->distance = q->distance;
  sg_buf label = {0};
  int rc = sg_qnode_format(q, &label) || sg_buf_putc(&label, 0) ? nomem(b->err) : SEOGO_OK;
  if (!rc) {
    free(near->label);
    near->label = (char *)label.data;
  } else {
    sg_buf_free(&label);
  }
  for (size_t i = 0; !rc && i < q->nkids; i++) {
    sg_matcher *kid = NULL;
    rc = build_text(b, q->kids[i], scored, &kid);
    if (!rc && kid && sg_matcher_add_kid(near, kid)) {
      sg_matcher_free(kid);
      rc = nomem(b->err);
    }
  }
  if (rc || near->nkids < 2) {
    /* fewer than two searchable words: the one left is searched alone */
    sg_matcher *only = !rc && near->nkids == 1 ? near->kids[0] : NULL;
    if (only) near->nkids = 0;
    sg_matcher_free(near);
    *out = only;
    return rc;
  }
  *out = near;
  return SEOGO_OK;
}

typedef struct file_ctx {
  const char *glob;
  pid_range *ranges;
  size_t n, cap;
} file_ctx;

static int path_matches(const char *glob, const char *path) {
  if (fnmatch(glob, path, 0) == 0) return 1;
  const char *base = strrchr(path, '/');
  return base && fnmatch(glob, base + 1, 0) == 0;
}

static int collect_file(void *ctx, uint32_t doc_id, const sg_doc *d) {
  file_ctx *f = ctx;
  char path[4096];
  if (d->path_len >= sizeof path || d->npassages == 0) return 0;
  memcpy(path, d->path, d->path_len);
  path[d->path_len] = '\0';
  if (!path_matches(f->glob, path)) return 0;
  if (d->first_pid == 0 || d->first_pid > SG_PID_END - 1 - d->npassages) return 0;
  if (f->n == f->cap) {
    size_t cap = f->cap ? 2 * f->cap : 16;
    pid_range *r = realloc(f->ranges, cap * sizeof *r);
    if (!r) return SEOGO_ENOMEM;
    f->ranges = r;
    f->cap = cap;
  }
  f->ranges[f->n++] = (pid_range){d->first_pid, d->first_pid + d->npassages};
  return 0;
}

static int range_compare(const void *a, const void *b) {
  const pid_range *x = a, *y = b;
  return x->first < y->first ? -1 : x->first > y->first;
}

static int build_file(builder *b, const sg_qnode *q, sg_matcher **out) {
  file_ctx f = {.glob = q->text};
  int rc = sg_reader_each_doc(b->r, collect_file, &f, b->err);
  if (rc == SEOGO_ENOMEM) rc = nomem(b->err);
  sg_matcher *m = rc ? NULL : sg_matcher_new(M_FILE, q->text, q->len);
  if (!rc && !m) rc = nomem(b->err);
  if (rc) {
    free(f.ranges);
    return rc;
  }
  if (f.n) qsort(f.ranges, f.n, sizeof *f.ranges, range_compare);
  m->ranges = f.ranges;
  m->nranges = f.n;
  *out = m;
  return SEOGO_OK;
}

static int not_alone(builder *b, int column) {
  return sg_fail_at(b->err, SEOGO_EQUERY, column,
                    "NOT needs a word to exclude from, e.g. 반도체 NOT 중국");
}

static int same_term(const sg_postings *a, const sg_postings *b) {
  return a->term_len == b->term_len && !memcmp(a->term, b->term, a->term_len);
}

/* Whether every match of term sequence p holds a match of n: n's terms are a run of p's, and n
 * asks for no word start that p's match may lack (p's later terms continue its word). */
static int seq_implies(const sg_matcher *p, const sg_matcher *n) {
  if (p->kind != M_SEQ || n->kind != M_SEQ || n->nterms == 0 || n->nterms > p->nterms) return 0;
  for (size_t i = 0; i + n->nterms <= p->nterms; i++) {
    if (n->word_start && !(i == 0 && p->word_start)) continue;
    size_t j = 0;
    while (j < n->nterms && same_term(&p->post[i + j], &n->post[j])) j++;
    if (j == n->nterms) return 1;
  }
  return 0;
}

/* An AND that excludes what one of its words always contains matches nothing ("전략기술" NOT
 * "기술"): said at once rather than found by verifying every passage of the word. */
static int excludes_itself(const sg_matcher *m) {
  for (size_t i = 0; i < m->npos; i++)
    for (size_t k = m->npos; k < m->nkids; k++)
      if (seq_implies(m->kids[i], m->kids[k])) return 1;
  return 0;
}

static int build_bool(builder *b, const sg_qnode *q, int scored, sg_matcher **out) {
  int is_and = q->kind == SG_Q_AND;
  sg_matcher *m = sg_matcher_new(is_and ? M_AND : M_OR, is_and ? "AND" : "OR", is_and ? 3 : 2);
  sg_matcher **neg = calloc(q->nkids, sizeof *neg);
  size_t nneg = 0;
  int rc = m && neg ? SEOGO_OK : nomem(b->err);
  int not_column = 0;
  for (size_t i = 0; !rc && i < q->nkids; i++) {
    const sg_qnode *kid = q->kids[i];
    sg_matcher *km = NULL;
    if (kid->kind == SG_Q_NOT) {
      if (!is_and) {
        rc = sg_fail_at(b->err, SEOGO_EQUERY, kid->column,
                        "NOT cannot stand inside OR: write (a OR b) NOT c");
        break;
      }
      if (!not_column) not_column = kid->column;
      rc = build(b, kid->kids[0], 0, &km);
      if (km) neg[nneg++] = km;
      continue;
    }
    rc = build(b, kid, scored, &km);
    if (!rc && km && sg_matcher_add_kid(m, km)) {
      sg_matcher_free(km);
      rc = nomem(b->err);
    }
  }
  if (m) m->npos = m->nkids;
  for (size_t i = 0; !rc && i < nneg; i++) {
    if (sg_matcher_add_kid(m, neg[i])) rc = nomem(b->err);
    else neg[i] = NULL;
  }
  for (size_t i = 0; i < nneg; i++) sg_matcher_free(neg[i]);
  free(neg);
  if (!rc && m->npos == 0 && m->nkids > 0) rc = not_alone(b, not_column);
  if (rc || m->nkids <= 1) {
    sg_matcher *only = !rc && m->nkids == 1 ? m->kids[0] : NULL;
    if (only) m->nkids = 0;
    sg_matcher_free(m);
    *out = only;
    return rc;
  }
  m->never = excludes_itself(m);
  *out = m;
  return SEOGO_OK;
}

/* Builds q's matcher into *out (NULL when q has no searchable word). `scored` is false under
 * NOT: excluded words are matched but neither scored nor highlighted. */
static int build(builder *b, const sg_qnode *q, int scored, sg_matcher **out) {
  *out = NULL;
  int rc;
  switch (q->kind) {
  case SG_Q_WORD:
  case SG_Q_PREFIX:
  case SG_Q_PHRASE:
    rc = build_text(b, q, scored, out);
    if (!rc && *out && scored) {
      sg_buf label = {0};
      rc = sg_qnode_format(q, &label) || sg_buf_putc(&label, 0) ? nomem(b->err) : SEOGO_OK;
      if (!rc)
        rc = add_unit(b, *out, (char *)label.data,
                      q->kind == SG_Q_PHRASE && (*out)->kind == M_PHRASE);
      sg_buf_free(&label);
    }
    return rc;
  case SG_Q_NEAR:
    rc = build_near(b, q, scored, out);
    if (!rc && *out && scored) rc = add_unit(b, *out, (*out)->label, (*out)->kind == M_NEAR);
    return rc;
  case SG_Q_FILE: return build_file(b, q, out);
  case SG_Q_AND:
  case SG_Q_OR: return build_bool(b, q, scored, out);
  case SG_Q_NOT: return not_alone(b, q->column);
  }
  return SEOGO_OK;
}


/* ---- the plan ------------------------------------------------------------------------------ */

int sg_plan_build(sg_plan *plan, const sg_qnode *query, sg_reader *r, sg_analyzer *a,
                  seogo_error *err) {
  memset(plan, 0, sizeof *plan);
  builder b = {.plan = plan, .r = r, .a = a, .err = err};
  sg_analysis_init(&b.an);
  int rc = build(&b, query, 1, &plan->root);
  sg_analysis_free(&b.an);
  if (!rc && !plan->root)
    rc = sg_fail_at(err, SEOGO_EQUERY, 1, "the query has no searchable words");
  if (!rc && sg_matcher_describe(plan->root, &plan->explain)) rc = nomem(err);
  if (rc) sg_plan_free(plan);
  return rc;
}

void sg_plan_free(sg_plan *plan) {
  sg_matcher_free(plan->root);
  free(plan->pruner);
  for (size_t i = 0; i < plan->nunits; i++) {
    free(plan->units[i]->label);
    free(plan->units[i]);
  }
  free(plan->units);
  for (size_t i = 0; i < plan->npatterns; i++) {
    for (size_t j = 0; j < plan->patterns[i].nterms; j++)
      if (plan->patterns[i].terms) free(plan->patterns[i].terms[j]);
    free(plan->patterns[i].terms);
    free(plan->patterns[i].lens);
  }
  free(plan->patterns);
  sg_buf_free(&plan->explain);
  memset(plan, 0, sizeof *plan);
}

