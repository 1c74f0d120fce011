/* search.c - the search API: seogo_search() runs parse, plan, evaluation and ranking in one
 * read snapshot and fills the results (hits, snippets, explanation) it hands back. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "searcher.h"

struct seogo_results {
  seogo_hit *hits;
  size_t count;
  uint64_t total;
  int total_exact;
  char *explain;
};

void seogo_search_options_init(seogo_search_options *o) {
  if (!o) return;
  memset(o, 0, sizeof *o);
  o->limit = 10;
  o->offset = 0;
  o->group = 0;
  o->snippets = 1;
  o->snippet_chars = 240;
  o->k1 = 1.2;
  o->b = 0.3;
  o->explain = 0;
  o->exact_total = 0;
}

size_t seogo_results_count(const seogo_results *r) { return r ? r->count : 0; }

uint64_t seogo_results_total(const seogo_results *r) { return r ? r->total : 0; }

int seogo_results_total_is_exact(const seogo_results *r) { return r ? r->total_exact : 1; }

const seogo_hit *seogo_results_hit(const seogo_results *r, size_t i) {
  return r && i < r->count ? &r->hits[i] : NULL;
}

const char *seogo_results_explain(const seogo_results *r) { return r ? r->explain : NULL; }

void seogo_results_free(seogo_results *r) {
  if (!r) return;
  for (size_t i = 0; i < r->count; i++) {
    free((char *)r->hits[i].path);
    free((char *)r->hits[i].snippet);
    free((seogo_range *)r->hits[i].highlights);
  }
  free(r->hits);
  free(r->explain);
  free(r);
}

static int nomem(seogo_error *err) { return sg_fail(err, SEOGO_ENOMEM, "out of memory"); }


static int check_options(const seogo_search_options *o, seogo_error *err) {
  if (!(o->k1 >= 0 && o->k1 <= 100))
    return sg_fail(err, SEOGO_EINVAL, "k1 must be between 0 and 100 (got %g)", o->k1);
  if (!(o->b >= 0 && o->b <= 1))
    return sg_fail(err, SEOGO_EINVAL, "b must be between 0 and 1 (got %g)", o->b);
  if (o->snippets && o->snippet_chars == 0)
    return sg_fail(err, SEOGO_EINVAL, "snippet_chars must be at least 1");
  return SEOGO_OK;
}

/* Everything one search holds. */
typedef struct search {
  seogo_index *index;
  seogo_search_options opt;
  sg_reader reader;
  int reading;
  sg_analyzer *analyzer;
  sg_qnode *query;
  sg_plan plan;
  int planned;
  sg_rank_params params;
  sg_topk top;
  uint64_t total; /* hits (documents when grouping) */
  seogo_error *err;
} search;

/* ---- evaluation and ranking ------------------------------------------------------------ */

/* The document whose passages the scan is in (passages of a document are contiguous). */
typedef struct doc_span {
  uint32_t doc_id, first, end;
  int valid;
} doc_span;

static int doc_of(search *s, uint32_t pid, doc_span *span) {
  if (span->valid && pid >= span->first && pid < span->end) return SEOGO_OK;
  sg_passage p;
  sg_doc d;
  int rc = sg_reader_passage(&s->reader, pid, &p, NULL, s->err);
  if (rc == SEOGO_NOTFOUND)
    return sg_fail(s->err, SEOGO_ECORRUPT, "index is corrupt: passage %u has no record",
                   (unsigned)pid);
  if (rc || (rc = sg_reader_doc(&s->reader, p.doc_id, &d, s->err))) {
    if (rc == SEOGO_NOTFOUND)
      rc = sg_fail(s->err, SEOGO_ECORRUPT, "index is corrupt: passage %u has no document",
                   (unsigned)pid);
    return rc;
  }
  span->doc_id = p.doc_id;
  span->valid = 1;
  span->first = d.first_pid;
  span->end = d.first_pid + d.npassages;
  if (pid < span->first || pid >= span->end) { /* inconsistent records: one passage alone */
    span->first = pid;
    span->end = pid + 1;
  }
  return SEOGO_OK;
}

/* Once the top k is full, what a passage must beat is its worst entry: the plan prunes below
 * it (unless every match must be counted). */
