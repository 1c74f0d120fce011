/* eval.c - query evaluation: moves the tree of matchers passage by passage in ascending id
 * order (AND = leapfrog intersection, OR = union, NOT = exclusion, phrases and NEAR =
 * positional joins, Korean words = bigram sequences at consecutive positions) and tells
 * ranking which scoring units match where. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "matcher.h"

/* ---- matchers: construction and cleanup ----------------------------------------------- */

sg_matcher *sg_matcher_new(mkind kind, const char *label, size_t label_len) {
  sg_matcher *m = calloc(1, sizeof *m);
  if (!m) return NULL;
  m->kind = kind;
  m->label = malloc(label_len + 1);
  if (!m->label) {
    free(m);
    return NULL;
  }
  memcpy(m->label, label, label_len);
  m->label[label_len] = '\0';
  return m;
}

void sg_matcher_free(sg_matcher *m) {
  if (!m) return;
  for (size_t i = 0; i < m->nkids; i++) sg_matcher_free(m->kids[i]);
  for (size_t i = 0; i < m->nterms; i++) sg_postings_close(&m->post[i]);
  free(m->post);
  free(m->at);
  free(m->kids);
  free(m->lf);
  free(m->order);
  free(m->buf);
  free(m->recs);
  free(m->alt_occ);
  free(m->ranges);
  free(m->label);
  free(m);
}

int sg_matcher_add_kid(sg_matcher *m, sg_matcher *kid) {
  sg_matcher **kids = realloc(m->kids, (m->nkids + 1) * sizeof *kids);
  if (!kids) return -1;
  m->kids = kids;
  kids[m->nkids++] = kid;
  return 0;
}

static int occ_reserve(sg_matcher *m, size_t n) {
  if (n <= m->buf_cap) return 0;
  size_t cap = m->buf_cap ? m->buf_cap : 16;
  while (cap < n) cap *= 2;
  sg_occ *b = realloc(m->buf, cap * sizeof *b);
  if (!b) return -1;
  m->buf = b;
  m->buf_cap = cap;
  return 0;
}

static int nomem(seogo_error *err) { return sg_fail(err, SEOGO_ENOMEM, "out of memory"); }

/* ---- seeking ---------------------------------------------------------------------------- */

static int seek(sg_matcher *m, uint32_t target, seogo_error *err);

static void set_end(sg_matcher *m) {
  m->pid = SG_PID_END;
  m->nocc = 0;
}

/* ---- top-k pruning: score bounds from block headers and tfs ------------------------------ */

/* Rounding in the score's sums must never let a bound fall below the score it bounds. */
#define BOUND_SLACK (1.0 + 1e-9)

/* A bound of one term's tf at passage t (point: the exact tf when the cursor stands on t), or
 * over [t, *upto] (range: from the header of the block holding t, narrowing *upto; *len is
 * then the block's shortest passage). */
static int term_bound(sg_postings *p, uint32_t t, int point, uint32_t *upto, double *tf,
                      uint32_t *len, seogo_error *err) {
  *tf = 0;
  if (p->pid == SG_PID_END) return SEOGO_OK;
  if (point && p->pid == t) {
    *tf = sg_postings_tf(p);
    return SEOGO_OK;
  }
  if (point && p->pid > t) return SEOGO_OK; /* moved past t: absent there */
  if (point && p->loaded && t <= p->block.last_pid) { /* t is in the decoded block: look */
    const uint32_t *pids = p->block.pids;
    size_t lo = p->idx, hi = p->block.count;
    while (lo < hi) {
      size_t mid = lo + (hi - lo) / 2;
      if (pids[mid] < t) lo = mid + 1;
      else hi = mid;
    }
    if (lo < p->block.count && pids[lo] == t) *tf = p->block.tfs[lo];
    return SEOGO_OK;
  }
  sg_block_bound b;
  int rc = sg_postings_block_header(p, t, &b, err);
  if (rc || b.first_pid == SG_PID_END) return rc;
  if (b.first_pid > t) { /* t falls between blocks: nothing until the next one */
    if (!point && b.first_pid - 1 < *upto) *upto = b.first_pid - 1;
    return SEOGO_OK;
  }
  if (b.last_pid < *upto) *upto = b.last_pid;
  *tf = b.max_tf;
  if (b.min_len > *len) *len = b.min_len;
  return SEOGO_OK;
}

/* Occurrences of an expansion at t (point), or their largest number in a passage from t on. */
static double alt_bound(const sg_matcher *m, uint32_t t, int point, uint32_t *upto) {
  size_t lo = m->rec_i, hi = m->nrecs;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (m->recs[mid].pid < t) lo = mid + 1;
    else hi = mid;
  }
  if (lo == m->nrecs) return 0;
  if (m->recs[lo].pid > t) {
    if (!point && m->recs[lo].pid - 1 < *upto) *upto = m->recs[lo].pid - 1;
    return 0;
  }
  if (!point) return m->alt_max;
  size_t end = lo;
  while (end < m->nrecs && m->recs[end].pid == t) end++;
  return (double)(end - lo);
}

/* A bound of a positional matcher's number of occurrences (see term_bound), which bounds its
 * weighted tf too (every occurrence weighs at most 1). A sequence occurs at most as often as
 * each of its terms, a phrase as each word after the first, a union or NEAR group as all its
 * parts together. */
static int tf_bound(const sg_matcher *m, uint32_t t, int point, uint32_t *upto, double *tf,
                    uint32_t *len, seogo_error *err) {
  *tf = 0;
  if (m->kind == M_ALT) {
    *tf = alt_bound(m, t, point, upto);
    return SEOGO_OK;
  }
  uint32_t min_len = UINT32_MAX, kid_len = 1;
  double sum = 0, min = HUGE_VAL;
  size_t n = m->kind == M_SEQ ? m->nterms : m->nkids;
  for (size_t i = 0; i < n; i++) {
    double x;
    uint32_t l = 1;
    int rc = m->kind == M_SEQ ? term_bound(&m->post[i], t, point, upto, &x, &l, err)
                              : tf_bound(m->kids[i], t, point, upto, &x, &l, err);
    if (rc) return rc;
    if (x <= 0 && m->kind != M_UNION) return SEOGO_OK; /* every part is needed */
    sum += x;
    if ((i > 0 || n == 1 || m->kind == M_SEQ) && x < min) min = x;
    if (x > 0 && l < min_len) min_len = l;
    if (l > kid_len) kid_len = l;
  }
  if (m->kind == M_UNION) {
    *tf = sum;
    *len = min_len == UINT32_MAX ? 1 : min_len;
  } else {
    *tf = m->kind == M_NEAR ? sum : min;
    *len = kid_len;
  }
  return SEOGO_OK;
}

/* tf_bound at passage t when every term cursor of m (a term sequence, or a phrase of term
 * sequences) stands on t, as the candidate step leaves them: the same minimum of their tfs,
 * without the general walk (which costs several times more per judged passage). 0 when some
 * cursor stands elsewhere or m is of another kind. */
