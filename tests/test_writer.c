/* test_writer.c - the writing half of the API on corpus text: what a user adds, replaces and
 * removes is what the stored postings, passages and stats say, and bad input or a bad index
 * directory is refused with a message. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "index.h"
#include "indexer.h"
#include "testlib.h"

static const char *corpus_files[] = {
    "corpus/000_659a9385f88d803c.txt", "corpus/001_5c4ecdcc42dba0b5.txt",
    "corpus/002_0223f975d8e56b67.txt", "corpus/003_6aa41a9c697c4b0d.txt",
    "corpus/004_4c37cfff86aabd90.txt"};
#define NCORPUS 5

static char *fresh_dir(const char *name) {
  static int n;
  char *p = malloc(512);
  snprintf(p, 512, "%s/%s-%d", tl_tmpdir(), name, n++);
  return p;
}

static seogo_index *open_index(const char *dir, unsigned flags) {
  seogo_index *ix = NULL;
  seogo_error err = {0};
  int rc = seogo_open(dir, flags, &ix, &err);
  CHECK_MSG(rc == SEOGO_OK, "seogo_open(%s): %d %s", dir, rc, err.message);
  return ix;
}

static void add_corpus(seogo_index *ix, const char *const *files, int n) {
  for (int i = 0; i < n; i++) {
    seogo_add_info info;
    seogo_error err = {0};
    char name[600];
    snprintf(name, sizeof name, "%s", files[i]);
    int rc = seogo_add_file(ix, tl_source_path(files[i]), name, &info, &err);
    CHECK_MSG(rc == SEOGO_OK, "add %s: %d %s", files[i], rc, err.message);
  }
}

static void commit(seogo_index *ix) {
  seogo_error err = {0};
  int rc = seogo_commit(ix, &err);
  CHECK_MSG(rc == SEOGO_OK, "commit: %d %s", rc, err.message);
}

static seogo_index_stats stats_of(seogo_index *ix) {
  seogo_index_stats st;
  memset(&st, 0, sizeof st);
  seogo_error err;
  CHECK(seogo_index_stats_get(ix, &st, &err) == SEOGO_OK);
  return st;
}

/* Passages holding `term`, read from its postings blocks (-1 on a decode error). */
static long term_passages(seogo_index *ix, const char *term, uint32_t *first_pid) {
  sg_store *s = ix->store;
  MDB_txn *txn;
  seogo_error err;
  if (sg_store_read_begin(s, &txn, &err)) return -1;
  MDB_cursor *c;
  mdb_cursor_open(txn, s->postings, &c);
  sg_buf key = {0};
  sg_postings_key(&key, term, strlen(term), 0);
  MDB_val k = {key.len, key.data}, v;
  long n = 0;
  sg_block b;
  sg_block_init(&b);
  if (first_pid) *first_pid = 0;
  for (int rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); rc == 0;
       rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
    size_t tlen;
    uint32_t pid;
    if (sg_postings_key_parse(k.mv_data, k.mv_size, &tlen, &pid) || tlen != strlen(term) ||
        memcmp(k.mv_data, term, tlen))
      break;
    if (sg_block_decode(v.mv_data, v.mv_size, pid, &b, &err)) {
      n = -1;
      break;
    }
    if (first_pid && !*first_pid) *first_pid = b.pids[0];
    n += b.count;
  }
  sg_block_free(&b);
  sg_buf_free(&key);
  mdb_cursor_close(c);
  sg_store_read_end(s, txn);
  return n;
}

static int term_exists(seogo_index *ix, const char *term) {
  MDB_txn *txn;
  seogo_error err;
  sg_store_read_begin(ix->store, &txn, &err);
  MDB_val k = {strlen(term), (void *)term}, v;
  int found = mdb_get(txn, ix->store->terms, &k, &v) == 0;
  sg_store_read_end(ix->store, txn);
  return found;
}

static sg_passage passage_of(seogo_index *ix, uint32_t pid) {
  sg_passage p;
  memset(&p, 0, sizeof p);
  MDB_txn *txn;
  seogo_error err;
  sg_store_read_begin(ix->store, &txn, &err);
  int rc = sg_store_get_passage(ix->store, txn, pid, &p, &err);
  CHECK(rc == SEOGO_OK || rc == SEOGO_NOTFOUND);
  sg_store_read_end(ix->store, txn);
  return p;
}

/* Everything the stats record claims, recounted from the tables; and every posting points at
 * a live passage with positions inside it. */
static void check_integrity(seogo_index *ix) {
  sg_store *s = ix->store;
  MDB_txn *txn;
  seogo_error err;
  CHECK(sg_store_read_begin(s, &txn, &err) == SEOGO_OK);
  sg_stats st;
  CHECK(sg_store_get_stats(s, txn, &st, &err) == SEOGO_OK);
  MDB_stat ms;
  mdb_stat(txn, s->docs, &ms);
  CHECK_EQ_INT(ms.ms_entries, st.documents);
  mdb_stat(txn, s->paths, &ms);
  CHECK_EQ_INT(ms.ms_entries, st.documents);
  mdb_stat(txn, s->text, &ms);
  CHECK_EQ_INT(ms.ms_entries, st.documents);
  mdb_stat(txn, s->terms, &ms);
  CHECK_EQ_INT(ms.ms_entries, st.terms);

  /* passages: every one has a length in the norms, and they add up to the stats */
  MDB_cursor *c;
  MDB_val k, v;
  uint64_t tokens = 0, passages = 0;
  static sg_passage page[SG_PASSAGES_PER_KEY];
  static sg_page_doc docs[SG_PASSAGES_PER_KEY];
  mdb_cursor_open(txn, s->passages, &c);
  for (int rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
       rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
    uint32_t n = 0, ndocs = 0;
    CHECK(sg_passage_page_decode(v.mv_data, v.mv_size, page, &n, docs, &ndocs, &err) == SEOGO_OK);
    for (uint32_t i = 0; i < n; i++) {
      if (!page[i].doc_id) continue;
      uint32_t norm;
      CHECK(sg_store_get_norm(s, txn, sg_get_be32(k.mv_data) * SG_PASSAGES_PER_KEY + i, &norm,
                              &err) == SEOGO_OK);
      CHECK(norm > 0);
      tokens += norm;
      passages++;
    }
  }
  mdb_cursor_close(c);
  CHECK_EQ_INT(passages, st.passages);
  CHECK_EQ_INT(tokens, st.tokens);

  /* terms: df, cf and nblocks recounted from their blocks */
  uint64_t postings = 0;
  sg_block b;
  sg_block_init(&b);
  sg_buf key = {0};
  mdb_cursor_open(txn, s->terms, &c);
  MDB_cursor *pc;
  mdb_cursor_open(txn, s->postings, &pc);
  int bad_terms = 0;
  for (int rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
       rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
    sg_term_info t;
    CHECK(sg_term_decode(v.mv_data, v.mv_size, &t, &err) == SEOGO_OK);
    uint64_t df = 0, cf = 0;
    uint32_t nblocks = 0, prev_last = 0;
    sg_postings_key(&key, k.mv_data, k.mv_size, 0);
    MDB_val pk = {key.len, key.data}, pv;
    for (int prc = mdb_cursor_get(pc, &pk, &pv, MDB_SET_RANGE); prc == 0;
         prc = mdb_cursor_get(pc, &pk, &pv, MDB_NEXT)) {
      size_t tlen;
      uint32_t kp;
      if (sg_postings_key_parse(pk.mv_data, pk.mv_size, &tlen, &kp) || tlen != k.mv_size ||
          memcmp(pk.mv_data, k.mv_data, tlen))
        break;
      if (sg_block_decode(pv.mv_data, pv.mv_size, kp, &b, &err) != SEOGO_OK) {
        bad_terms++;
        break;
      }
      if (nblocks && b.pids[0] <= prev_last) bad_terms++;
      if (b.pids[0] != kp) bad_terms++; /* the writer keys each block by its first pid */
      prev_last = b.last_pid;
      nblocks++;
      df += b.count;
      for (uint32_t i = 0; i < b.count; i++) {
        cf += b.tfs[i];
        uint32_t norm = 0;
        sg_store_get_norm(s, txn, b.pids[i], &norm, &err);
        uint32_t last_pos = b.positions[b.pos_start[i + 1] - 1] >> 2;
        if (norm == 0 || last_pos >= norm) bad_terms++;
      }
    }
    if (df != t.df || cf != t.cf || nblocks != t.nblocks) bad_terms++;
    postings += df;
  }
  CHECK_EQ_INT(bad_terms, 0);
  CHECK_EQ_INT(postings, st.postings);
  mdb_cursor_close(pc);
  mdb_cursor_close(c);
  sg_block_free(&b);
  sg_buf_free(&key);
  sg_store_read_end(s, txn);
}

