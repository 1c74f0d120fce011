/* fuzz_index.c - fuzz target for everything that reads an index: the input is a list of
 * damages to the records of a small index (a value replaced, cut, xored with bytes, extended,
 * or the key deleted), written through LMDB so that only Seogo's bytes are bad. Then searches,
 * stats, the document list and a lookup run on it, and - when the input asks - the writer
 * replaces and removes a document and commits. Each must answer or report SEOGO_ECORRUPT (never
 * crash, never run away). The damages are undone after each input.
 *
 * Input: a flags byte (bit 0: also write), then up to 4 damages of 4 + n bytes:
 *   table (mod 8), key index (2 bytes, mod the table's keys), operation (mod 5),
 *   then n = the rest up to 32 bytes: the operation's bytes. */
#include <string.h>

#include "fuzz.h"
#include "index.h"

#define FI_MAX_DAMAGES 4
#define FI_MAX_BYTES 32

typedef struct fi_key { /* a record of the undamaged index */
  unsigned char *data, *value;
  size_t len, vlen;
} fi_key;

typedef struct fi_table {
  MDB_dbi dbi;
  fi_key *keys;
  size_t nkeys;
} fi_table;

typedef struct fi_saved { /* what a damage changed, to put back */
  fi_table *table;
  fi_key *key;
  unsigned char *value; /* NULL: the key did not exist */
  size_t len;
} fi_saved;

static char fi_dir[512], fi_index_path[600];
static seogo_index *fi_index;
static fi_table fi_tables[8];

static void fi_free_keys(void) {
  for (int t = 0; t < 8; t++) {
    for (size_t i = 0; i < fi_tables[t].nkeys; i++) {
      free(fi_tables[t].keys[i].data);
      free(fi_tables[t].keys[i].value);
    }
    free(fi_tables[t].keys);
    fi_tables[t].keys = NULL;
    fi_tables[t].nkeys = 0;
  }
}

static void fi_cleanup(void) {
  seogo_close(fi_index);
  fi_free_keys();
  fuzz_remove_tree(fi_dir);
}

static void fi_collect_keys(void) {
  sg_store *s = fi_index->store;
  MDB_dbi dbis[8] = {s->meta, s->docs, s->paths, s->text, s->passages, s->norms, s->terms,
                     s->postings};
  MDB_txn *txn;
  if (sg_store_read_begin(s, &txn, NULL)) abort();
  for (int t = 0; t < 8; t++) {
    fi_tables[t].dbi = dbis[t];
    MDB_cursor *c;
    if (mdb_cursor_open(txn, dbis[t], &c)) abort();
    MDB_val k, v;
    size_t cap = 0;
    for (int rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
      fi_table *tb = &fi_tables[t];
      if (tb->nkeys == cap) {
        cap = cap ? cap * 2 : 64;
        tb->keys = realloc(tb->keys, cap * sizeof *tb->keys);
      }
      fi_key *key = &tb->keys[tb->nkeys++];
      key->data = malloc(k.mv_size);
      memcpy(key->data, k.mv_data, k.mv_size);
      key->len = k.mv_size;
      key->value = malloc(v.mv_size ? v.mv_size : 1);
      memcpy(key->value, v.mv_data, v.mv_size);
      key->vlen = v.mv_size;
    }
    mdb_cursor_close(c);
  }
  sg_store_read_end(s, txn);
}

static void fi_open(void) {
  seogo_error err;
  if (seogo_open(fi_index_path, SEOGO_OPEN_WRITE, &fi_index, &err)) abort();
  /* no fsync at each commit: durability is not under test here, speed is */
  mdb_env_set_flags(fi_index->store->env, MDB_NOSYNC, 1);
  fi_collect_keys();
}

static void fi_init(void) {
  snprintf(fi_dir, sizeof fi_dir, "%.400s/seogo-fuzz-index-XXXXXX", fuzz_tmpdir());
  if (!mkdtemp(fi_dir)) abort();
  atexit(fi_cleanup);
  snprintf(fi_index_path, sizeof fi_index_path, "%s/idx", fi_dir);
  if (fuzz_build_index(fi_index_path)) abort();
  fi_open();
}

/* After the writer committed on a damaged index: every table back to the undamaged records
 * (kept in memory), and the writer's batch state reloaded. Cheaper than reopening the index. */
static void fi_resync(void) {
  MDB_txn *txn;
  seogo_error err;
  if (sg_store_write_begin(fi_index->store, &txn, &err)) abort();
  for (int t = 0; t < 8; t++) {
    if (mdb_drop(txn, fi_tables[t].dbi, 0)) abort();
    for (size_t i = 0; i < fi_tables[t].nkeys; i++) {
      fi_key *key = &fi_tables[t].keys[i];
      MDB_val k = {key->len, key->data}, v = {key->vlen, key->value};
      if (mdb_put(txn, fi_tables[t].dbi, &k, &v, MDB_APPEND)) abort();
    }
  }
  if (mdb_txn_commit(txn)) abort();
  seogo_abort(fi_index);
}

