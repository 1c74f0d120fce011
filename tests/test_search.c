/* test_search.c - searching the corpus through the library: the example queries find the right
 * files and lines, Korean words match across particles and PDF line breaks, operators and
 * filters do what they say, snippets and highlights show the match, and a damaged index is an
 * error, not a crash. */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <utf8proc.h>

#include "searcher.h"
#include "testlib.h"

static const char *const CORPUS[] = {
    "corpus/000_659a9385f88d803c.txt", "corpus/001_5c4ecdcc42dba0b5.txt",
    "corpus/002_0223f975d8e56b67.txt", "corpus/003_6aa41a9c697c4b0d.txt",
    "corpus/004_4c37cfff86aabd90.txt"};
#define F001 "corpus/001_5c4ecdcc42dba0b5.txt"
#define F002 "corpus/002_0223f975d8e56b67.txt"

static seogo_index *ix;

static void build_index(void) {
  char dir[512];
  snprintf(dir, sizeof dir, "%s/index", tl_tmpdir());
  seogo_error err = {0};
  int rc = seogo_open(dir, SEOGO_OPEN_WRITE, &ix, &err);
  if (rc) {
    fprintf(stderr, "cannot create the test index: %s\n", err.message);
    exit(2);
  }
  for (size_t i = 0; i < sizeof CORPUS / sizeof CORPUS[0]; i++) {
    seogo_add_info info;
    if (seogo_add_file(ix, tl_source_path(CORPUS[i]), CORPUS[i], &info, &err)) {
      fprintf(stderr, "cannot index %s: %s\n", CORPUS[i], err.message);
      exit(2);
    }
  }
  if (seogo_commit(ix, &err)) {
    fprintf(stderr, "commit: %s\n", err.message);
    exit(2);
  }
}

static seogo_results *search_opt(const char *q, const seogo_search_options *o) {
  seogo_results *res = NULL;
  seogo_error err = {0};
  int rc = seogo_search(ix, q, strlen(q), o, &res, &err);
  CHECK_MSG(rc == SEOGO_OK, "search [%s] failed: %d %s", q, rc, err.message);
  return res;
}

static seogo_results *search_n(const char *q, uint32_t limit) {
  seogo_search_options o;
  seogo_search_options_init(&o);
  o.limit = limit;
  return search_opt(q, &o);
}

static uint64_t total_of(const char *q) {
  seogo_results *r = search_n(q, 0);
  uint64_t n = seogo_results_total(r);
  seogo_results_free(r);
  return n;
}

/* The passage's stored text with all whitespace removed, so that a word broken across PDF lines
 * reads whole (a check that cannot share the analyzer's mistakes). */
static char *passage_squeezed(uint64_t pid) {
  sg_reader r;
  sg_passage p;
  const char *text;
  size_t len;
  CHECK_EQ_INT(sg_reader_begin(&r, ix, NULL), SEOGO_OK);
  CHECK_EQ_INT(sg_reader_passage(&r, (uint32_t)pid, &p, NULL, NULL), SEOGO_OK);
  CHECK_EQ_INT(sg_reader_text(&r, p.doc_id, &text, &len, NULL), SEOGO_OK);
  char *out = malloc(p.end - p.start + 1);
  size_t n = 0;
  for (uint32_t i = p.start; i < p.end && i < len; i++)
    if (!strchr(" \t\r\n", text[i])) out[n++] = text[i];
  out[n] = '\0';
  sg_reader_end(&r);
  return out;
}

static int contains(uint64_t pid, const char *needle) {
  char *s = passage_squeezed(pid);
  int yes = strstr(s, needle) != NULL;
  free(s);
  return yes;
}

/* Whether some hit of r lies in `file` and covers `line`. */
static int covers(const seogo_results *r, const char *file, uint32_t line) {
  for (size_t i = 0; i < seogo_results_count(r); i++) {
    const seogo_hit *h = seogo_results_hit(r, i);
    if (strcmp(h->path, file) == 0 && h->line_start <= line && line <= h->line_end) return 1;
  }
  return 0;
}

/* The highlighted text of hit h's k-th range, in a static buffer. */
static const char *highlighted(const seogo_hit *h, size_t k) {
  static char buf[512];
  const seogo_range *r = &h->highlights[k];
  snprintf(buf, sizeof buf, "%.*s", (int)(r->end - r->start), h->snippet + r->start);
  return buf;
}

/* ---- the example queries ------------------------------------------------------------------- */

static void test_sovereign_ai(void) {
  seogo_results *r = search_n("소버린 AI", 1000);
  CHECK(seogo_results_total(r) >= 20);
  CHECK_EQ_INT(seogo_results_count(r), seogo_results_total(r));
  /* 002's summary: "... 소버린 AI(Sovereign AI) 전략을 추진하고 있다." on line 21 */
  CHECK(covers(r, F002, 21));
  for (size_t i = 0; i < seogo_results_count(r); i++) {
    uint64_t pid = seogo_results_hit(r, i)->passage_id;
    CHECK_MSG(contains(pid, "소버린") && (contains(pid, "AI") || contains(pid, "ai")),
              "hit %zu lacks 소버린 or AI", i);
  }
  /* scores descend */
  for (size_t i = 1; i < seogo_results_count(r); i++)
    CHECK(seogo_results_hit(r, i - 1)->score >= seogo_results_hit(r, i)->score);
  seogo_results_free(r);
}