/* ---- tests ------------------------------------------------------------------------------------- */

static void test_add_corpus(void) {
  char *dir = fresh_dir("corpus");
  seogo_index *ix = open_index(dir, SEOGO_OPEN_WRITE);
  add_corpus(ix, corpus_files, NCORPUS);
  CHECK(seogo_pending_bytes(ix) > 300000);
  /* not visible before commit */
  CHECK_EQ_INT(stats_of(ix).documents, 0);
  commit(ix);
  CHECK_EQ_INT(seogo_pending_bytes(ix), 0);
  seogo_index_stats st = stats_of(ix);
  CHECK_EQ_INT(st.documents, 5);
  CHECK(st.passages > 500 && st.terms > 3000 && st.postings > st.passages);
  CHECK(st.text_bytes > 330000 && st.index_bytes > 0);
  CHECK_EQ_INT(st.format_version, SG_FORMAT_VERSION);
  check_integrity(ix);

  seogo_document doc;
  seogo_error err;
  CHECK_EQ_INT(seogo_document_info(ix, corpus_files[2], &doc, &err), SEOGO_OK);
  CHECK_EQ_STR(doc.encoding, "UTF-8");
  CHECK_EQ_INT(doc.size, 308556);
  CHECK(doc.lines >= 8085 && doc.passages > 300);
  CHECK_EQ_INT(strlen(doc.hash), 16);
  CHECK_EQ_INT(seogo_document_info(ix, "corpus/none.txt", &doc, &err), SEOGO_NOTFOUND);

  /* the report's GENIAC section (lines 1110-1124) is where the term's passages point */
  uint32_t pid;
  long n = term_passages(ix, "geniac", &pid);
  CHECK(n >= 2);
  sg_passage p = passage_of(ix, pid);
  CHECK_MSG(p.line_start >= 1100 && p.line_start <= 1124, "GENIAC passage at lines %u-%u",
            p.line_start, p.line_end);
  CHECK(p.line_end >= p.line_start && p.line_end - p.line_start < 30);
  CHECK(term_passages(ix, "반도", NULL) > 20); /* 반도체 */
  seogo_close(ix);

  /* a reader sees the same */
  ix = open_index(dir, SEOGO_OPEN_READ);
  CHECK_EQ_INT(stats_of(ix).documents, 5);
  seogo_add_info info;
  CHECK_EQ_INT(seogo_add_buffer(ix, "x.txt", "text", 4, 0, &info, &err), SEOGO_EREADONLY);
  CHECK_EQ_INT(seogo_remove(ix, corpus_files[0], &err), SEOGO_EREADONLY);
  seogo_close(ix);
  free(dir);
}

static int count_doc(void *ctx, const char *path, const seogo_document *doc) {
  int *n = ctx;
  (*n)++;
  CHECK(doc->doc_id > 0 && path[0]);
  return 0;
}

static void test_unchanged_and_each(void) {
  char *dir = fresh_dir("unchanged");
  seogo_index *ix = open_index(dir, SEOGO_OPEN_WRITE);
  add_corpus(ix, corpus_files, NCORPUS);
  commit(ix);
  seogo_index_stats before = stats_of(ix);
  seogo_add_info info;
  seogo_error err;
  for (int i = 0; i < NCORPUS; i++) {
    CHECK_EQ_INT(seogo_add_file(ix, tl_source_path(corpus_files[i]), corpus_files[i], &info,
                                &err),
                 SEOGO_OK);
    CHECK_EQ_INT(info.outcome, SEOGO_UNCHANGED);
  }
  CHECK_EQ_INT(seogo_pending_bytes(ix), 0);
  /* same bytes with another mtime: unchanged, only the mtime is recorded */
  size_t len;
  char *text = tl_read_file(tl_source_path(corpus_files[3]), &len);
  CHECK_EQ_INT(seogo_add_buffer(ix, corpus_files[3], text, len, 12345, &info, &err), SEOGO_OK);
  CHECK_EQ_INT(info.outcome, SEOGO_UNCHANGED);
  commit(ix);
  seogo_document doc;
  CHECK_EQ_INT(seogo_document_info(ix, corpus_files[3], &doc, &err), SEOGO_OK);
  CHECK_EQ_INT(doc.mtime, 12345);
  seogo_index_stats after = stats_of(ix);
  CHECK_EQ_INT(after.passages, before.passages);
  CHECK_EQ_INT(after.postings, before.postings);
  int n = 0;
  CHECK_EQ_INT(seogo_documents_each(ix, count_doc, &n, &err), SEOGO_OK);
  CHECK_EQ_INT(n, 5);
  free(text);
  seogo_close(ix);
  free(dir);
}

static const char text_a[] =
    "소버린 AI 전략은 zeppelin 프로젝트와 함께 추진된다.\n\n"
    "데이터센터 확충은 두 번째 문단이다.\n";
