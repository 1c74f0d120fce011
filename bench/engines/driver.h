/* driver.h - what every engine driver of the benchmark shares: the passage and query files,
 * timing, peak memory, bytes on disk, and the JSON report. A driver fills a drv_engine with
 * its own indexing and search calls and hands it to drv_main(), which runs the benchmark in
 * one process: index, then every query in-process.
 *
 * Header-only (functions are static) so that each driver stays one source file that compiles
 * as C11 or C++.
 *
 * Files
 * -----
 *   passages.tsv   one passage a line: "pid<TAB>text"; text is Seogo's repaired, normalized
 *                  passage text with tabs and newlines turned into spaces.
 *   queries.tsv    one query a line: "class<TAB>op<TAB>a<TAB>b". op is term, phrase, and, or
 *                  or not; a and b are words, or phrases when they contain a space; b is empty
 *                  for term and phrase. Queries of class ko_noun and en_word also get a
 *                  full result set (for recall against the brute-force ground truth).
 *
 * Command line of every driver
 * ----------------------------
 *   --passages FILE --queries FILE --db DIR --out FILE.json [--corpus DIR] [--reps N]
 *   [--phase all|index|search] [--recall no]
 * --phase index builds the index and reports only its figures; --phase search searches an
 * index built before and reports only latencies and result sets (Seogo's queries are made
 * from the passages of its own index, so its run is split in two; run.sh --search-rounds times
 * the queries of every engine again this way). --recall no leaves the result sets out.
 */
#ifndef BENCH_DRIVER_H
#define BENCH_DRIVER_H

#include <errno.h>
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>

#define DRV_FN static __attribute__((unused))
#define DRV_TOP 10          /* hits per timed query */
#define DRV_MAX_CLASSES 16
#define DRV_MAX_OPERAND 512

typedef enum drv_op { DRV_TERM, DRV_PHRASE, DRV_AND, DRV_OR, DRV_NOT } drv_op;

typedef struct drv_query {
  char cls[32];
  drv_op op;
  char a[DRV_MAX_OPERAND], b[DRV_MAX_OPERAND];
} drv_query;

typedef enum drv_phase { DRV_ALL, DRV_INDEX_ONLY, DRV_SEARCH_ONLY } drv_phase;

typedef struct drv_args {
  const char *passages, *queries, *db, *out, *corpus;
  int reps;
  int recall; /* write the full result sets (0 with --recall no: a latency round alone) */
  drv_phase phase;
} drv_args;

/* A growable list of passage ids. */
typedef struct drv_ids {
  uint64_t *v;
  size_t n, cap;
} drv_ids;

/* What an engine reports about indexing. */
typedef struct drv_index_info {
  uint64_t input_bytes; /* bytes the engine was given to index */
  uint64_t items;       /* passages (or documents) indexed */
} drv_index_info;

/* How the index's bytes on disk divide: the size target counts the index without the
 * text stored for snippets or document data, which is reported in its own column. */
typedef struct drv_sizes {
  uint64_t disk_bytes; /* all files of the index (allocated blocks, like du) */
  uint64_t text_bytes; /* of those, the stored text */
  int text_known;      /* 0: the engine could not tell its stored text apart */
  char how[256];       /* what text_bytes counts, for the report */
} drv_sizes;

typedef struct drv_engine {
  const char *name;    /* "seogo", "fts5-porter", ... */
  const char *version; /* of the engine library */
  const char *config;  /* how it is configured, for the report */
  void *ctx;
  /* Builds the index in args->db (timed as a whole); returns 0 or -1 after printing why. */
  int (*index)(void *ctx, const drv_args *args, drv_index_info *info);
  /* Prepares for searching after indexing (reopening read-only, ...); not timed. */
  int (*open_search)(void *ctx, const drv_args *args);
  /* Runs q and stores the ids of the best `limit` passages, best first, in out (cleared
   * first); limit 0 means all matching passages. Returns 0, or -1 when the engine refused the
   * query (counted as an error, not timed). */
  int (*search)(void *ctx, const drv_query *q, size_t limit, drv_ids *out);
  void (*close)(void *ctx);
  /* After indexing, not timed: fills the stored text's share of out->disk_bytes (already set
   * by drv_main) and sets text_known, or leaves it 0. May be NULL. */
  void (*sizes)(void *ctx, const drv_args *args, drv_sizes *out);
} drv_engine;

/* ---- Small helpers ---------------------------------------------------------------------- */

DRV_FN void drv_die(const char *what) {
  fprintf(stderr, "bench driver: %s\n", what);
  exit(1);
}

