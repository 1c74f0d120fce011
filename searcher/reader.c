/* reader.c - reading one consistent snapshot of the index for a search: term, passage,
 * document, text and norm lookups, and postings cursors that skip blocks by their headers. */
#include <stdlib.h>
#include <string.h>

#include "searcher.h"

static int corrupt(seogo_error *err, const char *what) {
  return sg_fail(err, SEOGO_ECORRUPT, "index is corrupt: %s", what);
}

int sg_reader_begin(sg_reader *r, seogo_index *index, seogo_error *err) {
  memset(r, 0, sizeof *r);
  if (!index || !index->store) return sg_fail(err, SEOGO_EINVAL, "index handle is NULL");
  r->store = index->store;
  int rc = sg_store_read_begin(r->store, &r->txn, err);
  if (rc) return rc;
  if ((rc = sg_store_get_stats(r->store, r->txn, &r->stats, err))) {
    sg_reader_end(r);
    return rc;
  }
  return SEOGO_OK;
}

void sg_reader_end(sg_reader *r) {
  if (r->txn) sg_store_read_end(r->store, r->txn);
  r->txn = NULL;
}

/* mdb_get with LMDB's errors mapped; SEOGO_NOTFOUND for a missing key. */
static int get(sg_reader *r, MDB_dbi dbi, const void *key, size_t klen, MDB_val *val,
               const char *what, seogo_error *err) {
  MDB_val k = {klen, (void *)key};
  int rc = mdb_get(r->txn, dbi, &k, val);
  if (rc == MDB_NOTFOUND) return SEOGO_NOTFOUND;
  if (rc) return sg_store_mdb_error(rc, what, err);
  return SEOGO_OK;
}

static int get_by_id(sg_reader *r, MDB_dbi dbi, uint32_t id, MDB_val *val, const char *what,
                     seogo_error *err) {
  unsigned char key[4];
  sg_put_be32(key, id);
  return get(r, dbi, key, sizeof key, val, what, err);
}

int sg_reader_term(sg_reader *r, const char *term, size_t len, sg_term_info *out,
                   seogo_error *err) {
  MDB_val v;
  if (len == 0) return SEOGO_NOTFOUND;
  int rc = get(r, r->store->terms, term, len, &v, "terms", err);
  if (rc) return rc;
  return sg_term_decode(v.mv_data, v.mv_size, out, err);
}

int sg_reader_each_prefix(sg_reader *r, const char *prefix, size_t len,
                          int (*fn)(void *ctx, const char *term, size_t len), void *ctx,
                          seogo_error *err) {
  MDB_cursor *cur;
  int rc = mdb_cursor_open(r->txn, r->store->terms, &cur);
  if (rc) return sg_store_mdb_error(rc, "terms", err);
  MDB_val k = {len, (void *)prefix}, v;
  int stop = 0;
  rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
  while (rc == 0 && k.mv_size >= len && memcmp(k.mv_data, prefix, len) == 0) {
    if ((stop = fn(ctx, k.mv_data, k.mv_size))) break;
    rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
  }
  mdb_cursor_close(cur);
  if (stop) return stop;
  if (rc && rc != MDB_NOTFOUND) return sg_store_mdb_error(rc, "terms", err);
  return SEOGO_OK;
}

int sg_reader_passage(sg_reader *r, uint32_t pid, sg_passage *out, sg_page_doc *doc,
                      seogo_error *err) {
  uint32_t key = pid / SG_PASSAGES_PER_KEY;
  if (!r->page_valid || r->page_key != key) {
    MDB_val v;
    r->page_valid = 0;
    int rc = get_by_id(r, r->store->passages, key, &v, "passages", err);
    if (!rc) rc = sg_passage_page_open(&r->page, v.mv_data, v.mv_size, err);
    if (rc) return rc;
    r->page_key = key;
    r->page_valid = 1;
  }
  return sg_passage_page_get(&r->page, pid % SG_PASSAGES_PER_KEY, out, doc, err);
}