static int aligned_tf(const sg_matcher *m, uint32_t t, double *tf) {
  uint32_t min = UINT32_MAX;
  if (m->kind == M_SEQ) {
    for (size_t i = 0; i < m->nterms; i++) {
      const sg_postings *p = &m->post[i];
      if (p->pid != t) return 0;
      if (sg_postings_tf(p) < min) min = sg_postings_tf(p);
    }
  } else if (m->kind == M_PHRASE) {
    for (size_t k = 0; k < m->nkids; k++) {
      const sg_matcher *kid = m->kids[k];
      if (kid->kind != M_SEQ) return 0;
      for (size_t i = 0; i < kid->nterms; i++) {
        const sg_postings *p = &kid->post[i];
        if (p->pid != t) return 0;
        /* a phrase occurs at most as often as each word after the first */
        if ((k > 0 || m->nkids == 1) && sg_postings_tf(p) < min) min = sg_postings_tf(p);
      }
    }
  } else {
    return 0;
  }
  if (min == UINT32_MAX) return 0;
  *tf = min;
  return 1;
}

/* A bound of what the units under m add to the score at t (point: dl is t's length) or over
 * [t, *upto]; *possible = 0 when m cannot match there at all. */
static int score_bound(const sg_pruner *pr, const sg_matcher *m, uint32_t t, int point,
                       uint32_t dl, uint32_t *upto, double *score, int *possible,
                       seogo_error *err) {
  *score = 0;
  *possible = 1;
  if (m->unit) {
    double tf;
    uint32_t len = 1;
    int rc =
        point && aligned_tf(m, t, &tf) ? SEOGO_OK : tf_bound(m, t, point, upto, &tf, &len, err);
    if (rc) return rc;
    *possible = tf > 0;
    if (*possible) *score = sg_unit_score(pr->params, m->unit, tf, point ? dl : len);
    if (!point) ((sg_matcher *)m)->range_score = *score; /* for gate_point */
    return SEOGO_OK;
  }
  if (m->kind != M_AND && m->kind != M_OR) return SEOGO_OK; /* a file filter: adds nothing */
  size_t n = m->kind == M_AND ? m->npos : m->nkids;
  int any = 0;
  for (size_t i = 0; i < n; i++) {
    double s;
    int p;
    int rc = score_bound(pr, m->kids[i], t, point, dl, upto, &s, &p, err);
    if (rc) return rc;
    if (!p && m->kind == M_AND) {
      *possible = 0;
      *score = 0;
      return SEOGO_OK;
    }
    any |= p;
    *score += s;
  }
  *possible = any;
  return SEOGO_OK;
}

/* Whether a bound can still beat the top-k (a passage must score above theta to enter it). */
static int beats(const sg_pruner *pr, double score, int possible) {
  return possible && score * pr->prox * BOUND_SLACK >= pr->theta;
}

/* The first passage >= t that the block headers do not rule out (SG_PID_END: none). A range
 * found worth visiting is not checked again, by any matcher, until t leaves it. */
static int gate_range_slow(sg_pruner *pr, uint32_t t, uint32_t *out, seogo_error *err) {
  while (t != SG_PID_END) {
    uint32_t upto = SG_PID_END - 1;
    double s;
    int possible;
    int rc = score_bound(pr, pr->root, t, 0, 0, &upto, &s, &possible, err);
    if (rc) return rc;
    if (beats(pr, s, possible)) {
      pr->pass_from = t;
      pr->pass_upto = upto;
      pr->range_total = 0;
      for (size_t i = 0; i < pr->nunits; i++) pr->range_total += pr->units[i]->m->range_score;
      break;
    }
    pr->pruned = 1;
    t = upto >= SG_PID_END - 1 ? SG_PID_END : upto + 1;
  }
  if (t == SG_PID_END) { /* nothing passed: the units' range scores belong to no range */
    pr->pass_from = 1;
    pr->pass_upto = 0;
  }
  *out = t;
  return SEOGO_OK;
}

/* Called before every candidate: the common case (no pruning yet, or t in the range that passed
 * last) stays inline. */
static inline int gate_range(const sg_matcher *m, uint32_t t, uint32_t *out, seogo_error *err) {
  sg_pruner *pr = m->pruner;
  *out = t;
  if (!pr || pr->theta == -HUGE_VAL || (t >= pr->pass_from && t <= pr->pass_upto))
    return SEOGO_OK;
  return gate_range_slow(pr, t, out, err);
}

/* Cursors beyond which a passage is judged by its own unit at t and the other units' block
 * bounds (cached with the range) rather than by every cursor at t: looking at a few cursors
 * costs less than the tighter bound saves, looking at many does not. */
#define POINT_CURSORS_MAX 4

/* Each passage's length lies in a cache line of its own, which the cold queries of a large
 * index wait for: while passage t is judged, the line of the passage NORM_AHEAD places further
 * in the lead cursor's block starts loading (the 200 MB benchmark's queries, all run in turn,
 * medians of six runs alternating with the code before: en_word p50 115 -> 98 us, ko_noun 113
 * -> 110 us). */
#define NORM_AHEAD 4

static inline void prefetch_norm_ahead(const sg_matcher *m, const sg_reader *r) {
  if (m->kind != M_SEQ || !m->nterms) return;
  const sg_postings *lead = &m->post[m->order ? m->order[0] : 0];
  uint32_t ahead = lead->idx + NORM_AHEAD;
  if (lead->loaded && ahead < lead->block.count)
    sg_reader_prefetch_norm(r, lead->block.pids[ahead]);
}

/* Whether passage t, where m's cursors stand, could enter the top-k: its length and the tfs
 * known at t, before any position is decoded. Judged for every passage, all search long: with
 * the tfs the aligned cursors hold (aligned_tf) a judgement costs little, and as theta rises
 * late in a long scan it fails more and more often (a search that stopped judging after 512
 * judgements that seldom failed read 19 % more instructions on the 1 GB benchmark's ANDs). */
static int gate_point(sg_matcher *m, uint32_t t, int *pass, seogo_error *err) {
  sg_pruner *pr = m->pruner;
  *pass = 1;
  if (!pr || !m->point_gate || pr->theta == -HUGE_VAL) return SEOGO_OK;
  const sg_matcher *scope =
      m->scope && pr->ncursors > POINT_CURSORS_MAX ? m->scope : pr->root;
  int rc = SEOGO_OK;
  if (scope != pr->root && (t < pr->pass_from || t > pr->pass_upto)) {
    uint32_t next;
    if ((rc = gate_range(m, t, &next, err)) || next != t) {
      *pass = 0;
      return rc;
    }
  }
  uint32_t dl, upto = SG_PID_END - 1;
  double s;
  int possible;
  prefetch_norm_ahead(m, pr->reader);
  rc = sg_reader_norm(pr->reader, t, &dl, err);
  if (!rc) rc = score_bound(pr, scope, t, 1, dl ? dl : 1, &upto, &s, &possible, err);
  if (rc) return rc;
  if (scope != pr->root) {
    double rest = pr->range_total - scope->range_score;
    s += rest > 0 ? rest : 0;
  }
  *pass = beats(pr, s, possible);
  if (!*pass) pr->pruned = 1;
  return SEOGO_OK;
}

/* The loop of every matcher that verifies its candidates: a candidate step moves to the first
 * passage >= t where the matcher may match (cursors aligned, no positions read); if pruning
 * lets that passage through, the verify step reads what it needs (positions, exclusions) and
 * says whether it matches; if not, the next candidate after it. */
