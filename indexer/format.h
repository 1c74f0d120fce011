/* format.h - the on-disk format of a Seogo index: directory layout, LMDB sub-databases, and
 * the exact encoding of every key and value. Anyone changing the format edits this grammar
 * in the same commit and bumps SG_FORMAT_VERSION.
 *
 * Directory
 * ---------
 *   INDEX/LOCK         empty file; the writer holds flock(LOCK_EX) on it while writing.
 *   INDEX/CURRENT      one line, "gen-NNNNNN\n": the generation searches open. Replaced
 *                      atomically (write CURRENT.tmp, fsync, rename) when --rebuild finishes.
 *   INDEX/gen-NNNNNN/  an LMDB environment (data.mdb, lock.mdb) holding the databases below.
 *   Incremental updates write into the current generation in LMDB transactions; a rebuild
 *   builds gen-(N+1) aside and switches CURRENT only when it is complete, then deletes gen-N.
 *
 * Integers
 * --------
 *   be32     4-byte big-endian unsigned (keys, so that LMDB's byte order is numeric order)
 *   varint   LEB128 unsigned, 1..10 bytes (low 7 bits first, high bit = more follows)
 *   str      varint length, then that many bytes (no terminator)
 *
 * Databases (named LMDB sub-databases)
 * ------------------------------------
 *   "meta"      key: ASCII name                  value:
 *                 "magic"                          the 12 bytes "SEOGO-INDEX\n"
 *                 "format"                         be32 SG_FORMAT_VERSION
 *                 "analyzer"                       be32 SG_ANALYZER_VERSION
 *                 "stats"                          stats record (below)
 *   "docs"      key: be32 doc_id                 value: doc record
 *   "paths"     key: path bytes (no NUL)         value: be32 doc_id
 *   "text"      key: be32 doc_id                 value: the document's text as UTF-8 (after
 *                                                  encoding conversion; offsets and lines in
 *                                                  passages refer to these bytes)
 *   "passages"  key: be32 (passage_id / SG_PASSAGES_PER_KEY)   value: passage page: the
 *                                                  passages key*SG_PASSAGES_PER_KEY .. + n-1
 *   "norms"     key: be32 (passage_id / SG_NORMS_PER_KEY)   value: n x u16 little-endian,
 *                                                  1 <= n <= SG_NORMS_PER_KEY: the length (in
 *                                                  positions) of passage key*SG_NORMS_PER_KEY+i;
 *                                                  0 = no such passage (removed or never used),
 *                                                  as is every slot past the value's end. The
 *                                                  value ends after its last nonzero length.
 *   "terms"     key: term bytes                  value: term record
 *   "postings"  key: term bytes, 0x00, be32 first_pid   value: postings block
 *
 *   Terms are normalized UTF-8 and never contain 0x00, so all blocks of a term are adjacent
 *   and ordered by first passage id, and a term's blocks never interleave with another's.
 *
 * Records
 * -------
 *   stats    := next_doc_id:varint next_passage_id:varint documents:varint passages:varint
 *               tokens:varint postings:varint terms:varint text_bytes:varint
 *               (tokens = sum of passage lengths, for BM25's average passage length)
 *   doc      := path:str size:varint mtime:varint(zigzag) hash:8 bytes little-endian
 *               first_pid:varint npassages:varint nlines:varint encoding:str
 *               pdf_like:1 byte short_line:varint text_len:varint invalid:varint
 *               (a document's passages are first_pid .. first_pid+npassages-1, contiguous)
 *   page     := n:le32 ndocs:le32 run_at:le32{nruns} doc_at:le32{ndocs} run{nruns} doc{ndocs}
 *               nruns = ceil(n / SG_PASSAGE_RUN). 1 <= n <= SG_PASSAGES_PER_KEY slots, the last
 *               holding a passage (a page of no passages is deleted); slot i is passage
 *               key*SG_PASSAGES_PER_KEY+i. Run r holds slots r*SG_PASSAGE_RUN ..
 *               (r+1)*SG_PASSAGE_RUN-1 (the last run: up to n-1) and starts run_at[r] bytes
 *               into the value; run_at[0] is the header's size, every run takes at least a
 *               byte a slot, and the last ends at doc_at[0]. Doc k spans doc_at[k] ..
 *               doc_at[k+1] (the last: the value's end). A lookup reads the page's header,
 *               decodes one run and reads one doc: a hit's file and lines come from one page,
 *               with no B-tree descent per passage or document.
 *   doc      := doc_id:varint path:str: the documents the page's passages belong to, doc_id
 *               ascending; every one holds a passage of the page. The path repeats the
 *               document record's.
 *   run      := slot{...}; each slot is coded against the run's previous passage (none at the
 *               run's start: a run decodes alone)
 *   slot     := 0 (no passage: removed, or its pid never used)
 *             | head:varint [doc_step:varint] start_gap:varint(zigzag) bytes:varint
 *               line_gap:varint(zigzag)
 *               head - 1 = lines << 1 | new_doc; new_doc is 1 for the run's first passage and
 *               when the document changes, and then doc_step (>= 1) follows: the passage's doc
 *               is the page's doc (previous passage's doc index, -1 at the run's start) +
 *               doc_step.
 *               start = base_end + start_gap, end = start + bytes: byte range [start, end) in
 *               the document text; line_start = base_line + line_gap, line_end = line_start +
 *               lines: 1-based inclusive lines; base_end and base_line are the previous
 *               passage's end and line_end when it is of the same document, else 0. Every
 *               value lies in 0 .. 2^32 - 1 and line_start >= 1. A passage's length (in
 *               positions) is not here: "norms" holds it.
 *   term     := df:varint cf:varint nblocks:varint max_tf:varint min_len:varint
 *               (df = passages containing the term, cf = occurrences; max_tf >= every tf of
 *               the term (exact when written, an upper bound after removals); min_len <= the
 *               length of every passage holding it (a lower bound). Both serve block-max
 *               scoring: they bound a term's BM25 contribution without reading postings.)
 *
 * Postings block (at most SG_BLOCK_MAX = 128 passages, pids ascending)
 * ---------------------------------------------------------------------
 *   block    := count:varint last_delta:varint max_tf:varint min_len:varint flags:byte
 *               pids:packed(count) tfs:packed(count) positions
 *   last_delta = pid[count-1] - first_pid (first_pid from the key), so that a reader can skip
 *               a block from its header
 *   max_tf   = the largest tf in the block (exact)
 *   min_len  = a lower bound on the lengths of the block's passages (exact when written;
 *               removals leave it as it was)
 *   flags    : bit 2 (SG_FLAGS_VARY_W) set when the positions of the block differ in flag
 *               bit 0, bit 3 (SG_FLAGS_VARY_S) when they differ in flag bit 1; bits 0-1 the
 *               value of each flag that does not vary (zero for one that does); all other
 *               bits zero
 *   pids     : value[0] = pid[0] - first_pid (0 as the writer keys blocks), value[i] =
 *               pid[i] - pid[i-1] - 1
 *   tfs      : value[i] = tf[i] - 1
 *   positions:= packed(min(128, rest)) repeated until all sum(tf) values are read: the
 *               stream of, for each passage in order, tf[i] values; each is the gap from the
 *               previous position in the passage (the first: the position itself), as
 *               gap << k | carried, k the number of flags that vary (0-2): carried is both
 *               flag bits when both vary, else the one that varies. Positions are relative to
 *               the passage's first position and below SG_MAX_POSITIONS; flags bit 0 =
 *               SEOGO_TERM_WORD_START, bit 1 = SEOGO_TERM_STEM_END (Korean bigrams: the word
 *               start or the stem end alone varies in about a third of the blocks where
 *               either does, and then costs one bit a position, not two)
 *   packed(n):= head:byte, then ceil(n * width / 8) bytes of low bits, then exceptions when
 *               head bit 7 (SG_PACK_EXCEPTIONS) is set (patched frame of reference)
 *               head bits 0-5 = width (0..32); bit 6 zero
 *               low bits: value j's low `width` bits are bits [j*width, (j+1)*width) of those
 *               bytes read as one little-endian number (width 0: no bytes)
 *               exceptions := nexc:byte (1..n) then nexc x (index:byte high:varint): value
 *               [index] |= high << width; indexes strictly ascending and < n, high != 0 and
 *               below 2^(32-width); width 32 has no exceptions
 *               The writer picks the width that makes the run smallest.
 *   The pids and tfs come before the positions, so a cursor decodes them alone and reaches the
 *   positions (which start where the tfs end) only when a matcher asks for them. The value
 *   ends exactly after the last chunk.
 *
 * Readers treat every stored byte as hostile: a decode that runs past the value, a count over
 * the limits or a pid out of order is SEOGO_ECORRUPT, never a crash.
 */