int sg_reader_doc(sg_reader *r, uint32_t doc_id, sg_doc *out, seogo_error *err) {
  if (!doc_id || r->doc_id != doc_id) {
    MDB_val v;
    r->doc_id = 0;
    int rc = get_by_id(r, r->store->docs, doc_id, &v, "docs", err);
    if (!rc) rc = sg_doc_decode(v.mv_data, v.mv_size, &r->doc, err);
    if (rc) return rc;
    r->doc_id = doc_id;
  }
  *out = r->doc;
  return SEOGO_OK;
}

int sg_reader_each_doc(sg_reader *r, int (*fn)(void *ctx, uint32_t doc_id, const sg_doc *d),
                       void *ctx, seogo_error *err) {
  MDB_cursor *cur;
  int rc = mdb_cursor_open(r->txn, r->store->docs, &cur);
  if (rc) return sg_store_mdb_error(rc, "docs", err);
  MDB_val k, v;
  int status = SEOGO_OK;
  for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
       rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
    sg_doc d;
    if (k.mv_size != 4) {
      status = corrupt(err, "a document key is not 4 bytes");
      break;
    }
    if ((status = sg_doc_decode(v.mv_data, v.mv_size, &d, err))) break;
    if ((status = fn(ctx, sg_get_be32(k.mv_data), &d))) break;
  }
  mdb_cursor_close(cur);
  if (status) return status;
  if (rc && rc != MDB_NOTFOUND) return sg_store_mdb_error(rc, "docs", err);
  return SEOGO_OK;
}

int sg_reader_text(sg_reader *r, uint32_t doc_id, const char **text, size_t *len,
                   seogo_error *err) {
  MDB_val v;
  int rc = get_by_id(r, r->store->text, doc_id, &v, "text", err);
  if (rc == SEOGO_NOTFOUND) return corrupt(err, "a document has no stored text");
  if (rc) return rc;
  *text = v.mv_data;
  *len = v.mv_size;
  return SEOGO_OK;
}

int sg_reader_norm(sg_reader *r, uint32_t pid, uint32_t *length, seogo_error *err) {
  uint32_t key = pid / SG_NORMS_PER_KEY;
  if (!r->norms_valid || r->norms_key != key) {
    MDB_val v;
    int rc = get_by_id(r, r->store->norms, key, &v, "norms", err);
    if (rc == SEOGO_NOTFOUND)
      v.mv_size = 0;
    else if (rc) return rc;
    else if (!sg_norms_size_ok(v.mv_size))
      return corrupt(err, "a norms record has a bad size");
    r->norms = v.mv_data;
    r->norms_size = v.mv_size;
    r->norms_key = key;
    r->norms_valid = 1;
  }
  *length = sg_norm_at(r->norms, r->norms_size, pid % SG_NORMS_PER_KEY);
  return SEOGO_OK;
}

/* ---- postings cursors -------------------------------------------------------------------- */

static void postings_exhausted(sg_postings *p) {
  p->loaded = 0;
  p->pid = SG_PID_END;
}

/* Whether an LMDB key is one of this term's blocks; sets *first_pid. */
static int key_is_ours(const sg_postings *p, const MDB_val *k, uint32_t *first_pid) {
  /* sg_postings_key_parse, knowing the term's length: the term (an analyzer's word, which holds
   * no NUL) matches, so the key's need not be searched for a NUL */
  const unsigned char *d = k->mv_data;
  size_t n = p->term_len;
  if (k->mv_size != n + 5 || d[n] != 0 || memcmp(d, p->term, n) != 0) return 0;
  *first_pid = sg_get_be32(d + n + 1);
  return 1;
}

/* The bound a block's header gives. */
static int peek_bound(const MDB_val *v, uint32_t first, sg_block_bound *b, seogo_error *err) {
  sg_block_head h;
  int rc = sg_block_head_read(v->mv_data, v->mv_size, first, &h, err);
  if (rc) return rc;
  *b = (sg_block_bound){first, h.last_pid, h.max_tf, h.min_len};
  return SEOGO_OK;
}

