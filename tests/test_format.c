/* test_format.c - the on-disk codecs round-trip, and damaged stored bytes are rejected. */
#include <stdlib.h>
#include <string.h>

#include "format.h"
#include "testlib.h"

static void test_stats_round_trip(void) {
  sg_stats in = {.next_doc_id = 6,
                 .next_passage_id = 1234567,
                 .documents = 5,
                 .passages = 1234566,
                 .tokens = 99999999999ULL,
                 .postings = 77,
                 .terms = 3,
                 .text_bytes = 338000};
  sg_buf b = {0};
  CHECK(sg_stats_encode(&b, &in) == 0);
  sg_stats out;
  CHECK_EQ_INT(sg_stats_decode(b.data, b.len, &out, NULL), SEOGO_OK);
  CHECK(memcmp(&in, &out, sizeof in) == 0);
  seogo_error err = {0};
  CHECK_EQ_INT(sg_stats_decode(b.data, b.len - 1, &out, &err), SEOGO_ECORRUPT);
  CHECK(strstr(err.message, "stats") != NULL);
  sg_buf_free(&b);
}

static void test_doc_round_trip(void) {
  const char *path = "corpus/002_0223f975d8e56b67.txt";
  sg_doc in = {.path = path,
               .path_len = strlen(path),
               .size = 308556,
               .mtime = -5,
               .hash = 0x0123456789abcdefULL,
               .first_pid = 42,
               .npassages = 700,
               .nlines = 8085,
               .pdf_like = 1,
               .short_line = 30,
               .text_len = 308556,
               .invalid = 2};
  strcpy(in.encoding, "CP949");
  sg_buf b = {0};
  CHECK(sg_doc_encode(&b, &in) == 0);
  sg_doc out;
  CHECK_EQ_INT(sg_doc_decode(b.data, b.len, &out, NULL), SEOGO_OK);
  CHECK(out.path_len == in.path_len && memcmp(out.path, path, in.path_len) == 0);
  CHECK(out.size == in.size && out.mtime == -5 && out.hash == in.hash);
  CHECK(out.first_pid == 42 && out.npassages == 700 && out.nlines == 8085);
  CHECK_EQ_STR(out.encoding, "CP949");
  CHECK(out.pdf_like == 1 && out.short_line == 30 && out.text_len == 308556 && out.invalid == 2);
  /* every truncation of the record is refused, never read past */
  int refused = 0;
  for (size_t n = 0; n < b.len; n++) {
    unsigned char *copy = malloc(n ? n : 1);
    memcpy(copy, b.data, n);
    refused += sg_doc_decode(copy, n, &out, NULL) == SEOGO_ECORRUPT;
    free(copy);
  }
  CHECK_EQ_INT(refused, b.len);
  sg_buf_free(&b);
}

/* Reads a slot of a page through sg_passage_page_get, as a search does. */
static int page_get(const sg_buf *b, uint32_t slot, sg_passage *q, sg_page_doc *d) {
  sg_passage_page pg;
  int rc = sg_passage_page_open(&pg, b->data, b->len, NULL);
  return rc ? rc : sg_passage_page_get(&pg, slot, q, d, NULL);
}

static int same_passage(const sg_passage *a, const sg_passage *b) {
  return a->doc_id == b->doc_id && a->start == b->start && a->end == b->end &&
         a->line_start == b->line_start && a->line_end == b->line_end;
}

static void put_le32(sg_buf *b, uint32_t v) {
  unsigned char x[4] = {(unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16),
                        (unsigned char)(v >> 24)};
  sg_buf_append(b, x, 4);
}

/* A page of one slot, whose fields are given, and one document: a header that tells the truth
 * about what follows. */
static void one_slot_page(sg_buf *b, const uint64_t *fields, int nfields, uint64_t doc_id,
                          const char *path) {
  sg_buf slot = {0}, doc = {0};
  for (int f = 0; f < nfields; f++) sg_buf_put_varint(&slot, fields[f]);
  sg_buf_put_varint(&doc, doc_id);
  sg_buf_put_varint(&doc, strlen(path));
  sg_buf_append(&doc, path, strlen(path));
  sg_buf_clear(b);
  put_le32(b, 1);
  put_le32(b, 1);
  put_le32(b, 16);
  put_le32(b, 16 + (uint32_t)slot.len);
  sg_buf_append(b, slot.data, slot.len);
  sg_buf_append(b, doc.data, doc.len);
  sg_buf_free(&slot);
  sg_buf_free(&doc);
}

/* A page as the writer stores one: the passages of a report (each follows the one before, one
 * on the same line as the previous one's end), two articles after it, and slots left empty by
 * a removed document, across runs of SG_PASSAGE_RUN; and the documents' paths. */
