/* seogo_bench.c - benchmark driver for Seogo through its public API (include/seogo.h) only.
 *
 * Unlike the other drivers, Seogo indexes the generated documents themselves (--corpus DIR):
 * splitting them into passages and repairing PDF line breaks is part of its work. The other
 * engines then index the passages it made (see seogo_export.c and README.md).
 *
 *   seogo_bench --corpus DIR --queries FILE --db DIR --out FILE.json [--reps N] [--threads N]
 *
 * Indexing runs as seogo-index does: --threads analysis threads (default: the number of cores)
 * call seogo_prepare_file a few files ahead, and the main thread adds the results in order with
 * seogo_add_prepared, committing every 64 MB, and publishes at the end (seogo_publish, which
 * may pack the index), all timed.
 *
 * Queries use Seogo's query language: words, "phrases", A AND B, A OR B, A NOT B. Timed calls
 * ask for the top 10 without snippets (the other engines return ids only).
 */
#include <dirent.h>
#include <pthread.h>
#include <unistd.h>

#include "seogo.h"
#include "engines/driver.h"

#define COMMIT_BYTES (64u << 20) /* commit in batches, as seogo-index does */
#define MAX_THREADS 16
#define LOOKAHEAD_FILES 16                   /* prepared but not yet added, at most ... */
#define LOOKAHEAD_BYTES ((uint64_t)64 << 20) /* ... and about this many bytes */

typedef struct seogo_ctx {
  seogo_index *index;
  uint64_t passages;
  int threads; /* analysis threads while indexing */
} seogo_ctx;

static void report(const char *what, const seogo_error *err) {
  fprintf(stderr, "seogo_bench: %s: %s\n", what, err->message);
}

static int name_filter(const struct dirent *d) { return d->d_name[0] != '.'; }

/* The corpus's files in name order, with their sizes (for the look-ahead bound). */
typedef struct corpus_file {
  char path[4096];
  const char *name;
  uint64_t size;
  seogo_prepared *doc;
  int rc, done;
  seogo_error err;
} corpus_file;

/* Analysis threads prepare files a few ahead of the writing thread, which adds them in order:
 * the way seogo-index pipelines (analysis is most of the work; LMDB has one writer). */
typedef struct pipeline {
  seogo_index *index;
  corpus_file *files;
  size_t nfiles, next, consumed;
  uint64_t ahead_bytes;
  int stop;
  pthread_mutex_t lock;
  pthread_cond_t ready, room;
} pipeline;

static int has_room(const pipeline *p) {
  return p->next - p->consumed < LOOKAHEAD_FILES &&
         (p->ahead_bytes < LOOKAHEAD_BYTES || p->next == p->consumed);
}

static void *prepare_worker(void *arg) {
  pipeline *p = arg;
  pthread_mutex_lock(&p->lock);
  for (;;) {
    while (!p->stop && p->next < p->nfiles && !has_room(p)) pthread_cond_wait(&p->room, &p->lock);
    if (p->stop || p->next >= p->nfiles) break;
    corpus_file *f = &p->files[p->next++];
    p->ahead_bytes += f->size;
    pthread_mutex_unlock(&p->lock);
    seogo_prepared *doc = NULL;
    int rc = seogo_prepare_file(p->index, f->path, f->name, &doc, &f->err);
    pthread_mutex_lock(&p->lock);
    f->doc = doc;
    f->rc = rc;
    f->done = 1;
    pthread_cond_broadcast(&p->ready);
  }
  pthread_mutex_unlock(&p->lock);
  return NULL;
}

static corpus_file *take(pipeline *p, size_t i) {
  pthread_mutex_lock(&p->lock);
  while (!p->files[i].done) pthread_cond_wait(&p->ready, &p->lock);
  p->consumed = i + 1;
  p->ahead_bytes -= p->files[i].size;
  pthread_cond_broadcast(&p->room);
  pthread_mutex_unlock(&p->lock);
  return &p->files[i];
}

