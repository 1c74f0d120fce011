/* test_fuzz_regressions.c - replays every kept fuzz input (fuzz/regressions/TARGET/: inputs
 * that once crashed or broke a property; fuzz/corpus/TARGET/: the seeds) through the same
 * target functions that libFuzzer runs, built with the ordinary compiler, so that an old bug
 * that comes back fails the ordinary test suite. */
#define SEOGO_FUZZ_REPLAY 1

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testlib.h"

#include "../fuzz/fuzz_analyzer.c"
#include "../fuzz/fuzz_index.c"
#include "../fuzz/fuzz_postings.c"
#include "../fuzz/fuzz_query.c"

static int compare_names(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Runs fn on every file of the source tree's directory `dir`; returns how many. */
static int replay_dir(const char *dir, int (*fn)(const uint8_t *, size_t)) {
  char path[4096];
  snprintf(path, sizeof path, "%s", tl_source_path(dir));
  DIR *d = opendir(path);
  if (!d) return 0;
  char *names[4096];
  size_t n = 0;
  struct dirent *e;
  while ((e = readdir(d)) && n < sizeof names / sizeof names[0])
    if (e->d_name[0] != '.') names[n++] = strdup(e->d_name);
  closedir(d);
  qsort(names, n, sizeof *names, compare_names);
  for (size_t i = 0; i < n; i++) {
    char file[8192];
    snprintf(file, sizeof file, "%s/%s", path, names[i]);
    size_t len;
    char *data = tl_read_file(file, &len);
    int failures = tl_failures;
    fn((const uint8_t *)data, len);
    if (tl_failures != failures) printf("    (input %s/%s)\n", dir, names[i]);
    free(data);
    free(names[i]);
  }
  return (int)n;
}

static void replay(const char *target, int (*fn)(const uint8_t *, size_t)) {
  char corpus[256], regressions[256];
  snprintf(corpus, sizeof corpus, "fuzz/corpus/%s", target);
  snprintf(regressions, sizeof regressions, "fuzz/regressions/%s", target);
  int seeds = replay_dir(corpus, fn);
  int kept = replay_dir(regressions, fn);
  printf("  %s: %d seeds, %d regression inputs\n", target, seeds, kept);
  CHECK_MSG(seeds > 0, "no seeds in %s", corpus);
}

static void test_query(void) { replay("query", fuzz_query); }
static void test_analyzer(void) { replay("analyzer", fuzz_analyzer); }
static void test_postings(void) { replay("postings", fuzz_postings); }
static void test_index(void) { replay("index", fuzz_index); }

int main(void) {
  setenv("SEOGO_SOURCE_DIR", tl_source_path("."), 0);
  RUN(test_query);
  RUN(test_analyzer);
  RUN(test_postings);
  RUN(test_index);
  return tl_summary();
}
