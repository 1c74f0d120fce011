/* seogo.h - public API of libseogo, a full-text search engine for Korean/English report corpora.
 *
 * This header is the manual for embedders. Every function states what it does, who owns the
 * memory it returns, which errors it reports and which threads may call it.
 *
 * Overview
 * --------
 * An index is a directory. seogo_open() opens it for reading or writing; searches run on a
 * read-only or a writable handle alike. Documents are split into passages (a few sentences
 * each); a search returns ranked passages ("hits") with the document path, the line range of
 * the passage in the original file, a BM25 score and, on request, a snippet with highlight
 * ranges. The command-line programs seogo-index and seogo-search use only this API.
 *
 * Errors
 * ------
 * Every function that can fail returns a seogo_status (SEOGO_OK == 0) and, when the caller
 * passes a seogo_error, fills it with a message the caller can show to a person. The library
 * never prints, never exits and never aborts on bad input.
 *
 * Threads
 * -------
 * There is no global state. A seogo_index handle may be shared by many threads for searching
 * (seogo_search, seogo_document_info, seogo_index_stats): each search runs in its own snapshot
 * of the last committed state. Writing functions (seogo_add_*, seogo_remove, seogo_commit,
 * seogo_abort) must be called by one thread at a time per handle; only one process writes to an
 * index at a time (seogo_open with SEOGO_OPEN_WRITE waits for the index's writer lock or fails
 * with SEOGO_EBUSY under SEOGO_OPEN_NOWAIT). Readers in other threads and processes keep seeing
 * the last committed state while a writer works.
 *
 * Versions
 * --------
 * SEOGO_VERSION_* give the version of this header; seogo_version() the version of the library
 * actually linked. The on-disk format has its own version (seogo_index_stats.format_version);
 * opening an index of another format or analyzer version fails with SEOGO_EVERSION.
 */
#ifndef SEOGO_H
#define SEOGO_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SEOGO_VERSION_MAJOR 0
#define SEOGO_VERSION_MINOR 1
#define SEOGO_VERSION_PATCH 0
#define SEOGO_VERSION_STRING "0.1.0"

/* The version of the linked library, "MAJOR.MINOR.PATCH". Static string; never NULL. */
const char *seogo_version(void);

/* ---- Status codes and errors ---------------------------------------------------------- */

typedef enum seogo_status {
  SEOGO_OK = 0,
  SEOGO_NOTFOUND = 1,   /* no such document / no hits where that is an answer, not an error */
  SEOGO_EINVAL = -1,    /* an argument is invalid (NULL handle, bad option value) */
  SEOGO_EQUERY = -2,    /* the query is malformed; seogo_error.column says where */
  SEOGO_ENOMEM = -3,    /* out of memory */
  SEOGO_EIO = -4,       /* a file or the index could not be read or written */
  SEOGO_ECORRUPT = -5,  /* the index is damaged or is not a Seogo index */
  SEOGO_EVERSION = -6,  /* the index was written by another format or analyzer version */
  SEOGO_EFULL = -7,     /* the disk or the index's size limit is full; nothing was lost */
  SEOGO_EBUSY = -8,     /* another process holds the index's writer lock */
  SEOGO_EREADONLY = -9, /* a writing call on a handle opened read-only, or a read-only dir */
  SEOGO_EENCODING = -10, /* a document's bytes are in no encoding Seogo can read */
  SEOGO_EBINARY = -11,  /* a document is a binary file, not text */
  SEOGO_EEMPTY = -12,   /* a document is empty (or holds only whitespace) */
  SEOGO_ELIMIT = -13    /* a document or query exceeds a documented size or depth limit */
} seogo_status;

/* Filled by failing calls when the caller passes one. `column` is the 1-based column (in
 * characters) of a query error, else 0; `line` is a 1-based line of a document error, else 0. */
typedef struct seogo_error {
  seogo_status code;
  int line;
  int column;
  char message[512];
} seogo_error;

/* A short English name for a status ("malformed query", ...). Static string; never NULL. */
const char *seogo_strerror(seogo_status status);

/* ---- Opening and closing ------------------------------------------------------------- */

typedef struct seogo_index seogo_index;

enum seogo_open_flags {
  SEOGO_OPEN_READ = 0,        /* read-only: search and inspect */
  SEOGO_OPEN_WRITE = 1u << 0, /* read and write; creates the index directory if missing */
  SEOGO_OPEN_NOWAIT = 1u << 1, /* with WRITE: fail with SEOGO_EBUSY instead of waiting */
  SEOGO_OPEN_REBUILD = 1u << 2 /* with WRITE: start an empty index that replaces the current
                                  one only at seogo_publish(); until then readers keep seeing
                                  the old index, and closing without publishing discards it */
};

