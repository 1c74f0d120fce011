/* searcher.h - contracts between the files of the searcher: the query tree (query.c), reading
 * the index inside one snapshot (reader.c), compiling the query into matchers (plan.c) and
 * moving them over the postings (eval.c; the matchers themselves are in matcher.h), BM25 and
 * top-k (rank.c), snippets (snippet.c). search.c glues them into seogo_search().
 *
 * A search runs in four steps:
 *   1. sg_query_parse: query text -> syntax tree of raw words (no analysis yet).
 *   2. sg_plan_build: each word analyzed (SG_ANALYZE_QUERY) into terms; the tree becomes a tree
 *      of matchers over postings cursors, and the positive query words become scoring units.
 *   3. document-at-a-time evaluation: the root matcher is moved to each matching passage in
 *      ascending id order; the units matching there are scored (BM25) into a top-k heap. Once
 *      the heap is full, passages whose score bounds (block headers, then their tfs and length)
 *      cannot beat its worst are skipped before their positions are decoded (eval.c).
 *   4. the hits are filled from the passage and document records, with snippets.
 */
#ifndef SEOGO_SEARCHER_H
#define SEOGO_SEARCHER_H

#include <stddef.h>
#include <stdint.h>

#include "analyzer.h"
#include "base.h"
#include "format.h"
#include "index.h"

/* ==== query.c: the query language ==================================================== */

/* Limits on queries: bounded time and memory whatever the input. */
#define SG_QUERY_MAX_BYTES 65536 /* longer queries are SEOGO_ELIMIT */
#define SG_QUERY_MAX_DEPTH 100   /* nested parentheses; deeper is SEOGO_ELIMIT */
#define SG_QUERY_MAX_WORDS 1000  /* words, phrases, prefixes and filters in one query */
#define SG_NEAR_DEFAULT 10       /* NEAR(a b) without ", N" */
#define SG_NEAR_MAX 1000         /* largest NEAR distance */

typedef enum sg_qkind {
  SG_Q_WORD,   /* text: one whitespace-delimited word */
  SG_Q_PHRASE, /* text: what stood between the quotes */
  SG_Q_PREFIX, /* text: the word before the '*' */
  SG_Q_FILE,   /* text: the glob after "file:" */
  SG_Q_NEAR,   /* kids: WORD or PHRASE nodes; distance */
  SG_Q_AND,    /* kids: two or more */
  SG_Q_OR,     /* kids: two or more */
  SG_Q_NOT     /* kids: one */
} sg_qkind;

typedef struct sg_qnode {
  sg_qkind kind;
  int column;        /* 1-based column (characters) where the node starts in the query */
  char *text;        /* NUL-terminated copy; NULL for operators */
  size_t len;
  uint32_t distance; /* NEAR */
  struct sg_qnode **kids;
  size_t nkids;
} sg_qnode;

/* Parses `len` bytes of `query`. On success *out is the tree (free with sg_qnode_free).
 * Errors: SEOGO_EQUERY (syntax; err->column says where), SEOGO_ELIMIT (size, depth, words),
 * SEOGO_ENOMEM. */
int sg_query_parse(const char *query, size_t len, sg_qnode **out, seogo_error *err);
void sg_qnode_free(sg_qnode *n);

/* Appends a one-line rendering of the tree, e.g. AND(반도체, OR(수출, 통제), NOT(중국)). */
int sg_qnode_format(const sg_qnode *n, sg_buf *out);

/* ==== reader.c: one consistent snapshot of the index =================================== */

#define SG_PID_END UINT32_MAX

typedef struct sg_reader {
  sg_store *store;
  MDB_txn *txn;
  sg_stats stats;
  const unsigned char *norms; /* the last "norms" value read (in the map), when norms_valid */
  size_t norms_size;
  uint32_t norms_key;
  int norms_valid;
  sg_passage_page page; /* the last "passages" page read (in the map), when page_valid */
  uint32_t page_key;
  int page_valid;
  uint32_t doc_id; /* the last document read, when nonzero */
  sg_doc doc;
} sg_reader;

