/* writer.c - adding, replacing and removing documents: changes are collected in a batch in
 * memory (postings buffered per term) and written by commit.c in one transaction per commit,
 * redone after growing the map when it is full. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "batch.h"

static int oom(seogo_error *err) { return sg_fail(err, SEOGO_ENOMEM, "out of memory"); }

/* ---- The writer and its batch ------------------------------------------------------------------ */

static int load_next_ids(sg_writer *w, seogo_error *err) {
  MDB_txn *txn;
  int rc = sg_store_read_begin(w->store, &txn, err);
  if (rc) return rc;
  sg_stats stats;
  rc = sg_store_get_stats(w->store, txn, &stats, err);
  sg_store_read_end(w->store, txn);
  if (rc) return rc;
  w->next_doc_id = stats.next_doc_id;
  w->next_pid = stats.next_passage_id;
  return SEOGO_OK;
}

static void clear_batch(sg_writer *w) {
  for (size_t i = 0; i < w->ndocs; i++) {
    free(w->docs[i].text_alloc);
    free(w->docs[i].passages);
  }
  for (size_t i = 0; i < w->nremovals; i++) sg_buf_free(&w->removals[i].terms);
  for (size_t i = 0; i < w->ntouches; i++) sg_buf_free(&w->touches[i].rec);
  for (size_t i = 0; i < w->terms.count; i++) sg_buf_free(&w->postings[i].list);
  w->ndocs = w->nremovals = w->ntouches = w->ndead = 0;
  sg_strmap_free(&w->paths);
  sg_strmap_free(&w->terms);
  w->pending_bytes = 0;
}

int sg_writer_new(seogo_index *index, sg_writer **out, seogo_error *err) {
  sg_writer *w = calloc(1, sizeof *w);
  if (!w) return oom(err);
  w->index = index;
  w->store = index->store;
  sg_prepared_init(&w->prep);
  sg_analysis_init(&w->removed_analysis);
  sg_block_init(&w->block);
  int rc = load_next_ids(w, err);
  if (rc) {
    sg_writer_free(w);
    return rc;
  }
  *out = w;
  return SEOGO_OK;
}

void sg_writer_free(sg_writer *w) {
  if (!w) return;
  clear_batch(w);
  if (w->analyzer) sg_analyzer_free(w->analyzer);
  sg_prepared_destroy(&w->prep);
  sg_analysis_free(&w->removed_analysis);
  sg_block_free(&w->block);
  sg_buf_free(&w->key);
  sg_buf_free(&w->val);
  sg_buf_free(&w->norms);
  free(w->page);
  free(w->page_docs);
  free(w->page_path_at);
  sg_buf_free(&w->page_paths);
  free(w->path_states);
  free(w->docs);
  free(w->removals);
  free(w->touches);
  free(w->dead);
  free(w->postings);
  free(w->lens);
  free(w);
}

static int writer_of(seogo_index *index, sg_writer **w, seogo_error *err) {
  if (!index) return sg_fail(err, SEOGO_EINVAL, "no index handle");
  if (!index->writer)
    return sg_fail(err, SEOGO_EREADONLY, "the index at %s was opened read-only",
                   index->store->dir);
  *w = index->writer;
  return SEOGO_OK;
}

/* ---- Looking up the current version of a document ----------------------------------------- */

/* What the index (committed state plus this batch) holds under a path. */
typedef struct existing {
  int found;
  int committed;       /* in the committed state (else pending in this batch) */
  long pending;        /* pending_doc index when !committed */
  uint32_t doc_id;
  sg_doc rec;          /* rec.path is not valid */
} existing;

static long path_index(sg_writer *w, const char *name, size_t len, int add) {
  uint32_t h = sg_strmap_hash(name, len);
  long i = sg_strmap_find(&w->paths, name, len, h);
  if (i >= 0 || !add) return i;
  i = sg_strmap_intern(&w->paths, name, len);
  if (i < 0) return -1;
  if (sg_grow_array(&w->path_states, &w->path_states_cap, (size_t)i + 1, sizeof *w->path_states))
    return -1;
  w->path_states[i] = (sg_path_state){-1, 0};
  return i;
}

