/* commit.c - writes a writer's batch in one LMDB transaction: removals (rewriting only the
 * postings blocks that hold the removed passages), new documents, passages, norms, and the
 * buffered postings appended to each term's last block. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "batch.h"

static int oom(seogo_error *err) { return sg_fail(err, SEOGO_ENOMEM, "out of memory"); }

/* ---- Writing the batch --------------------------------------------------------------------- */

/* Maps an LMDB failure inside the batch: a full map means "grow and redo". */
static int mdb_fail(sg_writer *w, int rc, seogo_error *err) {
  if (rc == MDB_MAP_FULL) return SG_RETRY_GROW;
  return sg_store_mdb_error(rc, w->store->dir, err);
}

static int put(sg_writer *w, MDB_txn *txn, MDB_dbi dbi, const void *k, size_t klen,
               const void *v, size_t vlen, unsigned flags, seogo_error *err) {
  MDB_val key = {klen, (void *)k}, val = {vlen, (void *)v};
  int rc = mdb_put(txn, dbi, &key, &val, flags);
  return rc ? mdb_fail(w, rc, err) : SEOGO_OK;
}

static int del(sg_writer *w, MDB_txn *txn, MDB_dbi dbi, const void *k, size_t klen,
               seogo_error *err) {
  MDB_val key = {klen, (void *)k};
  int rc = mdb_del(txn, dbi, &key, NULL);
  return rc && rc != MDB_NOTFOUND ? mdb_fail(w, rc, err) : SEOGO_OK;
}

static int del_id(sg_writer *w, MDB_txn *txn, MDB_dbi dbi, uint32_t id, seogo_error *err) {
  unsigned char k[4];
  sg_put_be32(k, id);
  return del(w, txn, dbi, k, 4, err);
}

/* ---- Writing in key order ------------------------------------------------------------------ */

/* A table written through one cursor in key order. A key above every key of the table goes in
 * with MDB_APPEND: the cursor stays on the last page (no descent from the root), and pages
 * are filled before the next one starts instead of being split in half. */
typedef struct ordered {
  MDB_cursor *c;
  sg_buf last; /* the table's highest key so far */
  int empty;   /* the table held no key */
  uint64_t appended, inserted; /* puts at the end / elsewhere */
} ordered;

static int ordered_open(sg_writer *w, MDB_txn *txn, MDB_dbi dbi, ordered *o, seogo_error *err) {
  memset(o, 0, sizeof *o);
  int rc = mdb_cursor_open(txn, dbi, &o->c);
  if (rc) return mdb_fail(w, rc, err);
  MDB_val k, v;
  rc = mdb_cursor_get(o->c, &k, &v, MDB_LAST);
  o->empty = rc == MDB_NOTFOUND;
  if (rc == 0 && sg_buf_append(&o->last, k.mv_data, k.mv_size)) return oom(err);
  return rc && rc != MDB_NOTFOUND ? mdb_fail(w, rc, err) : SEOGO_OK;
}

static void ordered_close(ordered *o) {
  if (o->c) mdb_cursor_close(o->c);
  sg_buf_free(&o->last);
  o->c = NULL;
}

/* LMDB's default key order: bytes, then length. */
static int key_above(const ordered *o, const void *k, size_t len) {
  if (o->empty) return 1;
  size_t n = len < o->last.len ? len : o->last.len;
  int c = n ? memcmp(k, o->last.data, n) : 0;
  return c > 0 || (c == 0 && len > o->last.len);
}

static int ordered_put(sg_writer *w, ordered *o, const void *k, size_t klen, const void *v,
                       size_t vlen, seogo_error *err) {
  int append = key_above(o, k, klen);
  MDB_val key = {klen, (void *)k}, val = {vlen, (void *)v};
  int rc = mdb_cursor_put(o->c, &key, &val, append ? MDB_APPEND : 0);
  if (rc) return mdb_fail(w, rc, err);
  if (!append) {
    o->inserted++;
    return SEOGO_OK;
  }
  o->appended++;
  o->empty = 0;
  sg_buf_clear(&o->last);
  return sg_buf_append(&o->last, k, klen) ? oom(err) : SEOGO_OK;
}

/* Term record; *found = 0 when the term is new. */
static int get_term(sg_writer *w, MDB_txn *txn, const void *term, size_t len, sg_term_info *t,
                    int *found, seogo_error *err) {
  MDB_val key = {len, (void *)term}, v;
  memset(t, 0, sizeof *t);
  int rc = mdb_get(txn, w->store->terms, &key, &v);
  *found = rc == 0;
  if (rc == MDB_NOTFOUND) return SEOGO_OK;
  if (rc) return mdb_fail(w, rc, err);
  return sg_term_decode(v.mv_data, v.mv_size, t, err);
}

static int put_term(sg_writer *w, MDB_txn *txn, const void *term, size_t len,
                    const sg_term_info *t, seogo_error *err) {
  if (t->df == 0) return del(w, txn, w->store->terms, term, len, err);
  sg_buf_clear(&w->val);
  if (sg_term_encode(&w->val, t)) return oom(err);
  return put(w, txn, w->store->terms, term, len, w->val.data, w->val.len, 0, err);
}

/* Norms: a value of SG_NORMS_PER_KEY passage lengths, edited in w->norms while consecutive
 * pids share it. */
typedef struct norms_cursor {
  uint32_t key;
  int loaded, dirty;
} norms_cursor;

static int norms_flush(sg_writer *w, MDB_txn *txn, norms_cursor *nc, seogo_error *err) {
  if (!nc->dirty) return SEOGO_OK;
  nc->dirty = 0;
  unsigned char k[4];
  sg_put_be32(k, nc->key);
  const unsigned char *v = w->norms.data;
  size_t size = 2 * SG_NORMS_PER_KEY;
  while (size && !v[size - 1] && !v[size - 2]) size -= 2;
  if (size) return put(w, txn, w->store->norms, k, 4, (void *)v, size, 0, err);
  return del(w, txn, w->store->norms, k, 4, err);
}