/* Opens the index directory `path`. On success stores a new handle in *out.
 * Errors: SEOGO_EIO (missing or unreadable; message names the path), SEOGO_ECORRUPT,
 * SEOGO_EVERSION (rebuild with seogo-index --rebuild), SEOGO_EBUSY, SEOGO_EREADONLY.
 * Ownership: the caller closes the handle with seogo_close(). */
int seogo_open(const char *path, unsigned flags, seogo_index **out, seogo_error *err);

/* Closes the handle; an uncommitted write transaction is aborted. Accepts NULL. All results
 * obtained from the handle must be freed before. */
void seogo_close(seogo_index *index);

/* ---- Searching ----------------------------------------------------------------------- */

typedef struct seogo_search_options {
  uint32_t limit;     /* hits to return (default 10; 0 means count only) */
  uint32_t offset;    /* hits to skip first (default 0) */
  int group;          /* nonzero: one hit per document, its best passage, ranked by it */
  int snippets;       /* nonzero: compute a snippet for each returned hit (default 1) */
  uint32_t snippet_chars; /* approximate snippet length in characters (default 240) */
  double k1;          /* BM25 k1 (default 1.2) */
  double b;           /* BM25 b (default 0.3: passages are already bounded in length, and
                         a larger b lets table cells and headings outrank prose) */
  int explain;        /* nonzero: keep a human-readable explanation (seogo_results_explain) */
  int exact_total;    /* nonzero: count every match, so that seogo_results_total is exact
                         (slower: without it, passages that cannot enter the top limit+offset
                         are skipped unscored and uncounted). Default 0. */
} seogo_search_options;

/* Fills *options with the defaults above. */
void seogo_search_options_init(seogo_search_options *options);

/* A byte range [start, end) in a snippet's text. */
typedef struct seogo_range {
  uint32_t start;
  uint32_t end;
} seogo_range;

/* One ranked passage. Pointers stay valid until seogo_results_free(). */
typedef struct seogo_hit {
  const char *path;       /* the document's path or caller-given name, NUL-terminated */
  uint32_t line_start;    /* 1-based first line of the passage in the original file */
  uint32_t line_end;      /* 1-based last line (inclusive) */
  double score;           /* higher is better; comparable within one result set only */
  uint64_t passage_id;    /* stable until the document is replaced or removed */
  uint64_t doc_id;
  const char *snippet;    /* original text around the matches, PDF line breaks repaired,
                             NUL-terminated UTF-8; NULL when snippets were not requested */
  size_t snippet_len;
  const seogo_range *highlights; /* matched ranges within snippet, ascending */
  size_t highlight_count;
} seogo_hit;

typedef struct seogo_results seogo_results;

/* Parses and runs `query` (UTF-8, `query_len` bytes) against the last committed state.
 * The query language: words (implicit AND), AND, OR, NOT, -word, parentheses, "phrases",
 * NEAR(a b, N), prefix*, file:GLOB (filter on the document path). Korean words match inside
 * longer words and across particles and endings; a compound of four or more syllables also
 * matches written apart (데이터주권 finds 데이터 주권) unless it is quoted ("데이터주권").
 * `options` may be NULL for the defaults. On success *out holds the results, possibly empty.
 * Errors: SEOGO_EQUERY (err->column and err->message say where and why), SEOGO_ELIMIT,
 * SEOGO_EIO, SEOGO_ECORRUPT, SEOGO_ENOMEM.
 * Threads: any number of threads may search one handle at once.
 * Ownership: free *out with seogo_results_free(). */
int seogo_search(seogo_index *index, const char *query, size_t query_len,
                 const seogo_search_options *options, seogo_results **out, seogo_error *err);

/* Number of hits held (at most options.limit). */
size_t seogo_results_count(const seogo_results *results);

/* Number of passages (or documents, when grouping) that match, before limit and offset: exact
 * when seogo_results_total_is_exact() says so (always with options.exact_total, or when
 * options.limit is 0), else a lower bound: the passages that could not enter the top
 * limit+offset were skipped without being counted. */
uint64_t seogo_results_total(const seogo_results *results);

/* Nonzero when seogo_results_total is the exact number of matches, 0 when it is a lower bound. */
int seogo_results_total_is_exact(const seogo_results *results);