/* Decodes the block the LMDB cursor stands on and moves to its first pid >= target. A block
 * starting below the previous one's end would send the cursor backwards: corrupt. */
static int load_block(sg_postings *p, const MDB_val *k, const MDB_val *v, uint32_t target,
                      seogo_error *err) {
  uint32_t first;
  if (!key_is_ours(p, k, &first)) {
    postings_exhausted(p);
    return SEOGO_OK;
  }
  if (p->loaded && first <= p->block.last_pid)
    return corrupt(err, "postings blocks of a term overlap");
  int rc = sg_block_decode_head(v->mv_data, v->mv_size, first, &p->block, err);
  if (rc) {
    postings_exhausted(p);
    return rc;
  }
  if (p->block.last_pid >= p->reader->stats.next_passage_id) {
    postings_exhausted(p);
    return corrupt(err, "a postings block names passages that were never written");
  }
  p->loaded = 1;
  /* a walk lands on the block's first pid, a seek anywhere in it: halve, without branches to
   * mispredict */
  const uint32_t *pids = p->block.pids;
  uint32_t lo = 0, n = p->block.count;
  if (n && pids[0] >= target) n = 0;
  while (n > 1) {
    uint32_t half = n / 2;
    lo = pids[lo + half - 1] < target ? lo + half : lo;
    n -= half;
  }
  if (n && pids[lo] < target) lo++;
  p->idx = lo;
  p->pid = lo < p->block.count ? pids[lo] : SG_PID_END;
  return SEOGO_OK;
}

static int cursor_get(MDB_cursor *cur, MDB_val *k, MDB_val *v, MDB_cursor_op op, int *found,
                      seogo_error *err) {
  int rc = mdb_cursor_get(cur, k, v, op);
  *found = rc == 0;
  if (rc && rc != MDB_NOTFOUND) return sg_store_mdb_error(rc, "postings", err);
  return SEOGO_OK;
}

/* Positions `cur` on the block that holds the first pid >= target: the last block starting at
 * or before target if it reaches target (and starts after `floor`, when has_floor), else the
 * next one. */
static int find_block(sg_postings *p, MDB_cursor *cur, uint32_t target, int has_floor,
                      uint32_t floor, MDB_val *k, MDB_val *v, int *found, seogo_error *err) {
  /* p->term has room for the key's NUL and pid after the term */
  sg_put_be32((unsigned char *)p->term + p->term_len + 1, target);
  k->mv_size = p->term_len + 5;
  k->mv_data = p->term;
  int rc = cursor_get(cur, k, v, MDB_SET_RANGE, found, err);
  uint32_t first = 0;
  if (rc || (*found && key_is_ours(p, k, &first) && first == target)) return rc;
  MDB_val pk, pv;
  int prev_found;
  rc = cursor_get(cur, &pk, &pv, *found ? MDB_PREV : MDB_LAST, &prev_found, err);
  if (rc) return rc;
  if (prev_found && key_is_ours(p, &pk, &first)) {
    sg_block_bound b;
    if ((rc = peek_bound(&pv, first, &b, err))) return rc;
    if (b.last_pid >= target && (!has_floor || first > floor)) {
      *k = pk;
      *v = pv;
      *found = 1;
      return SEOGO_OK;
    }
  }
  if (!prev_found) return cursor_get(cur, k, v, MDB_FIRST, found, err);
  return cursor_get(cur, k, v, MDB_NEXT, found, err);
}