/* Sets the length of passage pid (0 = gone); *old receives the previous length. */
static int norms_set(sg_writer *w, MDB_txn *txn, norms_cursor *nc, uint32_t pid, uint32_t len,
                     uint32_t *old, seogo_error *err) {
  uint32_t key = pid / SG_NORMS_PER_KEY;
  if (!nc->loaded || nc->key != key) {
    int rc = norms_flush(w, txn, nc, err);
    if (rc) return rc;
    sg_buf_clear(&w->norms);
    if (sg_buf_reserve(&w->norms, 2 * SG_NORMS_PER_KEY)) return oom(err);
    unsigned char k[4];
    sg_put_be32(k, key);
    MDB_val mk = {4, k}, v;
    rc = mdb_get(txn, w->store->norms, &mk, &v);
    memset(w->norms.data, 0, 2 * SG_NORMS_PER_KEY);
    if (rc == 0 && sg_norms_size_ok(v.mv_size))
      memcpy(w->norms.data, v.mv_data, v.mv_size);
    else if (rc == 0) return sg_fail(err, SEOGO_ECORRUPT, "index is corrupt: bad norms record");
    else if (rc != MDB_NOTFOUND) return mdb_fail(w, rc, err);
    nc->key = key;
    nc->loaded = 1;
  }
  uint32_t slot = pid % SG_NORMS_PER_KEY;
  if (old) *old = sg_norm_at(w->norms.data, 2 * SG_NORMS_PER_KEY, slot);
  unsigned char *p = w->norms.data + 2 * slot;
  p[0] = (unsigned char)len;
  p[1] = (unsigned char)(len >> 8);
  nc->dirty = 1;
  return SEOGO_OK;
}

/* Passages: the page of SG_PASSAGES_PER_KEY slots that holds a pid, decoded into w->page
 * (and its documents into w->page_docs) while consecutive pids share it. */
typedef struct page_cursor {
  uint32_t key, n; /* n: slots up to the last that holds a passage */
  int loaded, dirty;
} page_cursor;

/* Names document `doc_id` (the page's last so far: documents take passage ids in order). */
static int page_doc_add(sg_writer *w, uint32_t doc_id, const char *path, size_t len) {
  uint32_t n = w->page_ndocs;
  if (n && w->page_docs[n - 1].doc_id >= doc_id)
    return w->page_docs[n - 1].doc_id == doc_id ? 0 : -1;
  w->page_docs[n] = (sg_page_doc){doc_id, NULL, len};
  w->page_path_at[n] = w->page_paths.len;
  if (sg_buf_append(&w->page_paths, path, len)) return -1;
  w->page_ndocs++;
  return 0;
}

static int page_flush(sg_writer *w, MDB_txn *txn, page_cursor *pc, seogo_error *err) {
  if (!pc->dirty) return SEOGO_OK;
  pc->dirty = 0;
  while (pc->n && !w->page[pc->n - 1].doc_id) pc->n--;
  unsigned char k[4];
  sg_put_be32(k, pc->key);
  if (!pc->n) return del(w, txn, w->store->passages, k, 4, err);
  for (uint32_t i = 0; i < w->page_ndocs; i++)
    w->page_docs[i].path = (const char *)w->page_paths.data + w->page_path_at[i];
  sg_buf_clear(&w->val);
  if (sg_passage_page_encode(&w->val, w->page, pc->n, w->page_docs, w->page_ndocs))
    return sg_fail(err, SEOGO_EINVAL, "a passage of page %u cannot be stored", (unsigned)pc->key);
  return put(w, txn, w->store->passages, k, 4, w->val.data, w->val.len, 0, err);
}

static int page_load(sg_writer *w, MDB_txn *txn, page_cursor *pc, uint32_t key, seogo_error *err) {
  if ((!w->page && !(w->page = malloc(SG_PASSAGES_PER_KEY * sizeof *w->page))) ||
      (!w->page_docs && !(w->page_docs = malloc(SG_PASSAGES_PER_KEY * sizeof *w->page_docs))) ||
      (!w->page_path_at &&
       !(w->page_path_at = malloc(SG_PASSAGES_PER_KEY * sizeof *w->page_path_at))))
    return oom(err);
  memset(w->page, 0, SG_PASSAGES_PER_KEY * sizeof *w->page);
  w->page_ndocs = 0;
  sg_buf_clear(&w->page_paths);
  unsigned char k[4];
  sg_put_be32(k, key);
  MDB_val mk = {4, k}, v;
  uint32_t ndocs = 0;
  pc->n = 0;
  int rc = mdb_get(txn, w->store->passages, &mk, &v);
  if (rc == 0 && (rc = sg_passage_page_decode(v.mv_data, v.mv_size, w->page, &pc->n, w->page_docs,
                                              &ndocs, err)))
    return rc;
  if (rc && rc != MDB_NOTFOUND) return mdb_fail(w, rc, err);
  /* the decoded paths point into the stored value: copied before the value is rewritten */
  for (uint32_t i = 0; i < ndocs; i++) {
    sg_page_doc d = w->page_docs[i];
    if (page_doc_add(w, d.doc_id, d.path, d.path_len)) return oom(err);
  }
  pc->key = key;
  pc->loaded = 1;
  return SEOGO_OK;
}

/* Puts passage p of the document at `path` (p NULL: none) in pid's slot. */
static int page_set(sg_writer *w, MDB_txn *txn, page_cursor *pc, uint32_t pid, const sg_passage *p,
                    const char *path, size_t path_len, seogo_error *err) {
  uint32_t key = pid / SG_PASSAGES_PER_KEY;
  if (!pc->loaded || pc->key != key) {
    int rc = page_flush(w, txn, pc, err);
    if (!rc) rc = page_load(w, txn, pc, key, err);
    if (rc) return rc;
  }
  uint32_t slot = pid % SG_PASSAGES_PER_KEY;
  if (p) {
    if (page_doc_add(w, p->doc_id, path, path_len))
      return sg_fail(err, SEOGO_EINVAL, "passage %u comes after a later document's", (unsigned)pid);
    w->page[slot] = *p;
    if (slot >= pc->n) pc->n = slot + 1;
  } else {
    memset(&w->page[slot], 0, sizeof w->page[slot]);
  }
  pc->dirty = 1;
  return SEOGO_OK;
}