static void test_passage_and_term(void) {
  enum { N = 3 * SG_PASSAGE_RUN + 5 };
  sg_passage p[N];
  memset(p, 0, sizeof p);
  p[1] = (sg_passage){3, 100, 420, 7, 9, 61};
  p[2] = (sg_passage){3, 421, 900, 9, 12, 80};
  p[3] = (sg_passage){3, 905, 1000, 14, 14, 9};
  for (uint32_t i = 4; i < N; i++) /* a long report: passages in every run */
    p[i] = (sg_passage){
        3, p[i - 1].end + 1, p[i - 1].end + 300, p[i - 1].line_end + 1, p[i - 1].line_end + 4, 50};
  for (uint32_t i = SG_PASSAGE_RUN + 3; i < SG_PASSAGE_RUN + 9; i++) p[i].doc_id = 0; /* removed */
  for (uint32_t i = 2 * SG_PASSAGE_RUN - 4; i < N; i++) { /* the next documents */
    p[i].doc_id = i < 2 * SG_PASSAGE_RUN + 2 ? 4 : 9;
    p[i].start = i == 2 * SG_PASSAGE_RUN - 4 ? 0 : p[i - 1].end;
  }
  /* document 5 was removed: it is given, but not stored */
  const sg_page_doc docs[] = {{3, "reports/ai-semiconductors.txt", 29},
                              {4, "news/a.txt", 10},
                              {5, "news/gone.txt", 13},
                              {9, "news/b.txt", 10}};
  sg_buf b = {0};
  CHECK(sg_passage_page_encode(&b, p, N, docs, 4) == 0);
  CHECK_MSG(b.len <= 8 + 4 * 4 + 3 * 4 + N * 5 + 29 + 2 * 10 + 3 * 2, "%d slots take %zu bytes", N,
            b.len);
  for (uint32_t i = 0; i < N; i++) {
    sg_passage q;
    sg_page_doc d = {0, NULL, 0};
    int rc = page_get(&b, i, &q, &d);
    CHECK_EQ_INT(rc, p[i].doc_id ? SEOGO_OK : SEOGO_NOTFOUND);
    CHECK_MSG(!p[i].doc_id || same_passage(&q, &p[i]), "slot %u", (unsigned)i);
    const sg_page_doc *want = &docs[p[i].doc_id == 3 ? 0 : p[i].doc_id == 4 ? 1 : 3];
    CHECK_MSG(!p[i].doc_id || (d.doc_id == p[i].doc_id && d.path_len == want->path_len &&
                               !memcmp(d.path, want->path, d.path_len)),
              "slot %u's document", (unsigned)i);
    CHECK_EQ_INT(q.length, 0); /* lengths live in "norms" */
  }
  static sg_passage all[SG_PASSAGES_PER_KEY];
  static sg_page_doc stored[SG_PASSAGES_PER_KEY];
  sg_passage q;
  CHECK_EQ_INT(page_get(&b, N, &q, NULL), SEOGO_NOTFOUND);
  uint32_t n = 0, ndocs = 0;
  CHECK_EQ_INT(sg_passage_page_decode(b.data, b.len, all, &n, stored, &ndocs, NULL), SEOGO_OK);
  CHECK_EQ_INT(n, N);
  CHECK(ndocs == 3 && stored[0].doc_id == 3 && stored[1].doc_id == 4 && stored[2].doc_id == 9);
  for (uint32_t i = 0; i < N; i++)
    CHECK_MSG(all[i].doc_id == p[i].doc_id && (!p[i].doc_id || same_passage(&all[i], &p[i])),
              "slot %u decoded whole", (unsigned)i);
  /* every cut of the page is refused whole; a lookup either refuses it or reads it right */
  for (size_t cut = 0; cut < b.len; cut++) {
    CHECK_MSG(sg_passage_page_decode(b.data, cut, all, &n, stored, &ndocs, NULL) == SEOGO_ECORRUPT,
              "a page cut to %zu bytes", cut);
    sg_buf c = {b.data, cut, cut};
    for (uint32_t i = 0; i < N; i++) {
      int rc = page_get(&c, i, &q, NULL);
      CHECK_MSG(rc == SEOGO_ECORRUPT || (rc == SEOGO_NOTFOUND && !p[i].doc_id) ||
                    (rc == SEOGO_OK && same_passage(&q, &p[i])),
                "slot %u of a page cut to %zu bytes", (unsigned)i, cut);
    }
  }
  /* a passage that overlaps the previous one still round-trips (the gaps are signed) */
  p[2].start = 300;
  sg_buf_clear(&b);
  CHECK(sg_passage_page_encode(&b, p, 3, docs, 1) == 0);
  CHECK(page_get(&b, 2, &q, NULL) == SEOGO_OK && q.start == 300 && q.end == 900);
  p[2].start = 421;
  /* what the format cannot hold: a start after the end, a line 0, documents going back, a
   * document not given, an empty last slot, no slots */
  const sg_passage bad[] = {
      {3, 500, 420, 7, 9, 0}, {3, 0, 10, 0, 1, 0}, {2, 0, 10, 1, 1, 0}, {7, 0, 10, 1, 1, 0}};
  for (int i = 0; i < 4; i++) {
    sg_passage two[2] = {p[1], bad[i]};
    sg_page_doc two_docs[2] = {{2, "x", 1}, docs[0]};
    sg_buf_clear(&b);
    CHECK_MSG(sg_passage_page_encode(&b, two, 2, two_docs, 2) == -1, "bad passage %d stored", i);
  }
  sg_passage tail[2] = {p[1], {0, 0, 0, 0, 0, 0}};
  CHECK(sg_passage_page_encode(&b, tail, 2, docs, 1) == -1);
  CHECK(sg_passage_page_encode(&b, p, 0, docs, 1) == -1);
  /* hostile pages: a byte range or line span past 2^32 - 1 or before 0, a line 0, a run's
   * first passage that names no document, a document step of 0 or past the last document */
  const uint64_t slots[][5] = {{4, 1, 8000000000u, 400000000u, 2},
                               {800000002u, 1, 0, 10, 8000000000u},
                               {4, 1, 1, 10, 2},
                               {4, 1, 0, 10, 0},
                               {3, 0, 10, 2, 0},
                               {4, 0, 0, 10, 2},
                               {4, 2, 0, 10, 2}};
  for (size_t i = 0; i < sizeof slots / sizeof *slots; i++) {
    one_slot_page(&b, slots[i], slots[i][0] == 3 ? 4 : 5, 1, "a.txt");
    CHECK_MSG(page_get(&b, 0, &q, NULL) == SEOGO_ECORRUPT, "hostile slot %zu", i);
  }
  const uint64_t good[5] = {4, 1, 0, 10, 2};
  one_slot_page(&b, good, 5, 1, "a.txt");
  CHECK(page_get(&b, 0, &q, NULL) == SEOGO_OK && q.doc_id == 1 && q.end == 10);
  /* documents that lie: id 0, no path, a path running past its entry */
  one_slot_page(&b, good, 5, 0, "a.txt");
  CHECK_EQ_INT(page_get(&b, 0, &q, NULL), SEOGO_ECORRUPT);
  one_slot_page(&b, good, 5, 1, "");
  CHECK_EQ_INT(page_get(&b, 0, &q, NULL), SEOGO_ECORRUPT);
  one_slot_page(&b, good, 5, 1, "a.txt");
  b.data[b.len - 6]++;
  CHECK_EQ_INT(page_get(&b, 0, &q, NULL), SEOGO_ECORRUPT);
  /* headers that lie: no slots, no documents, more slots than a key, a run that does not start
   * after the header, more slots than bytes */
  const uint32_t headers[][4] = {
      {0, 1, 16, 21}, {1, 0, 12, 17}, {65537, 1, 16, 21}, {1, 1, 12, 21}, {9, 1, 16, 21}};
  for (size_t i = 0; i < sizeof headers / sizeof *headers; i++) {
    one_slot_page(&b, good, 5, 1, "a.txt");
    for (int f = 0; f < 4; f++)
      for (int k = 0; k < 4; k++) b.data[4 * f + k] = (unsigned char)(headers[i][f] >> (8 * k));
    CHECK_MSG(page_get(&b, 0, &q, NULL) == SEOGO_ECORRUPT, "lying header %zu", i);
  }

  sg_term_info t = {.df = 10, .cf = 25, .nblocks = 1, .max_tf = 7, .min_len = 12}, u;
  sg_buf_clear(&b);
  CHECK(sg_term_encode(&b, &t) == 0);
  CHECK_EQ_INT(sg_term_decode(b.data, b.len, &u, NULL), SEOGO_OK);
  CHECK(u.df == 10 && u.cf == 25 && u.nblocks == 1 && u.max_tf == 7 && u.min_len == 12);
  sg_buf_clear(&b);
  t.max_tf = 0; /* a term with postings has a tf */
  CHECK(sg_term_encode(&b, &t) == 0);
  CHECK_EQ_INT(sg_term_decode(b.data, b.len, &u, NULL), SEOGO_ECORRUPT);
  t.max_tf = 7;
  sg_buf_clear(&b);
  t.cf = 5; /* fewer occurrences than passages */
  CHECK(sg_term_encode(&b, &t) == 0);
  CHECK_EQ_INT(sg_term_decode(b.data, b.len, &u, NULL), SEOGO_ECORRUPT);
  sg_buf_free(&b);
}