static const char text_b[] = "소버린 AI 전략은 quokka 계획으로 바뀌었다.\n";

static void test_replace_and_remove(void) {
  char *dir = fresh_dir("replace");
  seogo_index *ix = open_index(dir, SEOGO_OPEN_WRITE);
  add_corpus(ix, corpus_files, NCORPUS);
  seogo_add_info info;
  seogo_error err;
  CHECK_EQ_INT(seogo_add_buffer(ix, "notes/plan.txt", text_a, strlen(text_a), 1, &info, &err),
               SEOGO_OK);
  CHECK_EQ_INT(info.outcome, SEOGO_ADDED);
  CHECK_EQ_INT(info.passages, 2); /* the blank line separates two paragraphs */
  commit(ix);
  seogo_index_stats with_a = stats_of(ix);
  CHECK_EQ_INT(term_passages(ix, "zeppelin", NULL), 1);
  long sovereign = term_passages(ix, "소버", NULL);
  CHECK(sovereign > 10);

  CHECK_EQ_INT(seogo_add_buffer(ix, "notes/plan.txt", text_b, strlen(text_b), 2, &info, &err),
               SEOGO_OK);
  CHECK_EQ_INT(info.outcome, SEOGO_UPDATED);
  commit(ix);
  CHECK_EQ_INT(term_passages(ix, "zeppelin", NULL), 0);
  CHECK(!term_exists(ix, "zeppelin")); /* the term went with its last passage */
  CHECK_EQ_INT(term_passages(ix, "quokka", NULL), 1);
  CHECK_EQ_INT(term_passages(ix, "소버", NULL), sovereign);
  CHECK_EQ_INT(stats_of(ix).documents, with_a.documents);
  CHECK_EQ_INT(stats_of(ix).passages, with_a.passages - 1);
  check_integrity(ix);

  /* removing the big report takes its postings out of blocks shared with other documents */
  long geniac = term_passages(ix, "geniac", NULL);
  CHECK(geniac > 0);
  CHECK_EQ_INT(seogo_remove(ix, corpus_files[2], &err), SEOGO_OK);
  commit(ix);
  CHECK_EQ_INT(term_passages(ix, "geniac", NULL), 0);
  CHECK(term_passages(ix, "소버", NULL) < sovereign);
  CHECK(term_passages(ix, "소버", NULL) > 0);
  seogo_document doc;
  CHECK_EQ_INT(seogo_document_info(ix, corpus_files[2], &doc, &err), SEOGO_NOTFOUND);
  CHECK_EQ_INT(stats_of(ix).documents, 5);
  CHECK_EQ_INT(seogo_remove(ix, corpus_files[2], &err), SEOGO_NOTFOUND);
  check_integrity(ix);

  /* added back: everything as before, under new ids */
  add_corpus(ix, corpus_files + 2, 1);
  commit(ix);
  CHECK_EQ_INT(term_passages(ix, "geniac", NULL), geniac);
  check_integrity(ix);

  /* replaced twice and removed within one batch */
  CHECK_EQ_INT(seogo_add_buffer(ix, "notes/plan.txt", text_a, strlen(text_a), 3, &info, &err),
               SEOGO_OK);
  CHECK_EQ_INT(seogo_add_buffer(ix, "notes/plan.txt", text_b, strlen(text_b), 4, &info, &err),
               SEOGO_OK);
  CHECK_EQ_INT(info.outcome, SEOGO_UPDATED);
  CHECK_EQ_INT(seogo_remove(ix, "notes/plan.txt", &err), SEOGO_OK);
  CHECK_EQ_INT(seogo_remove(ix, "notes/plan.txt", &err), SEOGO_NOTFOUND);
  commit(ix);
  CHECK_EQ_INT(term_passages(ix, "quokka", NULL), 0);
  CHECK_EQ_INT(term_passages(ix, "zeppelin", NULL), 0);
  CHECK_EQ_INT(stats_of(ix).documents, 5);
  check_integrity(ix);
  seogo_close(ix);
  free(dir);
}

static void test_abort(void) {
  char *dir = fresh_dir("abort");
  seogo_index *ix = open_index(dir, SEOGO_OPEN_WRITE);
  add_corpus(ix, corpus_files, 2);
  commit(ix);
  seogo_index_stats before = stats_of(ix);
  seogo_add_info info;
  seogo_error err;
  CHECK_EQ_INT(seogo_add_buffer(ix, "a.txt", text_a, strlen(text_a), 1, &info, &err), SEOGO_OK);
  CHECK_EQ_INT(seogo_remove(ix, corpus_files[0], &err), SEOGO_OK);
  seogo_abort(ix);
  CHECK_EQ_INT(seogo_pending_bytes(ix), 0);
  commit(ix); /* nothing left to commit */
  seogo_index_stats after = stats_of(ix);
  CHECK_EQ_INT(after.documents, before.documents);
  CHECK_EQ_INT(after.postings, before.postings);
  CHECK_EQ_INT(term_passages(ix, "zeppelin", NULL), 0);
  seogo_document doc;
  CHECK_EQ_INT(seogo_document_info(ix, corpus_files[0], &doc, &err), SEOGO_OK);
  /* closing with uncommitted changes drops them too */
  CHECK_EQ_INT(seogo_add_buffer(ix, "a.txt", text_a, strlen(text_a), 1, &info, &err), SEOGO_OK);
  seogo_close(ix);
  ix = open_index(dir, SEOGO_OPEN_READ);
  CHECK_EQ_INT(stats_of(ix).documents, before.documents);
  seogo_close(ix);
  free(dir);
}

static void test_map_growth(void) {
  char *dir = fresh_dir("grow");
  seogo_index *ix = open_index(dir, SEOGO_OPEN_WRITE);
  seogo_error err;
  /* far too small for the report: commits must grow the map and redo the batch */
  CHECK_EQ_INT(sg_store_set_map_size(ix->store, 64 << 10, &err), SEOGO_OK);
  size_t small = ix->store->map_size;
  size_t len;
  char *text = tl_read_file(tl_source_path(corpus_files[2]), &len);
  for (int i = 0; i < 3; i++) {
    char name[32];
    snprintf(name, sizeof name, "copy-%d.txt", i);
    seogo_add_info info;
    CHECK_EQ_INT(seogo_add_buffer(ix, name, text, len, i, &info, &err), SEOGO_OK);
  }
  commit(ix);
  CHECK_MSG(ix->store->map_size >= 4 * small, "map %zu from %zu", ix->store->map_size, small);
  CHECK_EQ_INT(stats_of(ix).documents, 3);
  CHECK_EQ_INT(term_passages(ix, "geniac", NULL) % 3, 0);
  check_integrity(ix);
  seogo_close(ix);
  /* a reader opened afterwards maps the grown file */
  ix = open_index(dir, SEOGO_OPEN_READ);
  CHECK_EQ_INT(stats_of(ix).documents, 3);
  seogo_close(ix);
  free(text);
  free(dir);
}