/* A block rewrite found while scanning a term's blocks, applied after the scan. */
typedef struct block_edit {
  uint32_t old_key, new_key; /* new_key 0: delete the block */
  sg_buf data;
} block_edit;

/* Drops pids [lo, hi] from block b (decoded) into arrays of a new block; returns removed
 * postings and their total tf. */
static void filter_block(sg_block *b, uint32_t lo, uint32_t hi, uint32_t *removed,
                         uint64_t *removed_tf) {
  uint32_t n = 0, at = 0;
  *removed = 0;
  *removed_tf = 0;
  for (uint32_t i = 0; i < b->count; i++) {
    uint32_t s = b->pos_start[i], e = b->pos_start[i + 1];
    if (b->pids[i] >= lo && b->pids[i] <= hi) {
      (*removed)++;
      *removed_tf += e - s;
      continue;
    }
    b->pids[n] = b->pids[i];
    b->pos_start[n] = at;
    memmove(b->positions + at, b->positions + s, (e - s) * sizeof *b->positions);
    at += e - s;
    n++;
  }
  b->pos_start[n] = at;
  b->count = n;
}

/* Positions the cursor on the first block of `term` that may hold pid lo. */
static int seek_block(MDB_cursor *c, sg_buf *key, const char *term, size_t len, uint32_t lo,
                      MDB_val *k, MDB_val *v) {
  if (sg_postings_key(key, term, len, lo)) return ENOMEM;
  *k = (MDB_val){key->len, key->data};
  int rc = mdb_cursor_get(c, k, v, MDB_SET_RANGE);
  if (rc == 0 && k->mv_size == key->len && !memcmp(k->mv_data, key->data, key->len)) return 0;
  /* the block before may start below lo and reach it */
  int prc = mdb_cursor_get(c, k, v, rc == MDB_NOTFOUND ? MDB_LAST : MDB_PREV);
  if (prc == 0 && k->mv_size == len + 5 && !memcmp(k->mv_data, term, len)) return 0;
  if (rc) return rc;
  *k = (MDB_val){key->len, key->data};
  return mdb_cursor_get(c, k, v, MDB_SET_RANGE);
}

/* Scans the blocks of one term that may hold pids [lo, hi] and records the edits. */
static int plan_block_edits(sg_writer *w, MDB_txn *txn, const char *term, size_t len,
                            uint32_t lo, uint32_t hi, block_edit **edits, size_t *nedits,
                            size_t *cap, uint32_t *removed, uint64_t *removed_tf,
                            seogo_error *err) {
  MDB_cursor *c;
  int rc = mdb_cursor_open(txn, w->store->postings, &c);
  if (rc) return mdb_fail(w, rc, err);
  MDB_val k, v;
  rc = seek_block(c, &w->key, term, len, lo, &k, &v);
  for (; rc == 0; rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
    size_t tlen;
    uint32_t key_pid, count, last, max_tf;
    if (sg_postings_key_parse(k.mv_data, k.mv_size, &tlen, &key_pid) || tlen != len ||
        memcmp(k.mv_data, term, len) || key_pid > hi)
      break;
    if ((rc = sg_block_peek(v.mv_data, v.mv_size, key_pid, &count, &last, &max_tf, err)))
      goto done;
    if (last < lo) continue;
    if ((rc = sg_block_decode(v.mv_data, v.mv_size, key_pid, &w->block, err))) goto done;
    uint32_t r;
    uint64_t rtf;
    filter_block(&w->block, lo, hi, &r, &rtf);
    if (!r) continue;
    *removed += r;
    *removed_tf += rtf;
    if (sg_grow_array(edits, cap, *nedits + 1, sizeof **edits)) {
      rc = oom(err);
      goto done;
    }
    block_edit *e = &(*edits)[(*nedits)++];
    memset(e, 0, sizeof *e);
    e->old_key = key_pid;
    if (w->block.count) {
      e->new_key = w->block.pids[0];
      if (sg_block_encode(&e->data, e->new_key, w->block.count, w->block.pids,
                          w->block.pos_start, w->block.positions, w->block.min_len)) {
        rc = oom(err);
        goto done;
      }
    }
  }
  /* only a cursor failure (an LMDB code) or the end of the term's blocks gets here */
  if (rc == MDB_NOTFOUND) rc = SEOGO_OK;
  else if (rc == ENOMEM) rc = oom(err);
  else if (rc) rc = mdb_fail(w, rc, err);
done:
  mdb_cursor_close(c);
  return rc;
}

/* Removes pids [lo, hi] from the postings of one term and updates its record. */
static int remove_sg_term_postings(sg_writer *w, MDB_txn *txn, const char *term, size_t len,
                                uint32_t lo, uint32_t hi, sg_stats *stats, seogo_error *err) {
  block_edit *edits = NULL;
  size_t nedits = 0, cap = 0;
  uint32_t removed = 0;
  uint64_t removed_tf = 0;
  int rc = plan_block_edits(w, txn, term, len, lo, hi, &edits, &nedits, &cap, &removed,
                            &removed_tf, err);
  w->scattered_puts += nedits;
  sg_term_info t;
  int found = 0, deleted = 0;
  if (!rc && nedits) rc = get_term(w, txn, term, len, &t, &found, err);
  for (size_t i = 0; !rc && i < nedits; i++) {
    block_edit *e = &edits[i];
    if (e->new_key == e->old_key) {
      sg_postings_key(&w->key, term, len, e->old_key);
      rc = put(w, txn, w->store->postings, w->key.data, w->key.len, e->data.data, e->data.len,
               0, err);
      continue;
    }
    sg_postings_key(&w->key, term, len, e->old_key);
    rc = del(w, txn, w->store->postings, w->key.data, w->key.len, err);
    if (!e->new_key) {
      deleted++;
    } else if (!rc) {
      sg_postings_key(&w->key, term, len, e->new_key);
      rc = put(w, txn, w->store->postings, w->key.data, w->key.len, e->data.data, e->data.len,
               0, err);
    }
  }
  if (!rc && found) {
    if (t.df < removed || t.cf < removed_tf || t.nblocks < (uint32_t)deleted)
      rc = sg_fail(err, SEOGO_ECORRUPT, "index is corrupt: term counts disagree with postings");
    else {
      t.df -= removed;
      t.cf -= removed_tf;
      t.nblocks -= (uint32_t)deleted;
      if (t.df == 0) stats->terms--;
      stats->postings -= removed;
      rc = put_term(w, txn, term, len, &t, err);
    }
  }
  for (size_t i = 0; i < nedits; i++) sg_buf_free(&edits[i].data);
  free(edits);
  return rc;
}