/* Applies one damage in txn, saving what it changes. */
static int fi_damage(MDB_txn *txn, const uint8_t *d, size_t n, fi_saved *saved) {
  fi_table *tb = &fi_tables[d[0] % 8];
  if (!tb->nkeys) return 0;
  fi_key *key = &tb->keys[(size_t)(d[1] << 8 | d[2]) % tb->nkeys];
  int op = d[3] % 5;
  const uint8_t *bytes = d + 4;
  n -= 4;
  MDB_val k = {key->len, key->data}, v;
  if (mdb_get(txn, tb->dbi, &k, &v)) return 0;
  saved->table = tb;
  saved->key = key;
  saved->len = v.mv_size;
  saved->value = malloc(v.mv_size ? v.mv_size : 1);
  memcpy(saved->value, v.mv_data, v.mv_size);
  unsigned char buf[4096 + FI_MAX_BYTES];
  size_t len = v.mv_size < 4096 ? v.mv_size : 4096;
  memcpy(buf, v.mv_data, len);
  int rc;
  switch (op) {
    case 0: memcpy(buf, bytes, n); len = n; break;                    /* replaced */
    case 1: len = n && len ? (bytes[0] * len) / 256 : 0; break;      /* cut */
    case 2:                                                           /* xored at an offset */
      for (size_t i = 1; i < n && len; i++) buf[(bytes[0] + i) % len] ^= bytes[i];
      break;
    case 3: memcpy(buf + len, bytes, n); len += n; break;             /* extended */
    default: break;                                                   /* deleted */
  }
  if (op == 4) {
    rc = mdb_del(txn, tb->dbi, &k, NULL);
  } else {
    MDB_val nv = {len, buf};
    rc = mdb_put(txn, tb->dbi, &k, &nv, 0);
  }
  if (rc) free(saved->value);
  return rc == 0;
}

static void fi_restore(fi_saved *saved, int n) {
  MDB_txn *txn;
  seogo_error err;
  if (sg_store_write_begin(fi_index->store, &txn, &err)) abort();
  for (int i = n - 1; i >= 0; i--) {
    MDB_val k = {saved[i].key->len, saved[i].key->data}, v = {saved[i].len, saved[i].value};
    if (mdb_put(txn, saved[i].table->dbi, &k, &v, 0)) abort();
    free(saved[i].value);
  }
  if (mdb_txn_commit(txn)) abort();
}

static int fi_ok(int rc) { return rc == SEOGO_OK || rc == SEOGO_ECORRUPT || rc == SEOGO_NOTFOUND; }

static int fi_count_doc(void *ctx, const char *path, const seogo_document *doc) {
  (void)path;
  (void)doc;
  ++*(int *)ctx;
  return 0;
}

static void fi_read_everything(void) {
  static const char *const queries[] = {
      "반도체", "엔비디아 GPU", "\"AI 반도체\"", "AI*", "NEAR(미국 한국, 5)",
      "제네시스 OR 미션 -중국", "file:*003* 협력", "반*", "2026년 로드맵"};
  seogo_error err;
  for (size_t i = 0; i < sizeof queries / sizeof queries[0]; i++) {
    seogo_search_options opt;
    seogo_search_options_init(&opt);
    opt.group = i % 3 == 1;
    opt.explain = i % 2;
    opt.snippets = i == 0; /* snippets re-analyze text: most of the time of a search */
    opt.limit = 8;
    seogo_results *res = NULL;
    int rc = seogo_search(fi_index, queries[i], strlen(queries[i]), &opt, &res, &err);
    FUZZ_ASSERT(fi_ok(rc));
    for (size_t h = 0; !rc && h < seogo_results_count(res); h++) {
      const seogo_hit *hit = seogo_results_hit(res, h);
      FUZZ_ASSERT(hit->path && hit->line_start <= hit->line_end);
      for (size_t r = 0; hit->snippet && r < hit->highlight_count; r++)
        FUZZ_ASSERT(hit->highlights[r].end <= hit->snippet_len);
    }
    seogo_results_free(res);
  }
  seogo_index_stats st;
  FUZZ_ASSERT(fi_ok(seogo_index_stats_get(fi_index, &st, &err)));
  int ndocs = 0;
  FUZZ_ASSERT(fi_ok(seogo_documents_each(fi_index, fi_count_doc, &ndocs, &err)));
  seogo_document doc;
  FUZZ_ASSERT(fi_ok(seogo_document_info(fi_index, "corpus/003_6aa41a9c697c4b0d.txt", &doc, &err)));
}

/* The writer on the damaged index: a replacement, a removal, a commit. */
static void fi_write(void) {
  static const char text[] = "한국과 미국이 AI 반도체 협력을 강화하기로 했다.\n\n엔비디아 GPU 공급.\n";
  seogo_error err;
  int rc = seogo_add_buffer(fi_index, "corpus/003_6aa41a9c697c4b0d.txt", text, sizeof text - 1,
                            1, NULL, &err);
  FUZZ_ASSERT(fi_ok(rc));
  rc = seogo_remove(fi_index, "corpus/000_659a9385f88d803c.txt", &err);
  FUZZ_ASSERT(fi_ok(rc));
  rc = seogo_commit(fi_index, &err);
  FUZZ_ASSERT(fi_ok(rc));
  if (rc) seogo_abort(fi_index);
}

static int fuzz_index(const uint8_t *data, size_t size) {
  if (!fi_index) fi_init();
  if (size < 1) return 0;
  int write = data[0] & 1;
  data++;
  size--;
  MDB_txn *txn;
  seogo_error err;
  if (sg_store_write_begin(fi_index->store, &txn, &err)) abort();
  fi_saved saved[FI_MAX_DAMAGES];
  int nsaved = 0;
  while (size >= 4 && nsaved < FI_MAX_DAMAGES) {
    size_t n = size < 4 + FI_MAX_BYTES ? size : 4 + FI_MAX_BYTES;
    if (fi_damage(txn, data, n, &saved[nsaved])) nsaved++;
    data += n;
    size -= n;
  }
  if (mdb_txn_commit(txn)) abort();
  fi_read_everything();
  if (write) {
    for (int i = 0; i < nsaved; i++) free(saved[i].value);
    fi_write();
    fi_resync();
  } else {
    fi_restore(saved, nsaved);
  }
  return 0;
}

FUZZ_TARGET(fuzz_index)