#ifndef SEOGO_FORMAT_H
#define SEOGO_FORMAT_H

#include <lmdb.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "base.h"

#define SG_FORMAT_VERSION 6
#define SG_MAGIC "SEOGO-INDEX\n"
#define SG_MAGIC_LEN 12
#define SG_BLOCK_MAX 128          /* passages per postings block */
/* Passage lengths per "norms" value: a full value and LMDB's 16-byte page header fill 32
 * overflow pages of 4 KB exactly. A search reads a passage's length from memory it already
 * has, where a B-tree descent per 256 passages had taken a seventh of a typical query's time. */
#define SG_NORMS_PER_KEY 65528
/* Passages per "passages" value: a search reads a hit's passage and path from a page it finds
 * in a table of a few dozen keys (the value it read last kept at hand, as norms), one run of
 * it and one document entry, where a B-tree of 11,000 groups of 64 passages and the document's
 * record had cost two descents for every hit: a fifth of a typical Korean word query's time at
 * 200 MB. A commit rewrites the pages it touches (about 100 KB each). */
#define SG_PASSAGES_PER_KEY 16384
#define SG_PASSAGE_RUN 32         /* slots decoded alone: a lookup decodes at most this many */
#define SG_MAX_POSITIONS 65535    /* positions per passage (u16 norms) */
#define SG_MAX_DBS 8