/* Begins a read transaction on the index's store and reads the stats record. */
int sg_reader_begin(sg_reader *r, seogo_index *index, seogo_error *err);
void sg_reader_end(sg_reader *r);

/* Term record; SEOGO_NOTFOUND when the term is not in the index. */
int sg_reader_term(sg_reader *r, const char *term, size_t len, sg_term_info *out,
                   seogo_error *err);

/* Calls fn for each term starting with `prefix`, in byte order; stops when fn returns nonzero
 * (that value is returned). */
int sg_reader_each_prefix(sg_reader *r, const char *prefix, size_t len,
                          int (*fn)(void *ctx, const char *term, size_t len), void *ctx,
                          seogo_error *err);

/* Passage record and, unless doc is NULL, its document's id and path as its page names them
 * (valid while the read transaction lasts); SEOGO_NOTFOUND when there is none. */
int sg_reader_passage(sg_reader *r, uint32_t pid, sg_passage *out, sg_page_doc *doc,
                      seogo_error *err);

/* Document record (sg_doc.path points into the snapshot, valid until sg_reader_end);
 * SEOGO_NOTFOUND when there is none. */
int sg_reader_doc(sg_reader *r, uint32_t doc_id, sg_doc *out, seogo_error *err);

/* Calls fn for each document in doc id order; stops when fn returns nonzero. */
int sg_reader_each_doc(sg_reader *r, int (*fn)(void *ctx, uint32_t doc_id, const sg_doc *d),
                       void *ctx, seogo_error *err);

/* The stored text of a document (points into the snapshot). */
int sg_reader_text(sg_reader *r, uint32_t doc_id, const char **text, size_t *len,
                   seogo_error *err);

/* Length of passage pid in positions; 0 when the passage does not exist. */
int sg_reader_norm(sg_reader *r, uint32_t pid, uint32_t *length, seogo_error *err);

/* Starts loading the cache line of pid's length when the "norms" value at hand holds it (a
 * no-op otherwise), for a sg_reader_norm a little later. */
static inline void sg_reader_prefetch_norm(const sg_reader *r, uint32_t pid) {
  size_t at = (size_t)(pid % SG_NORMS_PER_KEY) * 2;
  if (r->norms_valid && r->norms_key == pid / SG_NORMS_PER_KEY && at < r->norms_size)
    __builtin_prefetch(r->norms + at);
}

/* What a block header tells without decoding the block (block-max scoring). */
typedef struct sg_block_bound {
  uint32_t first_pid, last_pid; /* SG_PID_END: no such block */
  uint32_t max_tf;              /* largest tf in the block */
  uint32_t min_len;             /* a lower bound on the lengths of its passages */
} sg_block_bound;

/* A cursor over one term's postings, block by block, skipping blocks by their headers.
 * Moving the cursor decodes only the pids and tfs of the block it lands in (never of a block it
 * skips); positions are decoded when first asked for (sg_postings_positions). */
typedef struct sg_postings {
  sg_reader *reader;
  MDB_cursor *cur;
  MDB_cursor *hcur; /* for sg_postings_block_header (leaves cur where it is); opened lazily */
  char *term; /* term_len bytes, then room for the NUL and pid of a postings key */
  size_t term_len;
  sg_block block;
  int loaded;   /* block holds a decoded block */
  uint32_t idx; /* current entry in block */
  uint32_t pid; /* current passage, SG_PID_END when exhausted */
  /* bounds over the whole term, from its record, set by sg_postings_open: no passage has a
   * larger tf or is shorter (a term not in the index: 0 and SG_MAX_POSITIONS); and its df
   * (planning asks for it several times: the record is read once) */
  uint32_t max_tf, min_len, df;
  uint32_t far; /* a seek this far past the block's end locates its block from the tree */
  int hvalid;   /* hbound is the block hcur stands on */
  sg_block_bound hbound;
} sg_postings;