static int lookup_committed(sg_writer *w, MDB_txn *txn, const char *name, size_t len,
                            existing *ex, seogo_error *err) {
  MDB_val key = {len, (void *)name}, v;
  int rc = mdb_get(txn, w->store->paths, &key, &v);
  if (rc == MDB_NOTFOUND) return SEOGO_OK;
  if (rc) return sg_store_mdb_error(rc, name, err);
  if (v.mv_size != 4) return sg_fail(err, SEOGO_ECORRUPT, "index is corrupt: bad path record");
  unsigned char id[4];
  memcpy(id, v.mv_data, 4);
  MDB_val dkey = {4, id};
  if ((rc = mdb_get(txn, w->store->docs, &dkey, &v)))
    return rc == MDB_NOTFOUND
               ? sg_fail(err, SEOGO_ECORRUPT, "index is corrupt: %s has no document record", name)
               : sg_store_mdb_error(rc, name, err);
  if ((rc = sg_doc_decode(v.mv_data, v.mv_size, &ex->rec, err))) return rc;
  ex->rec.path = NULL;
  ex->found = ex->committed = 1;
  ex->doc_id = sg_get_be32(id);
  return SEOGO_OK;
}

static int find_existing(sg_writer *w, const char *name, size_t len, existing *ex,
                         seogo_error *err) {
  memset(ex, 0, sizeof *ex);
  ex->pending = -1;
  long p = path_index(w, name, len, 0);
  if (p >= 0 && w->path_states[p].doc >= 0) {
    const sg_pending_doc *d = &w->docs[w->path_states[p].doc];
    ex->found = 1;
    ex->pending = w->path_states[p].doc;
    ex->doc_id = d->doc_id;
    ex->rec = d->rec;
    return SEOGO_OK;
  }
  if (p >= 0 && w->path_states[p].removed) return SEOGO_OK;
  MDB_txn *txn;
  int rc = sg_store_read_begin(w->store, &txn, err);
  if (rc) return rc;
  rc = lookup_committed(w, txn, name, len, ex, err);
  sg_store_read_end(w->store, txn);
  return rc;
}

/* ---- Scheduling removals ------------------------------------------------------------------- */

static int ensure_analyzer(sg_writer *w, seogo_error *err) {
  return w->analyzer ? SEOGO_OK : sg_analyzer_new(&w->analyzer, err);
}

/* Schedules the removal of a committed document: its stored text is analyzed again (the
 * same text and analyzer give the same terms; a huge text in chunks, as it was indexed, so
 * memory stays bounded) to learn which terms' postings to rewrite. */
static int schedule_removal(sg_writer *w, long path, const existing *ex, seogo_error *err) {
  int rc = ensure_analyzer(w, err);
  if (rc) return rc;
  if (sg_grow_array(&w->removals, &w->removals_cap, w->nremovals + 1, sizeof *w->removals))
    return oom(err);
  sg_pending_removal *r = &w->removals[w->nremovals];
  memset(r, 0, sizeof *r);
  MDB_txn *txn;
  if ((rc = sg_store_read_begin(w->store, &txn, err))) return rc;
  unsigned char id[4];
  sg_put_be32(id, ex->doc_id);
  MDB_val key = {4, id}, text = {0, NULL};
  rc = mdb_get(txn, w->store->text, &key, &text);
  if (rc == MDB_NOTFOUND && ex->rec.npassages) /* its postings could not be found: damage */
    rc = sg_fail(err, SEOGO_ECORRUPT, "index is corrupt: a document has no stored text; "
                 "rebuild it with seogo-index --rebuild");
  else if (rc == MDB_NOTFOUND) rc = SEOGO_OK; /* no passages: no postings either */
  else if (rc) rc = sg_store_mdb_error(rc, w->store->dir, err);
  if (!rc && text.mv_size)
    rc = sg_text_terms(w->analyzer, text.mv_data, text.mv_size, &w->removed_analysis, &r->terms,
                       err);
  sg_store_read_end(w->store, txn);
  if (rc) {
    sg_buf_free(&r->terms);
    return rc;
  }
  r->doc_id = ex->doc_id;
  r->first_pid = ex->rec.first_pid;
  r->npassages = ex->rec.npassages;
  r->text_len = ex->rec.text_len;
  r->path = path;
  w->path_states[path].removed = 1;
  w->nremovals++;
  return SEOGO_OK;
}

