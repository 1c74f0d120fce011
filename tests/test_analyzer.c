/* test_analyzer.c - the analyzer on real corpus sentences: terms, flags, positions, byte
 * ranges, lines, normalization, line repair, and hostile input. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "analysis_int.h"
#include "analyzer.h"
#include "batch.h"
#include "indexer.h"
#include "testlib.h"

static sg_analyzer *an;
static sg_analysis res;

static const sg_analysis *run(const char *text, size_t len, int mode) {
  seogo_error err = {0};
  int rc = sg_analyze(an, text, len, mode, &res, &err);
  CHECK_MSG(rc == SEOGO_OK, "sg_analyze failed: %d %s", rc, err.message);
  return &res;
}

static const sg_analysis *doc(const char *text) { return run(text, strlen(text), SG_ANALYZE_DOCUMENT); }
static const sg_analysis *query(const char *text) { return run(text, strlen(text), SG_ANALYZE_QUERY); }

/* The terms of r joined by spaces (static buffer). */
static const char *terms(const sg_analysis *r) {
  static char buf[8192];
  size_t len = 0;
  buf[0] = 0;
  for (size_t i = 0; i < r->ntokens && len + SG_MAX_TERM_BYTES + 2 < sizeof buf; i++) {
    if (i) buf[len++] = ' ';
    memcpy(buf + len, sg_token_term(r, &r->tokens[i]), r->tokens[i].term_len);
    len += r->tokens[i].term_len;
  }
  buf[len] = 0;
  return buf;
}

/* Index of the first token with term `t` at or after `from`, or -1. */
static long find_term(const sg_analysis *r, const char *t, size_t from) {
  for (size_t i = from; i < r->ntokens; i++)
    if (r->tokens[i].term_len == strlen(t) && memcmp(sg_token_term(r, &r->tokens[i]), t, strlen(t)) == 0)
      return (long)i;
  return -1;
}

/* Whether the normalized text of r contains s. */
static int norm_has(const sg_analysis *r, const char *s) {
  size_t n = strlen(s);
  for (size_t i = 0; i + n <= r->norm.len; i++)
    if (memcmp(r->norm.data + i, s, n) == 0) return 1;
  return 0;
}

static int has_flag(const sg_analysis *r, long i, unsigned flag) {
  return i >= 0 && (r->tokens[i].flags & flag) != 0;
}

static char *corpus(const char *name, size_t *len) {
  char path[256];
  snprintf(path, sizeof path, "corpus/%s", name);
  return tl_read_file(tl_source_path(path), len);
}

#define W SEOGO_TERM_WORD_START
#define S SEOGO_TERM_STEM_END
#define H SEOGO_TERM_HANGUL

/* ---- Terms, flags and positions ------------------------------------------------------------ */

static void test_sovereign_ai_sentence(void) {
  /* 002: 소버린 AI(Sovereign AI) 전략을 추진하고 있다. */
  const sg_analysis *r = doc("소버린 AI(Sovereign AI) 전략을");
  CHECK_EQ_STR(terms(r), "소버 버린 ai sovereign ai 전략 략을");
  unsigned want[] = {W | H, S | H, W | SEOGO_TERM_LATIN, W | SEOGO_TERM_LATIN,
                     W | SEOGO_TERM_LATIN, W | S | H, H};
  for (size_t i = 0; i < r->ntokens && i < 7; i++) {
    CHECK_EQ_INT(r->tokens[i].flags, want[i]);
    CHECK_EQ_INT(r->tokens[i].pos, i);
  }
}

static void test_middle_dot_splits_words(void) {
  const sg_analysis *r = doc("국가의 무역·외교·안보·정치 전반을");
  CHECK_EQ_STR(terms(r), "국가 가의 무역 외교 안보 정치 전반 반을");
  CHECK(has_flag(r, find_term(r, "외교", 0), W | S));
}

static void test_numbers_next_to_hangul(void) {
  const sg_analysis *r = doc("2025년 11월 24일 엔비디아 GPU 26만 개");
  CHECK_EQ_STR(terms(r), "2025 년 11 월 24 일 엔비 비디 디아 gpu 26 만 개");
  CHECK(has_flag(r, 0, SEOGO_TERM_NUMBER | W));
  CHECK(has_flag(r, 1, W | S | H));
  r = doc("약 1,000억 원, 3.5% 성장, 1,2,3");
  CHECK_EQ_STR(terms(r), "약 1000 억 원 3.5 성장 1 2 3");
}

static void test_english_terms(void) {
  const char *text = "U.S.-led export controls on GPUs and semiconductors; e.g. policies";
  const sg_analysis *r = doc(text);
  CHECK_EQ_STR(terms(r), "us led export control on gpu and semiconductor eg polici");
  /* each term's byte range is the word it came from */
  const char *words[] = {"U.S", "led", "export", "controls", "on", "GPUs", "and", "semiconductors",
                         "e.g", "policies"};
  for (size_t i = 0; i < r->ntokens && i < 10; i++)
    CHECK_MSG(r->tokens[i].end - r->tokens[i].start == strlen(words[i]) &&
                  memcmp(text + r->tokens[i].start, words[i], strlen(words[i])) == 0,
              "term %zu covers [%.*s], expected [%s]", i, (int)(r->tokens[i].end - r->tokens[i].start),
              text + r->tokens[i].start, words[i]);
  CHECK_EQ_STR(terms(doc("the U.S. and the U.S")), "the us and the us");
  CHECK_EQ_STR(terms(doc("America’s AI Action Plan")), terms(doc("america's ai action plan")));
  CHECK_EQ_STR(terms(doc("GPU")), "gpu");
  /* an acronym's plural finds its singular however it is typed; words that end in ss keep it */
  CHECK_EQ_STR(terms(doc("GPUs gpus GVCs gvcs LLMs llms NGOs ngos")),
               "gpu gpu gvc gvc llm llm ngo ngo");
  CHECK_EQ_STR(terms(doc("process class")), "process class");
  CHECK_EQ_STR(terms(doc("www.example.org v2.0")), "www exampl org v2.0");
}