DRV_FN void *drv_realloc(void *p, size_t n) {
  void *q = realloc(p, n ? n : 1);
  if (!q) drv_die("out of memory");
  return q;
}

DRV_FN void drv_ids_push(drv_ids *l, uint64_t id) {
  if (l->n == l->cap) {
    l->cap = l->cap ? 2 * l->cap : 64;
    l->v = (uint64_t *)drv_realloc(l->v, l->cap * sizeof *l->v);
  }
  l->v[l->n++] = id;
}

DRV_FN double drv_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* The machine's CPU time (all cores, in clock ticks) and the part of it stolen by the
 * hypervisor for other guests, from /proc/stat: a measurement during which much was stolen
 * ran on a machine shared with other work, and its times say so. Zeros where unknown. */
typedef struct drv_cpu_ticks {
  unsigned long long total, steal;
} drv_cpu_ticks;

DRV_FN drv_cpu_ticks drv_cpu_ticks_now(void) {
  drv_cpu_ticks t = {0, 0};
  unsigned long long v[8] = {0};
  FILE *f = fopen("/proc/stat", "r");
  if (!f) return t;
  if (fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3], &v[4],
             &v[5], &v[6], &v[7]) == 8) {
    for (int i = 0; i < 8; i++) t.total += v[i];
    t.steal = v[7];
  }
  fclose(f);
  return t;
}

/* Percent of the machine's CPU time stolen since `from`; -1 when unknown. */
DRV_FN double drv_steal_pct(drv_cpu_ticks from) {
  drv_cpu_ticks to = drv_cpu_ticks_now();
  if (to.total <= from.total) return -1;
  return 100.0 * (double)(to.steal - from.steal) / (double)(to.total - from.total);
}

/* CPU seconds (user and system) this process has used. */
DRV_FN double drv_cpu_seconds(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec +
         ((double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_usec) * 1e-6;
}

DRV_FN long drv_peak_rss_kb(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;
}

/* Bytes allocated on disk under path, recursively (like du: a sparse, preallocated file
 * counts the blocks it uses, not its apparent size). */
DRV_FN uint64_t drv_disk_bytes(const char *path) {
  struct stat st;
  if (lstat(path, &st) != 0) return 0;
  if (!S_ISDIR(st.st_mode)) return S_ISREG(st.st_mode) ? (uint64_t)st.st_blocks * 512u : 0;
  DIR *d = opendir(path);
  if (!d) return 0;
  uint64_t total = 0;
  struct dirent *ent;
  while ((ent = readdir(d)) != NULL) {
    if (!strcmp(ent->d_name, ".") || !strcmp(ent->d_name, "..")) continue;
    size_t n = strlen(path) + strlen(ent->d_name) + 2;
    char *child = (char *)drv_realloc(NULL, n);
    snprintf(child, n, "%s/%s", path, ent->d_name);
    total += drv_disk_bytes(child);
    free(child);
  }
  closedir(d);
  return total;
}

/* Bytes allocated on disk by the files directly in dir whose names start with one of the
 * n prefixes (an engine keeping its stored text in files of their own). */
DRV_FN uint64_t drv_prefixed_bytes(const char *dir, const char *const *prefixes, size_t n) {
  DIR *d = opendir(dir);
  if (!d) return 0;
  uint64_t total = 0;
  struct dirent *ent;
  while ((ent = readdir(d)) != NULL)
    for (size_t i = 0; i < n; i++) {
      if (strncmp(ent->d_name, prefixes[i], strlen(prefixes[i])) != 0) continue;
      size_t len = strlen(dir) + strlen(ent->d_name) + 2;
      char *path = (char *)drv_realloc(NULL, len);
      snprintf(path, len, "%s/%s", dir, ent->d_name);
      total += drv_disk_bytes(path);
      free(path);
      break;
    }
  closedir(d);
  return total;
}

/* Does s contain a space (so that it is a phrase)? */
DRV_FN int drv_is_phrase(const char *s) { return strchr(s, ' ') != NULL; }

/* ---- Passages ------------------------------------------------------------------------------ */

typedef struct drv_passages {
  FILE *f;
  char *line;
  size_t cap;
} drv_passages;

DRV_FN void drv_passages_open(drv_passages *p, const char *path) {
  memset(p, 0, sizeof *p);
  p->f = fopen(path, "rb");
  if (!p->f) {
    fprintf(stderr, "bench driver: %s: %s\n", path, strerror(errno));
    exit(1);
  }
}

/* Next passage: its id, text and length (text valid until the next call). 0 at the end. */
DRV_FN int drv_passages_next(drv_passages *p, uint64_t *pid, const char **text, size_t *len) {
  for (;;) {
    ssize_t n = getline(&p->line, &p->cap, p->f);
    if (n < 0) return 0;
    if (n > 0 && p->line[n - 1] == '\n') p->line[--n] = 0;
    char *tab = strchr(p->line, '\t');
    if (!tab) continue;
    *pid = strtoull(p->line, NULL, 10);
    *text = tab + 1;
    *len = (size_t)(p->line + n - (tab + 1));
    return 1;
  }
}

DRV_FN void drv_passages_close(drv_passages *p) {
  if (p->f) fclose(p->f);
  free(p->line);
}

/* ---- Queries ---------------------------------------------------------------------------------- */

DRV_FN int drv_parse_op(const char *s, drv_op *op) {
  static const char *const names[] = {"term", "phrase", "and", "or", "not"};
  for (int i = 0; i < 5; i++)
    if (!strcmp(s, names[i])) {
      *op = (drv_op)i;
      return 0;
    }
  return -1;
}

/* Copies the tab-separated field starting at *s into out (at most cap-1 bytes). */
DRV_FN void drv_field(char **s, char *out, size_t cap) {
  char *end = strchr(*s, '\t');
  size_t n = end ? (size_t)(end - *s) : strlen(*s);
  if (n >= cap) n = cap - 1;
  memcpy(out, *s, n);
  out[n] = 0;
  *s = end ? end + 1 : *s + strlen(*s);
}

DRV_FN drv_query *drv_queries_load(const char *path, size_t *count) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    fprintf(stderr, "bench driver: %s: %s\n", path, strerror(errno));
    exit(1);
  }
  drv_query *qs = NULL;
  size_t n = 0, cap = 0, lcap = 0;
  char *line = NULL;
  ssize_t len;
  while ((len = getline(&line, &lcap, f)) >= 0) {
    if (len > 0 && line[len - 1] == '\n') line[len - 1] = 0;
    if (!line[0] || line[0] == '#') continue;
    if (n == cap) qs = (drv_query *)drv_realloc(qs, (cap = cap ? 2 * cap : 64) * sizeof *qs);
    drv_query *q = &qs[n];
    char op[16], *s = line;
    drv_field(&s, q->cls, sizeof q->cls);
    drv_field(&s, op, sizeof op);
    drv_field(&s, q->a, sizeof q->a);
    drv_field(&s, q->b, sizeof q->b);
    if (drv_parse_op(op, &q->op) == 0 && q->a[0]) n++;
  }
  free(line);
  fclose(f);
  *count = n;
  return qs;
}