static void set_meta_version(const char *dir, const char *what, uint32_t v) {
  sg_store *s;
  seogo_error err;
  /* FRESH would start over; a plain writable store of the same versions opens */
  CHECK(sg_store_open(dir, SG_STORE_WRITE, &s, &err) == SEOGO_OK);
  MDB_txn *txn;
  CHECK(sg_store_write_begin(s, &txn, &err) == SEOGO_OK);
  unsigned char b[4];
  sg_put_be32(b, v);
  MDB_val k = {strlen(what), (void *)what}, val = {4, b};
  CHECK(mdb_put(txn, s->meta, &k, &val, 0) == 0);
  CHECK(sg_store_commit(s, txn, &err) == SEOGO_OK);
  sg_store_close(s);
}

static void test_versions(void) {
  char *dir = fresh_dir("version");
  seogo_index *ix = open_index(dir, SEOGO_OPEN_WRITE);
  add_corpus(ix, corpus_files, 1);
  commit(ix);
  seogo_close(ix);
  set_meta_version(dir, "format", SG_FORMAT_VERSION + 1);
  seogo_error err = {0};
  CHECK_EQ_INT(seogo_open(dir, SEOGO_OPEN_READ, &ix, &err), SEOGO_EVERSION);
  CHECK(ix == NULL);
  char want[200];
  snprintf(want, sizeof want,
           "was written by format version %d; this is version %d: rebuild it with seogo-index "
           "--rebuild",
           SG_FORMAT_VERSION + 1, SG_FORMAT_VERSION);
  CHECK_MSG(strstr(err.message, want) != NULL, "message: %s", err.message);
  CHECK_MSG(strstr(err.message, dir) != NULL, "message names the index: %s", err.message);
  CHECK_EQ_INT(seogo_open(dir, SEOGO_OPEN_WRITE, &ix, &err), SEOGO_EVERSION);
  /* a rebuild replaces the old index whatever its version */
  ix = open_index(dir, SEOGO_OPEN_WRITE | SEOGO_OPEN_REBUILD);
  add_corpus(ix, corpus_files + 3, 1);
  CHECK_EQ_INT(seogo_publish(ix, &err), SEOGO_OK);
  seogo_close(ix);
  ix = open_index(dir, SEOGO_OPEN_READ);
  CHECK_EQ_INT(stats_of(ix).documents, 1);
  seogo_close(ix);

  set_meta_version(dir, "analyzer", SG_ANALYZER_VERSION + 7);
  CHECK_EQ_INT(seogo_open(dir, SEOGO_OPEN_READ, &ix, &err), SEOGO_EVERSION);
  CHECK_MSG(strstr(err.message, "analyzer version") != NULL, "message: %s", err.message);
  free(dir);
}

static void test_not_an_index(void) {
  char *dir = fresh_dir("notindex");
  mkdir(dir, 0755);
  char file[600];
  snprintf(file, sizeof file, "%s/thesis.txt", dir);
  FILE *f = fopen(file, "w");
  fputs("my thesis\n", f);
  fclose(f);
  seogo_index *ix = NULL;
  seogo_error err = {0};
  CHECK_EQ_INT(seogo_open(dir, SEOGO_OPEN_READ, &ix, &err), SEOGO_ECORRUPT);
  CHECK_MSG(strstr(err.message, "not a Seogo index") != NULL, "message: %s", err.message);
  CHECK_EQ_INT(seogo_open(dir, SEOGO_OPEN_WRITE, &ix, &err), SEOGO_ECORRUPT);
  char lock[600];
  snprintf(lock, sizeof lock, "%s/LOCK", dir);
  CHECK(access(lock, F_OK) != 0); /* somebody else's directory is left alone */
  /* a file where the index should be */
  CHECK_EQ_INT(seogo_open(file, SEOGO_OPEN_READ, &ix, &err), SEOGO_ECORRUPT);
  /* missing */
  snprintf(file, sizeof file, "%s/none", dir);
  CHECK_EQ_INT(seogo_open(file, SEOGO_OPEN_READ, &ix, &err), SEOGO_EIO);
  CHECK(strstr(err.message, file) != NULL);
  /* garbage where data.mdb should be */
  char *idx = fresh_dir("garbage");
  ix = open_index(idx, SEOGO_OPEN_WRITE);
  seogo_close(ix);
  char data[600];
  snprintf(data, sizeof data, "%s/gen-000001/data.mdb", idx);
  f = fopen(data, "w");
  for (int i = 0; i < 3000; i++) fputs("not lmdb ", f);
  fclose(f);
  CHECK_EQ_INT(seogo_open(idx, SEOGO_OPEN_READ, &ix, &err), SEOGO_ECORRUPT);
  CHECK_EQ_INT(seogo_open(NULL, SEOGO_OPEN_READ, &ix, &err), SEOGO_EINVAL);
  CHECK_EQ_INT(seogo_open(dir, SEOGO_OPEN_NOWAIT, &ix, &err), SEOGO_EINVAL);
  free(idx);
  free(dir);
}

static void test_writer_lock(void) {
  char *dir = fresh_dir("lock");
  seogo_index *a = open_index(dir, SEOGO_OPEN_WRITE);
  seogo_index *b = NULL;
  seogo_error err = {0};
  CHECK_EQ_INT(seogo_open(dir, SEOGO_OPEN_WRITE | SEOGO_OPEN_NOWAIT, &b, &err), SEOGO_EBUSY);
  CHECK(strstr(err.message, "another process") != NULL);
  seogo_index *r = open_index(dir, SEOGO_OPEN_READ); /* readers never wait */
  seogo_close(r);
  seogo_close(a);
  b = open_index(dir, SEOGO_OPEN_WRITE | SEOGO_OPEN_NOWAIT);
  seogo_close(b);
  free(dir);
}

static void test_rebuild(void) {
  char *dir = fresh_dir("rebuild");
  seogo_index *ix = open_index(dir, SEOGO_OPEN_WRITE);
  add_corpus(ix, corpus_files, NCORPUS);
  commit(ix);
  seogo_close(ix);
  seogo_index *reader = open_index(dir, SEOGO_OPEN_READ);
  /* an abandoned rebuild changes nothing */
  ix = open_index(dir, SEOGO_OPEN_WRITE | SEOGO_OPEN_REBUILD);
  add_corpus(ix, corpus_files, 1);
  commit(ix);
  seogo_close(ix);
  ix = open_index(dir, SEOGO_OPEN_READ);
  CHECK_EQ_INT(stats_of(ix).documents, 5);
  seogo_close(ix);
  /* a published one replaces the index; an open reader keeps its snapshot */
  ix = open_index(dir, SEOGO_OPEN_WRITE | SEOGO_OPEN_REBUILD);
  add_corpus(ix, corpus_files + 1, 2);
  commit(ix);
  CHECK_EQ_INT(stats_of(reader).documents, 5);
  seogo_error err;
  CHECK_EQ_INT(seogo_publish(ix, &err), SEOGO_OK);
  seogo_close(ix);
  CHECK_EQ_INT(stats_of(reader).documents, 5);
  seogo_close(reader);
  ix = open_index(dir, SEOGO_OPEN_READ);
  CHECK_EQ_INT(stats_of(ix).documents, 2);
  check_integrity(ix);
  seogo_close(ix);
  char old[600];
  snprintf(old, sizeof old, "%s/gen-000001", dir);
  CHECK(access(old, F_OK) != 0);
  free(dir);
}