typedef int (*candidate_fn)(sg_matcher *m, uint32_t t, uint32_t *out, seogo_error *err);
typedef int (*verify_fn)(sg_matcher *m, uint32_t t, int *match, seogo_error *err);

static int seek_verified(sg_matcher *m, uint32_t target, candidate_fn candidate,
                         verify_fn verify, seogo_error *err) {
  uint32_t t = target;
  for (;;) {
    int rc = gate_range(m, t, &t, err);
    if (!rc && t != SG_PID_END) rc = candidate(m, t, &t, err);
    if (rc) return rc;
    if (t == SG_PID_END) break;
    int pass, match = 0;
    if ((rc = gate_point(m, t, &pass, err))) return rc;
    if (pass && (rc = verify(m, t, &match, err))) return rc;
    if (match) {
      m->pid = t;
      return SEOGO_OK;
    }
    if (t == SG_PID_END - 1) break;
    t++;
  }
  set_end(m);
  return SEOGO_OK;
}

/* ---- the matchers --------------------------------------------------------------------------- */

static float match_weight(unsigned first_flags, unsigned last_flags, int korean) {
  if (!korean) return 1.0f;
  int whole_start = (first_flags & SEOGO_TERM_WORD_START) != 0;
  if (whole_start && (last_flags & SEOGO_TERM_STEM_END)) return 1.0f;
  return whole_start ? 0.8f : 0.6f;
}

/* Flags of term i's entry at `pos` that does not start a word (a word's later bigram), or -1.
 * `at` is a moving index into the term's ascending positions. */
static int continuation_at(const uint32_t *pos, size_t n, size_t *at, uint32_t want) {
  while (*at < n && (pos[*at] >> 2) < want) (*at)++;
  for (size_t j = *at; j < n && (pos[j] >> 2) == want; j++)
    if (!(pos[j] & SEOGO_TERM_WORD_START)) return (int)(pos[j] & 3);
  return -1;
}

/* Occurrences of the term sequence in the passage all cursors stand on. */
static int seq_occurrences(sg_matcher *m, seogo_error *err) {
  size_t n0;
  const uint32_t *p0 = sg_postings_positions(&m->post[0], &n0, err);
  if (!p0) return err ? (int)err->code : SEOGO_ECORRUPT;
  size_t *at = m->at;
  memset(at, 0, m->nterms * sizeof *at);
  m->nocc = 0;
  if (occ_reserve(m, n0)) return nomem(err);
  for (size_t k = 0; k < n0; k++) {
    uint32_t start = p0[k] >> 2;
    unsigned first = p0[k] & 3, last = first;
    if (m->word_start && !(first & SEOGO_TERM_WORD_START)) continue;
    if (k > 0 && (p0[k - 1] >> 2) == start) continue; /* one occurrence per position */
    int ok = 1;
    for (size_t i = 1; i < m->nterms && ok; i++) {
      size_t n;
      const uint32_t *pi = sg_postings_positions(&m->post[i], &n, err);
      if (!pi) return err ? (int)err->code : SEOGO_ECORRUPT;
      int f = continuation_at(pi, n, &at[i], start + (uint32_t)i);
      if (f < 0) ok = 0;
      else last = (unsigned)f;
    }
    if (!ok) continue;
    m->buf[m->nocc++] = (sg_occ){start, start + (uint32_t)m->nterms - 1,
                                 match_weight(first, last, m->korean)};
  }
  m->occ = m->buf;
  return SEOGO_OK;
}

/* The smallest tf (an occurrence count: it bounds the weighted tf) that reaches need->score in
 * a passage of min_len positions; 0 when there is no need. */
static uint32_t tf_floor(void *ctx, uint32_t min_len) {
  sg_tf_need *need = ctx;
  if (need->score <= 0) return 0;
  unsigned slot = min_len % 16;
  if (need->len[slot] == min_len && need->floor[slot]) return need->floor[slot];
  const sg_rank_params *p = need->pr->params;
  double len = min_len ? min_len : 1;
  double x = sg_unit_tf_for(p, need->unit, need->score, len);
  uint32_t f = x > SG_MAX_POSITIONS ? SG_MAX_POSITIONS + 1 : x < 1 ? 1 : (uint32_t)x;
  /* the formula rounds: the floor is the tf where the score itself first reaches the need */
  while (f > 1 && sg_unit_score(p, need->unit, f - 1, len) >= need->score) f--;
  while (f <= SG_MAX_POSITIONS && sg_unit_score(p, need->unit, f, len) < need->score) f++;
  f = (f + need->share - 1) / need->share;
  need->len[slot] = min_len;
  need->floor[slot] = f;
  return f;
}

/* Brings m->need up to the pruner's threshold: what m's unit must score for the passage to
 * enter the top k, where the other units add at most m->floor_rest. */
static sg_tf_need *seq_need(sg_matcher *m) {
  const sg_pruner *pr = m->pruner;
  sg_tf_need *need = &m->need;
  if (need->pr == pr && need->theta == pr->theta) return need;
  memset(need, 0, sizeof *need);
  need->pr = pr;
  need->unit = m->floor_unit;
  need->share = m->floor_share ? m->floor_share : 1;
  need->theta = pr->theta;
  /* a margin under the bound beats() applies, so that rounding never skips a passage */
  double theta = pr->theta / (pr->prox * BOUND_SLACK);
  need->score = theta - m->floor_rest - theta * 1e-9;
  /* a floor of 1 skips nothing: when a passage of average length reaches the need with one
   * occurrence, the floors are not worth asking for */
  if (sg_unit_score(pr->params, need->unit, need->share, pr->params->avgdl) >= need->score)
    need->score = 0;
  return need;
}

/* The floor at a block whose shortest passage has min_len positions (cached). */
static inline uint32_t floor_at(sg_tf_need *need, uint32_t min_len) {
  unsigned slot = min_len % 16;
  if (need->len[slot] == min_len && need->floor[slot]) return need->floor[slot];
  return tf_floor(need, min_len);
}

/* When a term of the sequence, aligned at t, occurs there too rarely for the sequence to score
 * enough, moves that term on (by its tfs alone) and sets *next past t. */
static int skip_rare(sg_matcher *m, uint32_t t, uint32_t *next, seogo_error *err) {
  sg_tf_need *need = seq_need(m);
  *next = t;
  if (need->score <= 0) return SEOGO_OK;
  for (size_t i = 0; i < m->nterms; i++) {
    sg_postings *p = &m->post[i];
    if (sg_postings_tf(p) >= floor_at(need, p->block.min_len)) continue;
    int skipped = 0, rc = SEOGO_OK;
    m->pruner->pruned = 1;
    if (t < SG_PID_END - 1) rc = sg_postings_seek_tf(p, t + 1, tf_floor, need, &skipped, err);
    *next = t < SG_PID_END - 1 ? p->pid : SG_PID_END;
    return rc;
  }
  return SEOGO_OK;
}

/* Whether the sequence's terms must occur often enough to score (skip_rare): a cached compare. */
static inline int floor_wanted(const sg_matcher *m) {
  const sg_pruner *pr = m->pruner;
  return m->floor_unit && pr->theta > 0 && (m->need.theta != pr->theta || m->need.score > 0);
}

