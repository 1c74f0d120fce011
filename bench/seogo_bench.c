/* seogo_bench.c - benchmark driver for Seogo through its public API (include/seogo.h) only.
 *
 * Unlike the other drivers, Seogo indexes the generated documents themselves (--corpus DIR):
 * splitting them into passages and repairing PDF line breaks is part of its work. The other
 * engines then index the passages it made (see seogo_export.c and README.md).
 *
 *   seogo_bench --corpus DIR --queries FILE --db DIR --out FILE.json [--reps N] [--threads N]
 *
 * Indexing runs as seogo-index does, through seogo_add_files: --threads analysis threads
 * (default: the number of cores, at most 8) read and analyze files a few ahead, the main thread
 * adds them in name order, committing every 64 MB, and publishes at the end (seogo_publish,
 * which may pack the index), all timed.
 *
 * Queries use Seogo's query language: words, "phrases", A AND B, A OR B, A NOT B. Timed calls
 * ask for the top 10 without snippets (the other engines return ids only).
 */
#include <dirent.h>
#include <unistd.h>

#include "seogo.h"
#include "engines/driver.h"

#define COMMIT_BYTES (64u << 20) /* commit in batches, as seogo-index does */

typedef struct seogo_ctx {
  seogo_index *index;
  uint64_t passages;
  int threads; /* analysis threads while indexing */
} seogo_ctx;

static void report(const char *what, const seogo_error *err) {
  fprintf(stderr, "seogo_bench: %s: %s\n", what, err->message);
}

static int name_filter(const struct dirent *d) { return d->d_name[0] != '.'; }

/* Counts what was added; a file that could not be added fails the run. */
typedef struct adding {
  drv_index_info *info;
  int failed;
} adding;

static int on_file(void *ctx, const seogo_file_report *r) {
  adding *a = ctx;
  if (r->status != SEOGO_OK) {
    report(r->path, r->error);
    a->failed = 1;
    return 1;
  }
  a->info->input_bytes += r->info->bytes;
  a->info->items++;
  return 0;
}

/* Indexes every file of dir (in name order) with seogo_add_files, named relative to dir. */
static int add_corpus(seogo_ctx *c, const char *dir, drv_index_info *info) {
  struct dirent **entries;
  int n = scandir(dir, &entries, name_filter, alphasort);
  if (n < 0) return fprintf(stderr, "seogo_bench: %s: %s\n", dir, strerror(errno)), -1;
  char **paths = calloc((size_t)n + 1, sizeof *paths);
  const char **names = calloc((size_t)n + 1, sizeof *names);
  if (!paths || !names) drv_die("out of memory");
  for (int i = 0; i < n; i++) {
    size_t len = strlen(dir) + strlen(entries[i]->d_name) + 2;
    if (!(paths[i] = malloc(len))) drv_die("out of memory");
    snprintf(paths[i], len, "%s/%s", dir, entries[i]->d_name);
    names[i] = paths[i] + strlen(dir) + 1;
  }
  adding a = {info, 0};
  seogo_add_files_options how = {
      .threads = c->threads, .commit_bytes = COMMIT_BYTES, .on_file = on_file, .ctx = &a};
  seogo_error err;
  int rc = seogo_add_files(c->index, (const char *const *)paths, names, (size_t)n, &how, &err);
  if (rc != SEOGO_OK) report(dir, &err);
  for (int i = 0; i < n; i++) {
    free(paths[i]);
    free(entries[i]);
  }
  free(entries);
  free(paths);
  free(names);
  return rc != SEOGO_OK || a.failed ? -1 : 0;
}

static int seogo_bench_index(void *vc, const drv_args *a, drv_index_info *info) {
  seogo_ctx *c = vc;
  seogo_error err;
  if (!a->corpus) return fprintf(stderr, "seogo_bench: --corpus DIR is required\n"), -1;
  if (seogo_open(a->db, SEOGO_OPEN_WRITE, &c->index, &err) != SEOGO_OK)
    return report(a->db, &err), -1;
  if (add_corpus(c, a->corpus, info) != 0) return -1;
  /* as seogo-index ends a run: publishing may pack the index, which is part of building it */
  if (seogo_publish(c->index, &err) != SEOGO_OK) return report("publish", &err), -1;
  seogo_close(c->index);
  c->index = NULL;
  return 0;
}

/* The pages the stored text takes on disk (the size target counts the index without them). */
static uint64_t stored_text_bytes(const seogo_index_stats *st, const char **how) {
  *how = "seogo_index_stats.text_disk_bytes: the LMDB pages of the stored text";
  return st->text_disk_bytes;
}

static void seogo_bench_sizes(void *vc, const drv_args *a, drv_sizes *out) {
  (void)vc;
  seogo_index *index;
  seogo_index_stats st;
  seogo_error err;
  if (seogo_open(a->db, SEOGO_OPEN_READ, &index, &err) != SEOGO_OK) return report(a->db, &err);
  if (seogo_index_stats_get(index, &st, &err) == SEOGO_OK) {
    const char *how;
    out->text_bytes = stored_text_bytes(&st, &how);
    out->text_known = 1;
    snprintf(out->how, sizeof out->how, "%s", how);
  }
  seogo_close(index);
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

/* A Hangul syllable's UTF-8 lead byte is 0xEA..0xED. */
static int starts_hangul(const char *s) {
  unsigned char c = (unsigned char)s[0];
  return c >= 0xEA && c <= 0xED;
}

/* Phrases and Korean words are quoted: the Korean truth is substring matching, which a quoted
 * word asks of Seogo (unquoted, a compound also matches written apart). */
static void seogo_operand(const char *s, char *out, size_t cap) {
  snprintf(out, cap, drv_is_phrase(s) || starts_hangul(s) ? "\"%s\"" : "%s", s);
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

#define MAX_THREADS 8 /* seogo_add_files' limit */

static int default_threads(void) {
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n < 1 ? 1 : n > MAX_THREADS ? MAX_THREADS : (int)n;
}

int main(int argc, char **argv) {
  seogo_ctx c;
  memset(&c, 0, sizeof c);
  c.threads = default_threads();
  int n = 1; /* --threads N is Seogo's own; the rest is the common command line */
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--threads") && i + 1 < argc)
      c.threads = atoi(argv[++i]);
    else
      argv[n++] = argv[i];
  }
  if (c.threads < 1 || c.threads > MAX_THREADS) drv_die("--threads: 1 to 8");
  char config[320];
  snprintf(config, sizeof config,
           "public API; seogo_add_files with %d analysis thread%s feeding the writing thread, as "
           "seogo-index; committed every 64 MB, published at the end; "
           "Korean operands quoted (as written); top 10 without snippets",
           c.threads, c.threads == 1 ? "" : "s");
  drv_engine e = {"seogo", seogo_version(), config, &c, seogo_bench_index,
                  seogo_bench_open_search, seogo_bench_search, seogo_bench_close,
                  seogo_bench_sizes};
  return drv_main(n, argv, &e);
}