static void test_postings_key(void) {
  sg_buf b = {0};
  const char *term = "반도";
  CHECK(sg_postings_key(&b, term, strlen(term), 0x01020304) == 0);
  CHECK_EQ_INT(b.len, strlen(term) + 5);
  size_t term_len;
  uint32_t pid;
  CHECK(sg_postings_key_parse(b.data, b.len, &term_len, &pid) == 0);
  CHECK(term_len == strlen(term) && pid == 0x01020304);
  /* keys of one term sort by first pid, before any longer term that extends it */
  sg_buf c = {0};
  CHECK(sg_postings_key(&c, "반도체", strlen("반도체"), 1) == 0);
  CHECK(memcmp(b.data, c.data, b.len < c.len ? b.len : c.len) < 0);
  CHECK(sg_postings_key_parse("ab", 2, &term_len, &pid) == -1);
  sg_buf_free(&b);
  sg_buf_free(&c);
}

/* Three passages of the term "반도": positions with WORD_START/STEM_END flags. */
static const uint32_t demo_pids[] = {10, 11, 300};
static const uint32_t demo_starts[] = {0, 2, 3, 7};
static const uint32_t demo_pos[] = {
    (0u << 2) | 1, (17u << 2) | 3,                               /* passage 10 */
    (5u << 2) | 2,                                               /* passage 11 */
    (1u << 2) | 1, (1u << 2) | 0,  (40u << 2) | 3, (65534u << 2) /* passage 300 */
};