/* Whether a term of one that stands on a passage occurs there often enough, known from the
 * cached need and floor alone (0: skip_rare must look). */
static inline int floor_met(const sg_matcher *k, const sg_postings *p) {
  const sg_tf_need *need = &k->need;
  if (need->pr != k->pruner || need->theta != k->pruner->theta) return 0;
  if (need->score <= 0) return 1;
  unsigned slot = p->block.min_len % 16;
  return need->len[slot] == p->block.min_len && need->floor[slot] &&
         sg_postings_tf(p) >= need->floor[slot];
}

/* The first passage >= t holding all the sequence's terms (each often enough to score, when
 * the sequence bounds the query's only unit and the top-k is full: a floor that pays in
 * single-word queries, "기술" 66.6M -> 18.1M and "기술" NOT "모든" 89.2M -> 20.0M
 * instructions, and phrases, "covered work" 51.2M -> 27.3M; beside other units, whose bounds
 * leave it low, it cost more than it saved). */
static inline __attribute__((always_inline)) int seq_candidate(sg_matcher *m, uint32_t t,
                                                               uint32_t *out, seogo_error *err) {
  for (;;) {
    size_t i;
    for (i = 0; i < m->nterms; i++) {
      sg_postings *p = &m->post[m->order ? m->order[i] : i];
      int rc = sg_postings_advance(p, t, err);
      if (rc) return rc;
      if (p->pid != t) {
        t = p->pid;
        break;
      }
    }
    if (i == m->nterms && t != SG_PID_END && floor_wanted(m)) {
      uint32_t next;
      int rc = skip_rare(m, t, &next, err);
      if (rc) return rc;
      if (next != t) {
        t = next;
        continue;
      }
    }
    if (i == m->nterms || t == SG_PID_END) {
      *out = t;
      return SEOGO_OK;
    }
  }
}

static int seq_verify(sg_matcher *m, uint32_t t, int *match, seogo_error *err) {
  (void)t;
  int rc = seq_occurrences(m, err);
  *match = m->nocc > 0;
  return rc;
}

static int seek_seq(sg_matcher *m, uint32_t target, seogo_error *err) {
  return seek_verified(m, target, seq_candidate, seq_verify, err);
}

static int seek_alt(sg_matcher *m, uint32_t target) {
  while (m->rec_i < m->nrecs && m->recs[m->rec_i].pid < target) m->rec_i++;
  if (m->rec_i >= m->nrecs) {
    set_end(m);
    return SEOGO_OK;
  }
  size_t first = m->rec_i, last = first;
  m->pid = m->recs[first].pid;
  while (last < m->nrecs && m->recs[last].pid == m->pid) last++;
  m->occ = m->alt_occ + first;
  m->nocc = last - first;
  return SEOGO_OK;
}

/* Moves an intersection's kid to its first passage >= t (*at). A term sequence that need not
 * start a word matches, as far as the candidate step knows, wherever all its cursors stand:
 * its positions wait for the intersection's verify step (verify_kids), once the other kids are
 * there too and pruning has let the passage through (a Korean word's bigrams, once all in a
 * passage, nearly always chain: checking them first rarely narrows the candidates, and costs
 * their positions where pruning would have skipped the passage: "소버린" AND "거버넌스" 81.2M
 * -> 53.0M instructions). Other kids are sought: their own positions narrow the candidates (a
 * word that must start a word skips, by its own positions alone, the many passages where it
 * only ends one: 프로그램 AND 예비 14.7M -> 9.5M instructions). */
static inline __attribute__((always_inline)) int move_kid(sg_matcher *k, uint32_t t, uint32_t *at,
                                                          seogo_error *err) {
  int rc = SEOGO_OK;
  const sg_pruner *pr = k->pruner;
  if (k->lone_term && k->pid < t && k->pid != 0 &&
      (!pr || pr->theta == -HUGE_VAL || (t >= pr->pass_from && t <= pr->pass_upto))) {
    /* one term, no block to judge: the step of nearly every move, kept short */
    sg_postings *p = k->post;
    if ((rc = sg_postings_advance(p, t, err))) return rc;
    t = p->pid;
    if (t != SG_PID_END && floor_wanted(k)) rc = seq_candidate(k, t, &t, err);
    if (!rc && t == SG_PID_END) set_end(k);
    *at = t;
    return rc;
  }
  if (k->kind != M_SEQ || k->word_start || k->pid == SG_PID_END || (k->pid >= t && k->pid != 0)) {
    rc = seek(k, t, err);
    *at = k->pid;
    return rc;
  }
  rc = gate_range(k, t, &t, err);
  if (!rc && t != SG_PID_END) rc = seq_candidate(k, t, &t, err);
  if (!rc && t == SG_PID_END) set_end(k);
  *at = t;
  return rc;
}

/* Moves all kids to one passage >= t where each may match; returns it or SG_PID_END. */
static int leapfrog(sg_matcher **kids, size_t n, uint32_t t, uint32_t *out, seogo_error *err) {
  for (;;) {
    size_t i;
    for (i = 0; i < n; i++) {
      uint32_t at;
      int rc = move_kid(kids[i], t, &at, err);
      if (rc) return rc;
      if (at == SG_PID_END) {
        *out = SG_PID_END;
        return SEOGO_OK;
      }
      if (at != t) {
        t = at;
        break;
      }
    }
    if (i == n) {
      *out = t;
      return SEOGO_OK;
    }
  }
}

/* leapfrog when every kid is a term sequence that need not start a word (seq_kids): the kids
 * take turns, each moving only its rarest term to the passage the last one reached, with the
 * checks one term needs; where they all stand, each kid's other terms are brought there too
 * (a word's bigrams nearly always occur together, so they rarely move it on). The cursors end
 * where leapfrog would leave them. */
static inline __attribute__((always_inline)) int leapfrog_seq(sg_matcher **kids, size_t n,
                                                              uint32_t t, int lone, uint32_t *out,
                                                              seogo_error *err) {
  size_t i = 0, agree = 0; /* kids[i] moves next; `agree` kids before it stand on t */
  for (;;) {
    sg_matcher *k = kids[i];
    sg_pruner *pr = k->pruner;
    int rc = SEOGO_OK;
    if (k->pid == SG_PID_END) break;
    if (pr && pr->theta != -HUGE_VAL && (t < pr->pass_from || t > pr->pass_upto)) {
      uint32_t next;
      if ((rc = gate_range_slow(pr, t, &next, err))) return rc;
      if (next != t) agree = 0;
      t = next;
      if (t == SG_PID_END) {
        set_end(k);
        break;
      }
    }
    sg_postings *p = k->lead;
    if ((rc = sg_postings_advance(p, t, err))) return rc;
    uint32_t at = p->pid;
    if (at != SG_PID_END && (lone || k->nterms == 1) && floor_wanted(k) && !floor_met(k, p) &&
        (rc = seq_candidate(k, at, &at, err)))
      return rc;
    if (at == SG_PID_END) {
      set_end(k);
      break;
    }
    if (at != t) {
      t = at;
      agree = 0;
    }
    if (++agree == n && lone) {
      *out = t;
      return SEOGO_OK;
    }
    if (agree == n) { /* the rarest terms meet: the others too? */
      for (i = 0; i < n && at == t; i++)
        if (kids[i]->nterms > 1 && (rc = seq_candidate(kids[i], t, &at, err))) return rc;
      if (at == SG_PID_END) {
        set_end(kids[i - 1]);
        break;
      }
      if (at == t) {
        *out = t;
        return SEOGO_OK;
      }
      t = at; /* kids[i - 1] moved on: it stands there (a step that does not move it) */
      agree = 0;
      i--;
      continue;
    }
    i = i + 1 == n ? 0 : i + 1;
  }
  *out = SG_PID_END;
  return SEOGO_OK;
}