static int push(search *s, const sg_scored *hit) {
  s->total++;
  if (sg_topk_push(&s->top, hit)) return nomem(s->err);
  if (!s->opt.exact_total && s->top.k && s->top.n == s->top.k)
    sg_plan_set_threshold(&s->plan, s->top.heap[0].score);
  return SEOGO_OK;
}

/* The grouping walk's state: the document of the last passage and its best passage so far. */
typedef struct walk {
  doc_span span;
  sg_scored best;
  int have_best;
} walk;

/* Takes one scored passage, in passage id order: into the top-k, or with grouping into its
 * document's best (a document's passages are contiguous, so a new document closes the last). */
static int consider(search *s, walk *w, sg_scored *hit) {
  if (!s->opt.group) return push(s, hit);
  uint32_t prev_doc = w->span.valid ? w->span.doc_id : 0;
  int rc = doc_of(s, hit->pid, &w->span);
  if (rc) return rc;
  hit->doc_id = w->span.doc_id;
  if (w->have_best && w->span.doc_id != prev_doc) {
    if ((rc = push(s, &w->best))) return rc;
    w->have_best = 0;
  }
  if (!w->have_best || hit->score > w->best.score) w->best = *hit;
  w->have_best = 1;
  return SEOGO_OK;
}

/* Walks the matching passages in id order, scoring each into the top-k (with grouping, each
 * document's best passage); the plan skips those that cannot beat the top-k's worst. */
static int run(search *s) {
  walk w = {0};
  uint32_t target = 1;
  int rc = SEOGO_OK;
  while (!rc && target != SG_PID_END) {
    uint32_t pid, dl;
    if ((rc = sg_plan_next(&s->plan, target, &pid, s->err)) || pid == SG_PID_END) break;
    target = pid + 1;
    if ((rc = sg_reader_norm(&s->reader, pid, &dl, s->err))) break;
    if (dl == 0) { /* the writer removes a passage's postings with it: damage */
      rc = sg_fail(s->err, SEOGO_ECORRUPT, "index is corrupt: passage %u is in postings but "
                   "has no length record", (unsigned)pid);
      break;
    }
    sg_plan_collect(&s->plan, pid);
    sg_scored hit = {sg_score_passage(&s->plan, &s->params, dl, NULL), pid, 0};
    rc = consider(s, &w, &hit);
  }
  if (!rc && w.have_best) rc = push(s, &w.best);
  return rc;
}

/* ---- results -------------------------------------------------------------------------- */

static int fill_snippet(search *s, seogo_hit *h, const sg_doc *d, const sg_passage *p) {
  const char *text;
  size_t len;
  int rc = sg_reader_text(&s->reader, p->doc_id, &text, &len, s->err);
  if (rc) return rc;
  sg_snippet snip;
  sg_snippet_init(&snip);
  rc = sg_snippet_make(s->analyzer, text, len, d, p, s->plan.patterns, s->plan.npatterns,
                       s->opt.snippet_chars, &snip, s->err);
  if (rc) {
    sg_snippet_free(&snip);
    return rc;
  }
  if (!snip.text.data && sg_buf_putc(&snip.text, 0) == 0) snip.text.len = 0;
  if (!snip.text.data) return nomem(s->err);
  h->snippet = (const char *)snip.text.data;
  h->snippet_len = snip.text.len;
  h->highlights = snip.ranges;
  h->highlight_count = snip.nranges;
  return SEOGO_OK;
}

/* A hit's file and lines come from its passage's page; the document's record is read only
 * for a snippet. */
static int fill_hit(search *s, const sg_scored *sc, seogo_hit *h) {
  sg_passage p;
  sg_page_doc pd;
  sg_doc d;
  int rc = sg_reader_passage(&s->reader, sc->pid, &p, &pd, s->err);
  if (!rc && s->opt.snippets) rc = sg_reader_doc(&s->reader, p.doc_id, &d, s->err);
  if (rc == SEOGO_NOTFOUND)
    rc = sg_fail(s->err, SEOGO_ECORRUPT, "index is corrupt: passage %u lost its records",
                 (unsigned)sc->pid);
  if (rc) return rc;
  char *path = malloc(pd.path_len + 1);
  if (!path) return nomem(s->err);
  memcpy(path, pd.path, pd.path_len);
  path[pd.path_len] = '\0';
  h->path = path;
  h->line_start = p.line_start;
  h->line_end = p.line_end;
  h->score = sc->score;
  h->passage_id = sc->pid;
  h->doc_id = p.doc_id;
  return s->opt.snippets ? fill_snippet(s, h, &d, &p) : SEOGO_OK;
}