static void test_particles_and_endings(void) {
  struct { const char *word, *stem; } cases[] = {
      {"반도체를", "반도체"}, {"반도체의", "반도체"}, {"반도체가", "반도체"},
      {"수출통제가", "수출통제"}, {"데이터센터에서", "데이터센터"}, {"정책을", "정책"},
      {"국가", "국가"}, {"미국", "미국"}, {"국가의", "국가"}, {"기업들", "기업"},
      {"기업들이", "기업"}, {"전문가", "전문가"}, {"전문가가", "전문가"}, {"경제적인", "경제적"},
      {"경제적으로", "경제적"}, {"추진하고", "추진"}, {"발표했다", "발표"}, {"의존도", "의존도"},
      {"의존도가", "의존도"}, {"인공지능은", "인공지능"}, {"한국은", "한국"}, {"원인", "원인"},
      {"서울로", "서울"}, {"대두되었다", "대두"}, {"통상압박", "통상압박"},
      {"우리나라는", "우리나라"}, {"인프라는", "인프라"}, {"것으로", "것으로"},
      {"기반으로", "기반"}, {"파운데이션", "파운데이션"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    size_t n = strlen(cases[i].word), cut = sg_korean_suffix_len(cases[i].word, n);
    CHECK_MSG(n - cut == strlen(cases[i].stem) && memcmp(cases[i].word, cases[i].stem, n - cut) == 0,
              "stem of %s is %.*s, expected %s", cases[i].word, (int)(n - cut), cases[i].word,
              cases[i].stem);
  }
  CHECK(sg_korean_suffixes_sorted());
  CHECK_EQ_INT(sg_korean_suffix_len("", 0), 0);
  CHECK_EQ_INT(sg_korean_suffix_len("가", 3), 0);
}

static void test_stem_end_in_documents(void) {
  const sg_analysis *r = doc("반도체를 수출통제가 데이터센터에서");
  CHECK_EQ_STR(terms(r), "반도 도체 체를 수출 출통 통제 제가 데이 이터 터센 센터 터에 에서");
  CHECK(has_flag(r, find_term(r, "도체", 0), S) && !has_flag(r, find_term(r, "체를", 0), S));
  CHECK(has_flag(r, find_term(r, "통제", 0), S));
  CHECK(has_flag(r, find_term(r, "센터", 0), S));
  CHECK_EQ_INT(r->tokens[12].pos, 12);
  r = doc("국가 미국 정");
  CHECK_EQ_INT(r->tokens[0].flags, W | S | H);
  CHECK_EQ_INT(r->tokens[1].flags, W | S | H);
  CHECK_EQ_INT(r->tokens[2].flags, W | S | H);
}

static void test_query_strips_particles(void) {
  const sg_analysis *r = query("반도체를");
  CHECK_EQ_STR(terms(r), "반도 도체");
  CHECK_EQ_INT(r->tokens[0].flags, W | H);
  CHECK_EQ_INT(r->tokens[1].flags, S | H);
  CHECK_EQ_STR(terms(query("수출통제가")), "수출 출통 통제");
  CHECK_EQ_STR(terms(query("데이터센터에서")), "데이 이터 터센 센터");
  CHECK_EQ_STR(terms(query("국가")), "국가");
  CHECK_EQ_STR(terms(query("AI반도체")), "ai 반도 도체");
  CHECK_EQ_INT(query("국가 전\n략목표")->njoins, 0);
}

static void test_han_and_kana(void) {
  const sg_analysis *r = doc("美 통상압박 日本語です");
  CHECK_EQ_STR(terms(r), "美 통상 상압 압박 日本 本語 語で です");
  CHECK_EQ_INT(r->tokens[0].flags, W | S | SEOGO_TERM_CJK);
  CHECK_EQ_INT(r->tokens[4].flags, W | SEOGO_TERM_CJK);
  CHECK_EQ_INT(r->tokens[7].flags, S | SEOGO_TERM_CJK);
}

/* ---- Normalization ------------------------------------------------------------------------- */

static void test_nfd_and_fullwidth_fold(void) {
  char nfc[64];
  strcpy(nfc, terms(doc("정책 AI 2025")));
  /* 정책 as conjoining jamo, ＡＩ and ２０２５ in full width */
  CHECK_EQ_STR(terms(doc("\xe1\x84\x8c\xe1\x85\xa5\xe1\x86\xbc\xe1\x84\x8e\xe1\x85\xa2\xe1\x86\xa8 "
                         "\xef\xbc\xa1\xef\xbc\xa9 \xef\xbc\x92\xef\xbc\x90\xef\xbc\x92\xef\xbc\x95")),
               nfc);
  CHECK_EQ_INT(res.tokens[0].start, 0);
  CHECK_EQ_INT(res.tokens[0].end, 18);
  CHECK_EQ_INT(res.tokens[1].start, 19);
  CHECK_EQ_INT(res.tokens[1].end, 25);
  /* a precomposed LV syllable followed by a conjoining final: 가 + ᆨ = 각 */
  CHECK_EQ_STR(terms(doc("\xea\xb0\x80\xe1\x86\xa8")), "각");
}

static void test_ignorables_inside_words(void) {
  const char *text = "정\xc2\xad책을 정\xe2\x80\x8b책\xe2\x80\x8b을 \xef\xbb\xbf반도체";
  const sg_analysis *r = doc(text);
  CHECK_EQ_STR(terms(r), "정책 책을 정책 책을 반도 도체");
  /* the bigram 정책 covers the soft hyphen between its syllables but not the ZWSP after it */
  CHECK_EQ_INT(r->tokens[0].start, 0);
  CHECK_EQ_INT(r->tokens[0].end, 8);
  CHECK_EQ_INT(r->tokens[2].end - r->tokens[2].start, 9);
  CHECK_EQ_INT(r->tokens[4].start, strlen("정\xc2\xad책을 정\xe2\x80\x8b책\xe2\x80\x8b을 \xef\xbb\xbf"));
}

static void test_invalid_utf8_is_replaced_and_counted(void) {
  const char text[] = "첫째 줄\n둘째 \xff줄 정책\xc3\n셋째";
  const sg_analysis *r = run(text, sizeof text - 1, SG_ANALYZE_DOCUMENT);
  CHECK_EQ_INT(r->invalid_sequences, 2);
  CHECK_EQ_INT(r->first_invalid_line, 2);
  CHECK_EQ_STR(terms(r), "첫째 줄 둘째 줄 정책 셋째");
  long i = find_term(r, "정책", 0);
  CHECK(i >= 0 && r->tokens[i].line == 2 && memcmp(text + r->tokens[i].start, "정책", 6) == 0);
  uint32_t invalid = 9;
  seogo_error err;
  CHECK_EQ_INT(seogo_analyze("\xed\xa0\x80", 3, 0, NULL, NULL, &invalid, &err), SEOGO_EINVAL);
}

static void test_nul_and_controls_become_spaces(void) {
  const char text[] = "정책\0반도체\x01GPU\x7f" "AI\r\n미국\r중국";
  const sg_analysis *r = run(text, sizeof text - 1, SG_ANALYZE_DOCUMENT);
  CHECK_EQ_STR(terms(r), "정책 반도 도체 gpu ai 미국 중국");
  CHECK_EQ_INT(r->nlines, 3);
  CHECK_EQ_INT(r->tokens[find_term(r, "중국", 0)].line, 3);
  CHECK(memchr(r->norm.data, '\r', r->norm.len) == NULL);
}

/* utf8proc's NFKC (with default-ignorables removed) of the whole text, for comparison. */
static char *nfkc(const char *text, size_t len, size_t *out_len) {
  utf8proc_uint8_t *out = NULL;
  utf8proc_ssize_t n = utf8proc_map((const utf8proc_uint8_t *)text, (utf8proc_ssize_t)len, &out,
                                    UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_COMPAT |
                                        UTF8PROC_IGNORE);
  *out_len = n > 0 ? (size_t)n : 0;
  return (char *)out;
}

static void test_segments_normalize_like_whole_text(void) {
  const char *samples[] = {
      "e\xcc\x81 a\xcc\xa3\xcc\x81 \xe3\x85\x8e\xe3\x85\x8f\xe3\x84\xb4 \xe3\x88\x9c \xe2\x91\xa0\xec\xa0\x84\xeb\x9e\xb5",
      "\xef\xbc\xa1\xef\xbc\xa9\xe2\x80\xa6 \xe1\x84\x80\xe1\x85\xa1\xe1\x86\xa8 x\xcc\x88\xcc\xa3 \xef\xac\x81le",
      "\xea\xb0\x80\xcc\x81\xe1\x86\xa8 \xe3\x80\x80\xc2\xa0 \xe2\x84\xa2 \xc3\x85ngstr\xc3\xb6m",
  };
  for (size_t i = 0; i < sizeof samples / sizeof *samples; i++) {
    size_t want_len;
    char *want = nfkc(samples[i], strlen(samples[i]), &want_len);
    const sg_analysis *r = query(samples[i]);
    CHECK_MSG(r->norm.len == want_len && memcmp(r->norm.data, want, want_len) == 0,
              "sample %zu normalizes to [%.*s], expected [%s]", i, (int)r->norm.len,
              (const char *)r->norm.data, want);
    free(want);
  }
  const char *files[] = {"000_659a9385f88d803c.txt", "001_5c4ecdcc42dba0b5.txt",
                         "002_0223f975d8e56b67.txt", "003_6aa41a9c697c4b0d.txt",
                         "004_4c37cfff86aabd90.txt"};
  for (size_t f = 0; f < 5; f++) {
    size_t len, want_len;
    char *text = corpus(files[f], &len);
    char *want = nfkc(text, len, &want_len);
    const sg_analysis *r = run(text, len, SG_ANALYZE_QUERY);
    CHECK_MSG(r->norm.len == want_len && memcmp(r->norm.data, want, want_len) == 0,
              "%s: segment-wise NFKC differs from whole-text NFKC", files[f]);
    free(want);
    free(text);
  }
}

/* ---- Segmentation: the fast path finds exactly ICU's words ------------------------------------ */

typedef struct word_list {
  size_t n, cap;
  size_t *v; /* start, end, cjk */
} word_list;

static int record_word(void *ctx, size_t start, size_t end, int kind) {
  word_list *l = ctx;
  if (l->n + 3 > l->cap) {
    l->cap = l->cap ? l->cap * 2 : 1024;
    l->v = realloc(l->v, l->cap * sizeof *l->v);
  }
  l->v[l->n++] = start;
  l->v[l->n++] = end;
  l->v[l->n++] = kind == SG_WORD_KANA || kind == SG_WORD_IDEO;
  return 0;
}

static sg_segmenter *seg;

/* Whether both walks over text find the same words; prints the first difference. */
static int same_words(const char *text, size_t len) {
  word_list fast = {0}, icu = {0};
  sg_segment_words(seg, text, len, record_word, &fast);
  sg_segment_words_icu(seg, text, len, 0, record_word, &icu);
  int same = fast.n == icu.n && (fast.n == 0 || memcmp(fast.v, icu.v, fast.n * sizeof *fast.v) == 0);
  if (!same) {
    size_t i = 0;
    while (i < fast.n && i < icu.n && fast.v[i] == icu.v[i]) i++;
    i -= i % 3;
    fprintf(stderr, "fast path word at %zu..%zu, ICU word at %zu..%zu in [%.*s]\n",
            i < fast.n ? fast.v[i] : 0, i < fast.n ? fast.v[i + 1] : 0, i < icu.n ? icu.v[i] : 0,
            i < icu.n ? icu.v[i + 1] : 0, (int)(len < 200 ? len : 200), text);
  }
  free(fast.v);
  free(icu.v);
  return same;
}

/* Random text for the analyzer's tests: `min` + (r % spread) pieces, r drawn from *rnd (a 64-bit
 * LCG, high bits used), each piece drawn the same way; "" stands for a NUL byte. Returns the
 * length written to buf, which must hold the longest possible text. */
static uint64_t next_random(uint64_t *rnd) {
  *rnd = *rnd * 6364136223846793005u + 1442695040888963407u;
  return *rnd >> 33;
}

static size_t random_text(uint64_t *rnd, const char *const *pieces, size_t npieces, int min,
                          int spread, char *buf) {
  size_t len = 0;
  int n = min + (int)(next_random(rnd) % (uint64_t)spread);
  for (int k = 0; k < n; k++) {
    const char *p = pieces[next_random(rnd) % npieces];
    size_t pl = p[0] ? strlen(p) : 1;
    memcpy(buf + len, p, pl);
    len += pl;
  }
  return len;
}

static void test_fast_path_finds_icu_words(void) {
  seogo_error err;
  CHECK(sg_segmenter_new(&seg, &err) == SEOGO_OK);
  const char *files[] = {"000_659a9385f88d803c.txt", "001_5c4ecdcc42dba0b5.txt",
                         "002_0223f975d8e56b67.txt", "003_6aa41a9c697c4b0d.txt",
                         "004_4c37cfff86aabd90.txt"};
  for (size_t f = 0; f < 5; f++) {
    size_t len;
    char *text = corpus(files[f], &len);
    const sg_analysis *r = run(text, len, SG_ANALYZE_DOCUMENT);
    CHECK_MSG(same_words((const char *)r->norm.data, r->norm.len), "%s", files[f]);
    free(text);
  }
  /* random text over the characters whose word-break behaviour differs */
  static const char *const pieces[] = {
      "a", "B", "z", "Q", "0", "7", ".", ",", ";", ":", "'", "_", "@", "#", "$", "%", "&",
      "-", "/", "(", ")", "\"", "!", "?", "*", "+", "=", "<", ">", "[", "]", "{", "}", "|",
      "~", "^", "`", "\\", " ", " ", "\n", "\t", "가", "나", "한", "글", "美", "日本", "カ",
      "·", "’", "‘", "“", "”", "「", "」", "–", "—", "⦁", "■", "→", "…", "é", "\xcc\x81", "\xe2\x80\x8d", "\xf0\x9f\x9a\x80", "\xef\xbf\xbd", "ᄀ", "①"};
  const size_t npieces = sizeof pieces / sizeof *pieces;
  uint64_t rnd = 0x9E3779B97F4A7C15u;
  int ok = 1;
  char buf[512];
  for (int round = 0; round < 4000 && ok; round++) {
    size_t len = random_text(&rnd, pieces, npieces, 1, 40, buf);
    ok = same_words(buf, len);
  }
  CHECK_MSG(ok, "random text: the fast path must find ICU's words");
  sg_segmenter_free(seg);
}

/* ---- Sentences: the scan with ICU windows finds exactly ICU's sentence ends -------------------- */

/* Whether the sentence ends of r->norm found by sg_segment_sentences are ICU's over the whole
 * text; prints the first difference. */
static int same_sentences(sg_analysis *r, const char *what) {
  CHECK(sg_segment_sentences(seg, r) == SEOGO_OK);
  size_t n = r->nsentences;
  uint32_t *fast = malloc((n ? n : 1) * sizeof *fast);
  if (n) memcpy(fast, r->sentence_ends, n * sizeof *fast);
  CHECK(sg_segment_sentences_icu(seg, r) == SEOGO_OK);
  int same = n == r->nsentences && (n == 0 || memcmp(fast, r->sentence_ends, n * sizeof *fast) == 0);
  if (!same) {
    size_t i = 0;
    while (i < n && i < r->nsentences && fast[i] == r->sentence_ends[i]) i++;
    size_t at = i < r->nsentences ? r->sentence_ends[i] : i < n ? fast[i] : 0;
    size_t from = at > 60 ? at - 60 : 0, to = at + 60 < r->norm.len ? at + 60 : r->norm.len;
    fprintf(stderr, "%s: sentence end %zu: scan %u, ICU %u in [%.*s]\n", what, i,
            i < n ? fast[i] : 0, i < r->nsentences ? r->sentence_ends[i] : 0, (int)(to - from),
            (const char *)r->norm.data + from);
  }
  free(fast);
  return same;
}

static void test_sentences_match_icu(void) {
  seogo_error err;
  CHECK(sg_segmenter_new(&seg, &err) == SEOGO_OK);
  CHECK(sg_ascii_terminators_are_dot_bang_question(seg));
  const char *files[] = {"000_659a9385f88d803c.txt", "001_5c4ecdcc42dba0b5.txt",
                         "002_0223f975d8e56b67.txt", "003_6aa41a9c697c4b0d.txt",
                         "004_4c37cfff86aabd90.txt"};
  for (size_t f = 0; f < 5; f++) {
    size_t len;
    char *text = corpus(files[f], &len);
    run(text, len, SG_ANALYZE_DOCUMENT);
    CHECK(same_sentences(&res, files[f]));
    free(text);
  }
  /* random text over the characters that sentence rules tell apart */
  static const char *const pieces[] = {
      "a", "z", "B", "Q", "0", "7", ".", ".", "!", "?", ",", "-", ":", ";", "'", "\"", "(", ")",
      "[", "]", " ", " ", " ", "\t", "\n", "\n", "가", "다", "한", "美", "。", "｡", "．", "…",
      "‥", "¿", "¡", "”", "’", "」", "》", "·", "é", "\xcc\x81", "\xe2\x80\xa8", "\xe2\x80\xa9",
      "\xd5\x9d", "\xef\xbc\x8c", "Σ", "σ", "\xf0\x9f\x9a\x80", "\xef\xbf\xbd", "①", "ᄀ",
      "U.S.", "e.g.", "3.5", "다. ", "다.\n", "Mr. "};
  const size_t npieces = sizeof pieces / sizeof *pieces;
  uint64_t rnd = 0x2545F4914F6CDD1Du;
  int ok = 1;
  char buf[512];
  for (int round = 0; round < 6000 && ok; round++) {
    size_t len = random_text(&rnd, pieces, npieces, 1, 60, buf);
    run(buf, len, SG_ANALYZE_QUERY); /* N without repair */
    ok = same_sentences(&res, "random text");
  }
  CHECK_MSG(ok, "random text: the sentence scan must find ICU's sentence ends");
  sg_segmenter_free(seg);
}

/* ---- Line repair ---------------------------------------------------------------------------- */

static void test_pdf_words_joined_across_blank_lines(void) {
  size_t len;
  char *text = corpus("002_0223f975d8e56b67.txt", &len);
  const sg_analysis *r = run(text, len, SG_ANALYZE_DOCUMENT);
  CHECK(r->layout.pdf_like);
  CHECK(r->layout.short_line >= 15 && r->layout.short_line <= 30);
  /* "... 단순한 산업 자본이 아니라 국\n\n가의 무역·외교·안보·정치 ..." */
  long i = find_term(r, "국가", 0);
  CHECK(i >= 0 && r->tokens[i].line == 3 && r->tokens[i].line_end == 5);
  CHECK(has_flag(r, i, W) && has_flag(r, i, S));
  CHECK(i >= 0 && memcmp(text + r->tokens[i].start, "국\n\n가", 8) == 0);
  /* "... 이에 대\n\n응해 유럽을 중심으로 ..." */
  i = find_term(r, "대응", 0);
  CHECK(i >= 0 && r->tokens[i].line == 9 && r->tokens[i].line_end == 11);
  CHECK(i >= 0 && strcmp(terms(r), "") != 0);
  CHECK(i >= 0 && find_term(r, "응해", (size_t)i) == i + 1 && r->tokens[i + 1].line == 11);
  /* the bigram before a join ends where its line ends */
  i = find_term(r, "되었", 0);
  CHECK(i >= 0 && r->tokens[i].line_end == 11 && text[r->tokens[i].end] == '\n');
  /* soft breaks became spaces, so the first sentence runs over several physical lines */
  CHECK(norm_has(r, "가치사슬 (GVC)의"));
  CHECK(r->nsentences > 100 && r->sentence_ends[0] > 200);
  /* blank lines belong to the sentence before them, never form one */
  int blank_sentence = 0;
  for (size_t k = 0; k < r->nsentences; k++) {
    uint32_t from = k ? r->sentence_ends[k - 1] : 0, nonblank = 0;
    for (uint32_t b = from; b < r->sentence_ends[k]; b++)
      nonblank += r->norm.data[b] != ' ' && r->norm.data[b] != '\n';
    blank_sentence |= nonblank == 0;
  }
  CHECK(!blank_sentence);
  /* a heading stays a line of its own */
  CHECK(norm_has(r, "추진 배경\n"));
  free(text);
}

static void test_join_records_map_back(void) {
  size_t len;
  char *text = corpus("002_0223f975d8e56b67.txt", &len);
  const sg_analysis *r = run(text, len, SG_ANALYZE_DOCUMENT);
  CHECK(r->njoins > 1000);
  int ok = 1;
  for (size_t j = 0; j < r->njoins; j++) {
    const sg_join *jn = &r->joins[j];
    ok &= jn->start < jn->end && jn->end <= len && (j == 0 || jn->start >= r->joins[j - 1].end);
    for (uint32_t k = jn->start; k < jn->end; k++) ok &= text[k] == '\n' || text[k] == ' ';
  }
  CHECK_MSG(ok, "joins must be ascending ranges of line breaks and blanks");
  free(text);
}

static void test_short_text_joins_but_headings_do_not(void) {
  const sg_analysis *r = doc("국가 전\n략목표");
  CHECK_EQ_STR(terms(r), "국가 전략 략목 목표");
  CHECK_EQ_INT(r->tokens[1].line, 1);
  CHECK_EQ_INT(r->tokens[1].line_end, 2);
  CHECK_EQ_INT(r->njoins, 1);
  r = doc("국문요약\n기술주권론은 국가가 번영과 경쟁력에 핵심적인 기술을 독자적으로 개발하고 조달해");
  CHECK_EQ_INT(r->njoins, 0);
  CHECK(find_term(r, "약기", 0) < 0);
  const char *files[] = {"000_659a9385f88d803c.txt", "001_5c4ecdcc42dba0b5.txt",
                         "003_6aa41a9c697c4b0d.txt", "004_4c37cfff86aabd90.txt"};
  for (size_t f = 0; f < 4; f++) {
    size_t len;
    char *text = corpus(files[f], &len);
    r = run(text, len, SG_ANALYZE_DOCUMENT);
    CHECK_MSG(r->njoins == 0 && !r->layout.pdf_like, "%s: an article's lines must stay apart",
              files[f]);
    free(text);
  }
}

/* 002 line 3053-3057: a contents heading ending in 정책, then "가. 중국의 소버린 AI 정책 동향". */
static void test_list_marker_starts_a_new_line(void) {
  size_t len;
  char *text = corpus("002_0223f975d8e56b67.txt", &len);
  const sg_analysis *r = run(text, len, SG_ANALYZE_DOCUMENT);
  CHECK(find_term(r, "책가", 0) < 0);
  CHECK(find_term(r, "중국", 0) >= 0);
  free(text);
  CHECK_EQ_STR(terms(doc("국가 전략목표를 세우는 정\n\n다. 끝")), "국가 전략 략목 목표 표를 세우 우는 정다 끝");
}

static void test_english_hyphen_join(void) {
  const sg_analysis *r = doc("digital infra-\nstructure and AI-\nEnabled");
  CHECK_EQ_STR(terms(r), "digit infrastructur and ai enabl");
  CHECK_EQ_STR(terms(doc("digital infrastructure")), "digit infrastructur");
  r = doc("digital infra-\nstructure and AI-\nEnabled");
  CHECK_EQ_INT(r->tokens[1].line, 1);
  CHECK_EQ_INT(r->tokens[1].line_end, 2);
  CHECK_EQ_INT(r->njoins, 1);
}

static void test_span_repairs_like_its_document(void) {
  size_t len;
  char *text = corpus("002_0223f975d8e56b67.txt", &len);
  sg_analysis whole;
  sg_analysis_init(&whole);
  seogo_error err;
  CHECK(sg_analyze(an, text, len, SG_ANALYZE_DOCUMENT, &whole, &err) == SEOGO_OK);
  /* lines 19..33: line 17 ends a sentence, line 33 too ("... 전개하고 있다. ") */
  uint32_t from = whole.line_starts[18], to = whole.line_starts[33];
  res.layout = whole.layout;
  const sg_analysis *r = run(text + from, to - from, SG_ANALYZE_SPAN);
  size_t k = 0;
  while (k < whole.ntokens && whole.tokens[k].start < from) k++;
  int same = r->ntokens > 20;
  for (size_t i = 0; i < r->ntokens && same; i++, k++) {
    const sg_token *a = &r->tokens[i], *b = &whole.tokens[k];
    same = a->start + from == b->start && a->end + from == b->end && a->term_len == b->term_len &&
           memcmp(sg_token_term(r, a), sg_token_term(&whole, b), a->term_len) == 0 &&
           a->flags == b->flags;
  }
  CHECK_MSG(same, "a span must analyze as its document did");
  /* a span from the middle of line 9 ("... 이에 대" / "응해 ...") joins as the document did
   * when told how much of its first line precedes it */
  const char *mid = "이에 대\n";
  size_t at = whole.line_starts[8];
  while (memcmp(text + at, mid, strlen(mid)) != 0) at++;
  uint32_t lead = 0;
  for (size_t b = whole.line_starts[8]; b < at; b++) lead += ((unsigned char)text[b] & 0xC0) != 0x80;
  res.layout = whole.layout;
  res.span_lead_chars = 0;
  r = run(text + at, whole.line_starts[11] - at, SG_ANALYZE_SPAN);
  CHECK_MSG(find_term(r, "대응", 0) < 0, "a short first line alone does not join");
  res.span_lead_chars = lead;
  r = run(text + at, whole.line_starts[11] - at, SG_ANALYZE_SPAN);
  CHECK_MSG(find_term(r, "대응", 0) >= 0, "with the line's lead it joins: %s", terms(r));
  res.span_lead_chars = 0;
  sg_analysis_free(&whole);
  free(text);
}

/* ---- Whole corpus invariants ----------------------------------------------------------------- */

/* Whether a line ends at text[k]: LF, or CR not followed by LF. */
static int line_break_at(const char *text, size_t len, size_t k) {
  return text[k] == '\n' || (text[k] == '\r' && (k + 1 == len || text[k + 1] != '\n'));
}

static void check_invariants(const char *name, const char *text, size_t len, const sg_analysis *r) {
  uint32_t line = 1;
  size_t counted = 0;
  int ok = 1;
  for (size_t i = 0; i < r->ntokens && ok; i++) {
    const sg_token *t = &r->tokens[i];
    ok &= t->pos == i && t->start < t->end && t->end <= len && t->term_len > 0 &&
          t->term_len <= SG_MAX_TERM_BYTES;
    ok &= i == 0 || t->start >= r->tokens[i - 1].start;
    ok &= t->term_off + t->term_len <= r->terms.len;
    for (; counted < t->start; counted++) line += line_break_at(text, len, counted);
    ok &= t->line == line;
    uint32_t end_line = line;
    for (size_t k = t->start; k + 1 < t->end; k++) end_line += line_break_at(text, len, k);
    ok &= t->line_end == end_line;
    ok &= utf8proc_iterate((const utf8proc_uint8_t *)sg_token_term(r, t), -1, &(utf8proc_int32_t){0}) > 0;
    if (!ok) {
      fprintf(stderr, "%s: token %zu (%.*s) %u-%u line %u-%u (want %u) breaks an invariant in:\n",
              name, i, t->term_len, sg_token_term(r, t), t->start, t->end, t->line, t->line_end,
              line);
      for (size_t k = 0; k < len; k++) fprintf(stderr, "%02x ", (unsigned char)text[k]);
      fputc('\n', stderr);
    }
    /* a Hangul bigram that crosses nothing is exactly its original bytes */
    int syllables = (t->flags & H) && t->end - t->start == t->term_len;
    for (size_t k = t->start; syllables && k < t->end; k += 3)
      syllables = sg_syllable_at((const unsigned char *)text + k, (const unsigned char *)text + t->end) != 0;
    if (syllables && memcmp(text + t->start, sg_token_term(r, t), t->term_len) != 0) {
      ok = 0;
      fprintf(stderr, "%s: Hangul token %zu (%.*s) is not the original [%.*s] at %u\n", name, i,
              t->term_len, sg_token_term(r, t), (int)(t->end - t->start), text + t->start, t->start);
    }
  }
  CHECK_MSG(ok, "%s: token invariants", name);
  ok = 1;
  for (size_t s = 0; s < r->nsentences; s++)
    ok &= r->sentence_ends[s] <= r->norm.len && (s == 0 || r->sentence_ends[s] > r->sentence_ends[s - 1]);
  CHECK_MSG(ok && (r->nsentences == 0 || r->sentence_ends[r->nsentences - 1] == r->norm.len),
            "%s: sentence ends", name);
  ok = 1;
  for (size_t k = 0; k < r->norm.len; k++) ok &= k == 0 || r->norm_to_orig[k] >= r->norm_to_orig[k - 1];
  CHECK_MSG(ok && r->norm_to_orig[r->norm.len] == len, "%s: map ascends to the text length", name);
}

static void test_corpus_invariants(void) {
  const char *files[] = {"000_659a9385f88d803c.txt", "001_5c4ecdcc42dba0b5.txt",
                         "002_0223f975d8e56b67.txt", "003_6aa41a9c697c4b0d.txt",
                         "004_4c37cfff86aabd90.txt"};
  for (size_t f = 0; f < 5; f++) {
    size_t len;
    char *text = corpus(files[f], &len);
    check_invariants(files[f], text, len, run(text, len, SG_ANALYZE_DOCUMENT));
    CHECK(res.ntokens > 500);
    CHECK_EQ_INT(res.invalid_sequences, 0);
    free(text);
  }
}

/* ---- Hostile input ------------------------------------------------------------------------------ */

static void test_empty_and_blank(void) {
  const sg_analysis *r = run("", 0, SG_ANALYZE_DOCUMENT);
  CHECK_EQ_INT(r->ntokens, 0);
  CHECK_EQ_INT(r->norm.len, 0);
  CHECK_EQ_INT(r->nlines, 1);
  CHECK_EQ_INT(sg_line_of(r, 0), 1);
  r = run(NULL, 0, SG_ANALYZE_QUERY);
  CHECK_EQ_INT(r->ntokens, 0);
  r = doc(" \n\t\n  \n");
  CHECK_EQ_INT(r->ntokens, 0);
  CHECK_EQ_INT(r->njoins, 0);
}

static void test_five_megabyte_line(void) {
  size_t len = 5u << 20;
  char *text = malloc(len);
  const char *unit = "반도체를 수출하는 AI 기업들 ";
  size_t ul = strlen(unit), n = 0;
  while (n + ul <= len) {
    memcpy(text + n, unit, ul);
    n += ul;
  }
  const sg_analysis *r = run(text, n, SG_ANALYZE_DOCUMENT);
  CHECK_EQ_INT(r->ntokens, (n / ul) * 9); /* 반도 도체 체를 수출 출하 하는 ai 기업 업들 */
  CHECK_EQ_INT(r->nlines, 1);
  check_invariants("5 MB line", text, n, r);
  memset(text, 'a', len);
  r = run(text, len, SG_ANALYZE_DOCUMENT);
  CHECK_EQ_INT(r->ntokens, 1);
  CHECK_EQ_INT(r->tokens[0].term_len, SG_MAX_TERM_BYTES);
  for (size_t k = 0; k + 3 <= len; k += 3) memcpy(text + k, "가", 3);
  r = run(text, len - len % 3, SG_ANALYZE_DOCUMENT);
  CHECK_EQ_INT(r->ntokens, len / 3 - 1);
  free(text);
}

static void test_random_bytes_keep_invariants(void) {
  static const char *const pieces[] = {
      "가", "나", "다", " ", "\n", "\n\n", "\r\n", "\r", "\t", "a", "Z", "9", ".", ",", "-", "'",
      "\xff", "\xc3", "\xe1\x84", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\0", "\x01", "\xc2\xad",
      "\xe2\x80\x8b", "\xef\xbb\xbf", "\xcc\x81", "\xe1\x84\x8c", "\xe1\x85\xa5", "\xe1\x86\xbc",
      "\xef\xbc\xa1", "\xe3\x88\x9c", "中", "·", "’", "U.S.", "1,000", "infra-\n", "다.\n"};
  const size_t npieces = sizeof pieces / sizeof *pieces;
  uint64_t rnd = 12345;
  char buf[2048];
  for (int round = 0; round < 3000 && !tl_failures; round++) {
    size_t len = random_text(&rnd, pieces, npieces, 0, 120, buf);
    int mode = (int)((rnd >> 20) % 3);
    res.layout = (sg_layout){(uint8_t)(rnd >> 40 & 1), (uint16_t)(rnd >> 41 & 7)};
    check_invariants("random text", buf, len, run(buf, len, mode));
  }
}

static void test_long_words_truncate_at_characters(void) {
  char word[400];
  size_t n = 0;
  while (n + 2 <= 300) {
    memcpy(word + n, "\xc3\xa9", 2); /* é */
    n += 2;
  }
  word[n++] = 'x';
  const sg_analysis *r = run(word, n, SG_ANALYZE_DOCUMENT);
  CHECK_EQ_INT(r->ntokens, 1);
  CHECK(r->tokens[0].term_len <= SG_MAX_TERM_BYTES && r->tokens[0].term_len >= SG_MAX_TERM_BYTES - 1);
  CHECK(utf8proc_decompose((const utf8proc_uint8_t *)sg_token_term(r, r->tokens), r->tokens[0].term_len,
                           NULL, 0, 0) >= 0);
}

static void test_over_four_gigabytes_is_refused(void) {
  if (sizeof(size_t) <= 4) return;
  seogo_error err = {0};
  /* the length is checked before any byte is read */
  int rc = sg_analyze(an, "x", (size_t)UINT32_MAX + 1, SG_ANALYZE_DOCUMENT, &res, &err);
  CHECK_EQ_INT(rc, SEOGO_ELIMIT);
  CHECK(strstr(err.message, "4 GiB") != NULL);
}

/* ---- Public API ----------------------------------------------------------------------------------- */

typedef struct collected {
  char text[256];
  size_t len, count;
  unsigned flags[16];
  uint32_t lines[16];
} collected;

static int collect(void *ctx, const seogo_term *t) {
  collected *c = ctx;
  if (c->count < 16) {
    c->flags[c->count] = t->flags;
    c->lines[c->count] = t->line;
  }
  if (c->len + t->len + 1 < sizeof c->text) {
    if (c->len) c->text[c->len++] = ' ';
    memcpy(c->text + c->len, t->text, t->len);
    c->len += t->len;
    c->text[c->len] = 0;
  }
  return ++c->count == 5;
}

/* ---- Huge documents: analysis in chunks gives the whole document's terms -------------------- */

typedef struct occurrence {
  uint32_t pos, flags, term;
} occurrence;

static int by_pos(const void *a, const void *b) {
  const occurrence *x = a, *y = b;
  return x->pos < y->pos ? -1 : x->pos > y->pos;
}

static uint32_t varint(const unsigned char **q) {
  uint32_t v = 0;
  for (int shift = 0; shift < 35; shift += 7) {
    unsigned char b = *(*q)++;
    v |= (uint32_t)(b & 0x7F) << shift;
    if (!(b & 0x80)) break;
  }
  return v;
}

/* Every term occurrence of the prepared document (position in the document, flags, term
 * number), in position order, as the writer will store them. */
static occurrence *occurrences(const seogo_prepared *p, size_t *n) {
  size_t cap = 1024, count = 0;
  occurrence *o = malloc(cap * sizeof *o);
  for (size_t k = 0; k < p->terms.count; k++) {
    const sg_doc_term *dt = &p->dterms[k];
    const unsigned char *q = p->arena.data + dt->off;
    uint32_t passage = dt->first;
    for (uint32_t i = 0; i < dt->count; i++) {
      if (i) passage += varint(&q);
      uint32_t tf = varint(&q), pos = p->spans.items[passage].pos_base;
      for (uint32_t j = 0; j < tf; j++) {
        uint32_t v = varint(&q);
        pos += v >> 2;
        if (count == cap) o = realloc(o, (cap *= 2) * sizeof *o);
        o[count++] = (occurrence){pos, v & 3, (uint32_t)k};
      }
    }
  }
  qsort(o, count, sizeof *o, by_pos);
  *n = count;
  return o;
}

static void prepare(seogo_prepared *p, const char *text, size_t len, size_t chunk) {
  seogo_error err;
  sg_prepared_clear(p);
  CHECK(sg_prepared_begin(p, "doc.txt", NULL, &err) == SEOGO_OK);
  sg_prepared_borrow(p, text, len, 0);
  sg_analyzer_set_chunk_bytes(an, chunk);
  CHECK_MSG(sg_prepared_analyze(p, an, &err) == SEOGO_OK, "%s", err.message);
  sg_analyzer_set_chunk_bytes(an, 0);
}

static int same_terms(const seogo_prepared *a, const seogo_prepared *b) {
  size_t na, nb;
  occurrence *x = occurrences(a, &na), *y = occurrences(b, &nb);
  int same = na == nb && a->terms.count == b->terms.count;
  for (size_t i = 0; same && i < na; i++) {
    size_t la, lb;
    const char *ta = sg_strmap_key(&a->terms, x[i].term, &la);
    const char *tb = sg_strmap_key(&b->terms, y[i].term, &lb);
    same = x[i].pos == y[i].pos && x[i].flags == y[i].flags && la == lb && !memcmp(ta, tb, la);
  }
  free(x);
  free(y);
  return same;
}

static int same_passages(const seogo_prepared *a, const seogo_prepared *b) {
  if (a->spans.count != b->spans.count || a->arena.len != b->arena.len) return 0;
  for (size_t i = 0; i < a->spans.count; i++) {
    const sg_span *x = &a->spans.items[i], *y = &b->spans.items[i];
    if (x->start != y->start || x->end != y->end || x->line_start != y->line_start ||
        x->line_end != y->line_end || x->pos_base != y->pos_base || x->length != y->length)
      return 0;
  }
  return memcmp(a->arena.data, b->arena.data, a->arena.len) == 0;
}

static void test_chunked_analysis_matches_whole(void) {
  seogo_prepared whole, part;
  sg_prepared_init(&whole);
  sg_prepared_init(&part);
  /* 001, 003 and 004 are articles with paragraphs: cut at paragraph breaks, everything is the
   * same; 000 and the PDF-like 002 may end a passage at a cut, but keep every term */
  const char *files[] = {"000_659a9385f88d803c.txt", "001_5c4ecdcc42dba0b5.txt",
                         "002_0223f975d8e56b67.txt", "003_6aa41a9c697c4b0d.txt",
                         "004_4c37cfff86aabd90.txt"};
  const int paragraphs[] = {0, 1, 0, 1, 1};
  for (size_t f = 0; f < 5; f++) {
    size_t len;
    char *text = corpus(files[f], &len);
    prepare(&whole, text, len, 0);
    const size_t chunks[] = {3000, 1000};
    for (size_t c = 0; c < 2; c++) {
      prepare(&part, text, len, chunks[c]);
      CHECK_MSG(same_terms(&whole, &part), "%s, chunks of %zu: terms", files[f], chunks[c]);
      CHECK_EQ_INT(part.rec.nlines, whole.rec.nlines);
      CHECK_EQ_INT(part.rec.pdf_like, whole.rec.pdf_like);
      CHECK_EQ_INT(part.rec.short_line, whole.rec.short_line);
      if (paragraphs[f] && chunks[c] == 3000)
        CHECK_MSG(same_passages(&whole, &part), "%s: passages", files[f]);
    }
    free(text);
  }
  /* one line of 60 KB with no line break: cut at blanks */
  size_t len;
  char *article = corpus("003_6aa41a9c697c4b0d.txt", &len);
  char *line = malloc(60000);
  size_t n = 0;
  while (n + len + 1 < 60000) {
    for (size_t k = 0; k < len; k++) line[n++] = article[k] == '\n' ? ' ' : article[k];
    line[n++] = ' ';
  }
  prepare(&whole, line, n, 0);
  prepare(&part, line, n, 4000);
  CHECK(same_terms(&whole, &part));
  CHECK_EQ_INT(part.rec.nlines, 1);
  int inside = part.spans.count > 0;
  for (size_t i = 0; i < part.spans.count; i++)
    inside &= part.spans.items[i].start < part.spans.items[i].end && part.spans.items[i].end <= n &&
              part.spans.items[i].line_start == 1 && part.spans.items[i].line_end == 1 &&
              (i == 0 || part.spans.items[i].start >= part.spans.items[i - 1].end);
  CHECK_MSG(inside, "passages of the chunked line lie in order inside it");
  /* the terms a removal collects, in chunks too, are the terms indexed */
  sg_buf listed = {0};
  sg_analysis scratch;
  sg_analysis_init(&scratch);
  sg_analyzer_set_chunk_bytes(an, 4000);
  CHECK(sg_text_terms(an, line, n, &scratch, &listed, NULL) == SEOGO_OK);
  sg_analyzer_set_chunk_bytes(an, 0);
  size_t nlisted = 0, found = 0;
  for (const unsigned char *q = listed.data; q < listed.data + listed.len; nlisted++) {
    uint32_t l = varint(&q);
    found += sg_strmap_find(&whole.terms, q, l, sg_strmap_hash(q, l)) >= 0;
    q += l;
  }
  CHECK_EQ_INT(nlisted, whole.terms.count);
  CHECK_EQ_INT(found, whole.terms.count);
  sg_buf_free(&listed);
  sg_analysis_free(&scratch);
  free(line);
  free(article);
  sg_prepared_destroy(&whole);
  sg_prepared_destroy(&part);
}

static void test_public_seogo_analyze(void) {
  collected c = {0};
  uint32_t invalid = 7;
  seogo_error err;
  const char *text = "한국 정부도 소버린 AI를\n\xff국가 전략목표로 설정하고";
  CHECK_EQ_INT(seogo_analyze(text, strlen(text), 0, collect, &c, &invalid, &err), SEOGO_OK);
  CHECK_EQ_STR(c.text, "한국 정부 부도 소버 버린");
  CHECK_EQ_INT(c.count, 5); /* stopped by the callback */
  CHECK_EQ_INT(invalid, 1);
  CHECK_EQ_INT(c.flags[1], W | S | H);
  memset(&c, 0, sizeof c);
  CHECK_EQ_INT(seogo_analyze("반도체를", strlen("반도체를"), 1, collect, &c, NULL, &err), SEOGO_OK);
  CHECK_EQ_STR(c.text, "반도 도체");
}

int main(void) {
  seogo_error err;
  if (sg_analyzer_new(&an, &err) != SEOGO_OK) {
    fprintf(stderr, "analyzer: %s\n", err.message);
    return 2;
  }
  sg_analysis_init(&res);
  RUN(test_sovereign_ai_sentence);
  RUN(test_middle_dot_splits_words);
  RUN(test_numbers_next_to_hangul);
  RUN(test_english_terms);
  RUN(test_particles_and_endings);
  RUN(test_stem_end_in_documents);
  RUN(test_query_strips_particles);
  RUN(test_han_and_kana);
  RUN(test_nfd_and_fullwidth_fold);
  RUN(test_ignorables_inside_words);
  RUN(test_invalid_utf8_is_replaced_and_counted);
  RUN(test_nul_and_controls_become_spaces);
  RUN(test_segments_normalize_like_whole_text);
  RUN(test_fast_path_finds_icu_words);
  RUN(test_sentences_match_icu);
  RUN(test_pdf_words_joined_across_blank_lines);
  RUN(test_join_records_map_back);
  RUN(test_short_text_joins_but_headings_do_not);
  RUN(test_list_marker_starts_a_new_line);
  RUN(test_english_hyphen_join);
  RUN(test_span_repairs_like_its_document);
  RUN(test_corpus_invariants);
  RUN(test_empty_and_blank);
  RUN(test_five_megabyte_line);
  RUN(test_random_bytes_keep_invariants);
  RUN(test_long_words_truncate_at_characters);
  RUN(test_over_four_gigabytes_is_refused);
  RUN(test_public_seogo_analyze);
  RUN(test_chunked_analysis_matches_whole);
  sg_analysis_free(&res);
  sg_analyzer_free(an);
  return tl_summary();
}