/* The positions of the term sequences leapfrog left aligned at t. */
static int verify_kids(sg_matcher **kids, size_t n, uint32_t t, int *match, seogo_error *err) {
  *match = 1;
  for (size_t i = 0; i < n && *match; i++) {
    sg_matcher *k = kids[i];
    if (k->kind != M_SEQ || k->pid == t) continue;
    int rc = seq_verify(k, t, match, err);
    if (rc) return rc;
    if (*match) k->pid = t;
  }
  return SEOGO_OK;
}

/* Phrase chains: kid i's occurrence must start 1 (or, after a Korean word, 1 or 2) positions
 * after the end of a chain through kids 0 .. i-1. */
static int phrase_occurrences(sg_matcher *m, seogo_error *err) {
  size_t total = 0;
  for (size_t i = 0; i < m->nkids; i++) total += m->kids[i]->nocc;
  if (occ_reserve(m, 2 * total + 2)) return nomem(err);
  sg_occ *cur = m->buf, *next = m->buf + total + 1;
  size_t ncur = m->kids[0]->nocc;
  memcpy(cur, m->kids[0]->occ, ncur * sizeof *cur);
  for (size_t i = 1; i < m->nkids && ncur > 0; i++) {
    const sg_matcher *kid = m->kids[i];
    const sg_matcher *prev = m->kids[i - 1];
    uint32_t max_gap = m->distance ? m->distance : prev->korean || prev->particle_gap ? 2 : 1;
    size_t nnext = 0;
    for (size_t k = 0; k < kid->nocc; k++) {
      const sg_occ *o = &kid->occ[k];
      int best = -1;
      for (size_t c = 0; c < ncur; c++) {
        if (o->start <= cur[c].end || o->start - cur[c].end > max_gap) continue;
        if (best < 0 || cur[c].weight > cur[best].weight) best = (int)c;
      }
      if (best >= 0)
        next[nnext++] = (sg_occ){cur[best].start, o->end, cur[best].weight + o->weight};
    }
    sg_occ *swap = cur;
    cur = next;
    next = swap;
    ncur = nnext;
  }
  if (cur != m->buf) memmove(m->buf, cur, ncur * sizeof *cur);
  for (size_t c = 0; c < ncur; c++) m->buf[c].weight /= (float)m->nkids;
  m->occ = m->buf;
  m->nocc = ncur;
  return SEOGO_OK;
}

/* First occurrence of `kid` starting at or after `from`, or NULL. */
static const sg_occ *first_from(const sg_matcher *kid, uint32_t from) {
  size_t lo = 0, hi = kid->nocc;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (kid->occ[mid].start < from) lo = mid + 1;
    else hi = mid;
  }
  return lo < kid->nocc ? &kid->occ[lo] : NULL;
}

/* NEAR windows: for each occurrence as the leftmost, the nearest following occurrence of every
 * other kid; a window counts when the last start is at most `distance` after the first end. */
static int near_occurrences(sg_matcher *m, seogo_error *err) {
  size_t total = 0;
  for (size_t i = 0; i < m->nkids; i++) total += m->kids[i]->nocc;
  if (occ_reserve(m, total + 1)) return nomem(err);
  m->nocc = 0;
  for (size_t a = 0; a < m->nkids; a++) {
    for (size_t k = 0; k < m->kids[a]->nocc; k++) {
      const sg_occ *anchor = &m->kids[a]->occ[k];
      uint32_t max_start = anchor->start, max_end = anchor->end, min_end = anchor->end;
      float weight = anchor->weight;
      int ok = 1;
      for (size_t b = 0; b < m->nkids && ok; b++) {
        if (b == a) continue;
        const sg_occ *o = first_from(m->kids[b], anchor->start + (b < a ? 1 : 0));
        if (!o) {
          ok = 0;
          break;
        }
        if (o->start > max_start) max_start = o->start;
        if (o->end > max_end) max_end = o->end;
        if (o->end < min_end) min_end = o->end;
        weight += o->weight;
      }
      if (!ok || (max_start > min_end && max_start - min_end > m->distance)) continue;
      m->buf[m->nocc++] = (sg_occ){anchor->start, max_end, weight / (float)m->nkids};
    }
  }
  m->occ = m->buf;
  return SEOGO_OK;
}

/* A phrase or NEAR group: its words (each found, positions checked) meet in one passage. */
static int group_candidate(sg_matcher *m, uint32_t t, uint32_t *out, seogo_error *err) {
  if (m->seq_kids) /* twice, so that each is compiled for its kind of kids */
    return m->seq_kids == 2 ? leapfrog_seq(m->lf ? m->lf : m->kids, m->nkids, t, 1, out, err)
                            : leapfrog_seq(m->lf ? m->lf : m->kids, m->nkids, t, 0, out, err);
  return leapfrog(m->lf ? m->lf : m->kids, m->nkids, t, out, err);
}

static int group_verify(sg_matcher *m, uint32_t t, int *match, seogo_error *err) {
  int rc = verify_kids(m->kids, m->nkids, t, match, err);
  if (rc || !*match) return rc;
  rc = m->kind == M_PHRASE ? phrase_occurrences(m, err) : near_occurrences(m, err);
  *match = m->nocc > 0;
  return rc;
}

static int seek_positional_group(sg_matcher *m, uint32_t target, seogo_error *err) {
  return seek_verified(m, target, group_candidate, group_verify, err);
}

static int occ_compare(const void *a, const void *b) {
  const sg_occ *x = a, *y = b;
  if (x->start != y->start) return x->start < y->start ? -1 : 1;
  return (x->weight < y->weight) - (x->weight > y->weight); /* heavier first */
}

/* The union's occurrences: those of every kid on the passage, one per start position (the
 * best weighted), so a compound written together is not counted again as its split. */
static int seek_union(sg_matcher *m, uint32_t target, seogo_error *err) {
  uint32_t best = SG_PID_END;
  for (size_t i = 0; i < m->nkids; i++) {
    int rc = seek(m->kids[i], target, err);
    if (rc) return rc;
    if (m->kids[i]->pid < best) best = m->kids[i]->pid;
  }
  if (best == SG_PID_END) {
    set_end(m);
    return SEOGO_OK;
  }
  size_t total = 0;
  for (size_t i = 0; i < m->nkids; i++)
    if (m->kids[i]->pid == best) total += m->kids[i]->nocc;
  if (occ_reserve(m, total)) return nomem(err);
  size_t n = 0;
  for (size_t i = 0; i < m->nkids; i++) {
    if (m->kids[i]->pid != best) continue;
    memcpy(m->buf + n, m->kids[i]->occ, m->kids[i]->nocc * sizeof *m->buf);
    n += m->kids[i]->nocc;
  }
  qsort(m->buf, n, sizeof *m->buf, occ_compare);
  size_t kept = 0;
  for (size_t i = 0; i < n; i++)
    if (kept == 0 || m->buf[kept - 1].start != m->buf[i].start) m->buf[kept++] = m->buf[i];
  m->pid = best;
  m->occ = m->buf;
  m->nocc = kept;
  return SEOGO_OK;
}