/* ---- Records -------------------------------------------------------------------------- */

typedef struct sg_stats {
  uint64_t next_doc_id, next_passage_id; /* ids start at 1; 0 is never used */
  uint64_t documents, passages, tokens, postings, terms, text_bytes;
} sg_stats;

typedef struct sg_doc {
  const char *path; /* points into the decoded value (not NUL-terminated) */
  size_t path_len;
  uint64_t size;
  int64_t mtime;
  uint64_t hash;
  uint32_t first_pid, npassages, nlines;
  char encoding[16];
  uint8_t pdf_like;
  uint32_t short_line;
  uint64_t text_len;
  uint32_t invalid;
} sg_doc;

typedef struct sg_passage {
  uint32_t doc_id;
  uint32_t start, end;
  uint32_t line_start, line_end;
  uint32_t length; /* the writer's copy for "norms"; not in the passage record: decoders set 0 */
} sg_passage;

/* A passage page (the value of a "passages" record) whose header has been checked. */
typedef struct sg_passage_page {
  const unsigned char *data;
  size_t len;
  uint32_t nslots, nruns, ndocs;
} sg_passage_page;

/* A document as a passage page names it. */
typedef struct sg_page_doc {
  uint32_t doc_id;
  const char *path; /* not NUL-terminated */
  size_t path_len;
} sg_page_doc;

typedef struct sg_term_info {
  uint64_t df, cf;
  uint32_t nblocks;
  uint32_t max_tf;  /* no posting of the term has a larger tf */
  uint32_t min_len; /* a lower bound on the lengths of the term's passages */
} sg_term_info;

/* Encoders append to b (0, or -1 on out of memory). Decoders return SEOGO_OK or
 * SEOGO_ECORRUPT (with a message naming the record kind). */