static void test_block_round_trip(void) {
  sg_buf b = {0};
  CHECK(sg_block_encode(&b, 10, 3, demo_pids, demo_starts, demo_pos, 1) == 0);
  sg_block blk;
  sg_block_init(&blk);
  CHECK_EQ_INT(sg_block_decode(b.data, b.len, 10, &blk, NULL), SEOGO_OK);
  CHECK_EQ_INT(blk.count, 3);
  CHECK(blk.first_pid == 10 && blk.last_pid == 300 && blk.max_tf == 4);
  CHECK(memcmp(blk.pids, demo_pids, sizeof demo_pids) == 0);
  CHECK(memcmp(blk.pos_start, demo_starts, sizeof demo_starts) == 0);
  CHECK(memcmp(blk.positions, demo_pos, sizeof demo_pos) == 0);
  CHECK(blk.tfs[0] == 2 && blk.tfs[1] == 1 && blk.tfs[2] == 4);
  uint32_t count, last, max_tf;
  CHECK_EQ_INT(sg_block_peek(b.data, b.len, 10, &count, &last, &max_tf, NULL), SEOGO_OK);
  CHECK(count == 3 && last == 300 && max_tf == 4);
  /* a key below the first pid is allowed: gap[0] carries the difference */
  CHECK(sg_block_encode(&b, 4, 3, demo_pids, demo_starts, demo_pos, 1) == 0);
  CHECK_EQ_INT(sg_block_decode(b.data, b.len, 4, &blk, NULL), SEOGO_OK);
  CHECK(blk.pids[0] == 10 && blk.last_pid == 300);
  /* the encoder refuses what the format cannot hold */
  const uint32_t unordered[] = {10, 10, 300};
  CHECK(sg_block_encode(&b, 10, 3, unordered, demo_starts, demo_pos, 1) == -1);
  CHECK(sg_block_encode(&b, 11, 3, demo_pids, demo_starts, demo_pos, 1) == -1);
  sg_block_free(&blk);
  sg_buf_free(&b);
}

/* Encodes a block by hand so that each field can be made wrong: the header's varints and flags
 * byte, then pids (gap - 1), tfs (tf - 1) and positions packed at width 8 (one byte a value). */
typedef struct hand_block {
  uint64_t count, last_delta, max_tf, min_len;
  unsigned flags;
  uint32_t n, npos;
  uint8_t pids[4], tfs[4], pos[8];
} hand_block;

static void put_block(sg_buf *b, const hand_block *h) {
  sg_buf_clear(b);
  sg_buf_put_varint(b, h->count);
  sg_buf_put_varint(b, h->last_delta);
  sg_buf_put_varint(b, h->max_tf);
  sg_buf_put_varint(b, h->min_len);
  sg_buf_putc(b, (unsigned char)h->flags);
  sg_buf_putc(b, 8);
  sg_buf_append(b, h->pids, h->n);
  sg_buf_putc(b, 8);
  sg_buf_append(b, h->tfs, h->n);
  if (!h->npos) return;
  sg_buf_putc(b, 8);
  sg_buf_append(b, h->pos, h->npos);
}

static int decodes(const sg_buf *b, uint32_t key) {
  sg_block blk;
  sg_block_init(&blk);
  seogo_error err = {0};
  int rc = sg_block_decode(b->data, b->len, key, &blk, &err);
  if (rc != SEOGO_OK) CHECK(strstr(err.message, "corrupt") != NULL);
  sg_block_free(&blk);
  return rc;
}

/* passages 7 (tf 2: positions 4 and 7) and 12 (tf 1: position 1), key 7; only position 4 of
 * passage 7 starts a word, and the word start is the one flag that varies: each value is
 * gap << 1 | word start */
static const hand_block good = {2, 5, 2,      3,      SG_FLAGS_VARY_W,
                                2, 3, {0, 4}, {1, 0}, {4 << 1 | 1, 3 << 1, 1 << 1}};

static int decodes_with(void (*change)(hand_block *h)) {
  hand_block h = good;
  change(&h);
  sg_buf b = {0};
  put_block(&b, &h);
  int rc = decodes(&b, 7);
  sg_buf_free(&b);
  return rc;
}

static void zero_count(hand_block *h) {
  h->count = 0;
}
static void huge_count(hand_block *h) {
  h->count = 1000000;
}
static void wrong_last(hand_block *h) {
  h->last_delta = 6;
}
static void wrong_max_tf(hand_block *h) {
  h->max_tf = 3;
}
static void bad_flags(hand_block *h) {
  h->flags = 16;
}
static void varying_flag_in_header(hand_block *h) {
  h->flags |= 1;
}
static void both_flags_vary(hand_block *h) {
  h->flags |= SG_FLAGS_VARY_S;
}
static void huge_min_len(hand_block *h) {
  h->min_len = 70000;
}
static void position_overflow(hand_block *h) {
  h->pos[1] = 255;
  h->pos[0] = 255;
  h->npos = 2;
}

