/* test_threads.c - several threads search one open index while another thread adds, replaces
 * and removes documents and commits, starting from a small map so that it also grows under the
 * searchers. Every search must see one committed state: each document whole, in one version.
 * Also seogo_add_files, whose analysis threads feed the adding thread in file order.
 * Built with -DSEOGO_SANITIZE=thread by .ci/tsan.sh, where ThreadSanitizer checks the locking. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "index.h"
#include "seogo.h"
#include "testlib.h"

#define NDOCS 24          /* document names d00.txt .. d23.txt */
#define PARAGRAPHS 5      /* paragraphs per document, each holding the common word once */
#define ROUNDS 150        /* writer commits */
#define SEARCHERS 4

/* Short sentences of the corpus's subject, one per paragraph (a passage each). */
static const char *const sentences[] = {
    "소버린 AI 정책은 데이터 주권과 컴퓨팅 인프라를 함께 다룬다.",
    "미국은 반도체 수출통제를 강화하고 동맹국과의 협력을 요구했다.",
    "The AI Action Plan treats data centers and the power grid as strategic assets.",
    "엔비디아는 국내 기업에 GPU를 공급하는 계약을 체결했다.",
    "기술 주권 관점에서 각국의 전략은 서로 다른 방향을 지향한다.",
    "Genesis Mission aims to build an integrated AI platform for science.",
};

/* The text of version `v` of document `d`: every paragraph names the document and version
 * (marker mkDDvV) and holds the common word 공통표지 once. */
static size_t doc_text(int d, int v, char *buf, size_t cap) {
  size_t n = 0;
  for (int p = 0; p < PARAGRAPHS; p++) {
    const char *s = sentences[(size_t)(d + v + p) % (sizeof sentences / sizeof sentences[0])];
    n += (size_t)snprintf(buf + n, cap - n, "공통표지 mk%02dv%d 문단 %d. %s\n\n", d, v, p, s);
  }
  return n;
}

typedef struct shared {
  seogo_index *index;
  pthread_mutex_t lock;
  int writer_done;
  int writer_failures;
  char writer_message[600];
} shared;

typedef struct searcher {
  shared *sh;
  pthread_t thread;
  unsigned seed;
  long searches, documents_seen, failures;
  char message[600];
} searcher;

static int writer_finished(shared *sh) {
  pthread_mutex_lock(&sh->lock);
  int done = sh->writer_done;
  pthread_mutex_unlock(&sh->lock);
  return done;
}

static void searcher_fail(searcher *s, const char *fmt, const char *a, long b) {
  if (!s->failures++) snprintf(s->message, sizeof s->message, fmt, a, b);
}

/* Checks one answer to the common word: every document present with all its paragraphs, each
 * showing the same marker, the one of that document. */
static void check_common(searcher *s, const seogo_results *res) {
  size_t n = seogo_results_count(res);
  if (seogo_results_total(res) != n) searcher_fail(s, "%s: total %ld differs from hits", "", (long)n);
  int count[NDOCS] = {0}, version[NDOCS] = {0};
  for (size_t i = 0; i < n; i++) {
    const seogo_hit *h = seogo_results_hit(res, i);
    int d = -1, v = 0, md = -1;
    const char *mk = h->snippet ? strstr(h->snippet, "mk") : NULL;
    if (sscanf(h->path, "d%2d.txt", &d) != 1 || d < 0 || d >= NDOCS || !mk ||
        sscanf(mk, "mk%2dv%d", &md, &v) != 2 || md != d) {
      searcher_fail(s, "a hit in %s does not show its own marker (hit %ld)", h->path, (long)i);
      continue;
    }
    if (count[d]++ && version[d] != v)
      searcher_fail(s, "%s shows two versions at once (%ld)", h->path, (long)v);
    version[d] = v;
  }
  for (int d = 0; d < NDOCS; d++) {
    if (count[d] && count[d] != PARAGRAPHS)
      searcher_fail(s, "a document is partly visible (%s: %ld paragraphs)", "", (long)count[d]);
    if (count[d]) s->documents_seen++;
  }
}

/* A marker query finds all paragraphs of that version of that document, or nothing. */
static void check_marker(searcher *s, const seogo_results *res, int d) {
  size_t n = seogo_results_count(res);
  if (n != 0 && n != PARAGRAPHS) searcher_fail(s, "a marker finds %s%ld paragraphs", "", (long)n);
  char want[16];
  snprintf(want, sizeof want, "d%02d.txt", d);
  for (size_t i = 0; i < n; i++)
    if (strcmp(seogo_results_hit(res, i)->path, want))
      searcher_fail(s, "a marker finds %s (%ld)", seogo_results_hit(res, i)->path, (long)d);
}