static int apply_removal(sg_writer *w, MDB_txn *txn, const sg_pending_removal *r, norms_cursor *nc,
                         page_cursor *pc, sg_stats *stats, seogo_error *err) {
  int rc = SEOGO_OK;
  uint32_t hi = r->first_pid + r->npassages - 1;
  const unsigned char *p = r->terms.data, *end = p ? p + r->terms.len : p;
  while (!rc && r->npassages && p < end) {
    uint64_t len;
    if (sg_varint_decode(&p, end, &len) || len > (size_t)(end - p)) break;
    rc = remove_sg_term_postings(w, txn, (const char *)p, (size_t)len, r->first_pid, hi, stats, err);
    p += len;
  }
  for (uint32_t i = 0; !rc && i < r->npassages; i++) {
    uint32_t pid = r->first_pid + i, old = 0;
    rc = norms_set(w, txn, nc, pid, 0, &old, err);
    stats->tokens -= old <= stats->tokens ? old : stats->tokens;
    if (!rc) rc = page_set(w, txn, pc, pid, NULL, NULL, 0, err);
  }
  size_t plen;
  const char *path = sg_strmap_key(&w->paths, (size_t)r->path, &plen);
  if (!rc) rc = del_id(w, txn, w->store->docs, r->doc_id, err);
  if (!rc) rc = del_id(w, txn, w->store->text, r->doc_id, err);
  if (!rc) rc = del(w, txn, w->store->paths, path, plen, err);
  if (!rc) {
    stats->documents -= stats->documents ? 1 : 0;
    stats->passages -= r->npassages <= stats->passages ? r->npassages : stats->passages;
    stats->text_bytes -= r->text_len <= stats->text_bytes ? r->text_len : stats->text_bytes;
  }
  return rc;
}

static int write_document(sg_writer *w, MDB_txn *txn, const sg_pending_doc *d, norms_cursor *nc,
                          page_cursor *pc, sg_stats *stats, seogo_error *err) {
  unsigned char id[4];
  sg_put_be32(id, d->doc_id);
  sg_doc rec = d->rec;
  rec.path = sg_strmap_key(&w->paths, (size_t)d->path, &rec.path_len);
  sg_buf_clear(&w->val);
  if (sg_doc_encode(&w->val, &rec)) return oom(err);
  int rc = put(w, txn, w->store->docs, id, 4, w->val.data, w->val.len, MDB_APPEND, err);
  if (!rc) rc = put(w, txn, w->store->paths, rec.path, rec.path_len, id, 4, 0, err);
  if (!rc) rc = put(w, txn, w->store->text, id, 4, (void *)d->text, d->rec.text_len, MDB_APPEND, err);
  for (uint32_t i = 0; !rc && i < d->rec.npassages; i++)
    rc = page_set(w, txn, pc, d->rec.first_pid + i, &d->passages[i], rec.path, rec.path_len, err);
  for (uint32_t i = 0; !rc && i < d->rec.npassages; i++) {
    rc = norms_set(w, txn, nc, d->rec.first_pid + i, d->passages[i].length, NULL, err);
    stats->tokens += d->passages[i].length;
  }
  stats->documents++;
  stats->passages += d->rec.npassages;
  stats->text_bytes += d->rec.text_len;
  return rc;
}

static int cmp_range(const void *a, const void *b) {
  const sg_pid_range *x = a, *y = b;
  return x->first < y->first ? -1 : x->first > y->first;
}

int sg_batch_is_dead(const sg_writer *w, uint32_t pid) {
  size_t lo = 0, hi = w->ndead;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (w->dead[mid].end <= pid) lo = mid + 1;
    else hi = mid;
  }
  return lo < w->ndead && w->dead[lo].first <= pid;
}

/* The postings of one term to write: the term's last block (when it has room) followed by the
 * buffered postings, laid out as sg_block_encode takes them. */
typedef struct run {
  uint32_t *pids, *starts, *pos;
  size_t n, npos, pids_cap, starts_cap, pos_cap;
} run;

static int run_push(run *r, uint32_t pid, const uint32_t *pos, size_t tf) {
  if (sg_grow_array(&r->pids, &r->pids_cap, r->n + 1, sizeof *r->pids) ||
      sg_grow_array(&r->starts, &r->starts_cap, r->n + 2, sizeof *r->starts) ||
      sg_grow_array(&r->pos, &r->pos_cap, r->npos + tf, sizeof *r->pos))
    return -1;
  r->starts[r->n] = (uint32_t)r->npos;
  r->pids[r->n++] = pid;
  memcpy(r->pos + r->npos, pos, tf * sizeof *pos);
  r->npos += tf;
  r->starts[r->n] = (uint32_t)r->npos;
  return 0;
}

static void run_free(run *r) {
  free(r->pids);
  free(r->starts);
  free(r->pos);
  memset(r, 0, sizeof *r);
}

/* The cursors of a flush: terms and postings are both written in key order. */
typedef struct flush_ctx {
  ordered terms, postings;
} flush_ctx;

