/* batch.h - the changes a writer holds in memory between commits, shared by writer.c (which
 * collects them), prepare.c (which reads and analyzes documents for it) and commit.c (which
 * writes them in one LMDB transaction). */
#ifndef SEOGO_BATCH_H
#define SEOGO_BATCH_H

#include "indexer.h"

/* Internal status: the map filled up during the batch; grow it and write the batch again. */
#define SG_RETRY_GROW 100

/* LMDB's largest key (the default build); longer document names cannot be "paths" keys. */
#define SG_MAX_PATH_BYTES 511

/* ---- Interface to strmap.c: byte strings to dense indexes (terms, paths) ----------------- */

typedef struct sg_strkey {
  uint32_t off, len, hash;
} sg_strkey;

typedef struct sg_strmap {
  uint64_t *slots; /* hash << 32 | (index + 1); 0 = empty: a probe reads only this array
                      until the hash matches */
  size_t nslots;
  sg_strkey *keys;
  size_t count, cap;
  sg_buf bytes;
} sg_strmap;

uint32_t sg_strmap_hash(const void *key, size_t len);
/* Index of key, or -1 when absent. */
long sg_strmap_find(const sg_strmap *m, const void *key, size_t len, uint32_t hash);
/* Index of key, added when absent; -1 when memory runs out. */
long sg_strmap_intern(sg_strmap *m, const void *key, size_t len);
/* As sg_strmap_intern, with the key's sg_strmap_hash already known. */
long sg_strmap_intern_hashed(sg_strmap *m, const void *key, size_t len, uint32_t hash);
void sg_strmap_free(sg_strmap *m);

static inline const char *sg_strmap_key(const sg_strmap *m, size_t i, size_t *len) {
  *len = m->keys[i].len;
  return (const char *)m->bytes.data + m->keys[i].off;
}

/* Grows *arr (an array of *cap elements of `size` bytes) to hold n elements; -1 on ENOMEM.
 * Inline: most calls find room already (once per posting in places). */
int sg_grow_array_to(void *arr, size_t *cap, size_t n, size_t size);
static inline int sg_grow_array(void *arr, size_t *cap, size_t n, size_t size) {
  return n <= *cap ? 0 : sg_grow_array_to(arr, cap, n, size);
}

/* ---- Interface to prepare.c: a document read and analyzed, not yet added ------------------ */

enum sg_prepared_state {
  SG_PREP_EMPTY,    /* nothing yet */
  SG_PREP_STAT,     /* size and mtime known (from the file), bytes not read */
  SG_PREP_READ,     /* bytes held, hashed; not analyzed */
  SG_PREP_ANALYZED  /* decoded, analyzed, cut into passages */
};

/* What analyzing a document needs only while it runs: the analysis (about 17 times the text)
 * and the grouping's arrays. seogo_prepare_file lends each document a pooled one (see
 * index.h), so that documents waiting for the writer hold only what it takes from them, and
 * the arrays are not grown afresh for every document. */
typedef struct sg_prep_scratch {
  sg_analysis analysis;
  uint32_t *tok_term; /* term of each token (UINT32_MAX: not stored) */
  uint64_t *occ;      /* term occurrences grouped by term (prepare.c) */
  size_t tok_cap, occ_cap;
} sg_prep_scratch;

void sg_prep_scratch_init(sg_prep_scratch *s);
void sg_prep_scratch_free(sg_prep_scratch *s);

/* The postings of one term in one document, passages numbered from 0: `bytes` of the arena
 * hold tf[0], positions[0], then for each further passage its number's gap, tf, positions
 * (the encoding of a term's buffered list, without the first passage's number). */
typedef struct sg_doc_term {
  uint32_t off, bytes;
  uint32_t first, last; /* passage numbers */
  uint32_t count;       /* passages */
} sg_doc_term;

struct seogo_prepared {
  int state;
  char *name;             /* the document's name (owned) */
  char *file_path;        /* the file, for messages and reading (owned; NULL for buffers) */
  uint64_t size;
  int64_t mtime;
  uint64_t hash;          /* of the raw bytes */
  char *raw_alloc;        /* owned raw bytes (NULL when borrowed from the caller) */
  const char *raw;
  size_t raw_len;
  char *text_alloc;       /* owned UTF-8 text, when it is not the raw bytes themselves */
  const char *text;       /* valid UTF-8: into raw (after a BOM) or text_alloc */
  size_t text_len;
  sg_doc rec;             /* encoding, nlines, layout, text_len, invalid (ids and path not) */
  uint32_t first_invalid_line;
  sg_prep_scratch scratch; /* empty between analyses when seogo_prepare_file lent its own */
  sg_spans spans;
  /* the document's postings, grouped by term (so that the writing thread only appends) */
  sg_strmap terms;
  sg_doc_term *dterms; /* one per term in `terms` */
  size_t dterms_cap;
  sg_buf arena;
};

void sg_prepared_init(seogo_prepared *p);
/* Frees the document's bytes and names; keeps the analysis buffers for the next one. */
void sg_prepared_clear(seogo_prepared *p);
void sg_prepared_destroy(seogo_prepared *p);
/* Sets the name (and file path, may be NULL); SEOGO_EINVAL/ELIMIT on a bad name. */
int sg_prepared_begin(seogo_prepared *p, const char *name, const char *file_path,
                      seogo_error *err);