typedef struct hit_slot {
  uint32_t pid, at; /* at: the hit's place in the results */
} hit_slot;

static int slot_compare(const void *a, const void *b) {
  uint32_t x = ((const hit_slot *)a)->pid, y = ((const hit_slot *)b)->pid;
  return x < y ? -1 : x > y;
}

/* Fills the hits in passage order, so that hits sharing a passage group or a document find
 * it read already (sg_reader keeps the last of each). */
static int take_hits(search *s, seogo_results *res) {
  sg_topk_sort(&s->top);
  size_t from = s->opt.offset < s->top.n ? s->opt.offset : s->top.n;
  size_t n = s->top.n - from;
  if (n == 0) return SEOGO_OK;
  const sg_scored *top = s->top.heap + from;
  hit_slot *slots = malloc(n * sizeof *slots);
  res->hits = calloc(n, sizeof *res->hits);
  if (!res->hits || !slots) {
    free(slots);
    return nomem(s->err);
  }
  res->count = n; /* the hits not filled yet are empty, which seogo_results_free allows */
  for (size_t i = 0; i < n; i++) slots[i] = (hit_slot){top[i].pid, (uint32_t)i};
  qsort(slots, n, sizeof *slots, slot_compare);
  int rc = SEOGO_OK;
  for (size_t i = 0; i < n && !rc; i++)
    rc = fill_hit(s, &top[slots[i].at], &res->hits[slots[i].at]);
  free(slots);
  return rc;
}

/* ---- explain ----------------------------------------------------------------------------- */

static int explain_header(search *s, sg_buf *b) {
  int rc = sg_buf_append(b, "query: ", 7) || sg_qnode_format(s->query, b) ||
           sg_buf_append(b, "\nplan:  ", 8) ||
           sg_buf_append(b, s->plan.explain.data, s->plan.explain.len) ||
           sg_buf_printf(b, "\npassages=%.0f avgdl=%.2f k1=%g b=%g\n", s->params.npassages,
                   s->params.avgdl, s->opt.k1, s->opt.b);
  for (size_t i = 0; !rc && i < s->plan.nunits; i++) {
    const sg_unit *u = s->plan.units[i];
    rc = sg_buf_printf(b, "unit %s: df=%s%llu idf=%.3f%s\n", u->label,
                       u->df_estimated ? "~" : "", (unsigned long long)u->df, u->idf,
                       u->from_term      ? ""
                       : u->df_estimated ? " (df estimated from its terms)"
                                         : " (df counted)");
    if (!rc && !u->from_term) {
      if (sg_buf_append(b, "  terms:", 8)) return nomem(s->err);
      /* a status of its own (a damaged term record is SEOGO_ECORRUPT, not out of memory) */
      int st = sg_unit_explain_terms(u, &s->reader, &s->params, b, s->err);
      if (st) return st;
      rc = sg_buf_putc(b, '\n');
    }
  }
  return rc ? nomem(s->err) : SEOGO_OK;
}

static int pid_compare(const void *a, const void *b) {
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return x < y ? -1 : x > y;
}

/* Re-scores each returned hit with the components written out: the plan is rewound and moved
 * to the hits' passages in id order. */