/* The i-th hit (0-based, best first), or NULL when i is out of range. Owned by `results`. */
const seogo_hit *seogo_results_hit(const seogo_results *results, size_t i);

/* How the query was parsed and the hits scored, when options.explain was set; else NULL.
 * Owned by `results`. */
const char *seogo_results_explain(const seogo_results *results);

/* Frees results. Accepts NULL. */
void seogo_results_free(seogo_results *results);

/* ---- Inspecting ----------------------------------------------------------------------- */

typedef struct seogo_document {
  uint64_t doc_id;
  uint64_t size;          /* bytes of the source file */
  int64_t mtime;          /* source modification time, seconds since the epoch */
  uint32_t passages;
  uint32_t lines;
  char encoding[16];      /* "UTF-8", "UTF-16LE", "CP949", ... as detected */
  char hash[17];          /* 64-bit content hash in hex */
} seogo_document;

/* Looks up the document indexed under `path` (as given when it was added).
 * Returns SEOGO_NOTFOUND when there is none. */
int seogo_document_info(seogo_index *index, const char *path, seogo_document *out,
                        seogo_error *err);

typedef struct seogo_index_stats {
  uint32_t format_version;
  uint32_t analyzer_version;
  uint64_t documents;
  uint64_t passages;
  uint64_t terms;         /* distinct terms */
  uint64_t postings;      /* (term, passage) pairs */
  uint64_t tokens;        /* term occurrences in all passages */
  uint64_t index_bytes;   /* disk_bytes - text_disk_bytes: what the index itself takes on
                             disk, without the stored text */
  uint64_t text_bytes;    /* bytes of stored document text (for snippets) */
  uint64_t disk_bytes;    /* all files of the index's current generation on disk */
  uint64_t text_disk_bytes; /* the pages the stored text takes in them */
} seogo_index_stats;

int seogo_index_stats_get(seogo_index *index, seogo_index_stats *out, seogo_error *err);

/* Calls `fn` for each indexed document in path order with its path and metadata; stops early
 * when `fn` returns nonzero. */
int seogo_documents_each(seogo_index *index,
                         int (*fn)(void *ctx, const char *path, const seogo_document *doc),
                         void *ctx, seogo_error *err);

/* One problem found by seogo_check. The strings are valid during the callback only. */
typedef struct seogo_problem {
  const char *table;   /* "meta", "docs", "paths", "text", "passages", "norms", "terms" or
                          "postings"; "lmdb" for LMDB's own trees (free pages, table list) */
  const char *key;     /* the damaged record, for a person: "doc 12", "passage 4410",
                          "term 반도", "term 반도, block 4410", "path corpus/a.txt", or
                          "page 812" for a damaged page of the table's B-tree */
  const char *message; /* what is wrong with it */
} seogo_problem;

/* Checks the whole index in one snapshot of its last committed state: every page of LMDB's
 * B-trees is sound (read apart from LMDB, which keeps no checksums and would follow a damaged
 * page: such a page is reported, and the tables are then not read), every record decodes,
 * and the tables agree (each document has its path, text and passages; each passage belongs
 * to one document and has its length in the norms; each term's counts match its postings
 * blocks, whose passages exist and are long enough for their positions; the stats record
 * counts what the tables hold). Calls `fn` (may be NULL) for each problem, in table order;
 * when `fn` returns nonzero the check stops there. When the index is sound and `out` is not
 * NULL, *out receives what the checked snapshot holds (as seogo_index_stats_get reports).
 * Returns SEOGO_OK when the index is sound, SEOGO_ECORRUPT when a problem was found (the
 * message gives the number found and the first), or SEOGO_ENOMEM / SEOGO_EIO when the check
 * could not be done. The index is not changed; damage is repaired by rebuilding
 * (seogo-index --rebuild).
 * Cost: reads every page of the index once (the stored text only its size), and keeps a few
 * bytes per passage in memory. Threads: as seogo_search (a writer may work meanwhile). */
int seogo_check(seogo_index *index, int (*fn)(void *ctx, const seogo_problem *problem),
                void *ctx, seogo_index_stats *out, seogo_error *err);

/* The first part of seogo_check alone: LMDB's pages. A writer following a damaged page can
 * crash inside LMDB; checking the pages first turns that into SEOGO_ECORRUPT. Cost: a read of
 * the B-tree pages (about 25 ms for a 230 MB index, a few percent of an update that changes
 * 1% of its documents); seogo-index runs it before every update. Returns and threads: as
 * seogo_check. */