int sg_postings_seek(sg_postings *p, uint32_t target, seogo_error *err) {
  if (p->pid == SG_PID_END || p->pid >= target) return SEOGO_OK;
  if (p->loaded && target <= p->block.last_pid) {
    while (p->block.pids[p->idx] < target) p->idx++;
    p->pid = p->block.pids[p->idx];
    return SEOGO_OK;
  }
  /* the next block is the common case; jump when its header says it ends too early, or at
   * once when the target lies several blocks' spans away (a rare term's passages drive a
   * frequent one's cursor) */
  MDB_val k, v;
  int found = 0, rc;
  uint32_t first;
  if (p->loaded && target - p->block.last_pid > p->far) {
    if ((rc = find_block(p, p->cur, target, 1, p->block.last_pid, &k, &v, &found, err)))
      return rc;
  } else if ((rc = cursor_get(p->cur, &k, &v, MDB_NEXT, &found, err))) {
    return rc;
  } else if (found && key_is_ours(p, &k, &first)) {
    sg_block_bound b;
    if ((rc = peek_bound(&v, first, &b, err))) return rc;
    if (b.last_pid < target &&
        (rc = find_block(p, p->cur, target, p->loaded, p->block.last_pid, &k, &v, &found, err)))
      return rc;
  }
  if (!found) {
    postings_exhausted(p);
    return SEOGO_OK;
  }
  if ((rc = load_block(p, &k, &v, target, err))) return rc;
  /* a corrupt header can claim a last pid that the block does not reach */
  if (p->pid == SG_PID_END && p->loaded) return corrupt(err, "postings block header lies");
  return SEOGO_OK;
}

int sg_postings_seek_tf(sg_postings *p, uint32_t target,
                        uint32_t (*min_tf)(void *ctx, uint32_t min_len), void *ctx, int *skipped,
                        seogo_error *err) {
  int rc = sg_postings_seek(p, target, err);
  while (!rc && p->pid != SG_PID_END) {
    uint32_t floor = min_tf(ctx, p->block.min_len), i = p->idx;
    while (i < p->block.count && p->block.tfs[i] < floor) i++;
    if (i != p->idx) *skipped = 1;
    if (i < p->block.count) {
      p->idx = i;
      p->pid = p->block.pids[i];
      return SEOGO_OK;
    }
    if (p->block.last_pid >= SG_PID_END - 1) {
      postings_exhausted(p);
      return SEOGO_OK;
    }
    rc = sg_postings_seek(p, p->block.last_pid + 1, err);
  }
  return rc;
}

int sg_postings_rewind(sg_postings *p, seogo_error *err) {
  p->loaded = 0;
  p->pid = 0;
  MDB_val k, v;
  int found = 0;
  int rc = find_block(p, p->cur, 0, 0, 0, &k, &v, &found, err);
  if (rc) return rc;
  if (!found) {
    postings_exhausted(p);
    return SEOGO_OK;
  }
  return load_block(p, &k, &v, 0, err);
}

const uint32_t *sg_postings_positions(sg_postings *p, size_t *n, seogo_error *err) {
  *n = 0;
  if (!p->loaded || p->pid == SG_PID_END) {
    sg_fail(err, SEOGO_EINVAL, "positions asked of a postings cursor past its end");
    return NULL;
  }
  sg_block *b = &p->block;
  /* one passage's positions alone cost a few times more per value than the whole block's:
   * worth it until a quarter of the block has been asked for */
  if (!b->pos_ready && b->pos_one != p->idx &&
      (b->alone * 4 < b->count ? sg_block_passage_positions(b, (uint32_t)p->idx, err)
                               : sg_block_decode_positions(b, err)))
    return NULL;
  uint32_t from = b->pos_start[p->idx], to = b->pos_start[p->idx + 1];
  *n = to - from;
  return b->positions + from;
}

static const sg_block_bound no_block = {SG_PID_END, SG_PID_END, 0, 0};

/* Moves hcur to the block of the first pid >= target and caches its bound in p->hbound
 * (hvalid = 0 when there is none). When hcur stands on a block ending before target, the next
 * block is tried first: walking forward block by block is the common case. */