int sg_stats_encode(sg_buf *b, const sg_stats *s);
int sg_stats_decode(const void *data, size_t len, sg_stats *s, seogo_error *err);
int sg_doc_encode(sg_buf *b, const sg_doc *d);
int sg_doc_decode(const void *data, size_t len, sg_doc *d, seogo_error *err);
/* Encodes the page of slots p[0 .. n) (doc_id 0: an empty slot); 1 <= n <=
 * SG_PASSAGES_PER_KEY and slot n-1 holds a passage. docs[0 .. ndocs), doc_id ascending, name
 * the documents of the passages (more may be given: only those holding a passage are stored).
 * -1 also for a passage out of range or of a document not given. */
int sg_passage_page_encode(sg_buf *b, const sg_passage *p, uint32_t n, const sg_page_doc *docs,
                           uint32_t ndocs);
/* Checks a page's header. */
int sg_passage_page_open(sg_passage_page *pg, const void *data, size_t len, seogo_error *err);
/* The passage in slot `slot` (decoding its run) and, unless doc is NULL, its document (the path
 * points into the page): SEOGO_NOTFOUND for an empty slot or one past the page's end. */
int sg_passage_page_get(const sg_passage_page *pg, uint32_t slot, sg_passage *p, sg_page_doc *doc,
                        seogo_error *err);
/* Decodes every slot into out[0 .. *n) (empty ones with doc_id 0) and the documents into
 * docs[0 .. *ndocs) (both with room for SG_PASSAGES_PER_KEY; the paths point into the value),
 * checking that every run and document ends where the next begins and that every document
 * holds a passage. */
int sg_passage_page_decode(const void *data, size_t len, sg_passage *out, uint32_t *n,
                           sg_page_doc *docs, uint32_t *ndocs, seogo_error *err);
int sg_term_encode(sg_buf *b, const sg_term_info *t);
int sg_term_decode(const void *data, size_t len, sg_term_info *t, seogo_error *err);

/* Postings key for (term, first_pid) into b (replacing its contents). */
int sg_postings_key(sg_buf *b, const void *term, size_t term_len, uint32_t first_pid);

/* Splits a postings key into its term length (the term is the key's first term_len bytes) and
 * first_pid; -1 when the key is not a postings key. */
int sg_postings_key_parse(const void *key, size_t len, size_t *term_len, uint32_t *first_pid);

/* ---- Postings blocks ---------------------------------------------------------------------- */

/* A decoded block. Arrays are owned by the block and reused across sg_block_decode calls. */
typedef struct sg_block {
  uint32_t count;
  uint32_t first_pid, last_pid, max_tf; /* first_pid is the key's; the writer keeps it equal
                                           to pids[0] */
  uint32_t *pids;     /* count */
  uint32_t *tfs;      /* count */
  uint32_t *pos_start; /* count + 1: positions of passage i are positions[pos_start[i] ..
                          pos_start[i+1]) */
  uint32_t *positions; /* (position << 2) | flags, ascending per passage */
  size_t cap, pos_cap;
  uint32_t min_len;    /* no passage of the block is shorter (a bound for block-max scoring) */
  /* sg_block_decode_head leaves the positions undecoded: pos_ready is 0 and pos_data points
   * into the stored value (which must stay mapped until sg_block_decode_positions). */
  int pos_ready;
  const unsigned char *pos_data;
  size_t pos_len;
  unsigned pos_flags;  /* the block header's flags byte */
  /* how a stored value carries the flags that vary: value = gap << pos_shift | carried, flags
   * = (pos_flags & 3) | (carried & pos_carried) << pos_up */
  uint32_t pos_shift, pos_up, pos_carried;
  /* sg_block_passage_positions: pos_start is filled when starts_ready; run_at[0 .. runs_read]
   * are the byte offsets (in pos_data) of the position runs checked so far and of the end of
   * the last; the positions of passage pos_one alone are in place (count: none) */
  int starts_ready;
  uint32_t *run_at;
  size_t run_cap;
  uint32_t runs_read, pos_one;
  uint32_t alone; /* passages decoded by sg_block_passage_positions (the reader's policy) */
} sg_block;

/* What a block's header says. */
typedef struct sg_block_head {
  uint32_t count, last_pid, max_tf, min_len;
} sg_block_head;