static void test_korean_phrase(void) {
  seogo_results *r = search_n("\"기술 주권\"", 1000);
  CHECK(seogo_results_total(r) >= 15);
  CHECK(covers(r, F002, 5182)); /* 최근 주목받는 ‘기술 주권’은 ... */
  CHECK(covers(r, F002, 5208)); /* 기술 주권은 기술 독립성을 넘어 ... */
  for (size_t i = 0; i < seogo_results_count(r); i++) {
    const seogo_hit *h = seogo_results_hit(r, i);
    CHECK_MSG(contains(h->passage_id, "기술주권"), "%s:%u lacks 기술 주권", h->path,
              (unsigned)h->line_start);
  }
  /* the words of the phrase are highlighted, not 기술 elsewhere */
  const seogo_hit *top = seogo_results_hit(r, 0);
  CHECK(top && top->highlight_count > 0);
  for (size_t k = 0; top && k < top->highlight_count; k++) {
    const char *s = highlighted(top, k);
    CHECK_MSG(strcmp(s, "기술") == 0 || strcmp(s, "주권") == 0 || strcmp(s, "기술주권") == 0 ||
                  strcmp(s, "기술 주권") == 0,
              "highlight \"%s\"", s);
  }
  seogo_results_free(r);
  /* the phrase is narrower than its words */
  CHECK(total_of("\"기술 주권\"") < total_of("기술 주권"));
}

static void test_boolean_query(void) {
  const char *q = "반도체 AND (수출 OR 통제) NOT 중국";
  seogo_results *r = search_n(q, 1000);
  CHECK(seogo_results_total(r) >= 3);
  const seogo_hit *top = seogo_results_hit(r, 0);
  /* 001 line 9: "...반도체와 AI 연산 자원에 대한 수출 통제 집행력을 강화..." */
  CHECK(top && strcmp(top->path, F001) == 0 && top->line_start <= 9 && top->line_end >= 9);
  for (size_t i = 0; i < seogo_results_count(r); i++) {
    uint64_t pid = seogo_results_hit(r, i)->passage_id;
    CHECK(contains(pid, "반도체"));
    CHECK(contains(pid, "수출") || contains(pid, "통제"));
    CHECK_MSG(!contains(pid, "중국"), "hit %zu contains 중국", i);
  }
  seogo_results_free(r);
  /* NOT removes: the same query without NOT has more */
  CHECK(total_of("반도체 AND (수출 OR 통제)") > total_of(q));
  CHECK_EQ_INT(total_of("반도체 (수출 OR 통제) -중국"), total_of(q));
  /* OR is a union, AND an intersection */
  uint64_t a = total_of("수출"), b = total_of("통제");
  uint64_t both = total_of("수출 통제"), either = total_of("수출 OR 통제");
  CHECK_EQ_INT(either + both, a + b);
  CHECK_EQ_INT(total_of("수출 AND 통제"), both);
}

/* A word minus a part of itself: no passage can match, and a part minus the whole is an
 * ordinary exclusion. */
static void test_not_a_part_of_itself(void) {
  CHECK(total_of("\"반도체\"") > 0);
  CHECK_EQ_INT(total_of("\"반도체\" NOT \"도체\""), 0);
  CHECK_EQ_INT(total_of("\"반도체\" NOT \"반도\""), 0);
  CHECK_EQ_INT(total_of("\"반도체\" NOT \"반도체\""), 0);
  CHECK_EQ_INT(total_of("semiconductor NOT semiconductor"), 0);
  /* the part alone, or more than the word: excluded only where it occurs */
  uint64_t part = total_of("\"전략\""), whole = total_of("\"전략적\"");
  CHECK(part > whole && whole > 0);
  CHECK_EQ_INT(total_of("\"전략\" NOT \"전략적\""), part - whole);
  CHECK_EQ_INT(total_of("\"반도체\" NOT \"반도체를\""),
               total_of("\"반도체\"") - total_of("\"반도체를\""));
}

static void test_english_phrase_across_line_break(void) {
  seogo_results *r = search_n("\"technology sovereignty\"", 1000);
  /* all six places in the English abstract, one broken across lines 7833/7835 */
  CHECK(covers(r, F002, 7835));
  CHECK(covers(r, F002, 7851));
  CHECK(covers(r, F002, 7894));
  CHECK(covers(r, F002, 7902));
  CHECK(covers(r, F002, 7923));
  CHECK(covers(r, F002, 7947));
  for (size_t i = 0; i < seogo_results_count(r); i++)
    CHECK(contains(seogo_results_hit(r, i)->passage_id, "sovereignty"));
  seogo_results_free(r);
  /* case and inflection do not matter: the stems match */
  CHECK_EQ_INT(total_of("\"Technology Sovereignty\""), total_of("\"technology sovereignty\""));
}

static void test_korean_phrase_across_pdf_break(void) {
  /* 002 lines 3-5: "... 산업 자본이 아니라 국" / "가의 무역·외교·안보 ..." */
  seogo_results *r = search_n("\"국가의 무역\"", 10);
  CHECK(covers(r, F002, 3) && covers(r, F002, 5));
  const seogo_hit *h = seogo_results_hit(r, 0);
  CHECK(h && h->snippet && strstr(h->snippet, "국가의 무역") != NULL);
  int found = 0; /* quoted: the word as written, particle and all, joined across the break */
  for (size_t k = 0; h && k < h->highlight_count; k++) found |= !strcmp(highlighted(h, k), "국가의");
  CHECK_MSG(found, "국가의 is not highlighted whole in the repaired snippet");
  seogo_results_free(r);
}

/* Quotes ask for the text as written: a quoted Korean word keeps its particle, so "개발이나"
 * finds only 개발이나, while unquoted it finds every form of 개발. */
static void test_quoted_korean_keeps_particles(void) {
  uint64_t quoted = total_of("\"반도체를\""), stem = total_of("반도체");
  CHECK(quoted > 0);
  CHECK(quoted < stem);
  CHECK_EQ_INT(total_of("반도체를"), stem);
  seogo_results *r = search_n("\"반도체를\"", 100);
  for (size_t i = 0; i < seogo_results_count(r); i++)
    CHECK(contains(seogo_results_hit(r, i)->passage_id, "반도체를"));
  seogo_results_free(r);
}

static void test_particles_are_stripped(void) {
  seogo_results *a = search_n("반도체를", 1000), *b = search_n("반도체", 1000);
  CHECK(seogo_results_total(a) > 20);
  CHECK_EQ_INT(seogo_results_total(a), seogo_results_total(b));
  for (size_t i = 0; i < seogo_results_count(a) && i < seogo_results_count(b); i++)
    CHECK_EQ_INT(seogo_results_hit(a, i)->passage_id, seogo_results_hit(b, i)->passage_id);
  seogo_results_free(a);
  seogo_results_free(b);
}

