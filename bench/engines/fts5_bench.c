/* fts5_bench.c - benchmark driver for SQLite FTS5, with the `porter unicode61` or the
 * `trigram` tokenizer (--tokenizer porter|trigram), through libsqlite3.
 *
 * How queries are put to FTS5 (the best each tokenizer can do, as a user would write them):
 *   porter unicode61: a Korean operand becomes a prefix query ("반도체"*), because the tokenizer
 *     keeps a whole eojeol (반도체를) as one token; English operands are stemmed by porter.
 *   trigram: operands are substrings ("반도체"). FTS5 cannot match a string of fewer than three
 *     characters through the trigram index, so a query with such an operand is asked with LIKE
 *     '%...%' over a full scan and comes back in rowid order, unranked.
 */
#include <sqlite3.h>

#include "driver.h"

typedef struct fts5_ctx {
  sqlite3 *db;
  int trigram;
  sqlite3_stmt *top, *all; /* MATCH statements, ranked by bm25 */
  char db_path[4096];
} fts5_ctx;

static void fts5_fail(fts5_ctx *c, const char *what) {
  fprintf(stderr, "fts5_bench: %s: %s\n", what, c->db ? sqlite3_errmsg(c->db) : "?");
}

static int fts5_exec(fts5_ctx *c, const char *sql) {
  char *msg = NULL;
  if (sqlite3_exec(c->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
    fprintf(stderr, "fts5_bench: %s: %s\n", sql, msg ? msg : "?");
    sqlite3_free(msg);
    return -1;
  }
  return 0;
}

static int fts5_index(void *vc, const drv_args *a, drv_index_info *info) {
  fts5_ctx *c = vc;
  mkdir(a->db, 0777);
  snprintf(c->db_path, sizeof c->db_path, "%s/fts5.db", a->db);
  remove(c->db_path);
  if (sqlite3_open(c->db_path, &c->db) != SQLITE_OK) return fts5_fail(c, "open"), -1;
  const char *create = c->trigram
                           ? "CREATE VIRTUAL TABLE p USING fts5(body, tokenize='trigram')"
                           : "CREATE VIRTUAL TABLE p USING fts5(body, tokenize='porter unicode61')";
  if (fts5_exec(c, "PRAGMA synchronous=NORMAL") || fts5_exec(c, create) ||
      fts5_exec(c, "BEGIN"))
    return -1;
  sqlite3_stmt *ins;
  if (sqlite3_prepare_v2(c->db, "INSERT INTO p(rowid, body) VALUES (?1, ?2)", -1, &ins, NULL))
    return fts5_fail(c, "prepare insert"), -1;
  drv_passages ps;
  drv_passages_open(&ps, a->passages);
  uint64_t pid;
  const char *text;
  size_t len;
  while (drv_passages_next(&ps, &pid, &text, &len)) {
    sqlite3_bind_int64(ins, 1, (sqlite3_int64)pid);
    sqlite3_bind_text(ins, 2, text, (int)len, SQLITE_STATIC);
    if (sqlite3_step(ins) != SQLITE_DONE) return fts5_fail(c, "insert"), -1;
    sqlite3_reset(ins);
    info->input_bytes += len;
    if (++info->items % 20000 == 0 && (fts5_exec(c, "COMMIT") || fts5_exec(c, "BEGIN")))
      return -1;
  }
  drv_passages_close(&ps);
  sqlite3_finalize(ins);
  return fts5_exec(c, "COMMIT");
}

static int fts5_open_search(void *vc, const drv_args *a) {
  fts5_ctx *c = vc;
  sqlite3_close(c->db);
  snprintf(c->db_path, sizeof c->db_path, "%s/fts5.db", a->db); /* a search-only run's too */
  if (sqlite3_open_v2(c->db_path, &c->db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
    return fts5_fail(c, "reopen"), -1;
  if (sqlite3_prepare_v2(c->db, "SELECT rowid FROM p WHERE p MATCH ?1 ORDER BY rank LIMIT 10",
                         -1, &c->top, NULL) ||
      sqlite3_prepare_v2(c->db, "SELECT rowid FROM p WHERE p MATCH ?1", -1, &c->all, NULL))
    return fts5_fail(c, "prepare"), -1;
  return 0;
}

static int has_non_ascii(const char *s) {
  for (; *s; s++)
    if ((unsigned char)*s >= 0x80) return 1;
  return 0;
}

static size_t utf8_chars(const char *s) {
  size_t n = 0;
  for (; *s; s++) n += ((unsigned char)*s & 0xC0) != 0x80;
  return n;
}

/* An operand in FTS5 query syntax. */
static void fts5_operand(const fts5_ctx *c, const char *s, char *out, size_t cap) {
  int prefix = !c->trigram && has_non_ascii(s);
  snprintf(out, cap, "\"%s\"%s", s, prefix ? "*" : "");
}

static void fts5_match_query(const fts5_ctx *c, const drv_query *q, char *out, size_t cap) {
  char a[DRV_MAX_OPERAND + 8], b[DRV_MAX_OPERAND + 8];
  static const char *const ops[] = {"", "", "AND", "OR", "NOT"};
  fts5_operand(c, q->a, a, sizeof a);
  if (q->op == DRV_TERM || q->op == DRV_PHRASE) {
    snprintf(out, cap, "%s", a);
    return;
  }
  fts5_operand(c, q->b, b, sizeof b);
  snprintf(out, cap, "%s %s %s", a, ops[q->op], b);
}

/* Trigram with an operand under three characters: LIKE conditions, unranked. The column is
 * wrapped in an expression so that SQLite scans the table: SQLite 3.40's FTS5 answers a LIKE
 * pattern with under three characters from its index as matching nothing. */
static int fts5_like_search(fts5_ctx *c, const drv_query *q, size_t limit, drv_ids *out) {
#define FTS5_LIKE(n) "(body||'') LIKE '%'||?" #n "||'%'"
  static const char *const where[] = {FTS5_LIKE(1), FTS5_LIKE(1),
                                      FTS5_LIKE(1) " AND " FTS5_LIKE(2),
                                      FTS5_LIKE(1) " OR " FTS5_LIKE(2),
                                      FTS5_LIKE(1) " AND NOT " FTS5_LIKE(2)};
#undef FTS5_LIKE
  char sql[512];
  snprintf(sql, sizeof sql, "SELECT rowid FROM p WHERE %s ORDER BY rowid%s", where[q->op],
           limit ? " LIMIT 10" : "");
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(c->db, sql, -1, &st, NULL) != SQLITE_OK) return -1;
  sqlite3_bind_text(st, 1, q->a, -1, SQLITE_STATIC);
  if (q->op >= DRV_AND) sqlite3_bind_text(st, 2, q->b, -1, SQLITE_STATIC);
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) drv_ids_push(out, (uint64_t)sqlite3_column_int64(st, 0));
  sqlite3_finalize(st);
  return rc == SQLITE_DONE ? 0 : -1;
}

static int fts5_search(void *vc, const drv_query *q, size_t limit, drv_ids *out) {
  fts5_ctx *c = vc;
  out->n = 0;
  if (c->trigram && (utf8_chars(q->a) < 3 || (q->op >= DRV_AND && utf8_chars(q->b) < 3)))
    return fts5_like_search(c, q, limit, out);
  char match[3 * DRV_MAX_OPERAND];
  fts5_match_query(c, q, match, sizeof match);
  sqlite3_stmt *st = limit ? c->top : c->all;
  sqlite3_bind_text(st, 1, match, -1, SQLITE_TRANSIENT);
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) drv_ids_push(out, (uint64_t)sqlite3_column_int64(st, 0));
  sqlite3_reset(st);
  return rc == SQLITE_DONE ? 0 : -1;
}