/* Finds the term's last block; *key_pid = 0 when the term has none. */
static int last_block(sg_writer *w, ordered *o, const char *term, size_t len, uint32_t *key_pid,
                      MDB_val *data, seogo_error *err) {
  *key_pid = 0;
  if (sg_postings_key(&w->key, term, len, UINT32_MAX)) return oom(err);
  MDB_val k = {w->key.len, w->key.data};
  int rc = mdb_cursor_get(o->c, &k, data, MDB_SET_RANGE);
  rc = mdb_cursor_get(o->c, &k, data, rc == MDB_NOTFOUND ? MDB_LAST : MDB_PREV);
  size_t tlen;
  uint32_t pid;
  if (rc == 0 && !sg_postings_key_parse(k.mv_data, k.mv_size, &tlen, &pid) && tlen == len &&
      !memcmp(k.mv_data, term, len))
    *key_pid = pid;
  return rc == 0 || rc == MDB_NOTFOUND ? SEOGO_OK : mdb_fail(w, rc, err);
}

/* The term's record through the flush's cursor (terms come in key order, so the cursor is
 * mostly on the right page already); *found = 0 when the term is new. */
static int seek_term(sg_writer *w, ordered *o, const void *term, size_t len, sg_term_info *t,
                     int *found, seogo_error *err) {
  memset(t, 0, sizeof *t);
  *found = 0;
  if (key_above(o, term, len)) return SEOGO_OK; /* past the table's end: new */
  MDB_val key = {len, (void *)term}, v;
  int rc = mdb_cursor_get(o->c, &key, &v, MDB_SET_KEY);
  if (rc == MDB_NOTFOUND) return SEOGO_OK;
  if (rc) return mdb_fail(w, rc, err);
  *found = 1;
  return sg_term_decode(v.mv_data, v.mv_size, t, err);
}

/* sg_varint_decode, inline for one and two bytes: the buffered lists hold a varint per
 * posting and position, mostly short. */
static inline int next_varint(const unsigned char **p, const unsigned char *end, uint64_t *v) {
  const unsigned char *q = *p;
  if (q < end && q[0] < 0x80) {
    *v = q[0];
    *p = q + 1;
    return 0;
  }
  if (end - q >= 2 && q[1] < 0x80) {
    *v = (uint64_t)(q[0] & 0x7f) | (uint64_t)q[1] << 7;
    *p = q + 2;
    return 0;
  }
  return sg_varint_decode(p, end, v);
}

/* Decodes a term's buffered list into r, skipping dead pids; returns postings and tf added. */
static int unpack_buffered(const sg_writer *w, const sg_term_postings *tp, run *r, uint32_t *df,
                           uint64_t *cf) {
  const unsigned char *p = tp->list.data, *end = p + tp->list.len;
  /* each posting and each position takes at least a byte of the list */
  if (sg_grow_array(&r->pids, &r->pids_cap, r->n + tp->count + 1, sizeof *r->pids) ||
      sg_grow_array(&r->starts, &r->starts_cap, r->n + tp->count + 2, sizeof *r->starts) ||
      sg_grow_array(&r->pos, &r->pos_cap, r->npos + tp->list.len + 1, sizeof *r->pos))
    return -1;
  uint64_t pid = 0;
  *df = 0;
  *cf = 0;
  while (p < end) {
    uint64_t delta, tf, v;
    if (next_varint(&p, end, &delta) || next_varint(&p, end, &tf)) return -1;
    pid += delta;
    int keep = !w->ndead || !sg_batch_is_dead(w, (uint32_t)pid);
    uint32_t *at = r->pos + r->npos, abs = 0;
    for (uint64_t j = 0; j < tf; j++) {
      if (next_varint(&p, end, &v)) return -1;
      abs += (uint32_t)(v >> 2);
      at[j] = abs << 2 | (uint32_t)(v & 3);
    }
    if (!keep) continue;
    r->starts[r->n] = (uint32_t)r->npos;
    r->pids[r->n++] = (uint32_t)pid;
    r->npos += tf;
    r->starts[r->n] = (uint32_t)r->npos;
    (*df)++;
    *cf += tf;
  }
  return 0;
}

/* The length of a passage of this batch (UINT32_MAX for an older one: its block's min_len
 * covers it). */
static uint32_t batch_len(const sg_writer *w, uint32_t pid) {
  return pid >= w->lens_base && pid - w->lens_base < w->nlens ? w->lens[pid - w->lens_base]
                                                               : UINT32_MAX;
}

/* Lengths of the batch's passages by pid, for the blocks' and terms' min_len. */
static int fill_lens(sg_writer *w) {
  w->nlens = 0;
  if (!w->ndocs) return 0;
  w->lens_base = w->docs[0].rec.first_pid;
  size_t n = (size_t)(w->next_pid - w->lens_base);
  if (sg_grow_array(&w->lens, &w->lens_cap, n + 1, sizeof *w->lens)) return -1;
  memset(w->lens, 0, n * sizeof *w->lens);
  for (size_t i = 0; i < w->ndocs; i++) {
    const sg_pending_doc *d = &w->docs[i];
    if (d->dead || !d->passages) continue;
    for (uint32_t j = 0; j < d->rec.npassages; j++)
      w->lens[d->rec.first_pid - w->lens_base + j] = (uint16_t)d->passages[j].length;
  }
  w->nlens = (uint32_t)n;
  return 0;
}

/* ---- Flushing the buffered postings, encoded in parallel --------------------------------
 * LMDB's write transaction belongs to the writer's thread, and block encoding is most of a
 * commit's work, so a flush goes in three steps: the writer reads, in term order, each
 * term's record and its last block when that has room (plan_flush); encoders (helper threads
 * and the writer while it waits) turn chunks of consecutive terms into blocks and term
 * records (encode_chunk); the writer puts them in key order as chunks come ready
 * (write_chunk). The records written are the same as one thread would write. */

/* Buffered bytes per chunk: many chunks per commit to share out, few enough that locking is
 * rare. */
#define SG_CHUNK_WORK ((size_t)64 << 10)
#define SG_CHUNK_WINDOW 64 /* chunks encoded ahead of the writer at most (bounds memory) */
#define SG_MAX_ENCODERS 3  /* helper threads besides the writer */

/* One term of a flush: what the writer read, then what its encoder made. */
typedef struct flush_term {
  uint32_t index;              /* in w->terms */
  uint32_t merge_key;          /* key of the term's last block when it is reopened, else 0 */
  uint32_t last_off, last_len; /* that block's bytes, copied into its chunk's `in` */
  int found;                   /* the term has a record */
  uint32_t df, blocks;         /* passages and blocks to write (df 0: nothing) */
  uint64_t cf;
  sg_term_info t; /* its record, updated by the encoder */
} flush_term;

