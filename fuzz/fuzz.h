/* fuzz.h - what the fuzz targets share. Each target fuzz/fuzz_NAME.c defines
 * `int fuzz_NAME(const uint8_t *data, size_t size)`; built by fuzz/build.sh it is libFuzzer's
 * entry point, and tests/test_fuzz_regressions.c includes every target (SEOGO_FUZZ_REPLAY)
 * to replay the kept inputs through the same functions with the ordinary compiler.
 *
 * FUZZ_ASSERT states a property the library must keep for every input: a violation aborts
 * under libFuzzer (so the input is saved as a crasher) and is a failed check in the replay. */
#ifndef SEOGO_FUZZ_H
#define SEOGO_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#ifdef SEOGO_FUZZ_REPLAY
#include "testlib.h"
#define FUZZ_ASSERT(cond) CHECK_MSG(cond, "fuzz property: %s", #cond)
#else
#define FUZZ_ASSERT(cond)                                                             \
  do {                                                                                \
    if (!(cond)) {                                                                    \
      fprintf(stderr, "%s:%d: fuzz property violated: %s\n", __FILE__, __LINE__, #cond); \
      abort();                                                                        \
    }                                                                                 \
  } while (0)
/* libFuzzer's entry point, defined by the FUZZ_TARGET line at the end of each target. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
#define FUZZ_TARGET(fn)                                                               \
  int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) { return fn(data, size); }
#endif

#ifdef SEOGO_FUZZ_REPLAY
#define FUZZ_TARGET(fn)
#endif

/* The source tree (for the corpus texts the index targets index): $SEOGO_SOURCE_DIR, else the
 * directory fuzz/build.sh compiled in, else the current directory. */
#ifndef SEOGO_FUZZ_SOURCE_DIR
#define SEOGO_FUZZ_SOURCE_DIR "."
#endif
static inline const char *fuzz_source_dir(void) {
  const char *s = getenv("SEOGO_SOURCE_DIR");
  return s && *s ? s : SEOGO_FUZZ_SOURCE_DIR;
}

#endif

/* ---- A small index of corpus texts, for the targets that search -------------------------- */
#ifndef SEOGO_FUZZ_INDEX_HELPERS
#define SEOGO_FUZZ_INDEX_HELPERS
#include <dirent.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "seogo.h"

/* Where the targets make their temporary indexes: $TMPDIR (.ci/fuzz.sh points it at a
 * directory it removes, which also takes what a crashing run leaves), else /tmp. */
static inline const char *fuzz_tmpdir(void) {
  const char *t = getenv("TMPDIR");
  return t && *t ? t : "/tmp";
}

/* Removes a directory tree (the temporary indexes are two levels deep). */
static inline void fuzz_remove_tree(const char *path) {
  DIR *d = opendir(path);
  if (d) {
    struct dirent *e;
    while ((e = readdir(d))) {
      if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
      char sub[4096];
      if (snprintf(sub, sizeof sub, "%s/%s", path, e->d_name) >= (int)sizeof sub) continue;
      struct stat st;
      if (lstat(sub, &st) == 0 && S_ISDIR(st.st_mode)) fuzz_remove_tree(sub);
      else unlink(sub);
    }
    closedir(d);
  }
  rmdir(path);
}

/* Copies a directory tree of regular files (an index); 0 on success. */
static inline int fuzz_copy_tree(const char *from, const char *to) {
  if (mkdir(to, 0777) != 0) return -1;
  DIR *d = opendir(from);
  if (!d) return -1;
  int rc = 0;
  struct dirent *e;
  while (!rc && (e = readdir(d))) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
    char a[4096], b[4096];
    struct stat st;
    if (snprintf(a, sizeof a, "%s/%s", from, e->d_name) >= (int)sizeof a ||
        snprintf(b, sizeof b, "%s/%s", to, e->d_name) >= (int)sizeof b || lstat(a, &st) != 0)
      rc = -1;
    else if (S_ISDIR(st.st_mode)) rc = fuzz_copy_tree(a, b);
    else {
      FILE *in = fopen(a, "rb"), *out = fopen(b, "wb");
      char buf[65536];
      size_t n;
      while (in && out && (n = fread(buf, 1, sizeof buf, in)) > 0)
        if (fwrite(buf, 1, n, out) != n) rc = -1;
      if (!in || !out) rc = -1;
      if (in) fclose(in);
      if (out && fclose(out)) rc = -1;
    }
  }
  closedir(d);
  return rc;
}

/* Builds an index of a few short corpus reports at `dir`; 0 on success. */
static inline int fuzz_build_index(const char *dir) {
  static const char *const files[] = {"corpus/000_659a9385f88d803c.txt",
                                      "corpus/003_6aa41a9c697c4b0d.txt"};
  seogo_index *index;
  seogo_error err;
  if (seogo_open(dir, SEOGO_OPEN_WRITE, &index, &err)) {
    fprintf(stderr, "fuzz: %s\n", err.message);
    return -1;
  }
  int rc = 0;
  for (size_t i = 0; i < sizeof files / sizeof files[0] && !rc; i++) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", fuzz_source_dir(), files[i]);
    if ((rc = seogo_add_file(index, path, files[i], NULL, &err)))
      fprintf(stderr, "fuzz: %s (set SEOGO_SOURCE_DIR to the source tree)\n", err.message);
  }
  if (!rc && (rc = seogo_commit(index, &err))) fprintf(stderr, "fuzz: %s\n", err.message);
  seogo_close(index);
  return rc ? -1 : 0;
}
#endif