/* AND: the positive kids meet in one passage, then none of the excluded ones is there. */
static int and_candidate(sg_matcher *m, uint32_t t, uint32_t *out, seogo_error *err) {
  if (m->seq_kids)
    return m->seq_kids == 2 ? leapfrog_seq(m->lf ? m->lf : m->kids, m->npos, t, 1, out, err)
                            : leapfrog_seq(m->lf ? m->lf : m->kids, m->npos, t, 0, out, err);
  return leapfrog(m->lf ? m->lf : m->kids, m->npos, t, out, err);
}

static int and_verify(sg_matcher *m, uint32_t t, int *match, seogo_error *err) {
  int rc = verify_kids(m->kids, m->npos, t, match, err);
  for (size_t i = m->npos; !rc && i < m->nkids && *match; i++) {
    rc = seek(m->kids[i], t, err);
    *match = m->kids[i]->pid != t;
  }
  return rc;
}

static int seek_and(sg_matcher *m, uint32_t target, seogo_error *err) {
  if (m->never) {
    set_end(m);
    return SEOGO_OK;
  }
  return seek_verified(m, target, and_candidate, and_verify, err);
}

/* An upper bound of a unit's score in any passage, from its terms' records (HUGE_VAL when m is
 * not a unit of terms). */
static double unit_max(const sg_pruner *pr, const sg_matcher *m) {
  double tf = HUGE_VAL;
  uint32_t len = 1;
  if (!m->unit || (m->kind != M_SEQ && m->kind != M_ALT)) return HUGE_VAL;
  if (m->kind == M_ALT) tf = m->alt_max;
  for (size_t i = 0; i < m->nterms; i++) {
    if (m->post[i].max_tf < tf) tf = m->post[i].max_tf;
    if (m->post[i].min_len > len) len = m->post[i].min_len;
  }
  return sg_unit_score(pr->params, m->unit, tf, len);
}

#define OR_SKIP_KIDS 16 /* words of an OR that skip_set considers */

/* The kids of a query's root OR that cannot lift a passage into the top-k even all together
 * (MaxScore): a passage must hold one of the others, so these are only sought where one of the
 * others is. Marks them in skip[]; returns how many. */
static size_t skip_set(const sg_matcher *m, int *skip) {
  const sg_pruner *pr = m->pruner;
  size_t n = 0;
  if (!pr || pr->root != m || pr->theta == -HUGE_VAL || m->nkids > OR_SKIP_KIDS) return 0;
  double max[OR_SKIP_KIDS], sum = 0;
  for (size_t i = 0; i < m->nkids; i++) {
    max[i] = unit_max(pr, m->kids[i]);
    skip[i] = 0;
  }
  for (;;) { /* the weakest first, while their sum cannot beat the top-k */
    size_t low = m->nkids;
    for (size_t i = 0; i < m->nkids; i++)
      if (!skip[i] && (low == m->nkids || max[i] < max[low])) low = i;
    if (low == m->nkids || beats(pr, sum + max[low], 1)) return n;
    sum += max[low];
    skip[low] = 1;
    n++;
  }
}

/* Whether a term sequence matches at t, where the OR stands: its pid becomes t if so. Its next
 * match beyond t is not sought (seek would walk its passages up to there, judging each). */
static int probe(sg_matcher *k, uint32_t t, seogo_error *err) {
  if (k->kind != M_SEQ || t == SG_PID_END) return seek(k, t, err);
  if (k->pid == SG_PID_END || (k->pid >= t && k->pid != 0)) return SEOGO_OK;
  uint32_t at;
  int match = 0, rc = seq_candidate(k, t, &at, err);
  if (!rc && at == SG_PID_END) set_end(k);
  if (!rc && at == t) rc = seq_verify(k, t, &match, err);
  if (!rc && match) k->pid = t;
  return rc;
}

static int seek_or(sg_matcher *m, uint32_t target, seogo_error *err) {
  int skip[OR_SKIP_KIDS];
  size_t nskip = skip_set(m, skip);
  uint32_t best = SG_PID_END;
  for (size_t i = 0; i < m->nkids; i++) {
    if (nskip && skip[i]) continue;
    int rc = seek(m->kids[i], target, err);
    if (rc) return rc;
    if (m->kids[i]->pid < best) best = m->kids[i]->pid;
  }
  if (nskip && best > target) m->pruner->pruned = 1;
  for (size_t i = 0; nskip && i < m->nkids; i++) {
    if (!skip[i]) continue;
    int rc = probe(m->kids[i], best, err);
    if (rc) return rc;
  }
  m->pid = best;
  return SEOGO_OK;
}

static int seek_file(sg_matcher *m, uint32_t target) {
  while (m->range_i < m->nranges && m->ranges[m->range_i].end <= target) m->range_i++;
  if (m->range_i >= m->nranges) {
    set_end(m);
    return SEOGO_OK;
  }
  uint32_t first = m->ranges[m->range_i].first;
  m->pid = first > target ? first : target;
  return SEOGO_OK;
}

static int seek(sg_matcher *m, uint32_t target, seogo_error *err) {
  if (m->pid == SG_PID_END || (m->pid >= target && m->pid != 0)) return SEOGO_OK;
  if (target == SG_PID_END) {
    set_end(m);
    return SEOGO_OK;
  }
  switch (m->kind) {
  case M_SEQ: return seek_seq(m, target, err);
  case M_ALT: return seek_alt(m, target);
  case M_PHRASE:
  case M_NEAR: return seek_positional_group(m, target, err);
  case M_UNION: return seek_union(m, target, err);
  case M_AND: return seek_and(m, target, err);
  case M_OR: return seek_or(m, target, err);
  case M_FILE: return seek_file(m, target);
  }
  return SEOGO_OK;
}

int sg_matcher_seek(sg_matcher *m, uint32_t target, seogo_error *err) {
  return seek(m, target, err);
}

int sg_matcher_rewind(sg_matcher *m, seogo_error *err) {
  m->pid = 0;
  m->nocc = 0;
  m->rec_i = 0;
  m->range_i = 0;
  for (size_t i = 0; i < m->nterms; i++) {
    int rc = sg_postings_rewind(&m->post[i], err);
    if (rc) return rc;
  }
  for (size_t i = 0; i < m->nkids; i++) {
    int rc = sg_matcher_rewind(m->kids[i], err);
    if (rc) return rc;
  }
  return SEOGO_OK;
}


/* ---- explain: the analyzed tree ----------------------------------------------------------- */

static int put(sg_buf *b, const char *s) { return sg_buf_append(b, s, strlen(s)); }