static void test_corrupt_blocks(void) {
  sg_buf b = {0};
  put_block(&b, &good);
  CHECK_EQ_INT(decodes(&b, 7), SEOGO_OK);
  sg_block blk;
  sg_block_init(&blk);
  CHECK_EQ_INT(sg_block_decode(b.data, b.len, 7, &blk, NULL), SEOGO_OK);
  CHECK(blk.pids[0] == 7 && blk.pids[1] == 12 && blk.tfs[0] == 2 && blk.tfs[1] == 1);
  CHECK(blk.positions[0] == (4 << 2 | 1) && blk.positions[1] == (7 << 2) &&
        blk.positions[2] == (1 << 2) && blk.min_len == 3);

  /* every truncation is refused */
  int refused = 0;
  for (size_t n = 0; n < b.len; n++) {
    unsigned char *copy = malloc(n ? n : 1);
    memcpy(copy, b.data, n);
    refused += sg_block_decode(copy, n, 7, &blk, NULL) == SEOGO_ECORRUPT;
    free(copy);
  }
  CHECK_EQ_INT(refused, b.len);
  /* a trailing byte too */
  sg_buf_putc(&b, 0);
  CHECK_EQ_INT(decodes(&b, 7), SEOGO_ECORRUPT);
  /* a width over 32 bits in any packed run */
  for (size_t at = 0; at < 3; at++) {
    put_block(&b, &good);
    size_t w = 5 + at * (1 + good.n);
    CHECK_EQ_INT(b.data[w], 8);
    b.data[w] = 33;
    CHECK_EQ_INT(decodes(&b, 7), SEOGO_ECORRUPT);
  }
  CHECK_EQ_INT(decodes_with(zero_count), SEOGO_ECORRUPT);
  CHECK_EQ_INT(decodes_with(huge_count), SEOGO_ECORRUPT);
  CHECK_EQ_INT(decodes_with(wrong_last), SEOGO_ECORRUPT);
  CHECK_EQ_INT(decodes_with(wrong_max_tf), SEOGO_ECORRUPT);
  CHECK_EQ_INT(decodes_with(bad_flags), SEOGO_ECORRUPT);
  CHECK_EQ_INT(decodes_with(varying_flag_in_header), SEOGO_ECORRUPT);
  CHECK_EQ_INT(decodes_with(both_flags_vary), SEOGO_OK); /* the values then read as gap << 2 */
  /* only the stem end varies, every position starts a word: values are gap << 1 | stem end */
  hand_block stem = good;
  stem.flags = SG_FLAGS_VARY_S | 1;
  stem.pos[0] = 4 << 1, stem.pos[1] = 3 << 1 | 1, stem.pos[2] = 1 << 1;
  put_block(&b, &stem);
  CHECK_EQ_INT(sg_block_decode(b.data, b.len, 7, &blk, NULL), SEOGO_OK);
  CHECK(blk.positions[0] == (4 << 2 | 1) && blk.positions[1] == (7 << 2 | 3) &&
        blk.positions[2] == (1 << 2 | 1));
  CHECK_EQ_INT(decodes_with(huge_min_len), SEOGO_ECORRUPT);
  CHECK_EQ_INT(decodes_with(position_overflow), SEOGO_ECORRUPT);
  /* a pid past 2^32 - 1: one passage at gap 2^32 - 1 (width 32) from key 7 */
  sg_buf_clear(&b);
  const unsigned char pid_overflow[] = {1, 0, 1, 1, 0, 32, 0xff, 0xff, 0xff, 0xff, 0, 8, 1};
  sg_buf_append(&b, pid_overflow, sizeof pid_overflow);
  CHECK_EQ_INT(decodes(&b, 7), SEOGO_ECORRUPT);
  /* a tf so large its positions cannot fit in the value: refused before allocating */
  sg_buf_clear(&b);
  const unsigned char huge_tf[] = {1, 0, 0xe8, 0x07, 1, 0, 0, 16, 0xe7, 0x03, 8, 4};
  sg_buf_append(&b, huge_tf, sizeof huge_tf);
  CHECK_EQ_INT(decodes(&b, 7), SEOGO_ECORRUPT);
  /* an overlong varint (11 bytes) */
  sg_buf_clear(&b);
  for (int i = 0; i < 11; i++) sg_buf_putc(&b, 0xff);
  CHECK_EQ_INT(decodes(&b, 7), SEOGO_ECORRUPT);
  sg_block_free(&blk);
  sg_buf_free(&b);
}

/* Postings as a real term has them: bit widths chosen per run of 128, flags stored only when
 * they vary, and pids, tfs and positions coming back exactly (also from a lazy decode). */