static void add_data_file(seogo_index *ix, const char *rel, seogo_add_info *info, int want) {
  seogo_error err = {0};
  int rc = seogo_add_file(ix, tl_source_path(rel), rel, info, &err);
  CHECK_MSG(rc == want, "%s: %d (%s), expected %d", rel, rc, err.message, want);
  if (rc != SEOGO_OK) CHECK_MSG(strstr(err.message, rel) != NULL, "message names the file: %s",
                                err.message);
}

static void test_encodings(void) {
  char *dir = fresh_dir("enc");
  seogo_index *ix = open_index(dir, SEOGO_OPEN_WRITE);
  seogo_add_info utf8, cp949, utf16, uhc, damaged, info;
  add_data_file(ix, corpus_files[3], &utf8, SEOGO_OK);
  add_data_file(ix, "tests/data/indexer/news_cp949.txt", &cp949, SEOGO_OK);
  add_data_file(ix, "tests/data/indexer/news_utf16le.txt", &utf16, SEOGO_OK);
  add_data_file(ix, "tests/data/indexer/uhc_cp949.txt", &uhc, SEOGO_OK);
  add_data_file(ix, "tests/data/indexer/damaged_utf8.txt", &damaged, SEOGO_OK);
  CHECK_EQ_STR(utf8.encoding, "UTF-8");
  CHECK_EQ_STR(cp949.encoding, "EUC-KR");
  CHECK_EQ_STR(utf16.encoding, "UTF-16LE");
  CHECK_EQ_STR(uhc.encoding, "CP949"); /* 똠 and 뷁 are outside EUC-KR */
  CHECK_EQ_INT(cp949.passages, utf8.passages);
  CHECK_EQ_INT(utf16.passages, utf8.passages);
  CHECK_EQ_STR(damaged.encoding, "UTF-8");
  CHECK_EQ_INT(damaged.invalid_sequences, 2);
  CHECK_EQ_INT(damaged.first_invalid_line, 2);
  commit(ix);
  /* the same news in three encodings: three times the postings of each of its terms */
  CHECK_EQ_INT(term_passages(ix, "엔비", NULL) % 3, 0);
  CHECK(term_passages(ix, "엔비", NULL) >= 3);
  CHECK_EQ_INT(term_passages(ix, "똠방", NULL), 1);
  CHECK_EQ_INT(term_passages(ix, "semiconductor", NULL), 1);

  seogo_error err;
  static const char nul_bytes[] = "PK\3\4\0\0binary\0\0\0";
  CHECK_EQ_INT(seogo_add_buffer(ix, "zip.txt", nul_bytes, sizeof nul_bytes, 0, &info, &err),
               SEOGO_EBINARY);
  CHECK(strstr(err.message, "zip.txt") != NULL);
  CHECK_EQ_INT(seogo_add_buffer(ix, "empty.txt", "", 0, 0, &info, &err), SEOGO_EEMPTY);
  CHECK_EQ_INT(seogo_add_buffer(ix, "blank.txt", " \n\t\r\n\xe3\x80\x80\n", 9, 0, &info, &err),
               SEOGO_EEMPTY);
  static const char latin1[] = "caf\xe9 na\xefve r\xe9sum\xe9 \xe0 la fa\xe7on de";
  CHECK_EQ_INT(seogo_add_buffer(ix, "latin1.txt", latin1, strlen(latin1), 0, &info, &err),
               SEOGO_EENCODING);
  CHECK_EQ_INT(seogo_add_file(ix, "/nonexistent/file.txt", NULL, &info, &err), SEOGO_EIO);
  CHECK(strstr(err.message, "/nonexistent/file.txt") != NULL);
  CHECK_EQ_INT(seogo_add_file(ix, tl_source_path("corpus"), "corpus", &info, &err), SEOGO_EIO);
  /* failed adds left nothing behind */
  CHECK_EQ_INT(seogo_pending_bytes(ix), 0);
  commit(ix);
  CHECK_EQ_INT(stats_of(ix).documents, 5);
  check_integrity(ix);
  seogo_close(ix);
  free(dir);
}

/* Damage anywhere in a long Korean text (the census of the bytes goes 64 at a time where it
 * can) is found and placed on its line: a stray byte, a sequence cut short, a surrogate, an
 * overlong form, each next to every kind of character the text has. */