static void test_particle_on_latin_word(void) {
  /* AI를 means AI, GPU에서 means GPU; a counter is no particle: 2025년 is narrower than 2025 */
  CHECK_EQ_INT(total_of("AI를"), total_of("AI"));
  CHECK_EQ_INT(total_of("GPU에서"), total_of("GPU"));
  CHECK(total_of("2025년") < total_of("2025"));
  /* in a phrase the particle's place stays: "AI를 활용" finds AI를 활용 and AI 활용 */
  CHECK(total_of("\"AI를 활용\"") > total_of("\"AI 활용\""));
}

static void test_acronym_plural_in_lower_case(void) {
  /* the report writes GVCs and GPUs; a reader types gvcs or gpus, or the singular */
  CHECK(total_of("GVCs") > 0);
  CHECK_EQ_INT(total_of("gvcs"), total_of("GVCs"));
  CHECK_EQ_INT(total_of("gvcs"), total_of("GVC"));
  CHECK_EQ_INT(total_of("gpus"), total_of("GPU"));
  CHECK(total_of("\"of gpus\"") > 0);
  CHECK_EQ_INT(total_of("\"of gpus\""), total_of("\"of GPUs\""));
}

static void test_korean_word_inside_longer_words(void) {
  /* 정책 finds 정책을, 정책의 ...; the highlight is 정책 alone */
  seogo_results *r = search_n("정책 file:*001*", 50);
  CHECK(seogo_results_total(r) > 0);
  int whole_before_particle = 0;
  for (size_t i = 0; i < seogo_results_count(r); i++) {
    const seogo_hit *h = seogo_results_hit(r, i);
    CHECK(strcmp(h->path, F001) == 0);
    for (size_t k = 0; k < h->highlight_count; k++) {
      CHECK_EQ_STR(highlighted(h, k), "정책");
      if (!strncmp(h->snippet + h->highlights[k].end, "을", 3)) whole_before_particle = 1;
    }
  }
  CHECK_MSG(whole_before_particle, "no hit shows 정책 highlighted in 정책을");
  seogo_results_free(r);
}

static void test_compound_written_apart(void) {
  /* the corpus writes 데이터 주권 apart (002 line 262: "... 통제할 수 있는 데이터 주권 등의 요소") */
  seogo_results *r = search_n("데이터주권", 100);
  CHECK(covers(r, F002, 262));
  const seogo_hit *h = seogo_results_hit(r, 0);
  CHECK(h && h->highlight_count == 2 && !strcmp(highlighted(h, 0), "데이터") &&
        !strcmp(highlighted(h, 1), "주권"));
  seogo_results_free(r);
  /* but not with another word between: "웨강아오 데이터 백업 센터" (002 line 3539) */
  r = search_n("데이터센터", 1000);
  CHECK(covers(r, F002, 3824)); /* "(서부 데이터 센터)" */
  CHECK(!covers(r, F002, 3539));
  seogo_results_free(r);
  /* quoted, a compound is searched as written: together only */
  r = search_n("\"데이터주권\"", 100);
  CHECK(!covers(r, F002, 262));
  seogo_results_free(r);
  r = search_n("\"기술주권\"", 1000); /* 002 line 11: 기술주권론; line 5208: 기술 주권은 */
  CHECK(covers(r, F002, 11) && !covers(r, F002, 5208));
  seogo_results_free(r);
  /* and written together, a compound is counted once */
  r = search_n("기술주권", 1000);
  CHECK(covers(r, F002, 5208) && covers(r, F002, 5182));
  seogo_results_free(r);
}

static void test_mixed_script_word(void) {
  seogo_results *r = search_n("AI반도체", 1000);
  CHECK(seogo_results_total(r) >= 5);
  CHECK(covers(r, F002, 4065)); /* "... AI 반도체" in a table of 002 */
  /* ai then 반도체 as the next word ("AI 반도체", "AI·반도체", "AI반도체") */
  for (size_t i = 0; i < seogo_results_count(r); i++) {
    const seogo_hit *h = seogo_results_hit(r, i);
    CHECK(contains(h->passage_id, "AI반도체") || contains(h->passage_id, "AI·반도체") ||
          contains(h->passage_id, "AI,반도체"));
    CHECK(h->highlight_count >= 2);
  }
  seogo_results_free(r);
  /* an implicit phrase: narrower than the two words */
  CHECK(total_of("AI반도체") < total_of("AI 반도체"));
}

static void test_file_filter(void) {
  seogo_document doc;
  CHECK_EQ_INT(seogo_document_info(ix, F002, &doc, NULL), SEOGO_OK);
  seogo_results *r = search_n("file:*002*", 5);
  CHECK_EQ_INT(seogo_results_total(r), doc.passages);
  /* all scores tie, so passages come in id order */
  for (size_t i = 0; i < seogo_results_count(r); i++) {
    const seogo_hit *h = seogo_results_hit(r, i);
    CHECK(strcmp(h->path, F002) == 0);
    if (i) CHECK(h->passage_id > seogo_results_hit(r, i - 1)->passage_id);
  }
  CHECK(covers(r, F002, 1));
  seogo_results_free(r);
  CHECK_EQ_INT(total_of("file:002_*"), doc.passages); /* the base name matches too */
  CHECK_EQ_INT(total_of("file:*.pdf"), 0);
  uint64_t all = total_of("반도체"), in002 = total_of("반도체 file:*002*");
  CHECK(in002 > 0 && in002 < all);
  CHECK_EQ_INT(total_of("반도체 -file:*002*") + in002, all);
}

