/* seogo_export.c - writes the passages of a Seogo index as the benchmark's passages.tsv, so
 * that every other engine indexes exactly Seogo's passages, with Seogo's line repairs.
 *
 *   seogo_export --db DIR --out passages.tsv
 *
 * For each document (in doc id order) it reads the stored text and the layout recorded at
 * indexing, re-runs the analyzer on the whole text with that layout (SG_ANALYZE_SPAN, so the
 * repairs are the ones indexing made), and for each passage writes "pid<TAB>text": the
 * normalized, repaired text (the analyzer's N) of the passage's byte range, with tabs and line
 * breaks turned into spaces. Uses library internals (the store, the analyzer), read-only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer.h"
#include "format.h"

typedef struct exporter {
  sg_store *store;
  MDB_txn *txn;
  sg_analyzer *analyzer;
  sg_analysis analysis;
  FILE *out;
  uint64_t passages, bytes;
  seogo_error err;
} exporter;

static int fail(exporter *x, const char *what) {
  fprintf(stderr, "seogo_export: %s: %s\n", what, x->err.message);
  return -1;
}

static int get(exporter *x, MDB_dbi dbi, uint32_t id, MDB_val *val) {
  unsigned char key[4];
  sg_put_be32(key, id);
  MDB_val k = {sizeof key, key};
  int rc = mdb_get(x->txn, dbi, &k, val);
  if (rc == MDB_NOTFOUND) return 1;
  if (rc) return sg_store_mdb_error(rc, "get", &x->err), -1;
  return 0;
}

/* Writes N bytes [from, to) with tabs and line breaks as spaces. */
static void write_clean(FILE *out, const unsigned char *s, size_t from, size_t to) {
  for (size_t i = from; i < to; i++) {
    unsigned char c = s[i];
    fputc(c == '\t' || c == '\n' || c == '\r' ? ' ' : c, out);
  }
}

/* Writes the passages of one document, whose text has been analyzed into x->analysis. */
static int export_passages(exporter *x, const sg_doc *d) {
  const sg_analysis *r = &x->analysis;
  size_t i = 0, n = r->norm.len;
  for (uint32_t k = 0; k < d->npassages; k++) {
    uint32_t pid = d->first_pid + k;
    sg_passage p;
    int rc = sg_store_get_passage(x->store, x->txn, pid, &p, &x->err);
    if (rc == SEOGO_NOTFOUND) continue; /* removed */
    if (rc) return fail(x, "passage");
    while (i < n && r->norm_to_orig[i] < p.start) i++;
    size_t from = i, to = i;
    while (to < n && r->norm_to_orig[to] < p.end) to++;
    fprintf(x->out, "%u\t", pid);
    write_clean(x->out, r->norm.data, from, to);
    fputc('\n', x->out);
    x->passages++;
    x->bytes += to - from;
  }
  return 0;
}

static int export_document(exporter *x, const MDB_val *key, const MDB_val *val) {
  sg_doc d;
  MDB_val text;
  if (key->mv_size != 4) return fprintf(stderr, "seogo_export: bad doc key\n"), -1;
  uint32_t doc_id = sg_get_be32(key->mv_data);
  if (sg_doc_decode(val->mv_data, val->mv_size, &d, &x->err)) return fail(x, "document");
  if (get(x, x->store->text, doc_id, &text) != 0)
    return fprintf(stderr, "seogo_export: no text for document %u\n", doc_id), -1;
  x->analysis.layout.pdf_like = d.pdf_like;
  x->analysis.layout.short_line = (uint16_t)d.short_line;
  if (sg_analyze(x->analyzer, text.mv_data, text.mv_size, SG_ANALYZE_SPAN, &x->analysis,
                 &x->err))
    return fail(x, "analyze");
  return export_passages(x, &d);
}

static int export_all(exporter *x) {
  MDB_cursor *cur;
  MDB_val k, v;
  int rc = mdb_cursor_open(x->txn, x->store->docs, &cur);
  if (rc) return sg_store_mdb_error(rc, "cursor", &x->err), fail(x, "docs");
  int status = 0;
  for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0 && status == 0;
       rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
    status = export_document(x, &k, &v);
  mdb_cursor_close(cur);
  if (status == 0 && rc != MDB_NOTFOUND)
    return sg_store_mdb_error(rc, "docs", &x->err), fail(x, "docs");
  return status;
}

int main(int argc, char **argv) {
  const char *db = NULL, *out = NULL;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!strcmp(argv[i], "--db")) db = argv[i + 1];
    else if (!strcmp(argv[i], "--out")) out = argv[i + 1];
  }
  if (!db || !out) {
    fprintf(stderr, "usage: seogo_export --db DIR --out passages.tsv\n");
    return 2;
  }
  exporter x;
  memset(&x, 0, sizeof x);
  sg_analysis_init(&x.analysis);
  if (sg_store_open(db, SG_STORE_READ, &x.store, &x.err)) return fail(&x, db), 1;
  if (sg_analyzer_new(&x.analyzer, &x.err)) return fail(&x, "analyzer"), 1;
  if (sg_store_read_begin(x.store, &x.txn, &x.err)) return fail(&x, db), 1;
  x.out = fopen(out, "w");
  if (!x.out) return fprintf(stderr, "seogo_export: cannot write %s\n", out), 1;
  int rc = export_all(&x);
  if (fclose(x.out) != 0) rc = -1;
  sg_store_read_end(x.store, x.txn);
  sg_analysis_free(&x.analysis);
  sg_analyzer_free(x.analyzer);
  sg_store_close(x.store);
  if (rc == 0)
    fprintf(stderr, "seogo_export: %llu passages, %llu bytes\n", (unsigned long long)x.passages,
            (unsigned long long)x.bytes);
  return rc == 0 ? 0 : 1;
}