/* ---- Latency statistics ----------------------------------------------------------------------- */

typedef struct drv_class_stats {
  char name[32];
  double *us; /* latency samples in microseconds */
  size_t n, cap;
  size_t queries, errors;
  double hits; /* sum of hits returned, for the mean */
} drv_class_stats;

DRV_FN drv_class_stats *drv_class_of(drv_class_stats *cs, size_t *ncs, const char *name) {
  for (size_t i = 0; i < *ncs; i++)
    if (!strcmp(cs[i].name, name)) return &cs[i];
  if (*ncs == DRV_MAX_CLASSES) drv_die("too many query classes");
  drv_class_stats *c = &cs[(*ncs)++];
  memset(c, 0, sizeof *c);
  snprintf(c->name, sizeof c->name, "%s", name);
  return c;
}

DRV_FN void drv_sample(drv_class_stats *c, double us) {
  if (c->n == c->cap) c->us = (double *)drv_realloc(c->us, (c->cap = c->cap ? 2 * c->cap : 64) *
                                                             sizeof *c->us);
  c->us[c->n++] = us;
}

static int drv_cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* Nearest-rank percentile p (0..100) of the class's samples (sorts them). */
DRV_FN double drv_percentile(drv_class_stats *c, double p) {
  if (!c->n) return 0;
  qsort(c->us, c->n, sizeof *c->us, drv_cmp_double);
  size_t rank = (size_t)(p / 100.0 * (double)c->n + 0.999999);
  if (rank < 1) rank = 1;
  if (rank > c->n) rank = c->n;
  return c->us[rank - 1];
}

/* ---- JSON ---------------------------------------------------------------------------------- */

DRV_FN void drv_json_string(FILE *f, const char *s) {
  fputc('"', f);
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\')
      fprintf(f, "\\%c", c);
    else if (c < 0x20)
      fprintf(f, "\\u%04x", c);
    else
      fputc(c, f);
  }
  fputc('"', f);
}

/* ---- The run --------------------------------------------------------------------------------- */