static int header_at(sg_postings *p, uint32_t target, seogo_error *err) {
  int rc;
  if (!p->hcur && (rc = mdb_cursor_open(p->reader->txn, p->reader->store->postings, &p->hcur))) {
    p->hcur = NULL;
    return sg_store_mdb_error(rc, "postings", err);
  }
  MDB_val k, v;
  int found = 0, walk = p->hvalid && p->hbound.last_pid < target;
  uint32_t first;
  p->hvalid = 0;
  if (walk) {
    if ((rc = cursor_get(p->hcur, &k, &v, MDB_NEXT, &found, err))) return rc;
    if (!found || !key_is_ours(p, &k, &first)) return SEOGO_OK;
    if ((rc = peek_bound(&v, first, &p->hbound, err))) return rc;
    if (p->hbound.last_pid >= target) {
      p->hvalid = 1;
      return SEOGO_OK;
    }
  }
  if ((rc = find_block(p, p->hcur, target, 0, 0, &k, &v, &found, err))) return rc;
  if (!found || !key_is_ours(p, &k, &first)) return SEOGO_OK;
  if ((rc = peek_bound(&v, first, &p->hbound, err))) return rc;
  if (p->hbound.last_pid < target) return corrupt(err, "postings blocks of a term overlap");
  p->hvalid = 1;
  return SEOGO_OK;
}

int sg_postings_block_header(sg_postings *p, uint32_t target, sg_block_bound *out,
                             seogo_error *err) {
  *out = no_block;
  if (p->pid == SG_PID_END) return SEOGO_OK;
  if (target < p->pid) target = p->pid;
  if (p->loaded && target <= p->block.last_pid) {
    *out = (sg_block_bound){p->block.first_pid, p->block.last_pid, p->block.max_tf,
                            p->block.min_len};
    return SEOGO_OK;
  }
  if (!p->hvalid || target < p->hbound.first_pid || target > p->hbound.last_pid) {
    int rc = header_at(p, target, err);
    if (rc) {
      p->hvalid = 0;
      return rc;
    }
    if (!p->hvalid) return SEOGO_OK;
  }
  *out = p->hbound;
  return SEOGO_OK;
}

/* Reads the term's bounds from its record. */
static int term_bounds(sg_postings *p, seogo_error *err) {
  sg_term_info t;
  int rc = sg_reader_term(p->reader, p->term, p->term_len, &t, err);
  p->df = 0;
  p->max_tf = 0;
  p->min_len = SG_MAX_POSITIONS;
  p->far = UINT32_MAX;
  if (rc == SEOGO_NOTFOUND) return SEOGO_OK;
  if (rc) return rc;
  p->df = t.df < UINT32_MAX ? (uint32_t)t.df : UINT32_MAX; /* a pid is 32 bits: df fits */
  p->max_tf = t.max_tf;
  p->min_len = t.min_len;
  /* two blocks' average span of pids */
  uint64_t span = t.nblocks ? p->reader->stats.next_passage_id / t.nblocks : 0;
  p->far = span * 2 < UINT32_MAX ? (uint32_t)(span * 2) : UINT32_MAX;
  return SEOGO_OK;
}

int sg_postings_open(sg_postings *p, sg_reader *r, const char *term, size_t len,
                     seogo_error *err) {
  memset(p, 0, sizeof *p);
  sg_block_init(&p->block);
  p->reader = r;
  p->pid = SG_PID_END;
  p->term = malloc(len + 5); /* and room for a postings key (find_block) */
  if (!p->term) return sg_fail(err, SEOGO_ENOMEM, "out of memory");
  memcpy(p->term, term, len);
  p->term[len] = 0;
  p->term_len = len;
  int rc = term_bounds(p, err);
  if (rc) return rc;
  if ((rc = mdb_cursor_open(r->txn, r->store->postings, &p->cur))) {
    p->cur = NULL;
    return sg_store_mdb_error(rc, "postings", err);
  }
  return sg_postings_rewind(p, err);
}

void sg_postings_close(sg_postings *p) {
  if (p->cur) mdb_cursor_close(p->cur);
  if (p->hcur) mdb_cursor_close(p->hcur);
  sg_block_free(&p->block);
  free(p->term);
  memset(p, 0, sizeof *p);
}
