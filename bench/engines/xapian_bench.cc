// xapian_bench.cc - benchmark driver for Xapian 1.4 (libxapian): CJK n-grams (Hangul spans
// become unigrams and bigrams) and the English Snowball stemmer, BM25 ranking.
//
// Each passage is one Xapian document whose docid is the passage id; its text is indexed with
// positions and kept as the document data (as Seogo keeps document text for snippets).
// Queries go through Xapian::QueryParser with FLAG_CJK_NGRAM, AND as the default operator,
// "phrases", AND/OR/NOT.
#include <xapian.h>

#include <string>

#include "driver.h"

namespace {

struct XapianCtx {
  Xapian::WritableDatabase *writer = nullptr;
  Xapian::Database *db = nullptr;
  Xapian::QueryParser parser;
  Xapian::Stem stemmer{"english"};
};

int xapian_index(void *vc, const drv_args *a, drv_index_info *info) {
  XapianCtx *c = static_cast<XapianCtx *>(vc);
  try {
    c->writer = new Xapian::WritableDatabase(a->db, Xapian::DB_CREATE_OR_OVERWRITE);
    Xapian::TermGenerator tg;
    tg.set_stemmer(c->stemmer);
    tg.set_flags(Xapian::TermGenerator::FLAG_CJK_NGRAM);
    drv_passages ps;
    drv_passages_open(&ps, a->passages);
    uint64_t pid;
    const char *text;
    size_t len;
    while (drv_passages_next(&ps, &pid, &text, &len)) {
      Xapian::Document doc;
      std::string body(text, len);
      doc.set_data(body);
      tg.set_document(doc);
      tg.index_text(body);
      c->writer->replace_document(static_cast<Xapian::docid>(pid), doc);
      info->input_bytes += len;
      info->items++;
    }
    drv_passages_close(&ps);
    c->writer->commit();
    c->writer->close();
    delete c->writer;
    c->writer = nullptr;
  } catch (const Xapian::Error &e) {
    fprintf(stderr, "xapian_bench: %s\n", e.get_description().c_str());
    return -1;
  }
  return 0;
}

int xapian_open_search(void *vc, const drv_args *a) {
  XapianCtx *c = static_cast<XapianCtx *>(vc);
  try {
    c->db = new Xapian::Database(a->db);
    c->parser.set_database(*c->db);
    c->parser.set_stemmer(c->stemmer);
    c->parser.set_stemming_strategy(Xapian::QueryParser::STEM_SOME);
    c->parser.set_default_op(Xapian::Query::OP_AND);
  } catch (const Xapian::Error &e) {
    fprintf(stderr, "xapian_bench: %s\n", e.get_description().c_str());
    return -1;
  }
  return 0;
}

std::string operand(const char *s) {
  return drv_is_phrase(s) ? "\"" + std::string(s) + "\"" : std::string(s);
}

std::string query_string(const drv_query *q) {
  static const char *const ops[] = {"", "", " AND ", " OR ", " NOT "};
  if (q->op == DRV_TERM) return q->a;
  if (q->op == DRV_PHRASE) return "\"" + std::string(q->a) + "\"";
  return operand(q->a) + ops[q->op] + operand(q->b);
}

int xapian_search(void *vc, const drv_query *q, size_t limit, drv_ids *out) {
  XapianCtx *c = static_cast<XapianCtx *>(vc);
  out->n = 0;
  try {
    unsigned flags = Xapian::QueryParser::FLAG_DEFAULT | Xapian::QueryParser::FLAG_CJK_NGRAM;
    Xapian::Query query = c->parser.parse_query(query_string(q), flags);
    Xapian::Enquire enquire(*c->db);
    enquire.set_query(query);
    Xapian::MSet mset = enquire.get_mset(0, limit ? limit : c->db->get_doccount());
    for (Xapian::MSetIterator it = mset.begin(); it != mset.end(); ++it) drv_ids_push(out, *it);
  } catch (const Xapian::Error &e) {
    return -1;
  }
  return 0;
}

// Glass keeps each table in its own file: the document data (the passages' text) and the
// per-document term lists apart from the postings and positions.
void xapian_sizes(void *vc, const drv_args *a, drv_sizes *out) {
  static const char *const docdata[] = {"docdata."}, *const termlist[] = {"termlist."};
  uint64_t data = drv_prefixed_bytes(a->db, docdata, 1), terms = drv_prefixed_bytes(a->db, termlist, 1);
  out->text_bytes = data + terms;
  out->text_known = 1;
  snprintf(out->how, sizeof out->how, "glass tables docdata (the passages' text, %.1f MB) and "
           "termlist (each passage's terms, %.1f MB)", (double)data / 1e6, (double)terms / 1e6);
}

void xapian_close(void *vc) {
  XapianCtx *c = static_cast<XapianCtx *>(vc);
  delete c->db;
  c->db = nullptr;
}

}  // namespace

int main(int argc, char **argv) {
  XapianCtx c;
  drv_engine e = {"xapian", Xapian::version_string(),
                  "TermGenerator/QueryParser FLAG_CJK_NGRAM, english stemmer (STEM_SOME), "
                  "default AND, positions, BM25",
                  &c, xapian_index, xapian_open_search, xapian_search, xapian_close,
                  xapian_sizes};
  return drv_main(argc, argv, &e);
}