static void test_block_packing(void) {
  enum { N = 128 };
  uint32_t pids[N], starts[N + 1], pos[4 * N];
  uint32_t at = 0;
  for (uint32_t i = 0; i < N; i++) {
    pids[i] = 1000 + i * i * 7; /* growing gaps: wide pid fields */
    starts[i] = at;
    uint32_t tf = 1 + (i % 3 == 0) + (i % 17 == 0) * 2;
    for (uint32_t j = 0; j < tf; j++) pos[at++] = (i + j * 50) << 2 | 1; /* constant flags */
  }
  starts[N] = at;
  sg_buf b = {0}, c = {0};
  CHECK(sg_block_encode(&b, 1000, N, pids, starts, pos, 9) == 0);
  sg_block blk;
  sg_block_init(&blk);
  CHECK_EQ_INT(sg_block_decode_head(b.data, b.len, 1000, &blk, NULL), SEOGO_OK);
  CHECK(!blk.pos_ready && blk.max_tf == 4 && blk.min_len == 9 && blk.count == N);
  CHECK(memcmp(blk.pids, pids, sizeof pids) == 0);
  CHECK_EQ_INT(sg_block_decode_positions(&blk, NULL), SEOGO_OK);
  CHECK(memcmp(blk.pos_start, starts, sizeof starts) == 0);
  CHECK(memcmp(blk.positions, pos, at * sizeof *pos) == 0);
  /* the same with one position's stem end different: that flag is stored, the block grows;
   * with a word start different too, both are, and it grows again */
  pos[5] ^= 2;
  CHECK(sg_block_encode(&c, 1000, N, pids, starts, pos, 9) == 0);
  CHECK(c.len > b.len);
  CHECK_EQ_INT(sg_block_decode(c.data, c.len, 1000, &blk, NULL), SEOGO_OK);
  CHECK(memcmp(blk.positions, pos, at * sizeof *pos) == 0);
  size_t one_flag = c.len;
  pos[9] ^= 1;
  CHECK(sg_block_encode(&c, 1000, N, pids, starts, pos, 9) == 0);
  CHECK_MSG(c.len > one_flag, "one flag varying: %zu bytes, both: %zu", one_flag, c.len);
  CHECK_EQ_INT(sg_block_decode(c.data, c.len, 1000, &blk, NULL), SEOGO_OK);
  CHECK(memcmp(blk.positions, pos, at * sizeof *pos) == 0);
  for (uint32_t i = 0; i < N; i += 5) { /* each passage's positions decoded alone */
    sg_block one;
    sg_block_init(&one);
    CHECK_EQ_INT(sg_block_decode_head(c.data, c.len, 1000, &one, NULL), SEOGO_OK);
    CHECK_EQ_INT(sg_block_passage_positions(&one, i, NULL), SEOGO_OK);
    CHECK(!memcmp(one.positions + starts[i], pos + starts[i],
                  (starts[i + 1] - starts[i]) * sizeof *pos));
    sg_block_free(&one);
  }
  pos[9] ^= 1;
  /* about a byte a posting for pids and tfs together with 7 positions every 2 bytes */
  CHECK_MSG(b.len < 2 * N + 2 * at, "a block of %u postings takes %zu bytes", (unsigned)N, b.len);
  sg_block_head h;
  CHECK_EQ_INT(sg_block_head_read(b.data, b.len, 1000, &h, NULL), SEOGO_OK);
  CHECK(h.count == N && h.last_pid == pids[N - 1] && h.max_tf == 4 && h.min_len == 9);
  sg_block_free(&blk);
  sg_buf_free(&b);
  sg_buf_free(&c);
}

/* A run with one outlier packs the rest narrow and patches the outlier (exceptions); damaged
 * exceptions are refused. */
static void test_block_exceptions(void) {
  enum { N = 128 };
  uint32_t pids[N], starts[N + 1], pos[N];
  for (uint32_t i = 0; i < N; i++) {
    pids[i] = 100 + i + (i >= 60 ? 3000000 : 0); /* consecutive but for one jump */
    starts[i] = i;
    pos[i] = 3u << 2;
  }
  starts[N] = N;
  sg_buf b = {0};
  CHECK(sg_block_encode(&b, 100, N, pids, starts, pos, 1) == 0);
  /* 22 bits for each of 128 pids would be 352 bytes */
  CHECK_MSG(b.len < 60, "a block of consecutive passages with one jump takes %zu bytes", b.len);
  sg_block blk;
  sg_block_init(&blk);
  CHECK_EQ_INT(sg_block_decode(b.data, b.len, 100, &blk, NULL), SEOGO_OK);
  CHECK(memcmp(blk.pids, pids, sizeof pids) == 0 && blk.last_pid == pids[N - 1]);
  CHECK(memcmp(blk.positions, pos, sizeof pos) == 0);
  /* the pids run follows the header: count (2 bytes), last_delta (4), max_tf, min_len, flags */
  size_t head = 9;
  CHECK(b.data[head] & SG_PACK_EXCEPTIONS);
  size_t exc = head + 1 + ((b.data[head] & 63) * N + 7) / 8; /* nexc byte */
  CHECK_EQ_INT(b.data[exc], 1);
  unsigned char *copy = malloc(b.len);
  const unsigned char bad_index[] = {N, 200};
  for (size_t k = 0; k < sizeof bad_index; k++) {
    memcpy(copy, b.data, b.len);
    copy[exc + 1] = bad_index[k];
    CHECK_EQ_INT(sg_block_decode(copy, b.len, 100, &blk, NULL), SEOGO_ECORRUPT);
  }
  memcpy(copy, b.data, b.len);
  copy[exc] = 0; /* no exceptions announced as some */
  CHECK_EQ_INT(sg_block_decode(copy, b.len, 100, &blk, NULL), SEOGO_ECORRUPT);
  memcpy(copy, b.data, b.len);
  copy[head] |= 32 | 64; /* width over 32 and the reserved bit */
  CHECK_EQ_INT(sg_block_decode(copy, b.len, 100, &blk, NULL), SEOGO_ECORRUPT);
  free(copy);
  sg_block_free(&blk);
  sg_buf_free(&b);
}