/* Consecutive terms encoded as one piece of work. */
typedef struct flush_chunk {
  size_t first, end; /* terms[first .. end) */
  sg_buf in;         /* the reopened last blocks (copies: the writer's puts may move pages) */
  /* per term with df > 0: per block u32 key, u32 size, bytes; then u32 size, term record */
  sg_buf out;
  int rc, done;
  seogo_error err;
} flush_chunk;

typedef struct flush_plan {
  const sg_writer *w; /* only read while encoders run */
  flush_term *terms;
  size_t nterms;
  flush_chunk *chunks;
  size_t nchunks, chunks_cap;
  size_t claimed, written; /* chunks taken by encoders, chunks put by the writer */
  int stop;
  pthread_mutex_t lock;
  pthread_cond_t ready, room;
} flush_plan;

/* An encoder's scratch. */
typedef struct encoder {
  run r;
  sg_block block;
  sg_buf val;
} encoder;

static void encoder_init(encoder *e) {
  memset(e, 0, sizeof *e);
  sg_block_init(&e->block);
}

static void encoder_free(encoder *e) {
  run_free(&e->r);
  sg_block_free(&e->block);
  sg_buf_free(&e->val);
}

static int put_u32(sg_buf *b, uint32_t v) { return sg_buf_append(b, &v, sizeof v); }

/* Puts the decoded last block at the start of the run; *kept_min = its min_len. */
static int reopen_block(encoder *e, const flush_term *ft, const flush_chunk *c,
                        uint32_t *kept_min, seogo_error *err) {
  sg_block *b = &e->block;
  int rc = sg_block_decode(c->in.data + ft->last_off, ft->last_len, ft->merge_key, b, err);
  if (rc) return rc;
  for (uint32_t i = 0; i < b->count; i++)
    if (run_push(&e->r, b->pids[i], b->positions + b->pos_start[i],
                 b->pos_start[i + 1] - b->pos_start[i]))
      return oom(err);
  *kept_min = b->min_len;
  return SEOGO_OK;
}

/* Encodes the run as blocks into c->out (the first keyed merge_key when it replaces the
 * term's last block, whose min_len covers the first `kept` postings); updates the term's
 * bounds and counts its blocks. */
static int encode_blocks(const sg_writer *w, encoder *e, flush_term *ft, size_t kept,
                         uint32_t kept_min, flush_chunk *c, seogo_error *err) {
  const run *r = &e->r;
  sg_term_info *t = &ft->t;
  for (size_t off = 0; off < r->n; off += SG_BLOCK_MAX) {
    uint32_t cnt = (uint32_t)(r->n - off < SG_BLOCK_MAX ? r->n - off : SG_BLOCK_MAX);
    uint32_t key = off == 0 && ft->merge_key ? ft->merge_key : r->pids[off];
    uint32_t min_len = off < kept ? kept_min : UINT32_MAX;
    for (size_t i = off; i < off + cnt; i++) {
      uint32_t tf = r->starts[i + 1] - r->starts[i];
      uint32_t l = i < kept ? kept_min : batch_len(w, r->pids[i]);
      if (l < min_len) min_len = l;
      if (tf > t->max_tf) t->max_tf = tf;
    }
    if (min_len > SG_MAX_POSITIONS) min_len = 1; /* unknown: the weakest bound */
    if (min_len < t->min_len) t->min_len = min_len;
    if (sg_block_encode(&e->val, key, cnt, r->pids + off, r->starts + off, r->pos, min_len) ||
        put_u32(&c->out, key) || put_u32(&c->out, (uint32_t)e->val.len) ||
        sg_buf_append(&c->out, e->val.data, e->val.len))
      return oom(err);
    ft->blocks++;
  }
  return SEOGO_OK;
}

/* Encodes one term: its reopened last block and buffered postings as blocks, then its
 * record. */
static int encode_term(const sg_writer *w, encoder *e, flush_term *ft, flush_chunk *c,
                       seogo_error *err) {
  run *r = &e->r;
  r->n = r->npos = 0;
  uint32_t kept_min = 1;
  int rc = ft->merge_key ? reopen_block(e, ft, c, &kept_min, err) : SEOGO_OK;
  if (rc) return rc;
  size_t kept = r->n;
  if (unpack_buffered(w, &w->postings[ft->index], r, &ft->df, &ft->cf)) return oom(err);
  if (!ft->df) return SEOGO_OK;
  if (kept && r->pids[kept] <= r->pids[kept - 1])
    return sg_fail(err, SEOGO_ECORRUPT, "index is corrupt: passage ids of a term out of order");
  if ((rc = encode_blocks(w, e, ft, kept, kept_min, c, err))) return rc;
  ft->t.df += ft->df;
  ft->t.cf += ft->cf;
  ft->t.nblocks += ft->blocks - (ft->merge_key ? 1 : 0);
  sg_buf_clear(&e->val);
  if (sg_term_encode(&e->val, &ft->t) || put_u32(&c->out, (uint32_t)e->val.len) ||
      sg_buf_append(&c->out, e->val.data, e->val.len))
    return oom(err);
  return SEOGO_OK;
}

static void encode_chunk(flush_plan *p, encoder *e, flush_chunk *c) {
  int rc = SEOGO_OK;
  for (size_t i = c->first; i < c->end && !rc; i++)
    rc = encode_term(p->w, e, &p->terms[i], c, &c->err);
  c->rc = rc;
}

/* Claims the next chunk (NULL when none is left or the window is full); lock held. */
static flush_chunk *claim_chunk(flush_plan *p, int window) {
  if (p->stop || p->claimed >= p->nchunks) return NULL;
  if (window && p->claimed >= p->written + SG_CHUNK_WINDOW) return NULL;
  return &p->chunks[p->claimed++];
}

/* Encodes c with the lock released; lock held on entry and return. */
static void encode_claimed(flush_plan *p, encoder *e, flush_chunk *c) {
  pthread_mutex_unlock(&p->lock);
  encode_chunk(p, e, c);
  pthread_mutex_lock(&p->lock);
  c->done = 1;
  pthread_cond_broadcast(&p->ready);
}

