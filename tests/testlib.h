/* testlib.h - a minimal test harness: checks that report file:line and a summary per program. */
#ifndef SEOGO_TESTLIB_H
#define SEOGO_TESTLIB_H

#include <stddef.h>
#include <string.h>

extern int tl_failures;
extern int tl_checks;

void tl_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define CHECK(cond)                                                                   \
  do {                                                                                \
    tl_checks++;                                                                      \
    if (!(cond)) tl_fail(__FILE__, __LINE__, "check failed: %s", #cond);              \
  } while (0)

#define CHECK_MSG(cond, ...)                                                          \
  do {                                                                                \
    tl_checks++;                                                                      \
    if (!(cond)) tl_fail(__FILE__, __LINE__, __VA_ARGS__);                            \
  } while (0)

#define CHECK_EQ_INT(a, b)                                                            \
  do {                                                                                \
    long long tl_a = (long long)(a), tl_b = (long long)(b);                           \
    tl_checks++;                                                                      \
    if (tl_a != tl_b) tl_fail(__FILE__, __LINE__, "%s == %lld, expected %s == %lld", #a, \
                              tl_a, #b, tl_b);                                        \
  } while (0)

#define CHECK_EQ_STR(a, b)                                                            \
  do {                                                                                \
    const char *tl_a = (a), *tl_b = (b);                                              \
    tl_checks++;                                                                      \
    if (!tl_a || !tl_b || strcmp(tl_a, tl_b) != 0)                                    \
      tl_fail(__FILE__, __LINE__, "%s == \"%s\", expected \"%s\"", #a, tl_a ? tl_a : "(null)", \
              tl_b ? tl_b : "(null)");                                                \
  } while (0)

/* Runs a named test function, printing its name. */
#define RUN(fn)                                                                       \
  do {                                                                                \
    tl_begin(#fn);                                                                    \
    fn();                                                                             \
  } while (0)

void tl_begin(const char *name);

/* Prints "N passed, N failed" and returns the exit status for main. */
int tl_summary(void);

/* Reads a whole file into a malloc'd NUL-terminated buffer; aborts the test on failure. */
char *tl_read_file(const char *path, size_t *len);

/* Path of a file in the source tree (SEOGO_SOURCE_DIR or the compiled-in default), in a static
 * buffer overwritten by the next call. */
const char *tl_source_path(const char *relative);

/* A fresh temporary directory (removed at exit). */
const char *tl_tmpdir(void);

#endif