/* Opens a cursor on `term` positioned at its first passage (pid == SG_PID_END for a term that
 * has no postings). */
int sg_postings_open(sg_postings *p, sg_reader *r, const char *term, size_t len,
                     seogo_error *err);
void sg_postings_close(sg_postings *p);

/* Moves to the first passage >= target (never backwards). */
int sg_postings_seek(sg_postings *p, uint32_t target, seogo_error *err);

/* The same, with the common case inline: the target inside the decoded block (intersections
 * of two frequent words take one such step per passage of either). */
static inline int sg_postings_advance(sg_postings *p, uint32_t target, seogo_error *err) {
  if (p->pid >= target) return SEOGO_OK;
  if (p->loaded && target <= p->block.last_pid) {
    const uint32_t *pids = p->block.pids;
    uint32_t i = p->idx;
    while (pids[i] < target) i++;
    p->idx = i;
    p->pid = pids[i];
    return SEOGO_OK;
  }
  return sg_postings_seek(p, target, err);
}

/* Moves to the first passage >= target whose tf is at least min_tf(ctx, block's min_len),
 * asked once per block: top-k pruning skips the passages where the term is too rare to score
 * enough, reading only the tfs. *skipped is set when a passage >= target was passed over. */
int sg_postings_seek_tf(sg_postings *p, uint32_t target,
                        uint32_t (*min_tf)(void *ctx, uint32_t min_len), void *ctx, int *skipped,
                        seogo_error *err);

/* Back to the first passage. */
int sg_postings_rewind(sg_postings *p, seogo_error *err);

/* tf of the current passage (no positions decoded). */
static inline uint32_t sg_postings_tf(const sg_postings *p) { return p->block.tfs[p->idx]; }

/* Positions of the current passage: (position << 2) | flags, ascending; *n = tf. The first
 * call in a block decodes the block's positions. NULL (err set, SEOGO_ECORRUPT or
 * SEOGO_ENOMEM) when they cannot be decoded. Valid until the cursor moves. */
const uint32_t *sg_postings_positions(sg_postings *p, size_t *n, seogo_error *err);

/* The bound of the block holding the first passage >= target (of this term; target below the
 * current passage counts as the current passage), read from block headers without decoding
 * postings and without moving the cursor. out->first_pid = out->last_pid = SG_PID_END when no
 * passage >= target remains. Every passage in [first_pid, last_pid] not in the term's
 * postings is simply absent; the next block starts after last_pid. */
int sg_postings_block_header(sg_postings *p, uint32_t target, sg_block_bound *out,
                             seogo_error *err);

/* ==== plan.c and eval.c: compiled queries, scoring units, evaluation ====================== */

/* One occurrence of a positional matcher in the current passage: positions [start, end] and
 * the weight of the match kind (1.0 whole word, 0.8 word prefix, 0.6 inside a compound). */
typedef struct sg_occ {
  uint32_t start, end;
  float weight;
} sg_occ;

typedef struct sg_matcher sg_matcher;

/* A scoring unit: a query word (its terms together), phrase or NEAR group, scored by BM25 as
 * one term whose tf is the weighted count of its occurrences in a passage. */
typedef struct sg_unit {
  sg_matcher *m;
  char *label;      /* the query text it stands for (owned) */
  uint64_t df;      /* passages where it occurs (or its estimate, see sg_plan_prepare) */
  double idf;
  int from_term;    /* df is the single term's df from its record */
  int df_estimated; /* df is estimated from its terms' records, not counted */
  int grouped;      /* a phrase or NEAR group (gets the phrase boost) */
  /* per passage, filled by sg_plan_collect */
  double tf;
  int present;
} sg_unit;