DRV_FN void drv_usage(const char *name) {
  fprintf(stderr,
          "usage: %s --passages FILE --queries FILE --db DIR --out FILE.json "
          "[--corpus DIR] [--reps N] [--phase all|index|search] [--recall no]\n",
          name);
  exit(2);
}

DRV_FN drv_args drv_parse_args(int argc, char **argv) {
  drv_args a;
  memset(&a, 0, sizeof a);
  a.reps = 3;
  a.recall = 1;
  for (int i = 1; i + 1 < argc; i += 2) {
    const char *k = argv[i], *v = argv[i + 1];
    if (!strcmp(k, "--passages")) a.passages = v;
    else if (!strcmp(k, "--queries")) a.queries = v;
    else if (!strcmp(k, "--db")) a.db = v;
    else if (!strcmp(k, "--out")) a.out = v;
    else if (!strcmp(k, "--corpus")) a.corpus = v;
    else if (!strcmp(k, "--reps")) a.reps = atoi(v);
    else if (!strcmp(k, "--phase") && !strcmp(v, "all")) a.phase = DRV_ALL;
    else if (!strcmp(k, "--phase") && !strcmp(v, "index")) a.phase = DRV_INDEX_ONLY;
    else if (!strcmp(k, "--phase") && !strcmp(v, "search")) a.phase = DRV_SEARCH_ONLY;
    else if (!strcmp(k, "--recall") && !strcmp(v, "no"))
      a.recall = 0;
    else drv_usage(argv[0]);
  }
  if (argc % 2 == 0 || (!a.queries && a.phase != DRV_INDEX_ONLY) || !a.db || !a.out ||
      a.reps < 1)
    drv_usage(argv[0]);
  return a;
}

/* Runs every query once untimed (warm-up), then `reps` timed rounds of top-10 searches.
 * Samples go to the query's class and to the class "all". */
DRV_FN size_t drv_time_queries(drv_engine *e, const drv_query *qs, size_t nq, int reps,
                               drv_class_stats *cs) {
  size_t ncs = 0;
  drv_ids ids;
  memset(&ids, 0, sizeof ids);
  for (size_t i = 0; i < nq; i++) {
    drv_class_stats *c = drv_class_of(cs, &ncs, qs[i].cls);
    c->queries++;
    if (e->search(e->ctx, &qs[i], DRV_TOP, &ids) != 0) c->errors++;
  }
  drv_class_stats *all = drv_class_of(cs, &ncs, "all");
  all->queries = nq;
  for (int r = 0; r < reps; r++)
    for (size_t i = 0; i < nq; i++) {
      drv_class_stats *c = drv_class_of(cs, &ncs, qs[i].cls);
      double t0 = drv_now();
      int rc = e->search(e->ctx, &qs[i], DRV_TOP, &ids);
      double t1 = drv_now();
      if (rc != 0) continue;
      drv_sample(c, (t1 - t0) * 1e6);
      drv_sample(all, (t1 - t0) * 1e6);
      c->hits += (double)ids.n;
      all->hits += (double)ids.n;
    }
  free(ids.v);
  return ncs;
}

/* The classes whose full result sets are written, for recall against a ground truth. */
DRV_FN int drv_has_truth(const char *cls) {
  return !strcmp(cls, "ko_noun") || !strcmp(cls, "en_word");
}

DRV_FN void drv_write_recall(FILE *f, drv_engine *e, const drv_query *qs, size_t nq) {
  drv_ids ids;
  memset(&ids, 0, sizeof ids);
  int first = 1;
  fprintf(f, "  \"recall\": {");
  for (size_t i = 0; i < nq; i++) {
    if (!drv_has_truth(qs[i].cls)) continue;
    if (e->search(e->ctx, &qs[i], 0, &ids) != 0) continue;
    fprintf(f, "%s\n    \"%zu\": [", first ? "" : ",", i);
    for (size_t k = 0; k < ids.n; k++)
      fprintf(f, "%s%llu", k ? "," : "", (unsigned long long)ids.v[k]);
    fprintf(f, "]");
    first = 0;
  }
  fprintf(f, "\n  }\n");
  free(ids.v);
}

DRV_FN void drv_write_classes(FILE *f, drv_class_stats *cs, size_t ncs) {
  fprintf(f, "  \"classes\": {");
  for (size_t i = 0; i < ncs; i++) {
    drv_class_stats *c = &cs[i];
    double p50 = drv_percentile(c, 50), p99 = drv_percentile(c, 99);
    fprintf(f, "%s\n    \"%s\": {\"queries\": %zu, \"samples\": %zu, \"errors\": %zu, "
               "\"p50_us\": %.1f, \"p99_us\": %.1f, \"mean_hits\": %.2f}",
            i ? "," : "", c->name, c->queries, c->n, c->errors, p50, p99,
            c->n ? c->hits / (double)c->n : 0.0);
    free(c->us);
  }
  fprintf(f, "\n  },\n");
}