/* Opens the file and records its size and mtime (state STAT); *fd stays open for reading. */
int sg_prepared_stat(seogo_prepared *p, int *fd, seogo_error *err);
/* Reads (and closes) fd into raw bytes and hashes them (state READ). */
int sg_prepared_read(seogo_prepared *p, int fd, seogo_error *err);
/* Borrows the caller's bytes (state READ). */
void sg_prepared_borrow(seogo_prepared *p, const void *data, size_t len, int64_t mtime);
/* Decodes, analyzes with `a` and cuts into passages (state ANALYZED). */
int sg_prepared_analyze(seogo_prepared *p, sg_analyzer *a, seogo_error *err);
/* Makes p own its text (copies borrowed bytes) and hands it over: *alloc is to be freed. */
int sg_prepared_take_text(seogo_prepared *p, char **alloc, const char **text, seogo_error *err);

/* ---- The batch ------------------------------------------------------------------------------- */

/* A document added in this batch. */
typedef struct sg_pending_doc {
  sg_doc rec;           /* rec.path is set when written (the path map may move) */
  long path;            /* index in the path map */
  uint32_t doc_id;
  char *text_alloc;     /* owned; text points into it */
  const char *text;
  sg_passage *passages; /* rec.npassages */
  int dead;             /* replaced or removed again within the batch */
} sg_pending_doc;

/* A committed document to remove at commit, with the terms its text yields. */
typedef struct sg_pending_removal {
  uint32_t doc_id, first_pid, npassages;
  uint64_t text_len;
  long path;    /* index in the path map */
  sg_buf terms; /* each: varint length, bytes */
} sg_pending_removal;

/* A committed document whose file was touched but not changed: its record gets the new mtime. */
typedef struct sg_pending_touch {
  uint32_t doc_id;
  sg_buf rec;
} sg_pending_touch;

/* Per path in the batch: what happened to it. */
typedef struct sg_path_state {
  long doc;    /* live pending doc index, or -1 */
  int removed; /* the committed document under this path is scheduled for removal */
} sg_path_state;

/* Postings buffered for one term: per passage, varint pid delta (from the term's previous
 * pid), varint tf, tf varints (gap << 2 | flags). */
typedef struct sg_term_postings {
  uint32_t last_pid;
  uint32_t count; /* passages buffered */
  sg_buf list;
} sg_term_postings;

typedef struct sg_pid_range {
  uint32_t first, end;
} sg_pid_range;

struct sg_writer {
  seogo_index *index;
  sg_store *store;
  sg_analyzer *analyzer;
  seogo_prepared prep;          /* the document being added by seogo_add_file/buffer */
  sg_analysis removed_analysis; /* of a document being removed */

  uint64_t next_doc_id, next_pid; /* the next ids to hand out */
  uint64_t pending_bytes;
  uint64_t written_bytes; /* text added or removed by this handle's commits (for packing) */
  /* postings and term records these commits put in the middle of their tables (which leaves
   * pages half full) and at their ends (pages full): whether packing would gain room */
  uint64_t scattered_puts, ordered_puts;

  sg_strmap paths;
  sg_path_state *path_states;
  size_t path_states_cap;
  sg_pending_doc *docs;
  size_t ndocs, docs_cap;
  sg_pending_removal *removals;
  size_t nremovals, removals_cap;
  sg_pending_touch *touches;
  size_t ntouches, touches_cap;
  sg_pid_range *dead; /* pids of documents dropped within the batch (sorted at commit) */
  size_t ndead, dead_cap;

  sg_strmap terms;
  sg_term_postings *postings; /* one per term in `terms` */
  size_t postings_cap;

  /* lengths of the batch's passages, pids lens_base .. lens_base+nlens-1 (for the min_len of
   * the blocks written; filled at commit) */
  uint16_t *lens;
  size_t lens_cap;
  uint32_t lens_base, nlens;

  sg_block block; /* scratch for block rewrites */
  sg_buf key, val;
  sg_buf norms; /* the "norms" value being edited (commit.c's norms_cursor) */
  /* the "passages" page being edited (commit.c's page_cursor): its SG_PASSAGES_PER_KEY slots
   * and the documents they may name (page_paths holds the paths) */
  sg_passage *page;
  sg_page_doc *page_docs; /* SG_PASSAGES_PER_KEY; their paths are set at a flush */
  size_t *page_path_at;   /* where each one's path starts in page_paths */
  uint32_t page_ndocs;
  sg_buf page_paths;
};

/* ---- Interface to commit.c ---------------------------------------------------------------- */

/* Writes the batch in one transaction. SG_RETRY_GROW when the map filled up (nothing was
 * written; grow it and call again); else a seogo_status. */
int sg_batch_write(sg_writer *w, seogo_error *err);

/* Packs the index (sg_store_pack) when this handle's commits added or removed at least
 * SG_PACK_SHARE of its text and put at least SG_PACK_SHARE of their postings and term records
 * amid their tables (a build in one commit appends them all: its pages are full already), or
 * when at least SG_PACK_SHARE of the data file is free pages. A failed pack leaves the index
 * as it was: nothing to report. Accepts NULL. */
#define SG_PACK_SHARE 0.125
void sg_writer_pack_if_worth(sg_writer *w);

/* Whether pid belongs to a document dropped within the batch (w->dead sorted). */
int sg_batch_is_dead(const sg_writer *w, uint32_t pid);

#endif /* SEOGO_BATCH_H */