static void test_near_prefix_syllable(void) {
  uint64_t near20 = total_of("NEAR(엔비디아 GPU, 20)"), near2 = total_of("NEAR(엔비디아 GPU, 2)");
  CHECK(near20 > 0 && near2 > 0 && near2 <= near20);
  CHECK(near20 <= total_of("엔비디아 GPU"));
  seogo_results *r = search_n("NEAR(GPU 엔비디아, 2)", 100);
  for (size_t i = 0; i < seogo_results_count(r); i++)
    CHECK(contains(seogo_results_hit(r, i)->passage_id, "엔비디아"));
  seogo_results_free(r);
  /* prefixes: sovereign* reaches sovereignty; 반도* at least every 반도체 */
  r = search_n("sovereign*", 1000);
  CHECK(covers(r, F002, 7851));
  seogo_results_free(r);
  CHECK(total_of("반도*") >= total_of("반도체"));
  /* a one-syllable word: 칩 alone and as the start of a longer word */
  r = search_n("칩", 100);
  CHECK(seogo_results_total(r) > 0);
  for (size_t i = 0; i < seogo_results_count(r); i++)
    CHECK(contains(seogo_results_hit(r, i)->passage_id, "칩"));
  seogo_results_free(r);
}

static void test_grouping_limit_offset(void) {
  seogo_search_options o;
  seogo_search_options_init(&o);
  o.group = 1;
  seogo_results *r = search_opt("AI", &o);
  CHECK_EQ_INT(seogo_results_total(r), 5);
  CHECK_EQ_INT(seogo_results_count(r), 5);
  for (size_t i = 0; i < seogo_results_count(r); i++)
    for (size_t j = 0; j < i; j++)
      CHECK(seogo_results_hit(r, i)->doc_id != seogo_results_hit(r, j)->doc_id);
  seogo_results_free(r);
  seogo_search_options_init(&o);
  o.limit = 6;
  o.exact_total = 1;
  seogo_results *all = search_opt("반도체", &o);
  o.limit = 3;
  o.offset = 2;
  seogo_results *page = search_opt("반도체", &o);
  CHECK_EQ_INT(seogo_results_count(page), 3);
  CHECK(seogo_results_total_is_exact(all) && seogo_results_total_is_exact(page));
  CHECK_EQ_INT(seogo_results_total(page), seogo_results_total(all));
  CHECK_EQ_INT(seogo_results_total(all), total_of("반도체"));
  for (size_t i = 0; i < 3; i++)
    CHECK_EQ_INT(seogo_results_hit(page, i)->passage_id,
                 seogo_results_hit(all, i + 2)->passage_id);
  seogo_results_free(all);
  seogo_results_free(page);
}

/* Re-analyzing a passage alone (as snippets do) repairs its PDF line breaks exactly as the
 * analysis of the whole document did, for every passage of 002. */
static void test_passages_repair_like_their_document(void) {
  seogo_document info;
  CHECK_EQ_INT(seogo_document_info(ix, F002, &info, NULL), SEOGO_OK);
  sg_reader r;
  CHECK_EQ_INT(sg_reader_begin(&r, ix, NULL), SEOGO_OK);
  sg_doc d;
  const char *text;
  size_t len;
  CHECK_EQ_INT(sg_reader_doc(&r, (uint32_t)info.doc_id, &d, NULL), SEOGO_OK);
  CHECK_EQ_INT(sg_reader_text(&r, (uint32_t)info.doc_id, &text, &len, NULL), SEOGO_OK);
  CHECK(d.pdf_like);
  sg_analyzer *a;
  CHECK_EQ_INT(sg_analyzer_new(&a, NULL), SEOGO_OK);
  sg_analysis whole, part;
  sg_analysis_init(&whole);
  sg_analysis_init(&part);
  CHECK_EQ_INT(sg_analyze(a, text, len, SG_ANALYZE_DOCUMENT, &whole, NULL), SEOGO_OK);
  size_t differ = 0, joins = 0, j = 0;
  for (uint32_t pid = d.first_pid; pid < d.first_pid + d.npassages; pid++) {
    sg_passage p;
    if (sg_reader_passage(&r, pid, &p, NULL, NULL) != SEOGO_OK) continue;
    part.layout.pdf_like = d.pdf_like;
    part.layout.short_line = (uint16_t)d.short_line;
    part.span_lead_chars = sg_snippet_lead_chars(text, p.start);
    CHECK_EQ_INT(sg_analyze(a, text + p.start, p.end - p.start, SG_ANALYZE_SPAN, &part, NULL),
                 SEOGO_OK);
    while (j < whole.njoins && whole.joins[j].start < p.start) j++;
    size_t k = j, n = 0;
    for (; k < whole.njoins && whole.joins[k].end <= p.end; k++, n++) {
      const sg_join *w = &whole.joins[k], *s = n < part.njoins ? &part.joins[n] : NULL;
      if (!s || s->start + p.start != w->start || s->end + p.start != w->end ||
          s->space != w->space)
        differ++;
    }
    if (n != part.njoins) differ++;
    joins += n;
  }
  CHECK(joins > 100);
  CHECK_MSG(differ == 0, "%zu passages repair differently alone", differ);
  sg_analysis_free(&whole);
  sg_analysis_free(&part);
  sg_analyzer_free(a);
  sg_reader_end(&r);
}

static void test_snippets(void) {
  seogo_results *r = search_n("소버린 AI", 10);
  for (size_t i = 0; i < seogo_results_count(r); i++) {
    const seogo_hit *h = seogo_results_hit(r, i);
    CHECK(h->snippet != NULL && h->snippet_len == strlen(h->snippet));
    CHECK(strchr(h->snippet, '\n') == NULL);
    /* valid UTF-8 and about snippet_chars characters */
    utf8proc_ssize_t chars = 0;
    for (size_t k = 0; k < h->snippet_len; chars++) {
      utf8proc_int32_t cp;
      utf8proc_ssize_t n = utf8proc_iterate((const utf8proc_uint8_t *)h->snippet + k,
                                            (utf8proc_ssize_t)(h->snippet_len - k), &cp);
      CHECK(n > 0);
      if (n <= 0) break;
      k += (size_t)n;
    }
    CHECK_MSG(chars <= 240 + 10, "snippet of %ld characters", (long)chars);
    CHECK(h->highlight_count > 0);
    for (size_t k = 0; k < h->highlight_count; k++) {
      CHECK(h->highlights[k].start < h->highlights[k].end);
      CHECK(h->highlights[k].end <= h->snippet_len);
      if (k) CHECK(h->highlights[k].start >= h->highlights[k - 1].end);
      const char *s = highlighted(h, k);
      CHECK_MSG(!strcmp(s, "소버린") || !strcasecmp(s, "AI"), "highlight \"%s\"", s);
    }
  }
  seogo_results_free(r);
  seogo_search_options o;
  seogo_search_options_init(&o);
  o.snippets = 0;
  r = search_opt("소버린 AI", &o);
  CHECK(seogo_results_count(r) > 0 && seogo_results_hit(r, 0)->snippet == NULL);
  seogo_results_free(r);
}