#define SG_FLAGS_VARY_W 4u /* header flags: positions carry flag bit 0 (word start) */
#define SG_FLAGS_VARY_S 8u /* header flags: positions carry flag bit 1 (stem end) */
#define SG_FLAGS_MASK 15u
#define SG_PACK_EXCEPTIONS 0x80u /* packed runs: exceptions follow the low bits */

void sg_block_init(sg_block *b);
void sg_block_free(sg_block *b);

/* Reads only the header. */
int sg_block_head_read(const void *data, size_t len, uint32_t key_pid, sg_block_head *h,
                       seogo_error *err);

/* Reads only the header: count, first_pid (from the key) and last_pid. */
int sg_block_peek(const void *data, size_t len, uint32_t key_pid, uint32_t *count,
                  uint32_t *last_pid, uint32_t *max_tf, seogo_error *err);

/* Decodes a whole block. SEOGO_ECORRUPT on any inconsistency. */
int sg_block_decode(const void *data, size_t len, uint32_t key_pid, sg_block *out,
                    seogo_error *err);

/* Decodes the header, pids and tfs only; the positions wait for sg_block_decode_positions
 * (which reads `data` again: it must stay valid, e.g. inside the same read transaction). */
int sg_block_decode_head(const void *data, size_t len, uint32_t key_pid, sg_block *out,
                         seogo_error *err);

/* Decodes the positions of a block read by sg_block_decode_head (nothing if already done). */
int sg_block_decode_positions(sg_block *b, seogo_error *err);

/* Decodes the positions of passage i (< count) of a block read by sg_block_decode_head into
 * b->positions + pos_start[i] without the others': a matcher that needs a few passages of a
 * block skips most of its positions. */
int sg_block_passage_positions(sg_block *b, uint32_t i, seogo_error *err);

/* Encodes `count` passages into out (replacing its contents); key_pid must be <= pids[0].
 * positions are laid out as in sg_block (pos_start has count+1 entries); min_len is a lower
 * bound on the lengths of the passages (kept in the header for block-max scoring). */
int sg_block_encode(sg_buf *out, uint32_t key_pid, uint32_t count, const uint32_t *pids,
                    const uint32_t *pos_start, const uint32_t *positions, uint32_t min_len);

/* ---- The store: index directory, LMDB environment, version checks ------------------------ */

#define SG_INITIAL_MAP_SIZE ((size_t)64 << 20) /* a writer's first map; doubled when full */

typedef struct sg_store {
  MDB_env *env;
  MDB_dbi meta, docs, paths, text, passages, norms, terms, postings;
  char *dir;      /* INDEX */
  char *gen_dir;  /* INDEX/gen-NNNNNN */
  unsigned gen;
  int lock_fd;    /* >= 0 while holding the writer lock */
  int writable;
  /* Remapping (growth, or adopting another process's growth) must wait until no read
   * transaction of this process is open: these count them (see sg_store_read_end). */
  pthread_mutex_t map_lock;
  pthread_cond_t map_cond;
  unsigned reads;    /* read transactions open */
  int remapping;     /* a remap waits: new readers wait too */
  size_t map_size;
  int fresh, published;
  unsigned prev_gen; /* FRESH: the generation to remove at publish (0: none) */
} sg_store;

enum sg_store_flags {
  SG_STORE_READ = 0,
  SG_STORE_WRITE = 1,   /* take the writer lock; create the index when missing */
  SG_STORE_NOWAIT = 2,  /* fail with SEOGO_EBUSY when another writer holds the lock */
  SG_STORE_FRESH = 4    /* with WRITE: open a new, empty generation (for --rebuild) that
                           becomes current only at sg_store_publish() */
};

/* Opens INDEX at path. Checks magic, format and analyzer versions (SEOGO_EVERSION with a
 * message telling to rebuild), and reports a directory that is not an index as
 * SEOGO_ECORRUPT. */
int sg_store_open(const char *path, unsigned flags, sg_store **out, seogo_error *err);
void sg_store_close(sg_store *s);