static void test_damage_anywhere(void) {
  char *dir = fresh_dir("damage");
  seogo_index *ix = open_index(dir, SEOGO_OPEN_WRITE);
  size_t len;
  char *text = tl_read_file(tl_source_path(corpus_files[3]), &len);
  if (len > 400) len = 400;
  while (len && ((unsigned char)text[len] & 0xc0) == 0x80) len--; /* whole characters */
  static const struct {
    const char *bytes;
    uint32_t invalid; /* U+FFFD replacements: one per maximal ill-formed subpart */
  } damage[] = {{"\xff", 1},         {"\xed\x95", 1}, {"\xed\xa0\x80", 3},     {"\xe0\x80\x80", 3},
                {"\xf0\x9f\x98", 1}, {"\x80", 1},     {"\xf0\x9f\x98\x80", 0}, {"\xed\x9f\xbf", 0},
                {"\xe0\xa0\x80", 0}, {"\xc2\xb7", 0}};
  char *buf = malloc(len + 8);
  int cases = 0;
  for (size_t at = 0; at <= len; at++) {
    if (at < len && ((unsigned char)text[at] & 0xc0) == 0x80) continue;
    uint32_t line = 1;
    for (size_t i = 0; i < at; i++) line += text[i] == '\n';
    for (size_t d = 0; d < sizeof damage / sizeof damage[0]; d++) {
      size_t n = strlen(damage[d].bytes);
      memcpy(buf, text, at);
      memcpy(buf + at, damage[d].bytes, n);
      memcpy(buf + at + n, text + at, len - at);
      char name[64];
      snprintf(name, sizeof name, "damage-%zu-%zu.txt", at, d);
      seogo_add_info info;
      seogo_error err;
      int rc = seogo_add_buffer(ix, name, buf, len + n, 0, &info, &err);
      CHECK_MSG(rc == SEOGO_OK, "%s: %s", name, err.message);
      if (rc != SEOGO_OK) continue;
      CHECK_MSG(info.invalid_sequences == damage[d].invalid, "%s: %u invalid, expected %u", name,
                info.invalid_sequences, damage[d].invalid);
      CHECK_MSG(info.first_invalid_line == (damage[d].invalid ? line : 0),
                "%s: first invalid line %u, expected %u", name, info.first_invalid_line,
                damage[d].invalid ? line : 0);
      cases++;
    }
  }
  CHECK(cases > 1000);
  /* a NUL byte anywhere makes the file binary; so do control bytes above 1 %, but not tabs,
   * form feeds, vertical tabs, carriage returns or ESC */
  for (size_t at = 0; at <= len; at += 5) {
    memcpy(buf, text, at);
    buf[at] = 0;
    memcpy(buf + at + 1, text + at, len - at);
    seogo_add_info info;
    seogo_error err = {0}; /* its message is printed when the add wrongly succeeds */
    CHECK_MSG(seogo_add_buffer(ix, "nul.txt", buf, len + 1, 0, &info, &err) == SEOGO_EBINARY,
              "a NUL at %zu: %s", at, err.message);
  }
  for (int control = 0; control < 2; control++) {
    memcpy(buf, text, len);
    size_t ascii = 0, changed = 0;
    for (size_t at = 0; at < len; at++) /* every fourth ASCII byte */
      if ((unsigned char)buf[at] < 0x80 && ascii++ % 4 == 0)
        buf[at] = control ? '\x01' : '\v', changed++;
    CHECK(changed * 100 > len);
    seogo_add_info info;
    seogo_error err;
    CHECK_EQ_INT(seogo_add_buffer(ix, "controls.txt", buf, len, 0, &info, &err),
                 control ? SEOGO_EBINARY : SEOGO_OK);
  }
  seogo_abort(ix);
  free(buf);
  free(text);
  seogo_close(ix);
  free(dir);
}

static void test_passages(void) {
  char *dir = fresh_dir("passages");
  seogo_index *ix = open_index(dir, SEOGO_OPEN_WRITE);
  add_corpus(ix, corpus_files, NCORPUS);
  commit(ix);
  MDB_txn *txn;
  seogo_error err;
  sg_store_read_begin(ix->store, &txn, &err);
  MDB_cursor *c;
  mdb_cursor_open(txn, ix->store->docs, &c);
  MDB_val k, v;
  int bad = 0, long_ones = 0, checked = 0;
  for (int rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
       rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
    sg_doc d;
    CHECK(sg_doc_decode(v.mv_data, v.mv_size, &d, &err) == SEOGO_OK);
    MDB_val text;
    CHECK(mdb_get(txn, ix->store->text, &k, &text) == 0);
    uint32_t prev_end = 0;
    for (uint32_t i = 0; i < d.npassages; i++) {
      sg_passage p;
      if (sg_store_get_passage(ix->store, txn, d.first_pid + i, &p, &err) != SEOGO_OK ||
          p.doc_id != sg_get_be32(k.mv_data)) {
        bad++;
        continue;
      }
      const char *t = (const char *)text.mv_data;
      checked++;
      /* in order, inside the text and its lines, trimmed */
      if (p.start < prev_end || p.end > text.mv_size || p.line_end > d.nlines) bad++;
      if (p.end > p.start && (t[p.start] == ' ' || t[p.end - 1] == '\n')) bad++;
      prev_end = p.end;
      uint32_t chars = 0;
      for (uint32_t j = p.start; j < p.end; j++)
        chars += ((unsigned char)t[j] & 0xc0) != 0x80 && t[j] != '\n';
      if (chars > 2 * SG_PASSAGE_HARD_MAX) bad++;
      if (chars > SG_PASSAGE_SOFT_MAX) long_ones++;
      /* in ordinary documents, never across a blank line */
      if (!d.pdf_like) {
        for (uint32_t j = p.start; j + 1 < p.end; j++)
          if (t[j] == '\n' && t[j + 1] == '\n') {
            bad++;
            break;
          }
      }
    }
  }
  mdb_cursor_close(c);
  sg_store_read_end(ix->store, txn);
  CHECK_EQ_INT(bad, 0);
  CHECK(checked > 500);
  CHECK_MSG(long_ones * 20 < checked, "%d of %d passages are long", long_ones, checked);
  seogo_close(ix);
  free(dir);
}

static int count_problem(void *ctx, const seogo_problem *problem) {
  (void)problem;
  ++*(int *)ctx;
  return 0;
}

/* All hits of a query as "path:lines" lines, best first. */
static void hits_of(seogo_index *ix, const char *q, sg_buf *out) {
  seogo_results *r = NULL;
  seogo_error err;
  seogo_search_options o;
  seogo_search_options_init(&o);
  o.limit = 1000;
  sg_buf_clear(out);
  CHECK_EQ_INT(seogo_search(ix, q, strlen(q), &o, &r, &err), SEOGO_OK);
  for (size_t i = 0; r && i < seogo_results_count(r); i++) {
    const seogo_hit *h = seogo_results_hit(r, i);
    sg_buf_printf(out, "%s:%u-%u\n", h->path, (unsigned)h->line_start, (unsigned)h->line_end);
  }
  seogo_results_free(r);
}

/* Passage ids running across two "passages" pages: the documents read, search, check and go
 * as those of an index whose ids never reach the second page. */
