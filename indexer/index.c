/* index.c - the seogo_index handle: opening and closing, the analyzer pool, and inspecting what
 * an index holds (stats, documents). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"

const char *seogo_version(void) { return SEOGO_VERSION_STRING; }

const char *seogo_strerror(seogo_status status) {
  switch (status) {
    case SEOGO_OK: return "success";
    case SEOGO_NOTFOUND: return "not found";
    case SEOGO_EINVAL: return "invalid argument";
    case SEOGO_EQUERY: return "malformed query";
    case SEOGO_ENOMEM: return "out of memory";
    case SEOGO_EIO: return "input/output error";
    case SEOGO_ECORRUPT: return "index is corrupt or not a Seogo index";
    case SEOGO_EVERSION: return "index version mismatch";
    case SEOGO_EFULL: return "disk or index full";
    case SEOGO_EBUSY: return "index is locked by another writer";
    case SEOGO_EREADONLY: return "index is read-only";
    case SEOGO_EENCODING: return "unsupported text encoding";
    case SEOGO_EBINARY: return "binary file";
    case SEOGO_EEMPTY: return "empty document";
    case SEOGO_ELIMIT: return "size or depth limit exceeded";
  }
  return "unknown error";
}

/* ---- Opening and closing ------------------------------------------------------------------- */

int seogo_open(const char *path, unsigned flags, seogo_index **out, seogo_error *err) {
  if (!out) return sg_fail(err, SEOGO_EINVAL, "no place to store the handle");
  *out = NULL;
  if (!path || !*path) return sg_fail(err, SEOGO_EINVAL, "no index path given");
  unsigned known = SEOGO_OPEN_WRITE | SEOGO_OPEN_NOWAIT | SEOGO_OPEN_REBUILD;
  if ((flags & ~known) || ((flags & (SEOGO_OPEN_NOWAIT | SEOGO_OPEN_REBUILD)) &&
                           !(flags & SEOGO_OPEN_WRITE)))
    return sg_fail(err, SEOGO_EINVAL, "invalid open flags 0x%x", flags);
  seogo_index *index = calloc(1, sizeof *index);
  if (!index) return sg_fail(err, SEOGO_ENOMEM, "out of memory");
  pthread_mutex_init(&index->pool_lock, NULL);
  unsigned store_flags = 0;
  if (flags & SEOGO_OPEN_WRITE) store_flags |= SG_STORE_WRITE;
  if (flags & SEOGO_OPEN_NOWAIT) store_flags |= SG_STORE_NOWAIT;
  if (flags & SEOGO_OPEN_REBUILD) store_flags |= SG_STORE_FRESH;
  int rc = sg_store_open(path, store_flags, &index->store, err);
  if (!rc && (flags & SEOGO_OPEN_WRITE)) rc = sg_writer_new(index, &index->writer, err);
  if (rc) {
    seogo_close(index);
    return rc;
  }
  *out = index;
  return SEOGO_OK;
}

void seogo_close(seogo_index *index) {
  if (!index) return;
  sg_writer_free(index->writer);
  for (int i = 0; i < index->pool_count; i++) sg_analyzer_free(index->pool[i]);
  for (int i = 0; i < index->scratch_count; i++) {
    sg_prep_scratch_free(index->scratch[i]);
    free(index->scratch[i]);
  }
  sg_store_close(index->store);
  pthread_mutex_destroy(&index->pool_lock);
  free(index);
}

int seogo_publish(seogo_index *index, seogo_error *err) {
  int rc = seogo_commit(index, err);
  if (rc) return rc;
  sg_writer_pack_if_worth(index->writer);
  return sg_store_publish(index->store, err);
}

/* ---- The analyzer pool ---------------------------------------------------------------------- */

int sg_index_borrow_analyzer(seogo_index *index, sg_analyzer **out, seogo_error *err) {
  pthread_mutex_lock(&index->pool_lock);
  *out = index->pool_count ? index->pool[--index->pool_count] : NULL;
  pthread_mutex_unlock(&index->pool_lock);
  return *out ? SEOGO_OK : sg_analyzer_new(out, err);
}