/* What a snippet looks for among a passage's terms: one query word's pieces. */
typedef enum sg_pattern_kind {
  SG_PAT_SEQ,      /* terms at consecutive positions (a word, Korean bigrams) */
  SG_PAT_SYLLABLE, /* one Hangul/CJK character: the unigram or a bigram starting with it */
  SG_PAT_PREFIX    /* any term starting with the bytes */
} sg_pattern_kind;

typedef struct sg_pattern {
  sg_pattern_kind kind;
  char **terms;
  size_t *lens;
  size_t nterms;     /* SEQ: the sequence; SYLLABLE/PREFIX: one entry */
  int word_start;    /* the first term must start a word */
  size_t unit;       /* index of the scoring unit it belongs to (for snippet clustering) */
  int korean;        /* a Korean word: the next word of its phrase may be 1 or 2 positions on */
  long group;        /* the words of one phrase share a group (>= 0) and are highlighted only
                        where they stand as the phrase; -1 for a word alone */
  size_t member;     /* index of the word within its phrase */
} sg_pattern;

/* A compiled query. */
typedef struct sg_plan {
  sg_matcher *root;
  sg_unit **units;   /* positive scoring units in query order */
  size_t nunits;
  sg_pattern *patterns; /* positive pieces, for highlighting */
  size_t npatterns;
  long ngroups;
  double npassages;  /* N, for idf */
  sg_buf explain;    /* the analyzed tree (always built; cheap) */
  struct sg_pruner *pruner; /* top-k pruning (eval.c), set up by sg_plan_prepare */
} sg_plan;

/* plan.c: builds the plan of the parsed query: analyzes the words, looks up and expands terms and
 * opens postings cursors inside r's snapshot. Errors: SEOGO_EQUERY for queries that parse but
 * cannot be run (only NOT terms, no searchable word), SEOGO_ELIMIT (prefix expanding to too
 * many terms), storage errors. */
int sg_plan_build(sg_plan *plan, const sg_qnode *query, sg_reader *r, sg_analyzer *a,
                  seogo_error *err);
void sg_plan_free(sg_plan *plan);

struct sg_rank_params;

/* eval.c: sets df and idf of every unit before the pass, so that every passage is scored as it
 * is met. A unit of one term reads its df from the term record. A unit of several terms (a
 * Korean word's bigrams, a phrase, NEAR) estimates it from its terms' records (the smallest df
 * of a sequence or phrase: an upper bound), and counts it exactly only when that bound is
 * small (cheap) and the query has other units to weigh it against: the idf of a query's only
 * unit scales every score alike and does not change the ranking. Then sets up pruning with
 * the ranking parameters p (see sg_plan_set_threshold). Leaves the matchers rewound. */
int sg_plan_prepare(sg_plan *plan, sg_reader *r, const struct sg_rank_params *p,
                    seogo_error *err);

/* Top-k pruning: from now on only passages scoring above theta matter (the k-th best score so
 * far; -HUGE_VAL, the start, turns pruning off). The matchers then skip, without decoding them,
 * postings blocks and passages whose score bounds (per-block max tf and min length, then the
 * passage's own tfs and length, before any position is decoded) cannot beat theta: they are
 * neither visited by sg_plan_next nor counted. theta must never decrease, except to
 * -HUGE_VAL after a rewind. */
void sg_plan_set_threshold(sg_plan *plan, double theta);

/* Whether pruning skipped a passage that matches or might match (the count of passages visited
 * is then a lower bound of the matches). */
int sg_plan_pruned(const sg_plan *plan);

/* Moves the root to the first matching passage >= target that pruning lets through; *pid =
 * SG_PID_END at the end. */
int sg_plan_next(sg_plan *plan, uint32_t target, uint32_t *pid, seogo_error *err);

/* Fills unit->tf / unit->present for the passage the root stands on. */
void sg_plan_collect(sg_plan *plan, uint32_t pid);

/* Occurrences of unit u in the current passage (valid after sg_plan_collect while present). */
const sg_occ *sg_unit_occurrences(const sg_unit *u, size_t *n);