static void test_passages_across_pages(void) {
  char *dir = fresh_dir("pages"), *plain_dir = fresh_dir("pages-plain");
  seogo_index *ix = open_index(dir, SEOGO_OPEN_WRITE);
  seogo_index *plain = open_index(plain_dir, SEOGO_OPEN_WRITE);
  add_corpus(ix, corpus_files, 1);
  commit(ix);
  MDB_txn *txn;
  seogo_error err;
  sg_stats st;
  CHECK(sg_store_write_begin(ix->store, &txn, &err) == SEOGO_OK);
  CHECK(sg_store_get_stats(ix->store, txn, &st, &err) == SEOGO_OK);
  st.next_passage_id = SG_PASSAGES_PER_KEY - 5; /* the next document starts 5 before page 1 */
  CHECK(sg_store_put_stats(ix->store, txn, &st, &err) == SEOGO_OK);
  CHECK(sg_store_commit(ix->store, txn, &err) == SEOGO_OK);
  seogo_close(ix);
  ix = open_index(dir, SEOGO_OPEN_WRITE);
  add_corpus(ix, corpus_files + 1, NCORPUS - 1);
  commit(ix);
  add_corpus(plain, corpus_files, NCORPUS);
  commit(plain);
  seogo_document doc;
  CHECK_EQ_INT(seogo_document_info(ix, corpus_files[1], &doc, &err), SEOGO_OK);
  CHECK(doc.passages > 5);
  CHECK(sg_store_read_begin(ix->store, &txn, &err) == SEOGO_OK);
  sg_passage p;
  for (uint32_t pid = SG_PASSAGES_PER_KEY - 5; pid < SG_PASSAGES_PER_KEY + 1; pid++)
    CHECK(sg_store_get_passage(ix->store, txn, pid, &p, &err) == SEOGO_OK &&
          p.doc_id == doc.doc_id);
  sg_store_read_end(ix->store, txn);
  const char *queries[] = {"소버린 AI", "반도체", "\"전략목표\"", "GPU OR 데이터센터"};
  sg_buf a = {0}, b = {0};
  for (int round = 0; round < 2; round++) {
    check_integrity(ix);
    int problems = 0;
    CHECK_EQ_INT(seogo_check(ix, count_problem, &problems, NULL, &err), SEOGO_OK);
    CHECK_EQ_INT(problems, 0);
    for (size_t q = 0; q < sizeof queries / sizeof *queries; q++) {
      hits_of(ix, queries[q], &a);
      hits_of(plain, queries[q], &b);
      CHECK_MSG(a.len > 0 && a.len == b.len && !memcmp(a.data, b.data, a.len),
                "round %d, %s:\n%.*s\nagainst\n%.*s", round, queries[q], (int)a.len, (char *)a.data,
                (int)b.len, (char *)b.data);
    }
    if (round) break;
    /* then the document across the pages goes, from both pages */
    CHECK_EQ_INT(seogo_remove(ix, corpus_files[1], &err), SEOGO_OK);
    CHECK_EQ_INT(seogo_remove(plain, corpus_files[1], &err), SEOGO_OK);
    commit(ix);
    commit(plain);
  }
  CHECK(sg_store_read_begin(ix->store, &txn, &err) == SEOGO_OK);
  for (uint32_t pid = SG_PASSAGES_PER_KEY - 5; pid < SG_PASSAGES_PER_KEY + 5; pid++)
    CHECK_EQ_INT(sg_store_get_passage(ix->store, txn, pid, &p, &err), SEOGO_NOTFOUND);
  sg_store_read_end(ix->store, txn);
  sg_buf_free(&a);
  sg_buf_free(&b);
  seogo_close(ix);
  seogo_close(plain);
  free(dir);
  free(plain_dir);
}

/* A reader whose map a writer in another process outgrows adopts the new size. */
static void test_reader_adopts_grown_map(void) {
  char *dir = fresh_dir("resized");
  seogo_index *ix = open_index(dir, SEOGO_OPEN_WRITE);
  add_corpus(ix, corpus_files, 1);
  commit(ix);
  seogo_close(ix);
  seogo_index *reader = open_index(dir, SEOGO_OPEN_READ);
  seogo_error err;
  /* shrink the reader's map to what the file holds now */
  CHECK_EQ_INT(sg_store_set_map_size(reader->store, 1, &err), SEOGO_OK);
  size_t before = reader->store->map_size;
  pid_t child = fork();
  if (child == 0) {
    seogo_index *w = NULL;
    if (seogo_open(dir, SEOGO_OPEN_WRITE, &w, NULL)) _exit(1);
    for (int i = 0; i < NCORPUS; i++)
      if (seogo_add_file(w, tl_source_path(corpus_files[i]), corpus_files[i], NULL, NULL)) _exit(2);
    if (seogo_commit(w, NULL)) _exit(3);
    seogo_close(w);
    _exit(0);
  }
  int status = -1;
  waitpid(child, &status, 0);
  CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0, "writer process: status %d", status);
  CHECK_EQ_INT(stats_of(reader).documents, 5);
  CHECK(reader->store->map_size > before);
  CHECK(term_passages(reader, "geniac", NULL) > 0);
  seogo_close(reader);
  free(dir);
}

typedef struct prep_job {
  seogo_index *ix;
  int first, step;
  char paths[NCORPUS][1024]; /* tl_source_path's buffer is not for threads */
  seogo_prepared *docs[NCORPUS];
  int rc[NCORPUS];
} prep_job;

static void *prepare_some(void *arg) {
  prep_job *j = arg;
  for (int i = j->first; i < NCORPUS; i += j->step)
    j->rc[i] = seogo_prepare_file(j->ix, j->paths[i], corpus_files[i], &j->docs[i], NULL);
  return NULL;
}

/* Documents prepared in several threads and added in order make the same index as
 * seogo_add_file; a prepared file found unchanged is not read twice. */
static void test_prepared_in_threads(void) {
  char *a = fresh_dir("sequential"), *b = fresh_dir("threads");
  seogo_index *seq = open_index(a, SEOGO_OPEN_WRITE), *par = open_index(b, SEOGO_OPEN_WRITE);
  add_corpus(seq, corpus_files, NCORPUS);
  commit(seq);
  prep_job jobs[3];
  pthread_t threads[3];
  for (int t = 0; t < 3; t++) {
    memset(&jobs[t], 0, sizeof jobs[t]);
    jobs[t].ix = par;
    jobs[t].first = t;
    jobs[t].step = 3;
    for (int i = 0; i < NCORPUS; i++)
      snprintf(jobs[t].paths[i], sizeof jobs[t].paths[i], "%s", tl_source_path(corpus_files[i]));
    pthread_create(&threads[t], NULL, prepare_some, &jobs[t]);
  }
  for (int t = 0; t < 3; t++) pthread_join(threads[t], NULL);
  seogo_error err;
  for (int i = 0; i < NCORPUS; i++) {
    prep_job *j = &jobs[i % 3];
    CHECK_EQ_INT(j->rc[i], SEOGO_OK);
    seogo_add_info info;
    CHECK_EQ_INT(seogo_add_prepared(par, j->docs[i], &info, &err), SEOGO_OK);
    CHECK_EQ_INT(info.outcome, SEOGO_ADDED);
  }
  commit(par);
  seogo_index_stats x = stats_of(seq), y = stats_of(par);
  CHECK_MSG(x.documents == y.documents && x.passages == y.passages && x.terms == y.terms &&
        x.postings == y.postings && x.tokens == y.tokens, "docs %d/%d passages %d/%d terms %d/%d postings %d/%d tokens %d/%d", (int)x.documents, (int)y.documents, (int)x.passages, (int)y.passages, (int)x.terms, (int)y.terms, (int)x.postings, (int)y.postings, (int)x.tokens, (int)y.tokens);
  check_integrity(par);
  seogo_prepared *again;
  CHECK_EQ_INT(seogo_prepare_file(par, tl_source_path(corpus_files[2]), corpus_files[2], &again,
                                  &err),
               SEOGO_OK);
  seogo_add_info info;
  CHECK_EQ_INT(seogo_add_prepared(par, again, &info, &err), SEOGO_OK);
  CHECK_EQ_INT(info.outcome, SEOGO_UNCHANGED);
  CHECK_EQ_INT(seogo_prepare_file(par, "/nonexistent.txt", NULL, &again, &err), SEOGO_EIO);
  CHECK(again == NULL);
  seogo_prepared_free(NULL);
  seogo_close(seq);
  seogo_close(par);
  seogo_index *ro = open_index(b, SEOGO_OPEN_READ);
  CHECK_EQ_INT(seogo_prepare_file(ro, tl_source_path(corpus_files[0]), NULL, &again, &err),
               SEOGO_EREADONLY);
  seogo_close(ro);
  free(a);
  free(b);
}