int seogo_check_pages(seogo_index *index, int (*fn)(void *ctx, const seogo_problem *problem),
                      void *ctx, seogo_error *err);

/* ---- Writing ---------------------------------------------------------------------------- */

/* What seogo_add_file / seogo_add_buffer did. */
typedef enum seogo_add_outcome {
  SEOGO_ADDED = 0,
  SEOGO_UPDATED = 1,   /* replaced an older version of the document */
  SEOGO_UNCHANGED = 2  /* same size, mtime and content hash: nothing was done */
} seogo_add_outcome;

typedef struct seogo_add_info {
  seogo_add_outcome outcome;
  uint32_t passages;
  uint64_t bytes;
  char encoding[16];
  uint32_t invalid_sequences; /* invalid UTF-8 sequences replaced by U+FFFD */
  uint32_t first_invalid_line; /* line of the first one, or 0 */
} seogo_add_info;

/* Adds or replaces the document stored under `name` (NULL: use `file_path`) from a file.
 * Detects the encoding (UTF-8 with or without BOM, UTF-16 with BOM, CP949/EUC-KR); refuses
 * binary and empty files. Unchanged files (size, mtime and content hash) are skipped.
 * Errors: SEOGO_EIO (message names the file), SEOGO_EBINARY, SEOGO_EEMPTY, SEOGO_EENCODING,
 * SEOGO_EFULL, SEOGO_EREADONLY. A failed add leaves the index as it was.
 * The change is visible to readers after seogo_commit(). */
int seogo_add_file(seogo_index *index, const char *file_path, const char *name,
                   seogo_add_info *info, seogo_error *err);

/* As seogo_add_file, from `len` bytes at `data` under the caller-given `name`. The
 * caller keeps ownership of `data`. `mtime` is recorded as given. */
int seogo_add_buffer(seogo_index *index, const char *name, const void *data, size_t len,
                     int64_t mtime, seogo_add_info *info, seogo_error *err);

/* Removes the document stored under `name`; SEOGO_NOTFOUND when there is none. */
int seogo_remove(seogo_index *index, const char *name, seogo_error *err);

/* Makes all changes since the last commit durable and visible to readers, atomically. A large
 * commit encodes its postings in helper threads (one per further core, at most 3), which end
 * before it returns. */
int seogo_commit(seogo_index *index, seogo_error *err);

/* Drops all changes since the last commit. */
void seogo_abort(seogo_index *index);

/* Commits, and on a handle opened with SEOGO_OPEN_REBUILD makes the rebuilt index the one
 * that readers open (atomically), removing the old one. On other handles: seogo_commit.
 * When the handle's writes went into the middle of the tables for a large share of the index
 * (a build or a big update in several commits) or many pages of the data file are free, the
 * index is also packed: copied in key order into a new generation with full pages, which
 * replaces the old one the way a rebuild does (a crash leaves the old or the new one whole;
 * readers that have the old one open keep their snapshot, new ones open the new one). A pack
 * that fails (a full disk) leaves the index as it was and is not an error. Call it when done
 * writing: it waits for the handle's searches in other threads to finish.
 * Errors: as seogo_commit, and SEOGO_EIO when the switch cannot be written. */
int seogo_publish(seogo_index *index, seogo_error *err);

/* Bytes of document text added since the last commit (lets callers commit in batches). */
uint64_t seogo_pending_bytes(const seogo_index *index);

/* ---- Preparing documents in other threads ------------------------------------------------ */

/* A document read and analyzed but not yet added. Reading, decoding and analysis are most of
 * the cost of adding a document; seogo_prepare_file may run in several threads at once (also
 * while another thread writes), and the writing thread adds the results in order with
 * seogo_add_prepared. seogo-index works this way. */
typedef struct seogo_prepared seogo_prepared;

/* Reads and analyzes `file_path` for the document `name` (NULL: use `file_path`). A file with
 * the size and mtime of the committed document of that name is not even read (it will be
 * found unchanged). Errors: as seogo_add_file (the file's own errors are reported here).
 * Threads: any number of threads at once, on a writable handle.
 * Ownership: pass *out to seogo_add_prepared or seogo_prepared_free. */
int seogo_prepare_file(seogo_index *index, const char *file_path, const char *name,
                       seogo_prepared **out, seogo_error *err);

