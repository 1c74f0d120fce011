/* testlib.c - the minimal test harness behind testlib.h. */
#include "testlib.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

int tl_failures;
int tl_checks;
static int tl_tests_failed, tl_tests_passed, tl_current_failed;
static const char *tl_current;
static char tl_tmp[256];

static void tl_end_current(void) {
  if (!tl_current) return;
  if (tl_current_failed) tl_tests_failed++;
  else tl_tests_passed++;
  tl_current = NULL;
}

void tl_begin(const char *name) {
  tl_end_current();
  tl_current = name;
  tl_current_failed = 0;
  printf("-- %s\n", name);
  fflush(stdout);
}

void tl_fail(const char *file, int line, const char *fmt, ...) {
  va_list ap;
  tl_failures++;
  tl_current_failed = 1;
  fprintf(stderr, "%s:%d: [%s] ", file, line, tl_current ? tl_current : "?");
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
}

static void tl_cleanup(void) {
  if (tl_tmp[0]) {
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tl_tmp);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tl_tmp);
  }
}

const char *tl_tmpdir(void) {
  if (!tl_tmp[0]) {
    snprintf(tl_tmp, sizeof tl_tmp, "/tmp/seogo-test-XXXXXX");
    if (!mkdtemp(tl_tmp)) {
      perror("mkdtemp");
      exit(2);
    }
    atexit(tl_cleanup);
  }
  return tl_tmp;
}

int tl_summary(void) {
  tl_end_current();
  printf("%d passed, %d failed\n", tl_tests_passed, tl_tests_failed);
  return tl_tests_failed ? 1 : 0;
}

char *tl_read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    perror(path);
    exit(2);
  }
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *buf = malloc((size_t)n + 1);
  if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) {
    fprintf(stderr, "%s: read failed\n", path);
    exit(2);
  }
  buf[n] = 0;
  fclose(f);
  if (len) *len = (size_t)n;
  return buf;
}

const char *tl_source_path(const char *relative) {
  static char path[1024];
  const char *root = getenv("SEOGO_SOURCE_DIR");
  snprintf(path, sizeof path, "%s/%s", root ? root : ".", relative);
  return path;
}