/* Begins a read transaction, adopting a map size grown by a writer in another process.
 * End it with sg_store_read_end(), not mdb_txn_abort(): map growth waits for open readers. */
int sg_store_read_begin(sg_store *s, MDB_txn **txn, seogo_error *err);

/* Ends a read transaction begun by sg_store_read_begin. Accepts NULL txn. */
void sg_store_read_end(sg_store *s, MDB_txn *txn);

/* Begins a write transaction. */
int sg_store_write_begin(sg_store *s, MDB_txn **txn, seogo_error *err);

/* Commits txn; on MDB_MAP_FULL grows the map (the caller then redoes the transaction:
 * SEOGO_EFULL with err->line == 1 means "grown, retry"), on ENOSPC reports SEOGO_EFULL. */
int sg_store_commit(sg_store *s, MDB_txn *txn, seogo_error *err);

/* Doubles the map size; call with no write transaction open (waits for readers). */
int sg_store_grow(sg_store *s, seogo_error *err);

/* Sets the map size (never below the data already stored); for tests of map growth. */
int sg_store_set_map_size(sg_store *s, size_t bytes, seogo_error *err);

/* Bytes the current generation's files take on disk. */
uint64_t sg_store_disk_bytes(const sg_store *s);

/* For a FRESH store: makes its generation current and removes the previous one. */
int sg_store_publish(sg_store *s, seogo_error *err);

/* Packs the index: copies every database in key order into a new generation (full pages, no
 * free pages) and switches to it. For a published generation CURRENT is replaced atomically
 * and the old generation removed, as a rebuild does: a crash at any moment leaves the old or
 * the new generation whole, and readers that opened the old one keep their snapshot. In a
 * FRESH store the copy replaces the unpublished generation. Waits for this process's read
 * transactions to end; call with no write transaction open. On failure the index is as it
 * was. */
int sg_store_pack(sg_store *s, seogo_error *err);

/* Where the pages of the data file go. */
typedef struct sg_store_usage_info {
  uint64_t file_bytes; /* pages of data.mdb in use by LMDB (up to its last page) */
  uint64_t used_bytes; /* pages holding records and trees; the rest are free */
  uint64_t text_bytes; /* pages of the "text" database */
} sg_store_usage_info;

int sg_store_usage(sg_store *s, sg_store_usage_info *out, seogo_error *err);

/* Maps an LMDB error to a seogo_status with a message naming `what`. */
int sg_store_mdb_error(int rc, const char *what, seogo_error *err);

/* As sg_store_mdb_error for a failed write or commit: LMDB reports a write cut short by a
 * full disk as EIO, so EIO with (almost) no space left is SEOGO_EFULL. */
int sg_store_write_error(sg_store *s, int rc, seogo_error *err);

/* Reads and writes the stats record in txn. */
int sg_store_get_stats(sg_store *s, MDB_txn *txn, sg_stats *out, seogo_error *err);
int sg_store_put_stats(sg_store *s, MDB_txn *txn, const sg_stats *in, seogo_error *err);

/* Reads passage pid from its page in "passages"; SEOGO_NOTFOUND when there is none. */
int sg_store_get_passage(sg_store *s, MDB_txn *txn, uint32_t pid, sg_passage *out,
                         seogo_error *err);

/* Whether a "norms" value of `size` bytes is well formed. */
static inline int sg_norms_size_ok(size_t size) {
  return size >= 2 && size % 2 == 0 && size <= 2 * SG_NORMS_PER_KEY;
}

/* The length in slot `slot` of a "norms" value of `size` bytes: 0 past its end. */
static inline uint32_t sg_norm_at(const unsigned char *v, size_t size, uint32_t slot) {
  size_t i = (size_t)slot * 2;
  return i + 1 < size ? (uint32_t)v[i] | (uint32_t)v[i + 1] << 8 : 0;
}

/* Reads a passage length from "norms"; 0 when the passage does not exist. */
int sg_store_get_norm(sg_store *s, MDB_txn *txn, uint32_t pid, uint32_t *length,
                      seogo_error *err);

#endif /* SEOGO_FORMAT_H */