/* The content table (the passages' text) and the docsize table, from the dbstat virtual
 * table: FTS5 stores both beside its index (the _data and _idx tables). */
static void fts5_sizes(void *vc, const drv_args *a, drv_sizes *out) {
  fts5_ctx *c = vc;
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(c->db, "SELECT SUM(pgsize) FROM dbstat WHERE name IN "
                                "('p_content', 'p_docsize')", -1, &st, NULL) != SQLITE_OK) {
    fprintf(stderr, "fts5_bench: no dbstat (%s): stored text not told apart\n",
            sqlite3_errmsg(c->db));
    return;
  }
  if (sqlite3_step(st) == SQLITE_ROW) {
    out->text_bytes = (uint64_t)sqlite3_column_int64(st, 0);
    out->text_known = 1;
    snprintf(out->how, sizeof out->how, "dbstat pages of the p_content and p_docsize tables");
  }
  sqlite3_finalize(st);
}

static void fts5_close(void *vc) {
  fts5_ctx *c = vc;
  sqlite3_finalize(c->top);
  sqlite3_finalize(c->all);
  sqlite3_close(c->db);
}

int main(int argc, char **argv) {
  fts5_ctx c;
  memset(&c, 0, sizeof c);
  /* Take --tokenizer out of argv; the rest is the common command line. */
  int n = 1;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--tokenizer") && i + 1 < argc)
      c.trigram = !strcmp(argv[++i], "trigram");
    else
      argv[n++] = argv[i];
  }
  drv_engine e = {c.trigram ? "fts5-trigram" : "fts5-porter", sqlite3_libversion(),
                  c.trigram ? "FTS5 tokenize='trigram'; operands under 3 characters via LIKE"
                            : "FTS5 tokenize='porter unicode61'; Korean operands as prefix",
                  &c, fts5_index, fts5_open_search, fts5_search, fts5_close, fts5_sizes};
  return drv_main(n, argv, &e);
}