static void test_one_unit_needs_no_df(void) {
  /* a query's only unit is ranked without its df (an estimate from its bigrams' records stands
   * in): its idf scales every score alike. Weighed against another word, its df is counted;
   * the hits and their order stay the same, the scores differ by one factor. */
  seogo_results *alone = search_n("데이터주권", 20);
  seogo_results *with_or = search_n("데이터주권 OR zyxwvutsrq", 20);
  seogo_results *with_not = search_n("데이터주권 -zyxwvutsrq", 20);
  CHECK(seogo_results_count(alone) >= 3);
  CHECK_EQ_INT(seogo_results_count(alone), seogo_results_count(with_or));
  CHECK_EQ_INT(seogo_results_count(alone), seogo_results_count(with_not));
  double factor = 0;
  for (size_t i = 0; i < seogo_results_count(alone) && i < seogo_results_count(with_or); i++) {
    const seogo_hit *a = seogo_results_hit(alone, i), *o = seogo_results_hit(with_or, i),
                    *n = seogo_results_hit(with_not, i);
    CHECK(a->passage_id == o->passage_id && a->passage_id == n->passage_id);
    if (i == 0) factor = o->score / a->score;
    CHECK_MSG(fabs(a->score * factor - o->score) < 1e-6 * o->score &&
                  fabs(a->score - n->score) < 1e-9,
              "scores %.6f %.6f %.6f", a->score, o->score, n->score);
  }
  CHECK(factor > 0);
  seogo_results_free(alone);
  seogo_results_free(with_or);
  seogo_results_free(with_not);
}

/* One search visiting every match (exact_total) and one pruning what cannot enter the top k. */
static void check_pruned_like_exhaustive(const char *q, uint32_t limit, int group,
                                         int *pruned) {
  seogo_search_options o;
  seogo_search_options_init(&o);
  o.limit = limit;
  o.group = group;
  o.snippets = 0;
  o.exact_total = 1;
  seogo_results *all = search_opt(q, &o);
  o.exact_total = 0;
  seogo_results *top = search_opt(q, &o);
  if (!all || !top) {
    seogo_results_free(all);
    seogo_results_free(top);
    return;
  }
  CHECK(seogo_results_total_is_exact(all));
  CHECK_MSG(seogo_results_count(top) == seogo_results_count(all), "[%s] limit %u group %d: %zu "
            "hits, exhaustively %zu", q, (unsigned)limit, group, seogo_results_count(top),
            seogo_results_count(all));
  for (size_t i = 0; i < seogo_results_count(top) && i < seogo_results_count(all); i++) {
    const seogo_hit *t = seogo_results_hit(top, i), *a = seogo_results_hit(all, i);
    CHECK_MSG(t->passage_id == a->passage_id && t->score == a->score,
              "[%s] limit %u group %d hit %zu: passage %llu score %.9f, exhaustively %llu %.9f",
              q, (unsigned)limit, group, i, (unsigned long long)t->passage_id, t->score,
              (unsigned long long)a->passage_id, a->score);
  }
  uint64_t n = seogo_results_total(top), exact = seogo_results_total(all);
  if (seogo_results_total_is_exact(top)) CHECK_EQ_INT(n, exact);
  else CHECK(n >= seogo_results_count(top) && n <= exact);
  if (!seogo_results_total_is_exact(top)) *pruned = 1;
  seogo_results_free(all);
  seogo_results_free(top);
}

static void test_pruning_keeps_the_top_k(void) {
  /* pruning skips passages whose score bounds cannot beat the k-th best: the hits, their order
   * and their scores are those of visiting every match; only the total becomes a lower bound */
  static const char *const queries[] = {
      "반도체", "AI", "정책", "데이터센터", "기술주권", "반도체를", "수출통제가", "GPU",
      "semiconductors", "\"소버린 AI\"", "\"AI Action Plan\"", "소버린 AI", "AI반도체",
      "반도체 AND 수출", "반도체 OR GPU", "AI OR 데이터 OR 정책", "반도체 -중국",
      "반도체 AND (수출 OR 통제) NOT 중국", "NEAR(엔비디아 협력, 5)", "semicond*", "레버리지*",
      "칩", "반도체 file:*001_*", "행동 계획", "2025년 11월",
      /* a frequent word OR a rare one: the frequent one is looked up only where the rare one
       * is, once the top k is beyond its reach */
      "정책 OR 엔비디아", "\"반도체\" OR 레버리지", "AI OR 정책 OR 엔비디아", "\"기술\" OR GPU"};
  static const uint32_t limits[] = {1, 3, 10};
  int pruned = 0;
  for (size_t q = 0; q < sizeof queries / sizeof queries[0]; q++)
    for (size_t l = 0; l < sizeof limits / sizeof limits[0]; l++)
      for (int group = 0; group < 2; group++)
        check_pruned_like_exhaustive(queries[q], limits[l], group, &pruned);
  CHECK(pruned); /* the test did exercise pruning */
}

/* Every passage of a search (limit large enough for all), in ascending id order; *n of them. */
static uint64_t *all_pids(const char *q, size_t *n) {
  seogo_search_options o;
  seogo_search_options_init(&o);
  o.limit = 100000;
  o.snippets = 0;
  o.exact_total = 1;
  seogo_results *r = search_opt(q, &o);
  *n = seogo_results_count(r);
  uint64_t *pids = malloc((*n + 1) * sizeof *pids);
  for (size_t i = 0; i < *n; i++) pids[i] = seogo_results_hit(r, i)->passage_id;
  for (size_t i = 1; i < *n; i++) /* insertion sort: a few hundred hits */
    for (size_t j = i; j > 0 && pids[j - 1] > pids[j]; j--) {
      uint64_t x = pids[j];
      pids[j] = pids[j - 1];
      pids[j - 1] = x;
    }
  seogo_results_free(r);
  return pids;
}