/* Adds a prepared document exactly as seogo_add_file would have (ADDED, UPDATED or
 * UNCHANGED), and frees it whatever the outcome. Threads: the writing thread. */
int seogo_add_prepared(seogo_index *index, seogo_prepared *doc, seogo_add_info *info,
                       seogo_error *err);

/* Frees a prepared document that will not be added. Accepts NULL. */
void seogo_prepared_free(seogo_prepared *doc);

/* ---- Adding many files ------------------------------------------------------------------ */

/* What seogo_add_files says about one file, on the calling thread, in the order of paths[]. */
typedef struct seogo_file_report {
  size_t index;               /* the file's place in paths[] */
  const char *path;           /* paths[index] */
  int status;                 /* SEOGO_OK, or the error that made the file be skipped */
  const seogo_add_info *info; /* what was done (status SEOGO_OK), else NULL */
  const seogo_error *error;   /* why it was skipped (status not SEOGO_OK), else NULL */
} seogo_file_report;

typedef struct seogo_add_files_options {
  int threads;           /* analysis threads; 0: one per core (at most 8) */
  uint64_t commit_bytes; /* commit when this much text is pending; 0: 32 MB */
  double commit_seconds; /* also commit when this long has passed since the last one; 0: never */
  /* Called after each file (may be NULL). A nonzero return stops the run after that file. */
  int (*on_file)(void *ctx, const seogo_file_report *report);
  void *ctx;
} seogo_add_files_options;

/* Adds or replaces the documents of n files as seogo_add_file would, named names[i] (names
 * NULL, or names[i] NULL: paths[i]), and commits in batches as the options say. Files are read
 * and analyzed by `threads` threads a few files ahead (at most 16 files and about 64 MB), and
 * added in order on the calling thread: indexing runs at the speed of every core while LMDB
 * keeps its one writer. A file that cannot be added (SEOGO_EIO, SEOGO_EBINARY, SEOGO_EEMPTY,
 * SEOGO_EENCODING, SEOGO_ELIMIT) is skipped and reported; the others are still added.
 * Returns SEOGO_OK when every file was added or skipped, or when on_file stopped the run. Any
 * other error (a commit failing: SEOGO_EFULL, SEOGO_EIO; SEOGO_ENOMEM) stops the run and is
 * returned; what was committed stays. The files added since the last batch commit are left
 * pending: call seogo_commit or seogo_publish (or seogo_abort) after it.
 * Threads: the writing thread (it starts and joins its own analysis threads). */
int seogo_add_files(seogo_index *index, const char *const *paths, const char *const *names,
                    size_t n, const seogo_add_files_options *options, seogo_error *err);

/* ---- Analysis --------------------------------------------------------------------------- */

/* One term the analyzer makes of a text, as indexed and as searched. */
typedef struct seogo_term {
  const char *text;      /* the term's bytes (normalized UTF-8), not NUL-terminated */
  size_t len;
  uint32_t position;     /* word position; Korean syllable bigrams of one word are consecutive */
  uint32_t start, end;   /* byte range [start, end) in the original text */
  uint32_t line;         /* 1-based line of `start` in the original text */
  uint32_t line_end;     /* 1-based line of the term's last byte */
  unsigned flags;        /* SEOGO_TERM_* */
} seogo_term;

enum seogo_term_flags {
  SEOGO_TERM_WORD_START = 1u << 0, /* first term of a word (eojeol) */
  SEOGO_TERM_STEM_END = 1u << 1,   /* last term of a Korean word's stem (before particles) */
  SEOGO_TERM_HANGUL = 1u << 2,     /* a Hangul syllable bigram or single syllable */
  SEOGO_TERM_CJK = 1u << 3,        /* a Han/kana bigram or single character */
  SEOGO_TERM_NUMBER = 1u << 4,
  SEOGO_TERM_LATIN = 1u << 5       /* a stemmed Latin word */
};

/* Runs the analyzer on `len` bytes of UTF-8 `text` and calls `fn` for each term in order; stops
 * early when `fn` returns nonzero. `as_query` selects query analysis (particles stripped from
 * Korean words, no PDF line repair). Invalid UTF-8 is replaced by U+FFFD and counted in
 * *invalid_sequences (may be NULL). */
int seogo_analyze(const char *text, size_t len, int as_query,
                  int (*fn)(void *ctx, const seogo_term *term), void *ctx,
                  uint32_t *invalid_sequences, seogo_error *err);

#ifdef __cplusplus
}
#endif

#endif /* SEOGO_H */