static void *search_loop(void *arg) {
  searcher *s = arg;
  seogo_search_options opt;
  seogo_search_options_init(&opt);
  opt.limit = NDOCS * PARAGRAPHS + 10;
  /* keep searching until the writer is done, and at least a few times */
  for (long i = 0; !writer_finished(s->sh) || i < 20; i++) {
    seogo_results *res = NULL;
    seogo_error err;
    int d = (int)(rand_r(&s->seed) % NDOCS), v = (int)(rand_r(&s->seed) % 4);
    char q[32];
    int marker = i % 2;
    if (marker) snprintf(q, sizeof q, "mk%02dv%d", d, v);
    else snprintf(q, sizeof q, "공통표지");
    int rc = seogo_search(s->sh->index, q, strlen(q), &opt, &res, &err);
    s->searches++;
    if (rc != SEOGO_OK) {
      searcher_fail(s, "search failed: %s (%ld)", err.message, (long)rc);
    } else if (marker) {
      check_marker(s, res, d);
    } else {
      check_common(s, res);
    }
    seogo_results_free(res);
    seogo_document info;
    char name[16];
    snprintf(name, sizeof name, "d%02d.txt", d);
    rc = seogo_document_info(s->sh->index, name, &info, &err);
    if (rc != SEOGO_OK && rc != SEOGO_NOTFOUND)
      searcher_fail(s, "document_info failed: %s (%ld)", err.message, (long)rc);
  }
  return NULL;
}

static void writer_fail(shared *sh, const char *what, const seogo_error *err, int rc) {
  if (!sh->writer_failures++)
    snprintf(sh->writer_message, sizeof sh->writer_message, "%s: %d %s", what, rc, err->message);
}

/* Each round replaces some documents with their next version, removes some and adds back
 * others, then commits; the map starts small, so some commits grow it under the searchers. */
static void *write_loop(void *arg) {
  shared *sh = arg;
  int version[NDOCS] = {0};
  unsigned seed = 7;
  char text[4096];
  for (int round = 0; round < ROUNDS; round++) {
    for (int k = 0; k < 6; k++) {
      int d = (int)(rand_r(&seed) % NDOCS);
      char name[16];
      snprintf(name, sizeof name, "d%02d.txt", d);
      seogo_error err;
      int rc;
      if (version[d] && rand_r(&seed) % 4 == 0) {
        rc = seogo_remove(sh->index, name, &err);
        if (rc) writer_fail(sh, "remove", &err, rc);
        version[d] = 0;
      } else {
        version[d] = version[d] % 3 + 1;
        size_t n = doc_text(d, version[d], text, sizeof text);
        rc = seogo_add_buffer(sh->index, name, text, n, round, NULL, &err);
        if (rc) writer_fail(sh, "add", &err, rc);
      }
    }
    seogo_error err;
    int rc = seogo_commit(sh->index, &err);
    if (rc) writer_fail(sh, "commit", &err, rc);
  }
  pthread_mutex_lock(&sh->lock);
  sh->writer_done = 1;
  pthread_mutex_unlock(&sh->lock);
  return NULL;
}

static void test_search_while_committing(void) {
  char path[4096];
  snprintf(path, sizeof path, "%s/idx", tl_tmpdir());
  shared sh = {0};
  seogo_error err;
  int rc = seogo_open(path, SEOGO_OPEN_WRITE, &sh.index, &err);
  CHECK_MSG(rc == SEOGO_OK, "open: %s", err.message);
  if (rc) return;
  /* a small map: commits grow it while searches hold read transactions */
  CHECK_EQ_INT(sg_store_set_map_size(sh.index->store, (size_t)128 << 10, &err), SEOGO_OK);
  size_t map_before = sh.index->store->map_size;
  pthread_mutex_init(&sh.lock, NULL);
  searcher s[SEARCHERS];
  memset(s, 0, sizeof s);
  pthread_t writer;
  pthread_create(&writer, NULL, write_loop, &sh);
  for (int i = 0; i < SEARCHERS; i++) {
    s[i].sh = &sh;
    s[i].seed = (unsigned)i + 1;
    pthread_create(&s[i].thread, NULL, search_loop, &s[i]);
  }
  pthread_join(writer, NULL);
  long searches = 0, seen = 0;
  for (int i = 0; i < SEARCHERS; i++) {
    pthread_join(s[i].thread, NULL);
    CHECK_MSG(s[i].failures == 0, "searcher %d: %ld failures, the first: %s", i, s[i].failures,
              s[i].message);
    searches += s[i].searches;
    seen += s[i].documents_seen;
  }
  CHECK_MSG(sh.writer_failures == 0, "writer: %d failures, the first: %s", sh.writer_failures,
            sh.writer_message);
  CHECK_MSG(sh.index->store->map_size > map_before, "the map grew (%zu -> %zu)", map_before,
            sh.index->store->map_size);
  CHECK(searches >= SEARCHERS * 20);
  CHECK(seen > 0);
  printf("  %ld searches saw %ld whole documents; map %zu -> %zu bytes\n", searches, seen,
         map_before, sh.index->store->map_size);
  seogo_close(sh.index);
  pthread_mutex_destroy(&sh.lock);
}

/* ---- seogo_add_files ----------------------------------------------------------------------- */

typedef struct reports {
  size_t count, order_errors, stop_after;
  int status[8];
} reports;