static int mark_dead(sg_writer *w, sg_pending_doc *d) {
  if (d->rec.npassages) {
    if (sg_grow_array(&w->dead, &w->dead_cap, w->ndead + 1, sizeof *w->dead)) return -1;
    w->dead[w->ndead++] = (sg_pid_range){d->rec.first_pid, d->rec.first_pid + d->rec.npassages};
  }
  d->dead = 1;
  w->pending_bytes -= d->rec.text_len;
  free(d->text_alloc);
  d->text_alloc = NULL;
  d->text = NULL;
  return 0;
}

/* Takes the existing version of a document out of the index (at commit, or now if pending). */
static int retire(sg_writer *w, long path, const existing *ex, seogo_error *err) {
  if (!ex->committed) {
    if (mark_dead(w, &w->docs[ex->pending])) return oom(err);
    w->path_states[path].doc = -1;
    return SEOGO_OK;
  }
  return schedule_removal(w, path, ex, err);
}

int seogo_remove(seogo_index *index, const char *name, seogo_error *err) {
  sg_writer *w = NULL;
  int rc = writer_of(index, &w, err);
  if (rc) return rc;
  if (!name || !*name) return sg_fail(err, SEOGO_EINVAL, "no document name given");
  size_t len = strlen(name);
  existing ex;
  if ((rc = find_existing(w, name, len, &ex, err))) return rc;
  if (!ex.found) return sg_fail(err, SEOGO_NOTFOUND, "%s is not in the index", name);
  long path = path_index(w, name, len, 1);
  if (path < 0) return oom(err);
  return retire(w, path, &ex, err);
}

/* ---- Buffering the postings of a new document --------------------------------------------- */

/* Appends the document's postings (grouped by term by prepare.c) to the terms' lists: one
 * lookup and one copy per term of the document. */
static int buffer_postings(sg_writer *w, const seogo_prepared *p, uint32_t first_pid) {
  for (size_t k = 0; k < p->terms.count; k++) {
    const sg_doc_term *dt = &p->dterms[k];
    if (!dt->count) continue;
    size_t len;
    const char *term = sg_strmap_key(&p->terms, k, &len);
    size_t before = w->terms.count;
    if (sg_grow_array(&w->postings, &w->postings_cap, before + 1, sizeof *w->postings))
      return -1;
    long i = sg_strmap_intern_hashed(&w->terms, term, len, p->terms.keys[k].hash);
    if (i < 0) return -1;
    sg_term_postings *tp = &w->postings[i];
    if (w->terms.count > before) memset(tp, 0, sizeof *tp);
    /* room for the pid gap and the postings at once: one check per term of the document */
    sg_buf *b = &tp->list;
    size_t need = SG_VARINT_MAX + dt->bytes;
    if (b->cap - b->len < need && sg_buf_reserve(b, need)) return -1;
    unsigned char *q = b->data + b->len;
    uint64_t gap = first_pid + dt->first - tp->last_pid;
    while (gap >= 0x80) {
      *q++ = (unsigned char)(gap | 0x80);
      gap >>= 7;
    }
    *q++ = (unsigned char)gap;
    memcpy(q, p->arena.data + dt->off, dt->bytes);
    b->len = (size_t)(q - b->data) + dt->bytes;
    tp->last_pid = first_pid + dt->last;
    tp->count += dt->count;
  }
  return 0;
}

/* Records the analyzed document as pending under `path`, taking over its text. */
static int buffer_document(sg_writer *w, long path, seogo_prepared *p, seogo_error *err) {
  const sg_spans *sp = &p->spans;
  if (w->next_doc_id > UINT32_MAX || w->next_pid + sp->count > (uint64_t)UINT32_MAX + 1)
    return sg_fail(err, SEOGO_ELIMIT, "the index has run out of document or passage ids");
  if (sg_grow_array(&w->docs, &w->docs_cap, w->ndocs + 1, sizeof *w->docs)) return oom(err);
  sg_pending_doc *d = &w->docs[w->ndocs];
  memset(d, 0, sizeof *d);
  d->rec = p->rec;
  d->path = path;
  d->doc_id = (uint32_t)w->next_doc_id;
  d->rec.first_pid = (uint32_t)w->next_pid;
  d->rec.npassages = (uint32_t)sp->count;
  if (!(d->passages = malloc((sp->count ? sp->count : 1) * sizeof *d->passages))) return oom(err);
  int rc = sg_prepared_take_text(p, &d->text_alloc, &d->text, err);
  if (rc) {
    free(d->passages);
    return rc;
  }
  w->ndocs++;
  w->next_doc_id++;
  w->next_pid += sp->count;
  w->pending_bytes += d->rec.text_len;
  w->path_states[path].doc = (long)(w->ndocs - 1);
  for (size_t i = 0; i < sp->count; i++) {
    const sg_span *s = &sp->items[i];
    d->passages[i] = (sg_passage){d->doc_id, s->start, s->end, s->line_start, s->line_end,
                                  s->length > SG_MAX_POSITIONS ? SG_MAX_POSITIONS : s->length};
  }
  if (buffer_postings(w, p, d->rec.first_pid)) {
    /* the pids of a half-buffered document are dropped at commit */
    w->path_states[path].doc = -1;
    mark_dead(w, d);
    return oom(err);
  }
  return SEOGO_OK;
}

