/* fuzz_query.c - fuzz target for the query language: any bytes are parsed (sg_query_parse)
 * and searched (seogo_search) on a small index of corpus reports. Every input must give hits
 * that make sense or one clear error (a malformed query, a limit), in bounded time. */
#include <string.h>
#include <utf8proc.h>

#include "fuzz.h"
#include "searcher.h"

static seogo_index *fq_index;
static char fq_dir[512];

static void fq_cleanup(void) {
  seogo_close(fq_index);
  fuzz_remove_tree(fq_dir);
}

static void fq_init(void) {
  snprintf(fq_dir, sizeof fq_dir, "%.400s/seogo-fuzz-query-XXXXXX", fuzz_tmpdir());
  if (!mkdtemp(fq_dir)) abort();
  atexit(fq_cleanup);
  char path[600];
  snprintf(path, sizeof path, "%s/idx", fq_dir);
  seogo_error err;
  if (fuzz_build_index(path) || seogo_open(path, SEOGO_OPEN_READ, &fq_index, &err)) abort();
}

static int fq_valid_utf8(const char *s, size_t n) {
  for (size_t i = 0; i < n;) {
    utf8proc_int32_t cp;
    utf8proc_ssize_t k = utf8proc_iterate((const utf8proc_uint8_t *)s + i,
                                          (utf8proc_ssize_t)(n - i), &cp);
    if (k <= 0) return 0;
    i += (size_t)k;
  }
  return 1;
}

static size_t fq_chars(const uint8_t *data, size_t size) {
  size_t n = 0;
  for (size_t i = 0; i < size; i++) n += (data[i] & 0xC0) != 0x80;
  return n;
}

static void fq_parse(const uint8_t *data, size_t size) {
  sg_qnode *root = NULL;
  seogo_error err;
  memset(&err, 0, sizeof err);
  int rc = sg_query_parse((const char *)data, size, &root, &err);
  FUZZ_ASSERT(rc == SEOGO_OK || rc == SEOGO_EQUERY || rc == SEOGO_ELIMIT);
  if (rc) {
    FUZZ_ASSERT(root == NULL);
    FUZZ_ASSERT(err.code == rc && err.message[0]);
    FUZZ_ASSERT(err.column >= 0 && (size_t)err.column <= fq_chars(data, size) + 1);
    return;
  }
  sg_buf text = {0};
  FUZZ_ASSERT(sg_qnode_format(root, &text) == 0);
  sg_buf_free(&text);
  sg_qnode_free(root);
}

static void fq_check_hit(const seogo_hit *h) {
  FUZZ_ASSERT(h->path && h->path[0]);
  FUZZ_ASSERT(h->line_start >= 1 && h->line_start <= h->line_end);
  if (!h->snippet) return;
  FUZZ_ASSERT(strlen(h->snippet) == h->snippet_len);
  FUZZ_ASSERT(fq_valid_utf8(h->snippet, h->snippet_len));
  uint32_t at = 0;
  for (size_t i = 0; i < h->highlight_count; i++) {
    const seogo_range *r = &h->highlights[i];
    FUZZ_ASSERT(r->start >= at && r->start < r->end && r->end <= h->snippet_len);
    at = r->end;
  }
}

static void fq_search(const uint8_t *data, size_t size) {
  seogo_search_options opt;
  seogo_search_options_init(&opt);
  /* the options vary with the input's length, so that the query text stays the input */
  opt.limit = size % 5 == 0 ? 0 : (uint32_t)(size % 23);
  opt.offset = size % 7 == 0 ? 3 : 0;
  opt.group = size % 3 == 0;
  opt.snippets = size % 4 != 1;
  opt.snippet_chars = 20 + (uint32_t)(size % 300);
  opt.explain = size % 11 == 0;
  seogo_results *res = NULL;
  seogo_error err;
  int rc = seogo_search(fq_index, (const char *)data, size, &opt, &res, &err);
  /* a sound index: the query is answered or refused, never anything else */
  FUZZ_ASSERT(rc == SEOGO_OK || rc == SEOGO_EQUERY || rc == SEOGO_ELIMIT);
  if (rc) {
    FUZZ_ASSERT(res == NULL && err.message[0]);
    return;
  }
  size_t n = seogo_results_count(res);
  FUZZ_ASSERT(n <= opt.limit);
  FUZZ_ASSERT(seogo_results_total(res) >= n);
  for (size_t i = 0; i < n; i++) {
    fq_check_hit(seogo_results_hit(res, i));
    if (i) FUZZ_ASSERT(seogo_results_hit(res, i)->score <= seogo_results_hit(res, i - 1)->score);
  }
  FUZZ_ASSERT(seogo_results_hit(res, n) == NULL);
  if (opt.explain) FUZZ_ASSERT(seogo_results_explain(res) != NULL);
  seogo_results_free(res);
}

static int fuzz_query(const uint8_t *data, size_t size) {
  if (!fq_index) fq_init();
  fq_parse(data, size);
  fq_search(data, size);
  return 0;
}

FUZZ_TARGET(fuzz_query)