/* A packed run written bit by bit (the test's own packer, not the library's): n values at
 * width w, low bits first; values that do not fit are patched through exceptions. */
static size_t put_run(unsigned char *q, const uint32_t *v, uint32_t n, unsigned w) {
  size_t nbytes = ((size_t)n * w + 7) / 8, len = 1 + nbytes;
  uint32_t nexc = 0;
  for (uint32_t i = 0; i < n; i++) nexc += w < 32 && v[i] >> w;
  q[0] = (unsigned char)(w | (nexc ? SG_PACK_EXCEPTIONS : 0));
  memset(q + 1, 0, nbytes);
  for (uint32_t i = 0; i < n; i++)
    for (unsigned b = 0; b < w; b++)
      if (v[i] >> b & 1) q[1 + (i * w + b) / 8] |= (unsigned char)(1u << ((i * w + b) % 8));
  if (!nexc) return len;
  q[len++] = (unsigned char)nexc;
  for (uint32_t i = 0; i < n; i++) {
    if (w == 32 || !(v[i] >> w)) continue;
    q[len++] = (unsigned char)i;
    len += sg_varint_encode(q + len, v[i] >> w);
  }
  return len;
}

static uint32_t next_random(uint64_t *state) {
  *state = *state * 6364136223846793005ULL + 1442695040888963407ULL;
  return (uint32_t)(*state >> 32);
}

/* Blocks whose pids, tfs and positions are packed at each width 0..32 (also widths wider than
 * the values need, which the encoder never picks but a reader must take), 1 to 128 postings,
 * with and without exceptions: every one decodes to the values written, whole and passage by
 * passage. The pids carry the widest values (a value of all ones at the run's width). */
static void test_every_width(void) {
  enum { N = SG_BLOCK_MAX };
  static unsigned char data[16 * N * 8];
  uint64_t seed = 42;
  sg_block blk, one;
  sg_block_init(&blk);
  sg_block_init(&one);
  for (unsigned w = 0; w <= 32; w++) {
    unsigned bad = 0, patched = 0;
    for (uint32_t n = 1; n <= N; n++) {
      for (int exc = 0; exc < 2 && (!exc || w < 32); exc++) {
        uint32_t gaps[N], tfv[N], pos[8 * N], pids[N], starts[N + 1];
        uint64_t mask = w == 32 ? 0xffffffffu : ((uint64_t)1 << w) - 1;
        unsigned small = 24 - (32 - (unsigned)__builtin_clz(n)); /* n values sum below 2^24 */
        uint64_t low = w < small ? mask : ((uint64_t)1 << small) - 1;
        for (uint32_t i = 0; i < n; i++) gaps[i] = next_random(&seed) & (uint32_t)low;
        uint32_t full = (w + n) % n;
        if (exc) { /* up to three exceptions, the sum staying below 2^32 */
          uint32_t at[3] = {n - 1, n / 2, 0};
          for (int k = 0; k < (w <= 29 ? 3 : 1); k++) {
            uint32_t high = w <= 29 ? 1 + next_random(&seed) % (1u << (29 - w)) : 1;
            gaps[at[k]] = high << w | (next_random(&seed) & (uint32_t)(w == 31 ? low : mask));
          }
          if (full != n - 1 && full != n / 2 && full != 0) gaps[full] = (uint32_t)(mask >> 1);
        } else {
          gaps[full] = w == 32 ? 0xffffffffu - (1u << 24) - N : (uint32_t)mask;
        }
        uint64_t pid = 0, total = 0;
        unsigned max_tf = 0;
        for (uint32_t i = 0; i < n; i++) {
          pid += gaps[i] + (i > 0);
          pids[i] = (uint32_t)pid;
          tfv[i] = w ? next_random(&seed) % 3 : 0;
          if (exc && w && w < 3 && i == n / 2) tfv[i] = 5; /* an exception in the tfs too */
          max_tf = tfv[i] + 1 > max_tf ? tfv[i] + 1 : max_tf;
          starts[i] = (uint32_t)total;
          total += tfv[i] + 1;
        }
        starts[n] = (uint32_t)total;
        CHECK(pid <= UINT32_MAX);
        size_t len = 0;
        len += sg_varint_encode(data + len, n);
        len += sg_varint_encode(data + len, pids[n - 1]);
        len += sg_varint_encode(data + len, max_tf);
        len += sg_varint_encode(data + len, 0);
        data[len++] = 0;
        size_t pid_run = len;
        len += put_run(data + len, gaps, n, w);
        patched += exc && (data[pid_run] & SG_PACK_EXCEPTIONS);
        len += put_run(data + len, tfv, n, w);
        for (uint32_t i = 0; i < n; i++) { /* position gaps, each passage from 0 */
          for (uint32_t j = starts[i]; j < starts[i + 1]; j++) {
            uint32_t gap = next_random(&seed) & (uint32_t)(w < 2 ? mask : 3);
            if (exc && w < 2 && j == starts[i]) gap = 6;
            pos[j] = gap;
          }
        }
        for (uint32_t off = 0; off < total; off += N)
          len += put_run(data + len, pos + off, total - off < N ? (uint32_t)(total - off) : N, w);
        for (uint32_t i = 0; i < n; i++) { /* the positions expected: running sums, no flags */
          uint32_t at = 0;
          for (uint32_t j = starts[i]; j < starts[i + 1]; j++) pos[j] = (at += pos[j]) << 2;
        }
        int ok = sg_block_decode(data, len, 0, &blk, NULL) == SEOGO_OK && blk.count == n &&
                 !memcmp(blk.pids, pids, n * sizeof *pids) &&
                 !memcmp(blk.pos_start, starts, (n + 1) * sizeof *starts) &&
                 !memcmp(blk.positions, pos, total * sizeof *pos);
        for (uint32_t i = 0; ok && i < n; i += 1 + n / 5) {
          ok = sg_block_decode_head(data, len, 0, &one, NULL) == SEOGO_OK &&
               sg_block_passage_positions(&one, i, NULL) == SEOGO_OK &&
               !memcmp(one.positions + starts[i], pos + starts[i],
                       (starts[i + 1] - starts[i]) * sizeof *pos);
        }
        bad += !ok;
        /* one byte short anywhere in the last run is caught, never read past */
        bad += sg_block_decode(data, len - 1, 0, &blk, NULL) != SEOGO_ECORRUPT;
      }
    }
    CHECK_MSG(bad == 0, "width %u: %u of %u blocks decode wrong", w, bad, 2 * N);
    CHECK_MSG(w == 32 || patched == N, "width %u: %u runs with exceptions", w, patched);
  }
  sg_block_free(&blk);
  sg_block_free(&one);
}