/* ---- Adding ----------------------------------------------------------------------------------- */

static void fill_info(seogo_add_info *info, seogo_add_outcome outcome, const sg_doc *rec,
                      uint64_t size) {
  if (!info) return;
  memset(info, 0, sizeof *info);
  info->outcome = outcome;
  info->passages = rec->npassages;
  info->bytes = size;
  memcpy(info->encoding, rec->encoding, sizeof info->encoding);
}

/* The same content under a new mtime: only the record changes. */
static int touch(sg_writer *w, const existing *ex, const char *name, int64_t mtime,
                 seogo_error *err) {
  if (!ex->committed) {
    w->docs[ex->pending].rec.mtime = mtime;
    return SEOGO_OK;
  }
  if (sg_grow_array(&w->touches, &w->touches_cap, w->ntouches + 1, sizeof *w->touches))
    return oom(err);
  sg_pending_touch *t = &w->touches[w->ntouches];
  memset(t, 0, sizeof *t);
  sg_doc rec = ex->rec;
  rec.path = name;
  rec.path_len = strlen(name);
  rec.mtime = mtime;
  t->doc_id = ex->doc_id;
  if (sg_doc_encode(&t->rec, &rec)) {
    sg_buf_free(&t->rec);
    return oom(err);
  }
  w->ntouches++;
  return SEOGO_OK;
}

static int ensure_read(sg_writer *w, seogo_prepared *p, seogo_error *err) {
  if (p->state >= SG_PREP_READ) return SEOGO_OK;
  int fd;
  int rc = sg_prepared_stat(p, &fd, err);
  return rc ? rc : sg_prepared_read(p, fd, err);
}

/* Adds prepared document p given what the index holds under its name. */
static int add_prepared(sg_writer *w, seogo_prepared *p, const existing *ex,
                        seogo_add_info *info, seogo_error *err) {
  if (ex->found && p->state == SG_PREP_STAT && ex->rec.size == p->size &&
      ex->rec.mtime == p->mtime) {
    fill_info(info, SEOGO_UNCHANGED, &ex->rec, p->size);
    return SEOGO_OK;
  }
  int rc = ensure_read(w, p, err);
  if (rc) return rc;
  long path = path_index(w, p->name, strlen(p->name), 1);
  if (path < 0) return oom(err);
  if (ex->found && ex->rec.hash == p->hash && ex->rec.size == p->size) {
    rc = ex->rec.mtime == p->mtime ? SEOGO_OK : touch(w, ex, p->name, p->mtime, err);
    if (!rc) fill_info(info, SEOGO_UNCHANGED, &ex->rec, p->size);
    return rc;
  }
  if (p->state < SG_PREP_ANALYZED) {
    if ((rc = ensure_analyzer(w, err)) || (rc = sg_prepared_analyze(p, w->analyzer, err)))
      return rc;
  }
  if (ex->found && (rc = retire(w, path, ex, err))) return rc;
  if ((rc = buffer_document(w, path, p, err))) return rc;
  fill_info(info, ex->found ? SEOGO_UPDATED : SEOGO_ADDED, &w->docs[w->ndocs - 1].rec, p->size);
  if (info) {
    info->invalid_sequences = p->rec.invalid;
    info->first_invalid_line = p->first_invalid_line;
  }
  return SEOGO_OK;
}