static void test_intersection_of_frequent_words(void) {
  /* words of one term each (two-syllable Korean words, English words) meet by moving their
   * cursors in turns: the passages where they all occur are exactly those of every word's own
   * search, across the blocks of their postings, with or without pruning */
  static const char *const words[][3] = {
      {"기술", "산업", NULL},
      {"기술", "정책", "국가"},
      {"핵심", "기술", NULL},
      {"기반", "산업", NULL},
      {"협력", "전략", "미국"},
      {"AI", "GPU", NULL},
      {"기술", "모델", NULL},
      /* words of several bigrams, each bigram also found without the others */
      {"데이터", "인프라", NULL},
      {"데이터", "기술", NULL},
      {"인프라", "산업", "미국"}};
  for (size_t q = 0; q < sizeof words / sizeof words[0]; q++) {
    char query[256] = "";
    size_t nw = words[q][2] ? 3 : 2, n0 = 0;
    uint64_t *meet = NULL;
    for (size_t w = 0; w < nw; w++) {
      size_t n;
      uint64_t *pids = all_pids(words[q][w], &n);
      CHECK_MSG(n >= 20, "[%s] is frequent in the corpus (%zu passages)", words[q][w], n);
      if (!meet) {
        meet = pids;
        n0 = n;
        continue;
      }
      size_t kept = 0, j = 0;
      for (size_t i = 0; i < n0; i++) {
        while (j < n && pids[j] < meet[i]) j++;
        if (j < n && pids[j] == meet[i]) meet[kept++] = meet[i];
      }
      n0 = kept;
      free(pids);
    }
    for (size_t w = 0; w < nw; w++)
      snprintf(query + strlen(query), sizeof query - strlen(query), "%s%s", w ? " AND " : "",
               words[q][w]);
    size_t n;
    uint64_t *pids = all_pids(query, &n);
    CHECK_MSG(n == n0 && n0 > 0, "[%s]: %zu passages, the words' own searches meet in %zu", query,
              n, n0);
    for (size_t i = 0; i < n && i < n0; i++) CHECK_EQ_INT(pids[i], meet[i]);
    int pruned = 0;
    for (uint32_t limit = 1; limit <= 10; limit += 9)
      check_pruned_like_exhaustive(query, limit, 0, &pruned);
    free(pids);
    free(meet);
  }
  /* one word without another: where it occurs less where both do */
  static const char *const without[][2] = {
      {"인프라", "미국"}, {"데이터", "산업"}, {"기술", "정책"}};
  for (size_t q = 0; q < sizeof without / sizeof without[0]; q++) {
    char minus[128], both[128];
    snprintf(minus, sizeof minus, "%s -%s", without[q][0], without[q][1]);
    snprintf(both, sizeof both, "%s AND %s", without[q][0], without[q][1]);
    size_t n, nw, nb;
    free(all_pids(minus, &n));
    free(all_pids(without[q][0], &nw));
    free(all_pids(both, &nb));
    CHECK_MSG(n == nw - nb && nb > 0, "[%s]: %zu passages, [%s] %zu less %zu", minus, n,
              without[q][0], nw, nb);
  }
  /* the same words as phrases: a part of where they meet */
  static const char *const pairs[][2] = {
      {"핵심", "기술"}, {"기술", "협력"}, {"국가", "전략"}, {"기반", "산업"}, {"sovereign", "AI"}};
  int pruned = 0;
  for (size_t q = 0; q < sizeof pairs / sizeof pairs[0]; q++) {
    char phrase[128], both[128];
    snprintf(phrase, sizeof phrase, "\"%s %s\"", pairs[q][0], pairs[q][1]);
    snprintf(both, sizeof both, "%s AND %s", pairs[q][0], pairs[q][1]);
    size_t n, nb, j = 0;
    uint64_t *pids = all_pids(phrase, &n), *meet = all_pids(both, &nb);
    CHECK_MSG(n > 0 && n <= nb, "[%s]: %zu passages, the words meet in %zu", phrase, n, nb);
    for (size_t i = 0; i < n; i++) {
      while (j < nb && meet[j] < pids[i]) j++;
      CHECK_MSG(j < nb && meet[j] == pids[i], "[%s]: passage %llu lacks a word", phrase,
                (unsigned long long)pids[i]);
    }
    free(pids);
    free(meet);
    for (uint32_t limit = 1; limit <= 10; limit += 9)
      check_pruned_like_exhaustive(phrase, limit, 0, &pruned);
  }
}

static void test_pruned_phrase_counts_a_repeated_last_word(void) {
  /* a Korean phrase's second word may follow its first one or two positions on, so one 국가
   * begins two "국가 전략" in "국가 전략 전략": pruning that asks the first word for as many
   * occurrences as the phrase needs would skip the best passage, which comes last */
  char dir[512];
  snprintf(dir, sizeof dir, "%s/repeat-index", tl_tmpdir());
  seogo_index *rix;
  seogo_error err = {0};
  CHECK_EQ_INT(seogo_open(dir, SEOGO_OPEN_WRITE, &rix, &err), SEOGO_OK);
  char name[32], text[128];
  for (int i = 0; i < 40; i++) {
    /* twice the phrase with 국가 twice; once; 전략 alone (the rarer word is then 국가) */
    const char *body = i < 10   ? "국가 전략 보고서 국가 전략 발표 자료."
                       : i < 20 ? "국가 전략 보고서."
                                : "전략 보고서.";
    snprintf(name, sizeof name, "doc%02d.txt", i);
    snprintf(text, sizeof text, "%s\n", body);
    CHECK_EQ_INT(seogo_add_buffer(rix, name, text, strlen(text), 0, NULL, &err), SEOGO_OK);
  }
  const char *best = "국가 전략 전략.\n"; /* shortest, phrase twice, 국가 once */
  CHECK_EQ_INT(seogo_add_buffer(rix, "last.txt", best, strlen(best), 0, NULL, &err), SEOGO_OK);
  CHECK_EQ_INT(seogo_commit(rix, &err), SEOGO_OK);
  seogo_search_options o;
  seogo_search_options_init(&o);
  o.limit = 1;
  o.snippets = 0;
  seogo_results *res = NULL;
  const char *q = "\"국가 전략\"";
  CHECK_EQ_INT(seogo_search(rix, q, strlen(q), &o, &res, &err), SEOGO_OK);
  CHECK_EQ_INT(seogo_results_count(res), 1);
  if (seogo_results_count(res) == 1)
    CHECK_MSG(!strcmp(seogo_results_hit(res, 0)->path, "last.txt"), "[%s]: best hit %s", q,
              seogo_results_hit(res, 0)->path);
  seogo_results_free(res);
  seogo_close(rix);
}