static void *encode_helper(void *arg) {
  flush_plan *p = arg;
  encoder e;
  encoder_init(&e);
  pthread_mutex_lock(&p->lock);
  while (!p->stop && p->claimed < p->nchunks) {
    flush_chunk *c = claim_chunk(p, 1);
    if (c) encode_claimed(p, &e, c);
    else pthread_cond_wait(&p->room, &p->lock);
  }
  pthread_mutex_unlock(&p->lock);
  encoder_free(&e);
  return NULL;
}

/* Waits until chunk k is encoded, encoding unclaimed chunks meanwhile. */
static void await_chunk(flush_plan *p, encoder *e, size_t k) {
  pthread_mutex_lock(&p->lock);
  while (!p->chunks[k].done) {
    flush_chunk *c = claim_chunk(p, 0);
    if (c) encode_claimed(p, e, c);
    else pthread_cond_wait(&p->ready, &p->lock);
  }
  pthread_mutex_unlock(&p->lock);
}

static void chunk_written(flush_plan *p, size_t k) {
  sg_buf_free(&p->chunks[k].in);
  sg_buf_free(&p->chunks[k].out);
  pthread_mutex_lock(&p->lock);
  p->written = k + 1;
  pthread_cond_broadcast(&p->room);
  pthread_mutex_unlock(&p->lock);
}

static uint32_t get_u32(const unsigned char **q) {
  uint32_t v;
  memcpy(&v, *q, sizeof v);
  *q += sizeof v;
  return v;
}

/* Puts an encoded chunk: each term's blocks, then its record. */
static int write_chunk(sg_writer *w, flush_ctx *f, const flush_plan *p, const flush_chunk *c,
                       sg_stats *stats, seogo_error *err) {
  if (c->rc) {
    if (err) *err = c->err;
    return c->rc;
  }
  const unsigned char *q = c->out.data;
  for (size_t i = c->first; i < c->end; i++) {
    const flush_term *ft = &p->terms[i];
    if (!ft->df) continue;
    size_t len;
    const char *term = sg_strmap_key(&w->terms, ft->index, &len);
    for (uint32_t b = 0; b < ft->blocks; b++) {
      uint32_t key = get_u32(&q), size = get_u32(&q);
      if (sg_postings_key(&w->key, term, len, key)) return oom(err);
      int rc = ordered_put(w, &f->postings, w->key.data, w->key.len, q, size, err);
      if (rc) return rc;
      q += size;
    }
    uint32_t size = get_u32(&q);
    int rc = ordered_put(w, &f->terms, term, len, q, size, err);
    if (rc) return rc;
    q += size;
    if (!ft->found) stats->terms++;
    stats->postings += ft->df;
  }
  return SEOGO_OK;
}

/* Copies the term's last block into c->in when it has room, to be reopened. */
static int copy_last_block(sg_writer *w, flush_ctx *f, const char *term, size_t len,
                           flush_term *ft, flush_chunk *c, seogo_error *err) {
  MDB_val data;
  uint32_t key_pid, count, last, max_tf;
  int rc = last_block(w, &f->postings, term, len, &key_pid, &data, err);
  if (rc || !key_pid) return rc;
  if ((rc = sg_block_peek(data.mv_data, data.mv_size, key_pid, &count, &last, &max_tf, err)) ||
      count >= SG_BLOCK_MAX)
    return rc;
  if (data.mv_size > UINT32_MAX || sg_buf_append(&c->in, data.mv_data, data.mv_size))
    return oom(err);
  ft->merge_key = key_pid;
  ft->last_off = (uint32_t)(c->in.len - data.mv_size);
  ft->last_len = (uint32_t)data.mv_size;
  return SEOGO_OK;
}

static flush_chunk *new_chunk(flush_plan *p, size_t first) {
  if (sg_grow_array(&p->chunks, &p->chunks_cap, p->nchunks + 1, sizeof *p->chunks)) return NULL;
  flush_chunk *c = &p->chunks[p->nchunks++];
  memset(c, 0, sizeof *c);
  c->first = c->end = first;
  return c;
}

/* Reads what the encoders need of each term (terms[k].index set, in key order) and cuts the
 * terms into chunks. */
static int plan_flush(sg_writer *w, flush_ctx *f, flush_plan *p, seogo_error *err) {
  flush_chunk *c = NULL;
  size_t work = 0;
  for (size_t k = 0; k < p->nterms; k++) {
    if (!c && !(c = new_chunk(p, k))) return oom(err);
    flush_term *ft = &p->terms[k];
    size_t len;
    const char *term = sg_strmap_key(&w->terms, ft->index, &len);
    int rc = seek_term(w, &f->terms, term, len, &ft->t, &ft->found, err);
    if (!rc && !ft->found) ft->t.min_len = UINT32_MAX;
    if (!rc && ft->found) rc = copy_last_block(w, f, term, len, ft, c, err);
    if (rc) return rc;
    c->end = k + 1;
    work += w->postings[ft->index].list.len + ft->last_len;
    if (work >= SG_CHUNK_WORK) c = NULL, work = 0;
  }
  return SEOGO_OK;
}

/* Helper threads to start: one per further core, none for a single chunk. */
static size_t helpers_wanted(size_t nchunks) {
  long cores = sysconf(_SC_NPROCESSORS_ONLN);
  size_t n = cores > 1 ? (size_t)cores - 1 : 0;
  if (n > SG_MAX_ENCODERS) n = SG_MAX_ENCODERS;
  return n < nchunks ? n : nchunks - 1;
}

/* Encodes the planned chunks (with helper threads when there are cores for them; the
 * writer alone if none can start) and puts them in order. */