static unsigned current_gen(const char *dir) {
  char path[600], line[32] = {0};
  snprintf(path, sizeof path, "%s/CURRENT", dir);
  FILE *f = fopen(path, "r");
  if (!f) return 0;
  unsigned gen = 0;
  if (fgets(line, sizeof line, f)) sscanf(line, "gen-%u", &gen);
  fclose(f);
  return gen;
}

static uint64_t hits(seogo_index *ix, const char *q) {
  seogo_results *r = NULL;
  seogo_error err = {0};
  int rc = seogo_search(ix, q, strlen(q), NULL, &r, &err);
  CHECK_MSG(rc == SEOGO_OK, "search %s: %s", q, err.message);
  uint64_t n = r ? seogo_results_total(r) : 0;
  seogo_results_free(r);
  return n;
}

/* A build in many small commits, then a removal, leaves half-full and free pages; publishing
 * packs it into a new generation that answers the same, takes less room and keeps taking
 * writes, while a reader that had the old one open keeps its snapshot. */
static void test_pack(void) {
  char *dir = fresh_dir("pack");
  seogo_index *ix = open_index(dir, SEOGO_OPEN_WRITE);
  for (int i = 0; i < NCORPUS; i++) {
    add_corpus(ix, corpus_files + i, 1);
    commit(ix);
  }
  seogo_error err = {0};
  CHECK_EQ_INT(seogo_remove(ix, corpus_files[4], &err), SEOGO_OK);
  commit(ix);
  seogo_index *reader = open_index(dir, SEOGO_OPEN_READ);
  const char *queries[] = {"반도체", "소버린 AI", "\"데이터 센터\"", "GPU OR 전력"};
  uint64_t before[4];
  for (int q = 0; q < 4; q++) before[q] = hits(reader, queries[q]);
  CHECK(before[0] > 0 && before[1] > 0);
  seogo_index_stats a = stats_of(ix);
  unsigned gen = current_gen(dir);
  CHECK_EQ_INT(seogo_publish(ix, &err), SEOGO_OK);
  seogo_index_stats b = stats_of(ix);
  CHECK_MSG(current_gen(dir) > gen, "CURRENT names gen %u, was %u", current_gen(dir), gen);
  char old[600];
  snprintf(old, sizeof old, "%s/gen-%06u", dir, gen);
  CHECK(access(old, F_OK) != 0);
  CHECK_MSG(b.index_bytes < a.index_bytes, "index bytes %llu after packing, %llu before",
            (unsigned long long)b.index_bytes, (unsigned long long)a.index_bytes);
  CHECK(b.documents == 4 && b.postings == a.postings && b.terms == a.terms);
  CHECK(b.index_bytes == b.disk_bytes - b.text_disk_bytes && b.text_disk_bytes >= b.text_bytes);
  check_integrity(ix);
  for (int q = 0; q < 4; q++) {
    CHECK_MSG(hits(ix, queries[q]) == before[q], "%s after packing", queries[q]);
    CHECK_MSG(hits(reader, queries[q]) == before[q], "%s in the old snapshot", queries[q]);
  }
  /* publishing again with nothing written leaves the packed index alone */
  gen = current_gen(dir);
  CHECK_EQ_INT(seogo_publish(ix, &err), SEOGO_OK);
  CHECK_EQ_INT(current_gen(dir), gen);
  /* the handle goes on writing into the packed generation */
  add_corpus(ix, corpus_files + 4, 1);
  commit(ix);
  seogo_close(ix);
  seogo_close(reader);
  ix = open_index(dir, SEOGO_OPEN_READ);
  CHECK_EQ_INT(stats_of(ix).documents, 5);
  check_integrity(ix);
  seogo_close(ix);
  free(dir);
}

/* A build in one commit writes its postings and terms at their tables' ends, so its pages are
 * full from the start: publishing leaves it where it is (no copy), and it is no larger than
 * the same build made in many commits and then packed, and answers the same. */
static void test_one_commit_build_is_packed(void) {
  char *many = fresh_dir("many-commits"), *one = fresh_dir("one-commit");
  seogo_index *a = open_index(many, SEOGO_OPEN_WRITE), *b = open_index(one, SEOGO_OPEN_WRITE);
  for (int i = 0; i < NCORPUS; i++) {
    add_corpus(a, corpus_files + i, 1);
    commit(a);
  }
  add_corpus(b, corpus_files, NCORPUS);
  seogo_error err = {0};
  unsigned gen = current_gen(one);
  CHECK_EQ_INT(seogo_publish(a, &err), SEOGO_OK);
  CHECK_EQ_INT(seogo_publish(b, &err), SEOGO_OK);
  CHECK_MSG(current_gen(one) == gen, "CURRENT names gen %u, was %u", current_gen(one), gen);
  seogo_index_stats sa = stats_of(a), sb = stats_of(b);
  CHECK_MSG(sb.index_bytes <= sa.index_bytes, "index bytes %llu in one commit, %llu packed",
            (unsigned long long)sb.index_bytes, (unsigned long long)sa.index_bytes);
  CHECK(sb.postings == sa.postings && sb.terms == sa.terms && sb.passages == sa.passages);
  check_integrity(b);
  const char *queries[] = {"반도체", "소버린 AI", "\"데이터 센터\"", "GPU OR 전력", "NEAR(AI 전략)"};
  for (int q = 0; q < 5; q++) CHECK_MSG(hits(b, queries[q]) == hits(a, queries[q]), "%s", queries[q]);
  seogo_close(a);
  seogo_close(b);
  free(many);
  free(one);
}

int main(void) {
  RUN(test_add_corpus);
  RUN(test_unchanged_and_each);
  RUN(test_replace_and_remove);
  RUN(test_abort);
  RUN(test_map_growth);
  RUN(test_versions);
  RUN(test_not_an_index);
  RUN(test_writer_lock);
  RUN(test_rebuild);
  RUN(test_pack);
  RUN(test_one_commit_build_is_packed);
  RUN(test_encodings);
  RUN(test_damage_anywhere);
  RUN(test_passages);
  RUN(test_passages_across_pages);
  RUN(test_reader_adopts_grown_map);
  RUN(test_prepared_in_threads);
  return tl_summary();
}