int seogo_add_buffer(seogo_index *index, const char *name, const void *data, size_t len,
                     int64_t mtime, seogo_add_info *info, seogo_error *err) {
  sg_writer *w = NULL;
  int rc = writer_of(index, &w, err);
  if (rc || (rc = sg_prepared_begin(&w->prep, name, NULL, err))) return rc;
  if (!data && len) return sg_fail(err, SEOGO_EINVAL, "%s: no data", name);
  sg_prepared_borrow(&w->prep, data, len, mtime);
  existing ex;
  if (!(rc = find_existing(w, name, strlen(name), &ex, err)))
    rc = add_prepared(w, &w->prep, &ex, info, err);
  sg_prepared_clear(&w->prep);
  return rc;
}

int seogo_add_file(seogo_index *index, const char *file_path, const char *name,
                   seogo_add_info *info, seogo_error *err) {
  sg_writer *w = NULL;
  int rc = writer_of(index, &w, err);
  if (rc) return rc;
  if (!file_path || !*file_path) return sg_fail(err, SEOGO_EINVAL, "no file given");
  if (!name) name = file_path;
  if ((rc = sg_prepared_begin(&w->prep, name, file_path, err))) return rc;
  existing ex;
  int fd = -1;
  if (!(rc = find_existing(w, name, strlen(name), &ex, err)) &&
      !(rc = sg_prepared_stat(&w->prep, &fd, err))) {
    close(fd); /* reopened only when the file must be read */
    rc = add_prepared(w, &w->prep, &ex, info, err);
  }
  sg_prepared_clear(&w->prep);
  return rc;
}

int seogo_add_prepared(seogo_index *index, seogo_prepared *p, seogo_add_info *info,
                       seogo_error *err) {
  sg_writer *w = NULL;
  int rc = writer_of(index, &w, err);
  if (!rc && !p) rc = sg_fail(err, SEOGO_EINVAL, "no prepared document");
  existing ex;
  if (!rc && !(rc = find_existing(w, p->name, strlen(p->name), &ex, err)))
    rc = add_prepared(w, p, &ex, info, err);
  seogo_prepared_free(p);
  return rc;
}

uint64_t seogo_pending_bytes(const seogo_index *index) {
  return index && index->writer ? index->writer->pending_bytes : 0;
}

/* ---- Committing --------------------------------------------------------------------------------- */

int seogo_commit(seogo_index *index, seogo_error *err) {
  sg_writer *w = NULL;
  int rc = writer_of(index, &w, err);
  if (rc) return rc;
  if (!w->ndocs && !w->nremovals && !w->ntouches) return SEOGO_OK;
  while ((rc = sg_batch_write(w, err)) == SG_RETRY_GROW)
    if ((rc = sg_store_grow(w->store, err))) return rc;
  if (rc) return rc;
  w->written_bytes += w->pending_bytes;
  for (size_t i = 0; i < w->nremovals; i++) w->written_bytes += w->removals[i].text_len;
  clear_batch(w);
  return SEOGO_OK;
}

void sg_writer_pack_if_worth(sg_writer *w) {
  if (!w) return;
  sg_store_usage_info u;
  MDB_txn *txn;
  sg_stats stats;
  if (sg_store_usage(w->store, &u, NULL) || sg_store_read_begin(w->store, &txn, NULL)) return;
  int rc = sg_store_get_stats(w->store, txn, &stats, NULL);
  sg_store_read_end(w->store, txn);
  if (rc) return;
  double free_share = u.file_bytes ? (double)(u.file_bytes - u.used_bytes) / u.file_bytes : 0;
  double written = stats.text_bytes ? (double)w->written_bytes / stats.text_bytes : 0;
  /* postings and terms written only at their tables' ends (a build in one commit) already
   * fill their pages: a copy would gain nothing */
  uint64_t puts = w->scattered_puts + w->ordered_puts;
  double scattered = puts ? (double)w->scattered_puts / (double)puts : 0;
  if (free_share < SG_PACK_SHARE && (written < SG_PACK_SHARE || scattered < SG_PACK_SHARE)) return;
  if (sg_store_pack(w->store, NULL) == SEOGO_OK) w->written_bytes = w->scattered_puts = w->ordered_puts = 0;
}

void seogo_abort(seogo_index *index) {
  if (!index || !index->writer) return;
  clear_batch(index->writer);
  load_next_ids(index->writer, NULL);
}
