/* rank.c - BM25 over passages with phrase and proximity boosts, and the top-k heap. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "searcher.h"

/* Explicit phrases and NEAR groups are rarer than their words, which idf already rewards; the
 * extra boost says the user asked for the words together. */
#define PHRASE_BOOST 1.25
/* Query-order neighbours in a passage: reading as a phrase earns the full bonus, standing within
 * PROXIMITY_WINDOW positions earns a share that shrinks with distance. */
#define PROXIMITY_BONUS 0.5
#define PROXIMITY_WINDOW 8
/* Occurrences looked at per unit when measuring distances (passages are short). */
#define PROXIMITY_SCAN 256

void sg_rank_params_init(sg_rank_params *p, const sg_stats *stats, double k1, double b) {
  p->k1 = k1;
  p->b = b;
  p->npassages = (double)stats->passages;
  p->avgdl = stats->passages ? (double)stats->tokens / (double)stats->passages : 1.0;
  if (p->avgdl <= 0) p->avgdl = 1.0;
}

double sg_idf(double npassages, double df) {
  if (df > npassages) df = npassages;
  return log(1.0 + (npassages - df + 0.5) / (df + 0.5));
}

double sg_bm25(const sg_rank_params *p, double idf, double tf, double dl) {
  if (tf <= 0) return 0;
  double norm = p->k1 * (1.0 - p->b + p->b * dl / p->avgdl);
  return idf * tf * (p->k1 + 1.0) / (tf + norm);
}

/* How close b's occurrences come after (or before) a's: 1 when b reads as the next word of a
 * phrase, less within the window, 0 beyond. */
static double closeness(const sg_unit *a, const sg_unit *b) {
  size_t na, nb;
  const sg_occ *oa = sg_unit_occurrences(a, &na), *ob = sg_unit_occurrences(b, &nb);
  if (na > PROXIMITY_SCAN) na = PROXIMITY_SCAN;
  if (nb > PROXIMITY_SCAN) nb = PROXIMITY_SCAN;
  uint32_t max_gap = sg_unit_korean(a) ? 2 : 1;
  double best = 0;
  for (size_t i = 0; i < na && best < 1.0; i++) {
    for (size_t j = 0; j < nb; j++) {
      int64_t gap = (int64_t)ob[j].start - (int64_t)oa[i].end;
      if (gap >= 1 && gap <= (int64_t)max_gap) {
        best = 1.0;
        break;
      }
      int64_t d = gap >= 1 ? gap : (int64_t)oa[i].start - (int64_t)ob[j].end;
      if (d < 1) d = 1;
      if (d <= PROXIMITY_WINDOW) {
        double c = 0.5 * (double)(PROXIMITY_WINDOW + 1 - d) / PROXIMITY_WINDOW;
        if (c > best) best = c;
      }
    }
  }
  return best;
}

double sg_proximity_factor(sg_unit **units, size_t n) {
  if (n < 2) return 1.0;
  double sum = 0;
  for (size_t i = 0; i + 1 < n; i++)
    if (units[i]->present && units[i + 1]->present) sum += closeness(units[i], units[i + 1]);
  return 1.0 + PROXIMITY_BONUS * sum / (double)(n - 1);
}


double sg_proximity_max(size_t n) { return n < 2 ? 1.0 : 1.0 + PROXIMITY_BONUS; }

double sg_unit_score(const sg_rank_params *p, const sg_unit *u, double tf, double dl) {
  return sg_bm25(p, u->idf, tf, dl) * (u->grouped ? PHRASE_BOOST : 1.0);
}

double sg_unit_tf_for(const sg_rank_params *p, const sg_unit *u, double score, double dl) {
  double top = u->idf * (p->k1 + 1.0) * (u->grouped ? PHRASE_BOOST : 1.0); /* tf -> infinity */
  if (score <= 0) return 0;
  if (score >= top) return HUGE_VAL;
  return score * p->k1 * (1.0 - p->b + p->b * dl / p->avgdl) / (top - score);
}

double sg_score_passage(const sg_plan *plan, const sg_rank_params *p, double dl,
                        sg_buf *explain) {
  return sg_score_units(plan, p, dl, sg_proximity_factor(plan->units, plan->nunits), explain);
}

double sg_score_units(const sg_plan *plan, const sg_rank_params *p, double dl, double proximity,
                      sg_buf *explain) {
  double sum = 0;
  for (size_t i = 0; i < plan->nunits; i++) {
    const sg_unit *u = plan->units[i];
    if (!u->present) continue;
    double s = sg_unit_score(p, u, u->tf, dl);
    sum += s;
    if (explain)
      sg_buf_printf(explain, "    %s: tf=%.2f idf=%.3f dl=%.0f bm25=%.3f%s\n", u->label, u->tf, u->idf,
              dl, s, u->grouped ? " (phrase boost)" : "");
  }
  if (explain && plan->nunits > 1) sg_buf_printf(explain, "    proximity x%.3f\n", proximity);
  return sum * proximity;
}

/* ---- top-k ------------------------------------------------------------------------------ */

static int better(const sg_scored *a, const sg_scored *b) {
  if (a->score != b->score) return a->score > b->score;
  return a->pid < b->pid;
}

int sg_topk_init(sg_topk *t, size_t k) {
  t->n = t->cap = 0;
  t->k = k;
  t->heap = NULL;
  return 0;
}

void sg_topk_free(sg_topk *t) {
  free(t->heap);
  t->heap = NULL;
  t->n = t->k = t->cap = 0;
}

/* The heap keeps the worst kept entry at the root, so a newcomer is compared with it. */
static void sift_down(sg_topk *t, size_t i) {
  for (;;) {
    size_t l = 2 * i + 1, r = l + 1, worst = i;
    if (l < t->n && better(&t->heap[worst], &t->heap[l])) worst = l;
    if (r < t->n && better(&t->heap[worst], &t->heap[r])) worst = r;
    if (worst == i) return;
    sg_scored tmp = t->heap[i];
    t->heap[i] = t->heap[worst];
    t->heap[worst] = tmp;
    i = worst;
  }
}

static void sift_up(sg_topk *t, size_t i) {
  while (i > 0) {
    size_t parent = (i - 1) / 2;
    if (!better(&t->heap[parent], &t->heap[i])) return;
    sg_scored tmp = t->heap[i];
    t->heap[i] = t->heap[parent];
    t->heap[parent] = tmp;
    i = parent;
  }
}

int sg_topk_push(sg_topk *t, const sg_scored *s) {
  if (t->k == 0) return 0;
  if (t->n < t->k) {
    /* grown on demand: k may be far larger than the number of matches */
    if (t->n == t->cap) {
      size_t cap = t->cap ? 2 * t->cap : 64;
      if (cap > t->k) cap = t->k;
      sg_scored *h = realloc(t->heap, cap * sizeof *h);
      if (!h) return -1;
      t->heap = h;
      t->cap = cap;
    }
    t->heap[t->n++] = *s;
    sift_up(t, t->n - 1);
  } else if (better(s, &t->heap[0])) {
    t->heap[0] = *s;
    sift_down(t, 0);
  }
  return 0;
}

static int compare_best_first(const void *a, const void *b) {
  const sg_scored *x = a, *y = b;
  if (better(x, y)) return -1;
  return better(y, x) ? 1 : 0;
}

void sg_topk_sort(sg_topk *t) {
  if (t->n) qsort(t->heap, t->n, sizeof *t->heap, compare_best_first);
}
