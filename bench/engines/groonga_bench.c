/* groonga_bench.c - benchmark driver for Groonga (libgroonga): a TokenBigram full-text index
 * with NormalizerAuto and positions, as Groonga's documentation sets one up.
 *
 * The schema is made with Groonga commands (not timed apart: part of indexing); passages are
 * loaded through the C API (grn_table_add, grn_obj_set_value), then the index column is
 * created, which builds the index offline in one go (Groonga's fast path for bulk loads).
 * Queries use Groonga's query syntax (A B, A OR B, A - B, "phrase") through grn_expr_parse and
 * grn_table_select; the top 10 are sorted by _score with grn_table_sort.
 */
#include <groonga.h>

#include "driver.h"

typedef struct groonga_ctx {
  grn_ctx ctx;
  grn_obj *db, *table, *body;
} groonga_ctx;

static int groonga_command(groonga_ctx *c, const char *command) {
  char *res;
  unsigned int len;
  int flags;
  grn_ctx_send(&c->ctx, command, (unsigned int)strlen(command), 0);
  grn_ctx_recv(&c->ctx, &res, &len, &flags);
  if (c->ctx.rc != GRN_SUCCESS) {
    fprintf(stderr, "groonga_bench: %s: %s\n", command, c->ctx.errbuf);
    return -1;
  }
  return 0;
}

static int groonga_load(groonga_ctx *c, const drv_args *a, drv_index_info *info) {
  grn_obj value;
  GRN_TEXT_INIT(&value, 0);
  drv_passages ps;
  drv_passages_open(&ps, a->passages);
  uint64_t pid;
  const char *text;
  size_t len;
  int rc = 0;
  while (rc == 0 && drv_passages_next(&ps, &pid, &text, &len)) {
    uint32_t key = (uint32_t)pid;
    grn_id id = grn_table_add(&c->ctx, c->table, &key, sizeof key, NULL);
    GRN_TEXT_SET(&c->ctx, &value, text, len);
    if (id == GRN_ID_NIL ||
        grn_obj_set_value(&c->ctx, c->body, id, &value, GRN_OBJ_SET) != GRN_SUCCESS) {
      fprintf(stderr, "groonga_bench: load: %s\n", c->ctx.errbuf);
      rc = -1;
    }
    info->input_bytes += len;
    info->items++;
  }
  drv_passages_close(&ps);
  GRN_OBJ_FIN(&c->ctx, &value);
  return rc;
}

static int groonga_index(void *vc, const drv_args *a, drv_index_info *info) {
  groonga_ctx *c = vc;
  char path[4096];
  mkdir(a->db, 0777);
  snprintf(path, sizeof path, "%s/groonga.db", a->db);
  c->db = grn_db_create(&c->ctx, path, NULL);
  if (!c->db) return fprintf(stderr, "groonga_bench: %s: %s\n", path, c->ctx.errbuf), -1;
  if (groonga_command(c, "table_create Passages TABLE_HASH_KEY UInt32") ||
      groonga_command(c, "column_create Passages body COLUMN_SCALAR LongText"))
    return -1;
  c->table = grn_ctx_get(&c->ctx, "Passages", -1);
  c->body = grn_ctx_get(&c->ctx, "Passages.body", -1);
  if (!c->table || !c->body || groonga_load(c, a, info)) return -1;
  if (groonga_command(c, "table_create Terms TABLE_PAT_KEY ShortText "
                         "--default_tokenizer TokenBigram --normalizer NormalizerAuto") ||
      groonga_command(c, "column_create Terms body_index COLUMN_INDEX|WITH_POSITION "
                         "Passages body"))
    return -1;
  return 0;
}

/* After indexing the database is open; a search-only run (--phase search) opens it. */
static int groonga_open_search(void *vc, const drv_args *a) {
  groonga_ctx *c = vc;
  if (c->db) return 0;
  char path[4096];
  snprintf(path, sizeof path, "%s/groonga.db", a->db);
  c->db = grn_db_open(&c->ctx, path);
  if (!c->db) return fprintf(stderr, "groonga_bench: %s: %s\n", path, c->ctx.errbuf), -1;
  c->table = grn_ctx_get(&c->ctx, "Passages", -1);
  c->body = grn_ctx_get(&c->ctx, "Passages.body", -1);
  return c->table && c->body ? 0 : -1;
}

static void groonga_operand(const char *s, char *out, size_t cap) {
  snprintf(out, cap, drv_is_phrase(s) ? "\"%s\"" : "%s", s);
}

static void groonga_query(const drv_query *q, char *out, size_t cap) {
  static const char *const ops[] = {"", "", " ", " OR ", " - "};
  char a[DRV_MAX_OPERAND + 4], b[DRV_MAX_OPERAND + 4];
  if (q->op == DRV_PHRASE) {
    snprintf(out, cap, "\"%s\"", q->a);
    return;
  }
  groonga_operand(q->a, a, sizeof a);
  if (q->op == DRV_TERM) {
    snprintf(out, cap, "%s", a);
    return;
  }
  groonga_operand(q->b, b, sizeof b);
  snprintf(out, cap, "%s%s%s", a, ops[q->op], b);
}