int sg_matcher_describe(const sg_matcher *m, sg_buf *out) {
  char tmp[64];
  int rc = 0;
  switch (m->kind) {
  case M_SEQ:
    rc = put(out, m->label);
    if (m->nterms > 1 || m->korean) rc = rc || put(out, m->korean ? "{korean word}" : "{seq}");
    return rc;
  case M_ALT:
    snprintf(tmp, sizeof tmp, "{%zu terms}", m->nexpanded);
    return put(out, m->label) || put(out, tmp);
  case M_FILE:
    snprintf(tmp, sizeof tmp, "{%zu documents}", m->nranges);
    return put(out, "file:") || put(out, m->label) || put(out, tmp);
  case M_PHRASE: rc = put(out, "PHRASE("); break;
  case M_NEAR: rc = put(out, "NEAR("); break;
  case M_UNION: rc = put(out, "EITHER("); break;
  case M_AND: rc = put(out, "AND("); break;
  case M_OR: rc = put(out, "OR("); break;
  }
  for (size_t i = 0; !rc && i < m->nkids; i++) {
    int excluded = m->kind == M_AND && i >= m->npos;
    if (i) rc = put(out, ", ");
    if (!rc && excluded) rc = put(out, "NOT ");
    if (!rc) rc = sg_matcher_describe(m->kids[i], out);
  }
  if (!rc && m->kind == M_NEAR) {
    snprintf(tmp, sizeof tmp, "; within %u", (unsigned)m->distance);
    rc = put(out, tmp);
  }
  return rc || put(out, ")");
}


/* ---- before the pass: df and idf of every unit, pruning set up ---------------------------- */

/* Units of several terms whose df bound (below) is at most this are counted exactly, when the
 * query has several units to weigh: counting walks at most about this many candidates. */
#define DF_COUNT_MAX 1024

/* An upper bound of the passages where m matches, from the term records alone (their dfs,
 * which sg_postings_open read): a sequence or phrase matches at most where its rarest part
 * does, a union where any part does. An expansion has its occurrences in memory: those are
 * counted. */
static double df_bound(const sg_matcher *m, double n) {
  if (m->kind == M_ALT) {
    uint64_t df = 0;
    for (size_t i = 0; i < m->nrecs; i++) df += i == 0 || m->recs[i].pid != m->recs[i - 1].pid;
    return (double)df;
  }
  double min = n, sum = 0;
  size_t count = m->kind == M_SEQ ? m->nterms : m->nkids;
  for (size_t i = 0; i < count; i++) {
    double x = m->kind == M_SEQ ? (double)m->post[i].df : df_bound(m->kids[i], n);
    if (x < min) min = x;
    sum += x;
  }
  return m->kind == M_UNION ? (sum < n ? sum : n) : min;
}

/* The order in which an intersection tries its parts: the rarest first. */
static double df_rank(const sg_matcher *m, double n) {
  return m->kind == M_FILE || m->kind == M_OR || m->kind == M_AND ? n : m->df_est;
}

static int order_terms(sg_matcher *m, seogo_error *err) {
  if (!(m->order = malloc(m->nterms * sizeof *m->order))) return nomem(err);
  for (size_t i = 0; i < m->nterms; i++) {
    size_t j = i;
    for (; j > 0 && m->post[m->order[j - 1]].df > m->post[i].df; j--) m->order[j] = m->order[j - 1];
    m->order[j] = i;
  }
  return SEOGO_OK;
}

/* Intersections try their rarest part first (a sequence its rarest term), so that a frequent
 * part is only moved to the passages the rare one names. Sets df_est below m. */
static int sort_by_df(sg_matcher *m, double n, seogo_error *err) {
  for (size_t i = 0; i < m->nkids; i++) {
    int rc = sort_by_df(m->kids[i], n, err);
    if (rc) return rc;
  }
  m->lone_term = m->kind == M_SEQ && m->nterms == 1 && !m->word_start;
  int rc = m->kind == M_SEQ && m->nterms > 1 ? order_terms(m, err) : SEOGO_OK;
  if (!rc && m->nterms) m->lead = &m->post[m->order ? m->order[0] : 0];
  if (!rc && m->kind != M_AND && m->kind != M_OR && m->kind != M_FILE)
    m->df_est = df_bound(m, n);
  if (rc || (m->kind != M_AND && m->kind != M_PHRASE && m->kind != M_NEAR)) return rc;
  size_t nk = m->kind == M_AND ? m->npos : m->nkids;
  m->seq_kids = nk > 0 ? 2 : 0; /* 2: every kid a lone_term; 1: a term sequence */
  for (size_t i = 0; i < nk; i++) {
    const sg_matcher *k = m->kids[i];
    if (!k->lone_term && m->seq_kids == 2) m->seq_kids = 1;
    if (k->kind != M_SEQ || k->nterms == 0 || k->word_start) m->seq_kids = 0;
  }
  if (!(m->lf = malloc(nk * sizeof *m->lf))) return nomem(err);
  for (size_t i = 0; i < nk; i++) {
    size_t j = i;
    for (; j > 0 && df_rank(m->lf[j - 1], n) > df_rank(m->kids[i], n); j--)
      m->lf[j] = m->lf[j - 1];
    m->lf[j] = m->kids[i];
  }
  return SEOGO_OK;
}

/* Counts the passages where the unit occurs (a pass over its own matcher, without pruning). */
static int count_df(sg_unit *u, seogo_error *err) {
  sg_matcher *m = u->m;
  u->df = 0;
  uint32_t t = 1;
  for (;;) {
    int rc = seek(m, t, err);
    if (rc) return rc;
    if (m->pid == SG_PID_END) break;
    u->df++;
    t = m->pid + 1;
  }
  return sg_matcher_rewind(m, err);
}

/* The df of a unit: counted when cheap and needed, else estimated by its bound, except that a
 * Korean compound's bound adds the passages of its spellings apart (each as frequent as its
 * rarer word): the whole word's bound stands for it, as those are rare. */
static int unit_df(sg_unit *u, double n, int weighed, seogo_error *err) {
  double bound = df_bound(u->m, n);
  u->df = (uint64_t)(u->m->kind == M_UNION && u->m->nkids ? u->m->kids[0]->df_est : bound);
  u->df_estimated = !u->from_term && u->m->kind != M_ALT;
  if (u->df_estimated && weighed && bound <= DF_COUNT_MAX) {
    u->df_estimated = 0;
    return count_df(u, err);
  }
  return SEOGO_OK;
}

/* Every matcher reached from the root without passing a NOT may skip blocks that cannot score.
 * Single passages are judged (gate_point) before positions are decoded: by term sequences and
 * by a root intersection (whose single terms wait, aligned, for the verdict), and only by those
 * with no intersection above them: an intersection's part judges a passage by its siblings'
 * block bounds too, and when those fail it, it would try its own passages one by one where the
 * intersection would leap to the siblings' next passage. (A compound's split, a phrase inside
 * an OR of ways of writing it, rarely fails the bound, and judging costs more than it saves.) */