void sg_index_release_analyzer(seogo_index *index, sg_analyzer *a) {
  if (!a) return;
  pthread_mutex_lock(&index->pool_lock);
  if (index->pool_count < SG_ANALYZER_POOL) {
    index->pool[index->pool_count++] = a;
    a = NULL;
  }
  pthread_mutex_unlock(&index->pool_lock);
  if (a) sg_analyzer_free(a);
}

sg_prep_scratch *sg_index_borrow_scratch(seogo_index *index) {
  pthread_mutex_lock(&index->pool_lock);
  sg_prep_scratch *s = index->scratch_count ? index->scratch[--index->scratch_count] : NULL;
  pthread_mutex_unlock(&index->pool_lock);
  if (!s && (s = malloc(sizeof *s))) sg_prep_scratch_init(s);
  return s;
}

void sg_index_release_scratch(seogo_index *index, sg_prep_scratch *s) {
  if (!s) return;
  pthread_mutex_lock(&index->pool_lock);
  if (index->scratch_count < SG_ANALYZER_POOL) {
    index->scratch[index->scratch_count++] = s;
    s = NULL;
  }
  pthread_mutex_unlock(&index->pool_lock);
  if (s) {
    sg_prep_scratch_free(s);
    free(s);
  }
}

/* ---- Inspecting ------------------------------------------------------------------------------ */

int seogo_index_stats_get(seogo_index *index, seogo_index_stats *out, seogo_error *err) {
  if (!index || !out) return sg_fail(err, SEOGO_EINVAL, "no index handle or no output");
  MDB_txn *txn;
  int rc = sg_store_read_begin(index->store, &txn, err);
  if (rc) return rc;
  sg_stats s;
  rc = sg_store_get_stats(index->store, txn, &s, err);
  sg_store_read_end(index->store, txn);
  if (rc) return rc;
  memset(out, 0, sizeof *out);
  out->format_version = SG_FORMAT_VERSION; /* checked at open */
  out->analyzer_version = SG_ANALYZER_VERSION;
  out->documents = s.documents;
  out->passages = s.passages;
  out->terms = s.terms;
  out->postings = s.postings;
  out->tokens = s.tokens;
  sg_store_usage_info u;
  if ((rc = sg_store_usage(index->store, &u, err))) return rc;
  out->disk_bytes = sg_store_disk_bytes(index->store);
  out->text_disk_bytes = u.text_bytes;
  out->index_bytes = out->disk_bytes > u.text_bytes ? out->disk_bytes - u.text_bytes : 0;
  out->text_bytes = s.text_bytes;
  return SEOGO_OK;
}

static void fill_document(seogo_document *out, uint32_t doc_id, const sg_doc *d) {
  memset(out, 0, sizeof *out);
  out->doc_id = doc_id;
  out->size = d->size;
  out->mtime = d->mtime;
  out->passages = d->npassages;
  out->lines = d->nlines;
  memcpy(out->encoding, d->encoding, sizeof out->encoding);
  snprintf(out->hash, sizeof out->hash, "%016" PRIx64, d->hash);
}

static int read_document(sg_store *s, MDB_txn *txn, const MDB_val *id, seogo_document *out,
                         seogo_error *err) {
  if (id->mv_size != 4) return sg_fail(err, SEOGO_ECORRUPT, "index is corrupt: bad path record");
  MDB_val key = *id, v;
  int rc = mdb_get(txn, s->docs, &key, &v);
  if (rc == MDB_NOTFOUND)
    return sg_fail(err, SEOGO_ECORRUPT, "index is corrupt: a path has no document record");
  if (rc) return sg_store_mdb_error(rc, s->dir, err);
  sg_doc d;
  if ((rc = sg_doc_decode(v.mv_data, v.mv_size, &d, err))) return rc;
  fill_document(out, sg_get_be32(id->mv_data), &d);
  return SEOGO_OK;
}