/* A stored tf of 2^32 - 1 is corrupt: one more wraps to a tf of 0, which the header's max tf
 * and the positions (one fewer) would not give away. */
static void test_tf_wrap(void) {
  const uint32_t gaps[2] = {0, 0}, tfs[2] = {0, 0xffffffffu}, pos[1] = {0};
  unsigned char data[64];
  size_t len = 0;
  len += sg_varint_encode(data + len, 2); /* two passages, pids 0 and 1 */
  len += sg_varint_encode(data + len, 1);
  len += sg_varint_encode(data + len, 1); /* max tf 1 */
  len += sg_varint_encode(data + len, 0);
  data[len++] = 0;
  len += put_run(data + len, gaps, 2, 1);
  len += put_run(data + len, tfs, 2, 32);
  len += put_run(data + len, pos, 1, 0); /* one position: 1 + (2^32 - 1 + 1 wrapped) */
  sg_block blk;
  sg_block_init(&blk);
  CHECK_EQ_INT(sg_block_decode(data, len, 0, &blk, NULL), SEOGO_ECORRUPT);
  sg_block_free(&blk);
}

/* Exceptions must name values in ascending order, each once, and carry high bits that fit:
 * a run that breaks one of these is corrupt (its header agreeing with what a lenient reader
 * would make of it), however much room the value has after it. */
static void test_exception_order(void) {
  static const struct {
    unsigned char bytes[8]; /* two exceptions of the pids run, width 1 over four zeros */
    size_t len;
    uint32_t last; /* the last pid a reader that skips the checks would find */
    int ok;
  } cases[] = {
      {{0, 1, 1, 1}, 4, 7, 1},                            /* gaps 2, 2, 0, 0: valid */
      {{1, 1, 0, 1}, 4, 7, 0},                            /* descending */
      {{1, 1, 1, 1}, 4, 5, 0},                            /* the same index twice */
      {{0, 1, 4, 1}, 4, 5, 0},                            /* index n */
      {{0, 1, 1, 0}, 4, 5, 0},                            /* no high bits */
      {{0, 1, 1, 0x80, 0x80, 0x80, 0x80, 0x08}, 8, 5, 0}, /* high 2^31 at width 1 */
  };
  const uint32_t zeros[4] = {0, 0, 0, 0};
  for (int room = 0; room < 2; room++) {
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
      unsigned char data[64];
      size_t len = 0;
      len += sg_varint_encode(data + len, 4);
      len += sg_varint_encode(data + len, cases[k].last);
      len += sg_varint_encode(data + len, 1);
      len += sg_varint_encode(data + len, 0);
      data[len++] = 0;
      data[len++] = 1 | SG_PACK_EXCEPTIONS;
      data[len++] = 0;
      data[len++] = 2;
      memcpy(data + len, cases[k].bytes, cases[k].len);
      len += cases[k].len;
      len += put_run(data + len, zeros, 4, 0);
      len += put_run(data + len, zeros, 4, room ? 32 : 0); /* room: 16 bytes more */
      sg_block blk;
      sg_block_init(&blk);
      CHECK_MSG(
          sg_block_decode(data, len, 0, &blk, NULL) == (cases[k].ok ? SEOGO_OK : SEOGO_ECORRUPT),
          "case %zu, room %d", k, room);
      sg_block_free(&blk);
    }
  }
}

int main(void) {
  RUN(test_stats_round_trip);
  RUN(test_doc_round_trip);
  RUN(test_passage_and_term);
  RUN(test_postings_key);
  RUN(test_block_round_trip);
  RUN(test_corrupt_blocks);
  RUN(test_block_packing);
  RUN(test_block_exceptions);
  RUN(test_every_width);
  RUN(test_tf_wrap);
  RUN(test_exception_order);
  return tl_summary();
}