static int explain_hits(search *s, const seogo_results *res, sg_buf *b) {
  size_t n = res->count;
  uint32_t *pids = malloc((n ? n : 1) * sizeof *pids);
  sg_buf *parts = calloc(n ? n : 1, sizeof *parts);
  sg_plan_set_threshold(&s->plan, -HUGE_VAL); /* the hits themselves, however they score */
  int rc = pids && parts ? sg_plan_rewind(&s->plan, s->err) : nomem(s->err);
  for (size_t i = 0; !rc && i < n; i++) pids[i] = (uint32_t)res->hits[i].passage_id;
  if (!rc) qsort(pids, n, sizeof *pids, pid_compare);
  for (size_t i = 0; !rc && i < n; i++) {
    uint32_t pid, dl;
    if ((rc = sg_plan_next(&s->plan, pids[i], &pid, s->err))) break;
    if (pid != pids[i]) continue;
    if ((rc = sg_reader_norm(&s->reader, pid, &dl, s->err))) break;
    sg_plan_collect(&s->plan, pid);
    for (size_t h = 0; h < n; h++)
      if (res->hits[h].passage_id == pid) sg_score_passage(&s->plan, &s->params, dl, &parts[h]);
  }
  for (size_t h = 0; !rc && h < n; h++) {
    const seogo_hit *hit = &res->hits[h];
    if (sg_buf_printf(b, "hit %zu: %s:%u-%u passage=%llu score=%.3f\n", h + 1, hit->path,
                (unsigned)hit->line_start, (unsigned)hit->line_end,
                (unsigned long long)hit->passage_id, hit->score) ||
        sg_buf_append(b, parts[h].data, parts[h].len))
      rc = nomem(s->err);
  }
  for (size_t h = 0; parts && h < n; h++) sg_buf_free(&parts[h]);
  free(parts);
  free(pids);
  return rc;
}

static int explain(search *s, seogo_results *res) {
  sg_buf b = {0};
  int rc = explain_header(s, &b);
  if (!rc) rc = explain_hits(s, res, &b);
  if (!rc && sg_buf_putc(&b, 0)) rc = nomem(s->err);
  if (rc) {
    sg_buf_free(&b);
    return rc;
  }
  res->explain = (char *)b.data;
  return SEOGO_OK;
}

/* ---- the API ---------------------------------------------------------------------------- */

static int search_run(search *s, const char *query, size_t query_len, seogo_results *res) {
  int rc = sg_query_parse(query, query_len, &s->query, s->err);
  if (rc) return rc;
  if ((rc = sg_index_borrow_analyzer(s->index, &s->analyzer, s->err))) return rc;
  if ((rc = sg_reader_begin(&s->reader, s->index, s->err))) return rc;
  s->reading = 1;
  if ((rc = sg_plan_build(&s->plan, s->query, &s->reader, s->analyzer, s->err))) return rc;
  s->planned = 1;
  sg_rank_params_init(&s->params, &s->reader.stats, s->opt.k1, s->opt.b);
  if ((rc = sg_plan_prepare(&s->plan, &s->reader, &s->params, s->err))) return rc;
  uint64_t k = (uint64_t)s->opt.offset + s->opt.limit;
  sg_topk_init(&s->top, s->opt.limit ? (size_t)k : 0);
  if ((rc = run(s))) return rc;
  res->total = s->total;
  res->total_exact = !sg_plan_pruned(&s->plan);
  if ((rc = take_hits(s, res))) return rc;
  if (s->opt.explain) rc = explain(s, res);
  return rc;
}

static void search_end(search *s) {
  sg_topk_free(&s->top);
  if (s->planned) sg_plan_free(&s->plan);
  if (s->reading) sg_reader_end(&s->reader);
  if (s->analyzer) sg_index_release_analyzer(s->index, s->analyzer);
  sg_qnode_free(s->query);
}

int seogo_search(seogo_index *index, const char *query, size_t query_len,
                 const seogo_search_options *options, seogo_results **out, seogo_error *err) {
  if (!out) return sg_fail(err, SEOGO_EINVAL, "results pointer is NULL");
  *out = NULL;
  if (!index) return sg_fail(err, SEOGO_EINVAL, "index handle is NULL");
  if (!query && query_len) return sg_fail(err, SEOGO_EINVAL, "query is NULL");
  search s = {.index = index, .err = err};
  if (options) s.opt = *options;
  else seogo_search_options_init(&s.opt);
  int rc = check_options(&s.opt, err);
  if (rc) return rc;
  seogo_results *res = calloc(1, sizeof *res);
  if (!res) return nomem(err);
  rc = search_run(&s, query ? query : "", query_len, res);
  search_end(&s);
  if (rc) {
    seogo_results_free(res);
    return rc;
  }
  *out = res;
  return SEOGO_OK;
}