int seogo_document_info(seogo_index *index, const char *path, seogo_document *out,
                        seogo_error *err) {
  if (!index || !path || !out) return sg_fail(err, SEOGO_EINVAL, "missing argument");
  MDB_txn *txn;
  int rc = sg_store_read_begin(index->store, &txn, err);
  if (rc) return rc;
  MDB_val key = {strlen(path), (void *)path}, id;
  rc = *path ? mdb_get(txn, index->store->paths, &key, &id) : MDB_NOTFOUND;
  if (rc == MDB_NOTFOUND) rc = sg_fail(err, SEOGO_NOTFOUND, "%s is not in the index", path);
  else if (rc) rc = sg_store_mdb_error(rc, index->store->dir, err);
  else rc = read_document(index->store, txn, &id, out, err);
  sg_store_read_end(index->store, txn);
  return rc;
}

/* Documents are listed in chunks, each read in its own transaction, so that the callback runs
 * with no transaction open and may itself write (remove documents, commit). */
#define SG_EACH_CHUNK 256

typedef struct each_item {
  char *path;
  seogo_document doc;
} each_item;

static int read_chunk(seogo_index *index, sg_buf *after, int first, each_item *items,
                      size_t *n, seogo_error *err) {
  MDB_txn *txn;
  MDB_cursor *c = NULL;
  *n = 0;
  int rc = sg_store_read_begin(index->store, &txn, err);
  if (rc) return rc;
  if ((rc = mdb_cursor_open(txn, index->store->paths, &c))) goto mdb_error;
  MDB_val k = {after->len, after->data}, v;
  rc = first ? mdb_cursor_get(c, &k, &v, MDB_FIRST) : mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
  if (!rc && !first && k.mv_size == after->len && !memcmp(k.mv_data, after->data, after->len))
    rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
  for (; !rc && *n < SG_EACH_CHUNK; rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
    each_item *it = &items[*n];
    if ((rc = read_document(index->store, txn, &v, &it->doc, err))) goto done;
    if (!(it->path = malloc(k.mv_size + 1))) {
      rc = sg_fail(err, SEOGO_ENOMEM, "out of memory");
      goto done;
    }
    memcpy(it->path, k.mv_data, k.mv_size);
    it->path[k.mv_size] = 0;
    (*n)++;
    sg_buf_clear(after);
    if (sg_buf_append(after, k.mv_data, k.mv_size)) {
      rc = sg_fail(err, SEOGO_ENOMEM, "out of memory");
      goto done;
    }
  }
  if (rc == MDB_NOTFOUND) rc = SEOGO_OK;
mdb_error:
  if (rc) rc = sg_store_mdb_error(rc, index->store->dir, err);
done:
  if (c) mdb_cursor_close(c);
  sg_store_read_end(index->store, txn);
  return rc;
}

int seogo_documents_each(seogo_index *index,
                         int (*fn)(void *ctx, const char *path, const seogo_document *doc),
                         void *ctx, seogo_error *err) {
  if (!index || !fn) return sg_fail(err, SEOGO_EINVAL, "missing argument");
  each_item *items = calloc(SG_EACH_CHUNK, sizeof *items);
  if (!items) return sg_fail(err, SEOGO_ENOMEM, "out of memory");
  sg_buf after = {0};
  int rc = SEOGO_OK, stop = 0;
  for (int first = 1; !rc && !stop; first = 0) {
    size_t n;
    rc = read_chunk(index, &after, first, items, &n, err);
    for (size_t i = 0; i < n; i++) {
      if (!rc && !stop) stop = fn(ctx, items[i].path, &items[i].doc);
      free(items[i].path);
    }
    if (n < SG_EACH_CHUNK) break;
  }
  sg_buf_free(&after);
  free(items);
  return rc;
}