/* Adds prepared file f in order and commits every COMMIT_BYTES; -1 stops the run. */
static int add_taken(seogo_ctx *c, corpus_file *f, drv_index_info *info) {
  seogo_add_info added;
  seogo_error err;
  int rc = f->rc;
  if (rc == SEOGO_OK) rc = seogo_add_prepared(c->index, f->doc, &added, &f->err);
  f->doc = NULL;
  if (rc != SEOGO_OK) return report(f->path, &f->err), -1;
  info->input_bytes += added.bytes;
  info->items++;
  if (seogo_pending_bytes(c->index) >= COMMIT_BYTES && seogo_commit(c->index, &err) != SEOGO_OK)
    return report("commit", &err), -1;
  return 0;
}

static void stop_workers(pipeline *p, pthread_t *threads, int n) {
  pthread_mutex_lock(&p->lock);
  p->stop = 1;
  pthread_cond_broadcast(&p->room);
  pthread_mutex_unlock(&p->lock);
  for (int k = 0; k < n; k++) pthread_join(threads[k], NULL);
  for (size_t k = 0; k < p->nfiles; k++) seogo_prepared_free(p->files[k].doc);
  pthread_mutex_destroy(&p->lock);
  pthread_cond_destroy(&p->ready);
  pthread_cond_destroy(&p->room);
}

static int run_pipeline(seogo_ctx *c, corpus_file *files, size_t n, drv_index_info *info) {
  pipeline p = {c->index, files, n, 0, 0, 0, 0, PTHREAD_MUTEX_INITIALIZER,
                PTHREAD_COND_INITIALIZER, PTHREAD_COND_INITIALIZER};
  pthread_t threads[MAX_THREADS];
  int started = 0, rc = 0;
  while (started < c->threads && pthread_create(&threads[started], NULL, prepare_worker, &p) == 0)
    started++;
  if (!started) {
    fprintf(stderr, "seogo_bench: cannot start a thread\n");
    rc = -1;
  }
  for (size_t i = 0; i < n && rc == 0; i++) rc = add_taken(c, take(&p, i), info);
  stop_workers(&p, threads, started);
  return rc;
}

/* Indexes every file of dir (in name order) through the pipeline. */
static int add_corpus(seogo_ctx *c, const char *dir, drv_index_info *info) {
  struct dirent **names;
  int n = scandir(dir, &names, name_filter, alphasort);
  if (n < 0) return fprintf(stderr, "seogo_bench: %s: %s\n", dir, strerror(errno)), -1;
  corpus_file *files = calloc((size_t)n + 1, sizeof *files);
  if (!files) drv_die("out of memory");
  for (int i = 0; i < n; i++) {
    struct stat st;
    snprintf(files[i].path, sizeof files[i].path, "%s/%s", dir, names[i]->d_name);
    files[i].name = files[i].path + strlen(dir) + 1;
    files[i].size = stat(files[i].path, &st) == 0 ? (uint64_t)st.st_size : 0;
  }
  int rc = run_pipeline(c, files, (size_t)n, info);
  for (int i = 0; i < n; i++) free(names[i]);
  free(names);
  free(files);
  return rc;
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
  if (c.threads < 1 || c.threads > MAX_THREADS) drv_die("--threads: 1 to 16");
  char config[320];
  snprintf(config, sizeof config,
           "public API; %d analysis thread%s (seogo_prepare_file) feeding one writer thread "
           "(seogo_add_prepared), as seogo-index; committed every 64 MB, published at the end; "
           "Korean operands quoted (as written); top 10 without snippets",
           c.threads, c.threads == 1 ? "" : "s");
  drv_engine e = {"seogo", seogo_version(), config, &c, seogo_bench_index,
                  seogo_bench_open_search, seogo_bench_search, seogo_bench_close,
                  seogo_bench_sizes};
  return drv_main(n, argv, &e);
}