/* Appends " term df=N idf=X" for each term the unit reads (expansions summarized). */
int sg_unit_explain_terms(const sg_unit *u, sg_reader *r, const struct sg_rank_params *p,
                          sg_buf *out, seogo_error *err);

/* Whether the unit ends with a Korean word (a following word may come 1 or 2 positions on). */
int sg_unit_korean(const sg_unit *u);

/* Rewinds every matcher to the start. */
int sg_plan_rewind(sg_plan *plan, seogo_error *err);

/* ==== rank.c: BM25, boosts, top-k ========================================================== */

typedef struct sg_rank_params {
  double k1, b;
  double avgdl;
  double npassages;
} sg_rank_params;

void sg_rank_params_init(sg_rank_params *p, const sg_stats *stats, double k1, double b);

/* BM25 inverse document frequency. */
double sg_idf(double npassages, double df);

/* One unit's BM25 contribution. */
double sg_bm25(const sg_rank_params *p, double idf, double tf, double dl);

/* A unit's share of a passage's score (BM25 with the unit's idf and boost) for a tf and a
 * passage length: increasing in tf, decreasing in dl, so bounds of both give a bound of it. */
double sg_unit_score(const sg_rank_params *p, const sg_unit *u, double tf, double dl);

/* The tf at which sg_unit_score reaches `score` at length dl, as a real number (HUGE_VAL when
 * no tf does); callers round it and check with sg_unit_score. */
double sg_unit_tf_for(const sg_rank_params *p, const sg_unit *u, double score, double dl);

/* The largest proximity factor n units can earn. */
double sg_proximity_max(size_t n);

/* Proximity factor (>= 1) for the units present in the passage: query-order neighbours that
 * stand close together, most when they read as a phrase. */
double sg_proximity_factor(sg_unit **units, size_t n);

/* The score of the passage the plan stands on (after sg_plan_collect); with `explain`, appends
 * the components. */
double sg_score_passage(const sg_plan *plan, const sg_rank_params *p, double dl,
                        sg_buf *explain);

/* The same from the units' tf/present and a proximity factor measured before. */
double sg_score_units(const sg_plan *plan, const sg_rank_params *p, double dl, double proximity,
                      sg_buf *explain);

typedef struct sg_scored {
  double score;
  uint32_t pid;
  uint32_t doc_id;
} sg_scored;

/* Keeps the k best (score descending, then pid ascending). */
typedef struct sg_topk {
  sg_scored *heap;
  size_t n, cap, k;
} sg_topk;

int sg_topk_init(sg_topk *t, size_t k);
void sg_topk_free(sg_topk *t);
/* 0, or -1 when memory runs out. */
int sg_topk_push(sg_topk *t, const sg_scored *s);
/* Sorts the kept entries best first (the heap is consumed). */
void sg_topk_sort(sg_topk *t);

/* ==== snippet.c: snippets and highlights ============================================== */

typedef struct sg_snippet {
  sg_buf text;         /* NUL-terminated */
  seogo_range *ranges;
  size_t nranges, ranges_cap;
} sg_snippet;

void sg_snippet_init(sg_snippet *s);
void sg_snippet_free(sg_snippet *s);

/* Characters on the line of doc_text[start] before it (r->span_lead_chars for a SPAN). */
uint32_t sg_snippet_lead_chars(const char *doc_text, uint32_t start);

/* Builds the snippet of passage p of a document (its stored text and layout) for the query's
 * patterns: about `chars` characters around the best cluster of matches, line repairs applied,
 * highlight ranges in bytes of the snippet text. */
int sg_snippet_make(sg_analyzer *a, const char *doc_text, size_t doc_len, const sg_doc *d,
                    const sg_passage *p, const sg_pattern *patterns, size_t npatterns,
                    uint32_t chars, sg_snippet *out, seogo_error *err);

#endif /* SEOGO_SEARCHER_H */
