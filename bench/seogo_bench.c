/* seogo_bench.c - benchmark driver for Seogo through its public API (include/seogo.h) only.
 *
 * Unlike the other drivers, Seogo indexes the generated documents themselves (--corpus DIR):
 * splitting them into passages and repairing PDF line breaks is part of its work. The other
 * engines then index the passages it made (see seogo_export.c and README.md).
 *
 *   seogo_bench --corpus DIR --queries FILE --db DIR --out FILE.json [--reps N]
 *
 * Queries use Seogo's query language: words, "phrases", A AND B, A OR B, A NOT B. Timed calls
 * ask for the top 10 without snippets (the other engines return ids only).
 */
#include <dirent.h>

#include "seogo.h"
#include "engines/driver.h"

#define COMMIT_BYTES (64u << 20) /* commit in batches, as seogo-index does */

typedef struct seogo_ctx {
  seogo_index *index;
  uint64_t passages;
} seogo_ctx;

static void report(const char *what, const seogo_error *err) {
  fprintf(stderr, "seogo_bench: %s: %s\n", what, err->message);
}

static int name_filter(const struct dirent *d) { return d->d_name[0] != '.'; }

/* Adds every file of dir (in name order) and commits in batches. */
static int add_corpus(seogo_ctx *c, const char *dir, drv_index_info *info) {
  struct dirent **names;
  int n = scandir(dir, &names, name_filter, alphasort);
  if (n < 0) return fprintf(stderr, "seogo_bench: %s: %s\n", dir, strerror(errno)), -1;
  int rc = 0;
  seogo_error err;
  for (int i = 0; i < n; i++) {
    char path[4096];
    seogo_add_info added;
    snprintf(path, sizeof path, "%s/%s", dir, names[i]->d_name);
    if (rc == 0 && seogo_add_file(c->index, path, names[i]->d_name, &added, &err) != SEOGO_OK) {
      report(path, &err);
      rc = -1;
    }
    if (rc == 0) {
      info->input_bytes += added.bytes;
      info->items++;
    }
    if (rc == 0 && seogo_pending_bytes(c->index) >= COMMIT_BYTES &&
        seogo_commit(c->index, &err) != SEOGO_OK) {
      report("commit", &err);
      rc = -1;
    }
    free(names[i]);
  }
  free(names);
  return rc;
}

static int seogo_bench_index(void *vc, const drv_args *a, drv_index_info *info) {
  seogo_ctx *c = vc;
  seogo_error err;
  if (!a->corpus) return fprintf(stderr, "seogo_bench: --corpus DIR is required\n"), -1;
  if (seogo_open(a->db, SEOGO_OPEN_WRITE, &c->index, &err) != SEOGO_OK)
    return report(a->db, &err), -1;
  if (add_corpus(c, a->corpus, info) != 0) return -1;
  if (seogo_commit(c->index, &err) != SEOGO_OK) return report("commit", &err), -1;
  seogo_close(c->index);
  c->index = NULL;
  return 0;
}

static int seogo_bench_open_search(void *vc, const drv_args *a) {
  seogo_ctx *c = vc;
  seogo_error err;
  seogo_index_stats stats;
  if (seogo_open(a->db, SEOGO_OPEN_READ, &c->index, &err) != SEOGO_OK)
    return report(a->db, &err), -1;
  if (seogo_index_stats_get(c->index, &stats, &err) != SEOGO_OK) return report("stats", &err), -1;
  c->passages = stats.passages;
  return 0;
}

static void seogo_operand(const char *s, char *out, size_t cap) {
  snprintf(out, cap, drv_is_phrase(s) ? "\"%s\"" : "%s", s);
}

static void seogo_query(const drv_query *q, char *out, size_t cap) {
  static const char *const ops[] = {"", "", " AND ", " OR ", " NOT "};
  char a[DRV_MAX_OPERAND + 4], b[DRV_MAX_OPERAND + 4];
  if (q->op == DRV_PHRASE) {
    snprintf(out, cap, "\"%s\"", q->a);
    return;
  }
  seogo_operand(q->a, a, sizeof a);
  if (q->op == DRV_TERM) {
    snprintf(out, cap, "%s", a);
    return;
  }
  seogo_operand(q->b, b, sizeof b);
  snprintf(out, cap, "%s%s%s", a, ops[q->op], b);
}

static int seogo_bench_search(void *vc, const drv_query *q, size_t limit, drv_ids *out) {
  seogo_ctx *c = vc;
  char text[3 * DRV_MAX_OPERAND];
  seogo_query(q, text, sizeof text);
  seogo_search_options opts;
  seogo_search_options_init(&opts);
  opts.snippets = 0;
  opts.limit = (uint32_t)(limit ? limit : c->passages);
  seogo_results *res;
  seogo_error err;
  out->n = 0;
  if (seogo_search(c->index, text, strlen(text), &opts, &res, &err) != SEOGO_OK) return -1;
  size_t n = seogo_results_count(res);
  for (size_t i = 0; i < n; i++) drv_ids_push(out, seogo_results_hit(res, i)->passage_id);
  seogo_results_free(res);
  return 0;
}

static void seogo_bench_close(void *vc) {
  seogo_ctx *c = vc;
  seogo_close(c->index);
}

int main(int argc, char **argv) {
  seogo_ctx c;
  memset(&c, 0, sizeof c);
  drv_engine e = {"seogo", seogo_version(),
                  "public API; documents added with seogo_add_file, committed every 64 MB; "
                  "top 10 without snippets",
                  &c, seogo_bench_index, seogo_bench_open_search, seogo_bench_search,
                  seogo_bench_close};
  return drv_main(argc, argv, &e);
}