/* Appends the passage ids of `records` (a table whose values are ids in `res`) in order. */
static void groonga_collect_sorted(groonga_ctx *c, grn_obj *sorted, grn_obj *res, drv_ids *out) {
  grn_table_cursor *cur = grn_table_cursor_open(&c->ctx, sorted, NULL, 0, NULL, 0, 0, -1, 0);
  if (!cur) return;
  while (grn_table_cursor_next(&c->ctx, cur) != GRN_ID_NIL) {
    grn_id *rid, passage;
    uint32_t pid;
    grn_table_cursor_get_value(&c->ctx, cur, (void **)&rid);
    if (grn_table_get_key(&c->ctx, res, *rid, &passage, sizeof passage) &&
        grn_table_get_key(&c->ctx, c->table, passage, &pid, sizeof pid))
      drv_ids_push(out, pid);
  }
  grn_table_cursor_close(&c->ctx, cur);
}

static void groonga_collect_all(groonga_ctx *c, grn_obj *res, drv_ids *out) {
  grn_table_cursor *cur = grn_table_cursor_open(&c->ctx, res, NULL, 0, NULL, 0, 0, -1, 0);
  if (!cur) return;
  grn_id rid;
  while ((rid = grn_table_cursor_next(&c->ctx, cur)) != GRN_ID_NIL) {
    grn_id passage;
    uint32_t pid;
    if (grn_table_get_key(&c->ctx, res, rid, &passage, sizeof passage) &&
        grn_table_get_key(&c->ctx, c->table, passage, &pid, sizeof pid))
      drv_ids_push(out, pid);
  }
  grn_table_cursor_close(&c->ctx, cur);
}

static void groonga_top(groonga_ctx *c, grn_obj *res, size_t limit, drv_ids *out) {
  grn_obj *sorted = grn_table_create(&c->ctx, NULL, 0, NULL, GRN_OBJ_TABLE_NO_KEY, NULL, res);
  grn_table_sort_key key;
  key.key = grn_obj_column(&c->ctx, res, GRN_COLUMN_NAME_SCORE, GRN_COLUMN_NAME_SCORE_LEN);
  key.flags = GRN_TABLE_SORT_DESC;
  key.offset = 0;
  if (sorted && key.key) {
    grn_table_sort(&c->ctx, res, 0, (int)limit, sorted, &key, 1);
    groonga_collect_sorted(c, sorted, res, out);
  }
  if (key.key) grn_obj_unlink(&c->ctx, key.key);
  if (sorted) grn_obj_unlink(&c->ctx, sorted);
}

static int groonga_search(void *vc, const drv_query *q, size_t limit, drv_ids *out) {
  groonga_ctx *c = vc;
  out->n = 0;
  char text[3 * DRV_MAX_OPERAND];
  groonga_query(q, text, sizeof text);
  grn_obj *expr, *var;
  GRN_EXPR_CREATE_FOR_QUERY(&c->ctx, c->table, expr, var);
  if (!expr || !var) return -1;
  int rc = -1;
  if (grn_expr_parse(&c->ctx, expr, text, (unsigned int)strlen(text), c->body, GRN_OP_MATCH,
                     GRN_OP_AND, GRN_EXPR_SYNTAX_QUERY) == GRN_SUCCESS) {
    grn_obj *res = grn_table_select(&c->ctx, c->table, expr, NULL, GRN_OP_OR);
    if (res) {
      if (limit)
        groonga_top(c, res, limit, out);
      else
        groonga_collect_all(c, res, out);
      grn_obj_unlink(&c->ctx, res);
      rc = 0;
    }
  }
  grn_obj_unlink(&c->ctx, expr);
  c->ctx.rc = GRN_SUCCESS;
  return rc;
}

/* Groonga keeps each object in files named after the database and the object's id
 * (groonga.db.0000101, ...): the text column's files are the stored text. */
static void groonga_sizes(void *vc, const drv_args *a, drv_sizes *out) {
  groonga_ctx *c = vc;
  char prefix[64];
  const char *prefixes[] = {prefix};
  snprintf(prefix, sizeof prefix, "groonga.db.%07X", (unsigned)grn_obj_id(&c->ctx, c->body));
  out->text_bytes = drv_prefixed_bytes(a->db, prefixes, 1);
  out->text_known = 1;
  snprintf(out->how, sizeof out->how, "files of the Passages.body column (%s*)", prefix);
}

static void groonga_close(void *vc) {
  groonga_ctx *c = vc;
  if (c->db) grn_obj_close(&c->ctx, c->db);
  grn_ctx_fin(&c->ctx);
  grn_fin();
}

int main(int argc, char **argv) {
  groonga_ctx c;
  memset(&c, 0, sizeof c);
  if (grn_init() != GRN_SUCCESS || grn_ctx_init(&c.ctx, 0) != GRN_SUCCESS)
    return fprintf(stderr, "groonga_bench: cannot initialize Groonga\n"), 1;
  drv_engine e = {"groonga", grn_get_version(),
                  "TokenBigram, NormalizerAuto, index WITH_POSITION (built after loading), "
                  "query syntax, sorted by _score",
                  &c, groonga_index, groonga_open_search, groonga_search, groonga_close,
                  groonga_sizes};
  return drv_main(argc, argv, &e);
}