static void attach_pruner(sg_matcher *m, sg_pruner *pr, int point, sg_matcher *scope) {
  m->pruner = pr;
  pr->ncursors += m->nterms + (m->kind == M_ALT);
  /* a phrase occurs at most as often as its last word (each occurrence ends on one) */
  if (pr->nunits == 1 && m->unit && m->kind == M_SEQ) m->floor_unit = m->unit;
  if (pr->nunits == 1 && m->unit && m->kind == M_PHRASE && m->nkids > 1 &&
      m->kids[m->nkids - 1]->kind == M_SEQ)
    m->kids[m->nkids - 1]->floor_unit = m->unit;
  /* and in a phrase of two words, at most twice as often as its first (whose occurrence may
   * begin two: the second word one or two positions on, each once); as in an AND of words
   * (set_and_floors), only the rarer word skips by its tfs: the other, made to walk its many
   * passages by tf, would stop at far more of them than the leap to the rarer one's next */
  if (pr->nunits == 1 && m->unit && m->kind == M_PHRASE && m->nkids == 2 &&
      m->kids[0]->kind == M_SEQ && m->lf && m->lf[0] == m->kids[0]) {
    m->kids[0]->floor_unit = m->unit;
    m->kids[0]->floor_share = 2;
  }
  if (m->unit) scope = m;
  m->scope = scope;
  m->point_gate = point && (m->kind == M_SEQ || (m == pr->root && (m->kind == M_PHRASE ||
                                                                    m->kind == M_NEAR ||
                                                                    m->kind == M_AND)));
  int kids_point = point && (m->kind == M_OR || m->kind == M_UNION);
  size_t n = m->kind == M_AND ? m->npos : m->nkids;
  for (size_t i = 0; i < n; i++) attach_pruner(m->kids[i], pr, kids_point, scope);
}

/* A root AND of words: a passage reaches theta only when each word's score there, plus the
 * most the other words can score anywhere (unit_max), does. The rarest word, which leads the
 * intersection, then skips its passages where it occurs too rarely for that, as a lone word
 * does by theta alone: in "협력" AND "기술" (1 GB benchmark) it needs two occurrences once the
 * top 10 is full. (The others, made to walk their many passages by tf, stop at more of them
 * than their leaps to the rarest word's next passage do.) */
static void set_and_floors(sg_pruner *pr) {
  sg_matcher *root = pr->root;
  if (root->kind != M_AND || root->npos < 2 || root->npos != pr->nunits || !root->lf) return;
  sg_matcher *lead = root->lf[0];
  double rest = 0;
  for (size_t i = 0; i < root->npos; i++) {
    sg_matcher *k = root->kids[i];
    if (!k->unit || k->kind != M_SEQ) return;
    double max = unit_max(pr, k);
    if (!isfinite(max)) return;
    if (k != lead) rest += max;
  }
  lead->floor_unit = lead->unit;
  lead->floor_rest = rest;
}

int sg_plan_prepare(sg_plan *plan, sg_reader *r, const sg_rank_params *p, seogo_error *err) {
  double n = (double)r->stats.passages;
  plan->npassages = n;
  int rc = sort_by_df(plan->root, n, err);
  if (rc) return rc;
  for (size_t i = 0; i < plan->nunits; i++) {
    sg_unit *u = plan->units[i];
    if ((rc = unit_df(u, n, plan->nunits > 1, err))) return rc;
    u->idf = sg_idf(n, (double)u->df);
  }
  sg_pruner *pr = calloc(1, sizeof *pr);
  if (!pr) return nomem(err);
  *pr = (sg_pruner){.root = plan->root, .params = p, .reader = r, .theta = -HUGE_VAL,
                    .prox = sg_proximity_max(plan->nunits), .units = plan->units,
                    .nunits = plan->nunits};
  plan->pruner = pr;
  attach_pruner(plan->root, pr, 1, NULL);
  set_and_floors(pr);
  return SEOGO_OK;
}

void sg_plan_set_threshold(sg_plan *plan, double theta) {
  if (plan->pruner) plan->pruner->theta = theta;
}

int sg_plan_pruned(const sg_plan *plan) { return plan->pruner && plan->pruner->pruned; }

int sg_plan_next(sg_plan *plan, uint32_t target, uint32_t *pid, seogo_error *err) {
  if (target == 0) target = 1;
  int rc = gate_range(plan->root, target, &target, err);
  if (!rc) rc = seek(plan->root, target, err);
  *pid = rc ? SG_PID_END : plan->root->pid;
  return rc;
}

/* Marks the units that take part in the match at pid: only matched branches are walked, since
 * a matcher in a failed branch may stand on pid by coincidence. */
static void collect(sg_matcher *m, uint32_t pid) {
  if (m->pid != pid) return;
  if (m->unit) {
    sg_unit *u = m->unit;
    u->present = m->nocc > 0;
    for (size_t k = 0; k < m->nocc; k++) u->tf += m->occ[k].weight;
    return;
  }
  size_t n = m->kind == M_AND ? m->npos : m->kind == M_OR ? m->nkids : 0;
  for (size_t i = 0; i < n; i++) collect(m->kids[i], pid);
}

void sg_plan_collect(sg_plan *plan, uint32_t pid) {
  for (size_t i = 0; i < plan->nunits; i++) {
    plan->units[i]->present = 0;
    plan->units[i]->tf = 0;
  }
  if (pid != SG_PID_END) collect(plan->root, pid);
}

const sg_occ *sg_unit_occurrences(const sg_unit *u, size_t *n) {
  *n = u->present ? u->m->nocc : 0;
  return u->m->occ;
}

static int explain_terms(const sg_matcher *m, sg_reader *r, const sg_rank_params *p, sg_buf *out,
                         seogo_error *err) {
  char tmp[256];
  if (m->kind == M_ALT) {
    snprintf(tmp, sizeof tmp, " %s(%zu terms)", m->label, m->nexpanded);
    return sg_buf_append(out, tmp, strlen(tmp)) ? nomem(err) : SEOGO_OK;
  }
  for (size_t i = 0; i < m->nterms; i++) {
    sg_term_info info = {0};
    int rc = sg_reader_term(r, m->post[i].term, m->post[i].term_len, &info, err);
    if (rc && rc != SEOGO_NOTFOUND) return rc;
    snprintf(tmp, sizeof tmp, " %.*s df=%llu idf=%.3f", (int)m->post[i].term_len, m->post[i].term,
             (unsigned long long)info.df, sg_idf(p->npassages, (double)info.df));
    if (sg_buf_append(out, tmp, strlen(tmp))) return nomem(err);
  }
  /* a union's splits read the same terms as the whole word */
  size_t n = m->kind == M_UNION && m->nkids ? 1 : m->nkids;
  for (size_t i = 0; i < n; i++) {
    int rc = explain_terms(m->kids[i], r, p, out, err);
    if (rc) return rc;
  }
  if (m->kind == M_UNION && sg_buf_append(out, " (or written apart)", 19)) return nomem(err);
  return SEOGO_OK;
}

int sg_unit_explain_terms(const sg_unit *u, sg_reader *r, const sg_rank_params *p, sg_buf *out,
                          seogo_error *err) {
  return explain_terms(u->m, r, p, out, err);
}

int sg_unit_korean(const sg_unit *u) { return u->m->korean; }

int sg_plan_rewind(sg_plan *plan, seogo_error *err) {
  if (plan->pruner) plan->pruner->pass_from = plan->pruner->pass_upto = 0;
  return sg_matcher_rewind(plan->root, err);
}