static int encode_and_write(sg_writer *w, flush_ctx *f, flush_plan *p, sg_stats *stats,
                            seogo_error *err) {
  pthread_t helpers[SG_MAX_ENCODERS];
  size_t started = 0, wanted = p->nchunks ? helpers_wanted(p->nchunks) : 0;
  while (started < wanted && pthread_create(&helpers[started], NULL, encode_helper, p) == 0)
    started++;
  encoder e;
  encoder_init(&e);
  int rc = SEOGO_OK;
  for (size_t k = 0; k < p->nchunks && !rc; k++) {
    await_chunk(p, &e, k);
    rc = write_chunk(w, f, p, &p->chunks[k], stats, err);
    chunk_written(p, k);
  }
  pthread_mutex_lock(&p->lock);
  p->stop = 1;
  pthread_cond_broadcast(&p->room);
  pthread_mutex_unlock(&p->lock);
  for (size_t i = 0; i < started; i++) pthread_join(helpers[i], NULL);
  encoder_free(&e);
  return rc;
}

typedef struct term_ref {
  uint64_t head; /* the first 8 bytes, big-endian, zero-padded: most comparisons end here */
  const unsigned char *bytes;
  uint32_t len, index;
} term_ref;

static uint64_t term_head(const unsigned char *b, size_t len) {
  uint64_t h = 0;
  for (size_t i = 0; i < 8; i++) h = h << 8 | (i < len ? b[i] : 0);
  return h;
}

/* LMDB's key order (bytes, then length); terms hold no 0x00, so equal heads of a shorter
 * term mean it ends within them. */
static int cmp_term_ref(const void *a, const void *b) {
  const term_ref *x = a, *y = b;
  if (x->head != y->head) return x->head < y->head ? -1 : 1;
  size_t n = x->len < y->len ? x->len : y->len;
  int c = n > 8 ? memcmp(x->bytes + 8, y->bytes + 8, n - 8) : 0;
  if (c) return c;
  return x->len < y->len ? -1 : x->len > y->len;
}

/* Writes all buffered postings in term order (LMDB pages are then touched in key order). */
static int flush_postings(sg_writer *w, MDB_txn *txn, sg_stats *stats, seogo_error *err) {
  size_t n = w->terms.count;
  if (!n) return SEOGO_OK;
  term_ref *order = malloc(n * sizeof *order);
  flush_plan p = {.w = w, .nterms = n, .lock = PTHREAD_MUTEX_INITIALIZER,
                  .ready = PTHREAD_COND_INITIALIZER, .room = PTHREAD_COND_INITIALIZER};
  p.terms = calloc(n, sizeof *p.terms);
  if (!order || !p.terms) {
    free(order);
    free(p.terms);
    return oom(err);
  }
  for (size_t i = 0; i < n; i++) {
    size_t len;
    order[i].bytes = (const unsigned char *)sg_strmap_key(&w->terms, i, &len);
    order[i].len = (uint32_t)len;
    order[i].head = term_head(order[i].bytes, len);
    order[i].index = (uint32_t)i;
  }
  qsort(order, n, sizeof *order, cmp_term_ref);
  for (size_t i = 0; i < n; i++) p.terms[i].index = order[i].index;
  free(order);
  flush_ctx f;
  memset(&f, 0, sizeof f);
  int rc = ordered_open(w, txn, w->store->terms, &f.terms, err);
  if (!rc) rc = ordered_open(w, txn, w->store->postings, &f.postings, err);
  if (!rc) rc = plan_flush(w, &f, &p, err);
  if (!rc) rc = encode_and_write(w, &f, &p, stats, err);
  w->scattered_puts += f.postings.inserted + f.terms.inserted;
  w->ordered_puts += f.postings.appended + f.terms.appended;
  ordered_close(&f.terms);
  ordered_close(&f.postings);
  for (size_t k = 0; k < p.nchunks; k++) {
    sg_buf_free(&p.chunks[k].in);
    sg_buf_free(&p.chunks[k].out);
  }
  free(p.chunks);
  free(p.terms);
  pthread_mutex_destroy(&p.lock);
  pthread_cond_destroy(&p.ready);
  pthread_cond_destroy(&p.room);
  return rc;
}

static int write_changes(sg_writer *w, MDB_txn *txn, sg_stats *stats, seogo_error *err) {
  int rc = SEOGO_OK;
  /* touches first: a document touched and then replaced within the batch must go */
  for (size_t i = 0; !rc && i < w->ntouches; i++) {
    unsigned char id[4];
    sg_put_be32(id, w->touches[i].doc_id);
    rc = put(w, txn, w->store->docs, id, 4, w->touches[i].rec.data, w->touches[i].rec.len, 0,
             err);
  }
  norms_cursor nc = {0};
  page_cursor pc = {0};
  for (size_t i = 0; !rc && i < w->nremovals; i++)
    rc = apply_removal(w, txn, &w->removals[i], &nc, &pc, stats, err);
  for (size_t i = 0; !rc && i < w->ndocs; i++)
    if (!w->docs[i].dead) rc = write_document(w, txn, &w->docs[i], &nc, &pc, stats, err);
  if (!rc) rc = norms_flush(w, txn, &nc, err);
  if (!rc) rc = page_flush(w, txn, &pc, err);
  if (!rc) rc = flush_postings(w, txn, stats, err);
  return rc;
}

int sg_batch_write(sg_writer *w, seogo_error *err) {
  if (w->ndead) qsort(w->dead, w->ndead, sizeof *w->dead, cmp_range);
  if (fill_lens(w)) return oom(err);
  MDB_txn *txn;
  int rc = sg_store_write_begin(w->store, &txn, err);
  if (rc) return rc;
  sg_stats stats;
  rc = sg_store_get_stats(w->store, txn, &stats, err);
  if (!rc) rc = write_changes(w, txn, &stats, err);
  if (!rc) {
    stats.next_doc_id = w->next_doc_id;
    stats.next_passage_id = w->next_pid;
    rc = sg_store_put_stats(w->store, txn, &stats, err);
    if (rc == SEOGO_EFULL) rc = SG_RETRY_GROW;
  }
  if (rc) {
    mdb_txn_abort(txn);
    return rc;
  }
  rc = mdb_txn_commit(txn);
  if (rc == MDB_MAP_FULL) return SG_RETRY_GROW;
  return rc ? sg_store_write_error(w->store, rc, err) : SEOGO_OK;
}