static void test_explain(void) {
  seogo_search_options o;
  seogo_search_options_init(&o);
  o.explain = 1;
  o.limit = 2;
  seogo_results *r = search_opt("반도체 \"기술 주권\"", &o);
  const char *e = seogo_results_explain(r);
  CHECK(e && strstr(e, "AND(반도체, \"기술 주권\")") && strstr(e, "idf=") && strstr(e, "hit 1"));
  seogo_results_free(r);
  r = search_n("반도체", 1);
  CHECK(seogo_results_explain(r) == NULL);
  seogo_results_free(r);
}

static void test_errors(void) {
  seogo_results *r = NULL;
  seogo_error err = {0};
  CHECK_EQ_INT(seogo_search(ix, "소버린 \"기술", strlen("소버린 \"기술"), NULL, &r, &err),
               SEOGO_EQUERY);
  CHECK(r == NULL);
  CHECK_EQ_INT(err.column, 5);
  CHECK_EQ_INT(seogo_search(ix, "NOT 중국", strlen("NOT 중국"), NULL, &r, &err), SEOGO_EQUERY);
  CHECK_EQ_INT(err.column, 1);
  CHECK_EQ_INT(seogo_search(ix, "a OR NOT b", 10, NULL, &r, &err), SEOGO_EQUERY);
  CHECK_EQ_INT(err.column, 6);
  CHECK_EQ_INT(seogo_search(ix, "!!! ...", 7, NULL, &r, &err), SEOGO_EQUERY);
  CHECK_EQ_INT(seogo_search(NULL, "a", 1, NULL, &r, &err), SEOGO_EINVAL);
  CHECK_EQ_INT(seogo_search(ix, "a", 1, NULL, NULL, &err), SEOGO_EINVAL);
  seogo_search_options o;
  seogo_search_options_init(&o);
  o.b = 2;
  CHECK_EQ_INT(seogo_search(ix, "a", 1, &o, &r, &err), SEOGO_EINVAL);
  CHECK_EQ_INT(seogo_search(ix, "e*", 2, NULL, &r, &err), SEOGO_OK); /* bounded expansion */
  seogo_results_free(r);
  r = search_n("zyxwvutsrq", 10);
  CHECK(r && seogo_results_total(r) == 0 && seogo_results_count(r) == 0);
  seogo_results_free(r);
}

/* ---- postings cursors ---------------------------------------------------------------------- */

static void test_postings_cursor_skips_blocks(void) {
  sg_reader r;
  CHECK_EQ_INT(sg_reader_begin(&r, ix, NULL), SEOGO_OK);
  sg_term_info info;
  CHECK_EQ_INT(sg_reader_term(&r, "ai", 2, &info, NULL), SEOGO_OK);
  CHECK_MSG(info.nblocks >= 3, "ai has %u blocks", (unsigned)info.nblocks);
  /* every passage in order, one step at a time */
  uint32_t *all = malloc((info.df + 1) * sizeof *all);
  size_t n = 0;
  sg_postings p;
  CHECK_EQ_INT(sg_postings_open(&p, &r, "ai", 2, NULL), SEOGO_OK);
  while (p.pid != SG_PID_END && n <= info.df) {
    all[n++] = p.pid;
    CHECK_EQ_INT(sg_postings_seek(&p, p.pid + 1, NULL), SEOGO_OK);
  }
  sg_postings_close(&p);
  CHECK_EQ_INT(n, info.df);
  /* seeking ahead by any stride lands on the first passage at or after the target, whether it
   * is in the same block, the next one or several blocks on */
  for (uint32_t stride = 1; stride < 2000; stride = stride * 3 + 1) {
    CHECK_EQ_INT(sg_postings_open(&p, &r, "ai", 2, NULL), SEOGO_OK);
    size_t i = 0, wrong = 0;
    for (uint32_t t = 1;; t += stride) {
      CHECK_EQ_INT(sg_postings_seek(&p, t, NULL), SEOGO_OK);
      while (i < n && all[i] < t) i++;
      if (p.pid != (i < n ? all[i] : SG_PID_END)) wrong++;
      if (p.pid == SG_PID_END) break;
    }
    CHECK_MSG(wrong == 0, "stride %u: %zu wrong seeks", (unsigned)stride, wrong);
    /* rewinding starts over */
    CHECK_EQ_INT(sg_postings_rewind(&p, NULL), SEOGO_OK);
    CHECK_EQ_INT(p.pid, all[0]);
    sg_postings_close(&p);
  }
  /* a term that is not indexed has no passages */
  CHECK_EQ_INT(sg_postings_open(&p, &r, "zyxwvutsrq", 10, NULL), SEOGO_OK);
  CHECK_EQ_INT(p.pid, SG_PID_END);
  sg_postings_close(&p);
  free(all);
  sg_reader_end(&r);
}

/* ---- threads ---------------------------------------------------------------------------- */