static int record_report(void *ctx, const seogo_file_report *r) {
  reports *rs = ctx;
  if (r->index != rs->count) rs->order_errors++;
  if (r->index < 8) rs->status[r->index] = r->status;
  if ((r->status == SEOGO_OK) != (r->info != NULL) || (r->status != SEOGO_OK) != (r->error != NULL))
    rs->order_errors++;
  rs->count++;
  return rs->stop_after && rs->count >= rs->stop_after;
}

static void write_bytes(const char *path, const void *data, size_t len) {
  FILE *f = fopen(path, "wb");
  CHECK(f != NULL);
  if (!f) return;
  CHECK(fwrite(data, 1, len, f) == len);
  fclose(f);
}

static int finds(seogo_index *index, const char *query, const char *name) {
  seogo_results *res;
  seogo_error err;
  seogo_search_options o;
  seogo_search_options_init(&o);
  o.limit = 50;
  o.snippets = 0;
  if (seogo_search(index, query, strlen(query), &o, &res, &err) != SEOGO_OK) return -1;
  int found = 0;
  for (size_t i = 0; i < seogo_results_count(res); i++)
    if (!strcmp(seogo_results_hit(res, i)->path, name)) found = 1;
  seogo_results_free(res);
  return found;
}

/* Bundled reports and two bad files through seogo_add_files: every file is reported once, in
 * order, the bad ones as skipped, and the good ones before and after them are searchable. */
static void test_add_files_in_order(void) {
  char dir[4096], idx[4096], paths[5][4200];
  snprintf(dir, sizeof dir, "%s/files", tl_tmpdir());
  snprintf(idx, sizeof idx, "%s/files-idx", tl_tmpdir());
  CHECK(mkdir(dir, 0755) == 0);
  const char *const corpus[] = {"corpus/000_659a9385f88d803c.txt", NULL, NULL,
                                "corpus/001_5c4ecdcc42dba0b5.txt",
                                "corpus/004_4c37cfff86aabd90.txt"};
  for (int i = 0; i < 5; i++) {
    snprintf(paths[i], sizeof paths[i], "%s/f%d.txt", dir, i);
    size_t len;
    char *text = corpus[i] ? tl_read_file(tl_source_path(corpus[i]), &len) : NULL;
    if (text) write_bytes(paths[i], text, len);
    free(text);
  }
  write_bytes(paths[1], "\x7f" "ELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\x03\0>\0", 20); /* binary */
  write_bytes(paths[2], "", 0);                                            /* empty */
  const char *list[5] = {paths[0], paths[1], paths[2], paths[3], paths[4]};
  const char *names[5] = {"첫째.txt", "bin", "empty", "넷째.txt", "다섯째.txt"};

  seogo_index *index;
  seogo_error err;
  CHECK_EQ_INT(seogo_open(idx, SEOGO_OPEN_WRITE, &index, &err), SEOGO_OK);
  reports rs = {0};
  seogo_add_files_options how = {.threads = 2, .commit_bytes = 1, .on_file = record_report,
                                 .ctx = &rs};
  CHECK_EQ_INT(seogo_add_files(index, list, names, 5, &how, &err), SEOGO_OK);
  CHECK_EQ_INT((int)rs.count, 5);
  CHECK_EQ_INT((int)rs.order_errors, 0);
  CHECK_EQ_INT(rs.status[0], SEOGO_OK);
  CHECK_EQ_INT(rs.status[1], SEOGO_EBINARY);
  CHECK_EQ_INT(rs.status[2], SEOGO_EEMPTY);
  CHECK_EQ_INT(rs.status[3], SEOGO_OK);
  CHECK_EQ_INT(rs.status[4], SEOGO_OK);
  CHECK_EQ_INT(seogo_commit(index, &err), SEOGO_OK);
  CHECK_EQ_INT(finds(index, "반도체", "첫째.txt"), 1); /* 반도체, in the first report */
  seogo_document doc;
  CHECK_EQ_INT(seogo_document_info(index, "다섯째.txt", &doc, &err), SEOGO_OK);
  CHECK_EQ_INT(seogo_document_info(index, "bin", &doc, &err), SEOGO_NOTFOUND);

  /* on_file stopping the run: files after the stop are not added */
  CHECK_EQ_INT(seogo_remove(index, "넷째.txt", &err), SEOGO_OK);
  CHECK_EQ_INT(seogo_remove(index, "다섯째.txt", &err), SEOGO_OK);
  CHECK_EQ_INT(seogo_commit(index, &err), SEOGO_OK);
  reports stop = {.stop_after = 1};
  how.ctx = &stop;
  CHECK_EQ_INT(seogo_add_files(index, list, names, 5, &how, &err), SEOGO_OK);
  CHECK_EQ_INT((int)stop.count, 1);
  CHECK_EQ_INT(seogo_commit(index, &err), SEOGO_OK);
  CHECK_EQ_INT(seogo_document_info(index, "넷째.txt", &doc, &err), SEOGO_NOTFOUND);
  CHECK_EQ_INT(seogo_document_info(index, "첫째.txt", &doc, &err), SEOGO_OK);
  seogo_close(index);
}

int main(void) {
  RUN(test_search_while_committing);
  RUN(test_add_files_in_order);
  return tl_summary();
}