/* How one indexing run went: wall and CPU seconds, and the CPU stolen meanwhile. */
typedef struct drv_index_time {
  double seconds, cpu_seconds, steal_pct;
} drv_index_time;

/* index_bytes is the index without its stored text (all of it when the text is unknown). */
DRV_FN void drv_write_index_figures(FILE *f, const drv_index_info *info, drv_index_time t,
                                    long rss_kb, const drv_sizes *sz) {
  uint64_t text = !sz->text_known ? 0 : sz->text_bytes < sz->disk_bytes ? sz->text_bytes
                                                                          : sz->disk_bytes;
  fprintf(f,
          "  \"input_bytes\": %llu,\n  \"items\": %llu,\n  \"index_seconds\": %.3f,\n"
          "  \"index_cpu_seconds\": %.3f,\n  \"index_steal_pct\": %.1f,\n"
          "  \"peak_rss_kb\": %ld,\n  \"disk_bytes\": %llu,\n  \"index_bytes\": %llu,\n",
          (unsigned long long)info->input_bytes, (unsigned long long)info->items, t.seconds,
          t.cpu_seconds, t.steal_pct, rss_kb, (unsigned long long)sz->disk_bytes,
          (unsigned long long)(sz->disk_bytes - text));
  if (sz->text_known) {
    fprintf(f, "  \"text_bytes\": %llu,\n  \"text_how\": ", (unsigned long long)text);
    drv_json_string(f, sz->how);
    fprintf(f, ",\n");
  }
}

/* The whole benchmark of one engine (or one phase of it); returns the exit status. */
DRV_FN int drv_main(int argc, char **argv, drv_engine *e) {
  drv_args a = drv_parse_args(argc, argv);
  size_t nq = 0;
  drv_query *qs = a.phase == DRV_INDEX_ONLY ? NULL : drv_queries_load(a.queries, &nq);
  drv_index_info info;
  memset(&info, 0, sizeof info);
  drv_index_time index_time = {0, 0, -1};
  long index_rss = 0;
  drv_sizes sizes;
  memset(&sizes, 0, sizeof sizes);
  if (a.phase != DRV_SEARCH_ONLY) {
    drv_cpu_ticks ticks = drv_cpu_ticks_now();
    double t0 = drv_now(), cpu0 = drv_cpu_seconds();
    if (e->index(e->ctx, &a, &info) != 0) return 1;
    index_time.seconds = drv_now() - t0;
    index_time.cpu_seconds = drv_cpu_seconds() - cpu0;
    index_time.steal_pct = drv_steal_pct(ticks);
    index_rss = drv_peak_rss_kb();
    sizes.disk_bytes = drv_disk_bytes(a.db);
    if (e->sizes) e->sizes(e->ctx, &a, &sizes);
  }
  drv_class_stats cs[DRV_MAX_CLASSES];
  size_t ncs = 0;
  double search_steal = -1;
  if (a.phase != DRV_INDEX_ONLY) {
    if (e->open_search(e->ctx, &a) != 0) return 1;
    drv_cpu_ticks ticks = drv_cpu_ticks_now();
    ncs = drv_time_queries(e, qs, nq, a.reps, cs);
    search_steal = drv_steal_pct(ticks);
  }
  FILE *f = fopen(a.out, "w");
  if (!f) drv_die("cannot write the report");
  fprintf(f, "{\n  \"engine\": ");
  drv_json_string(f, e->name);
  fprintf(f, ",\n  \"version\": ");
  drv_json_string(f, e->version);
  fprintf(f, ",\n  \"config\": ");
  drv_json_string(f, e->config);
  fprintf(f, ",\n");
  if (a.phase != DRV_SEARCH_ONLY) drv_write_index_figures(f, &info, index_time, index_rss, &sizes);
  if (a.phase != DRV_INDEX_ONLY) fprintf(f, "  \"search_steal_pct\": %.1f,\n", search_steal);
  fprintf(f, "  \"reps\": %d,\n", a.reps);
  drv_write_classes(f, cs, ncs);
  if (a.phase != DRV_INDEX_ONLY && a.recall)
    drv_write_recall(f, e, qs, nq);
  else
    fprintf(f, "  \"recall\": {}\n");
  fprintf(f, "}\n");
  fclose(f);
  e->close(e->ctx);
  free(qs);
  return 0;
}

#endif /* BENCH_DRIVER_H */