static const char *const THREAD_QUERIES[] = {"소버린 AI", "\"기술 주권\"", "반도체를",
                                             "AI반도체", "sovereign*", "NEAR(엔비디아 GPU)"};
#define NQ (sizeof THREAD_QUERIES / sizeof THREAD_QUERIES[0])

static uint64_t expected_first[NQ];

static void *search_thread(void *arg) {
  long bad = 0;
  for (int round = 0; round < 5; round++) {
    for (size_t q = 0; q < NQ; q++) {
      seogo_results *r = NULL;
      const char *s = THREAD_QUERIES[q];
      if (seogo_search(ix, s, strlen(s), NULL, &r, NULL) != SEOGO_OK) bad++;
      else if (seogo_results_hit(r, 0)->passage_id != expected_first[q]) bad++;
      seogo_results_free(r);
    }
  }
  return (void *)bad;
}

static void test_concurrent_searches(void) {
  for (size_t q = 0; q < NQ; q++) {
    seogo_results *r = search_n(THREAD_QUERIES[q], 1);
    expected_first[q] = seogo_results_count(r) ? seogo_results_hit(r, 0)->passage_id : 0;
    seogo_results_free(r);
  }
  pthread_t t[4];
  for (int i = 0; i < 4; i++) pthread_create(&t[i], NULL, search_thread, NULL);
  for (int i = 0; i < 4; i++) {
    void *bad;
    pthread_join(t[i], &bad);
    CHECK_EQ_INT((long)bad, 0);
  }
}

/* ---- a damaged index ---------------------------------------------------------------------- */

static void test_corrupt_postings_are_an_error(void) {
  sg_store *st = ix->store;
  MDB_txn *txn;
  CHECK_EQ_INT(sg_store_write_begin(st, &txn, NULL), SEOGO_OK);
  MDB_cursor *cur;
  mdb_cursor_open(txn, st->postings, &cur);
  sg_buf key = {0};
  sg_postings_key(&key, "반도", strlen("반도"), 0);
  MDB_val k = {key.len, key.data}, v;
  CHECK_EQ_INT(mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE), 0);
  unsigned char garbage[] = {0x05, 0x7f, 0x01, 0xff, 0xff};
  MDB_val g = {sizeof garbage, garbage};
  CHECK_EQ_INT(mdb_cursor_put(cur, &k, &g, MDB_CURRENT), 0);
  mdb_cursor_close(cur);
  CHECK_EQ_INT(sg_store_commit(st, txn, NULL), SEOGO_OK);
  sg_buf_free(&key);
  seogo_results *r = NULL;
  seogo_error err = {0};
  CHECK_EQ_INT(seogo_search(ix, "반도체", strlen("반도체"), NULL, &r, &err), SEOGO_ECORRUPT);
  CHECK(r == NULL && strstr(err.message, "corrupt") != NULL);
  CHECK_EQ_INT(seogo_search(ix, "반*", strlen("반*"), NULL, &r, &err), SEOGO_ECORRUPT);
  /* other words still work */
  r = search_n("소버린", 1);
  CHECK(seogo_results_count(r) == 1);
  uint32_t pid = r && seogo_results_count(r) ? (uint32_t)seogo_results_hit(r, 0)->passage_id : 1;
  seogo_results_free(r);
  /* a passage record pointing past its document's text: the snippet is refused, not read */
  CHECK_EQ_INT(sg_store_write_begin(st, &txn, NULL), SEOGO_OK);
  unsigned char pkey[4];
  sg_put_be32(pkey, pid / SG_PASSAGES_PER_KEY);
  MDB_val pk = {4, pkey}, pv;
  CHECK_EQ_INT(mdb_get(txn, st->passages, &pk, &pv), 0);
  static sg_passage page[SG_PASSAGES_PER_KEY];
  static sg_page_doc docs[SG_PASSAGES_PER_KEY];
  uint32_t n = 0, ndocs = 0, at = pid % SG_PASSAGES_PER_KEY;
  CHECK_EQ_INT(sg_passage_page_decode(pv.mv_data, pv.mv_size, page, &n, docs, &ndocs, NULL),
               SEOGO_OK);
  CHECK(at < n && page[at].doc_id != 0);
  page[at].end = 1000000000;
  sg_buf val = {0};
  CHECK(sg_passage_page_encode(&val, page, n, docs, ndocs) == 0);
  pv = (MDB_val){val.len, val.data};
  CHECK_EQ_INT(mdb_put(txn, st->passages, &pk, &pv, 0), 0);
  CHECK_EQ_INT(sg_store_commit(st, txn, NULL), SEOGO_OK);
  sg_buf_free(&val);
  CHECK_EQ_INT(seogo_search(ix, "소버린", strlen("소버린"), NULL, &r, &err), SEOGO_ECORRUPT);
  CHECK(r == NULL);
}

int main(void) {
  build_index();
  RUN(test_sovereign_ai);
  RUN(test_korean_phrase);
  RUN(test_boolean_query);
  RUN(test_not_a_part_of_itself);
  RUN(test_english_phrase_across_line_break);
  RUN(test_korean_phrase_across_pdf_break);
  RUN(test_particles_are_stripped);
  RUN(test_quoted_korean_keeps_particles);
  RUN(test_particle_on_latin_word);
  RUN(test_acronym_plural_in_lower_case);
  RUN(test_korean_word_inside_longer_words);
  RUN(test_compound_written_apart);
  RUN(test_mixed_script_word);
  RUN(test_file_filter);
  RUN(test_near_prefix_syllable);
  RUN(test_grouping_limit_offset);
  RUN(test_passages_repair_like_their_document);
  RUN(test_snippets);
  RUN(test_one_unit_needs_no_df);
  RUN(test_pruning_keeps_the_top_k);
  RUN(test_intersection_of_frequent_words);
  RUN(test_pruned_phrase_counts_a_repeated_last_word);
  RUN(test_explain);
  RUN(test_errors);
  RUN(test_postings_cursor_skips_blocks);
  RUN(test_concurrent_searches);
  RUN(test_corrupt_postings_are_an_error); /* last: it damages the index */
  seogo_close(ix);
  return tl_summary();
}
