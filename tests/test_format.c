/* test_format.c - the on-disk codecs round-trip, and damaged stored bytes are rejected. */
#include <stdlib.h>
#include <string.h>

#include "format.h"
#include "testlib.h"

static void test_stats_round_trip(void) {
  sg_stats in = {.next_doc_id = 6, .next_passage_id = 1234567, .documents = 5,
                 .passages = 1234566, .tokens = 99999999999ULL, .postings = 77, .terms = 3,
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
  sg_doc in = {.path = path, .path_len = strlen(path), .size = 308556, .mtime = -5,
               .hash = 0x0123456789abcdefULL, .first_pid = 42, .npassages = 700, .nlines = 8085,
               .pdf_like = 1, .short_line = 30, .text_len = 308556, .invalid = 2};
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

static void test_passage_and_term(void) {
  sg_passage p = {.doc_id = 3, .start = 100, .end = 420, .line_start = 7, .line_end = 9,
                  .length = 61};
  sg_buf b = {0};
  CHECK(sg_passage_encode(&b, &p) == 0);
  sg_passage q;
  CHECK_EQ_INT(sg_passage_decode(b.data, b.len, &q, NULL), SEOGO_OK);
  CHECK(memcmp(&p, &q, sizeof p) == 0);
  sg_buf_clear(&b);
  p.start = 500; /* start after end */
  CHECK(sg_passage_encode(&b, &p) == 0);
  CHECK_EQ_INT(sg_passage_decode(b.data, b.len, &q, NULL), SEOGO_ECORRUPT);

  sg_term_info t = {.df = 10, .cf = 25, .nblocks = 1}, u;
  sg_buf_clear(&b);
  CHECK(sg_term_encode(&b, &t) == 0);
  CHECK_EQ_INT(sg_term_decode(b.data, b.len, &u, NULL), SEOGO_OK);
  CHECK(u.df == 10 && u.cf == 25 && u.nblocks == 1);
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
    (1u << 2) | 1, (1u << 2) | 0, (40u << 2) | 3, (65534u << 2)  /* passage 300 */
};

static void test_block_round_trip(void) {
  sg_buf b = {0};
  CHECK(sg_block_encode(&b, 10, 3, demo_pids, demo_starts, demo_pos) == 0);
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
  CHECK(sg_block_encode(&b, 4, 3, demo_pids, demo_starts, demo_pos) == 0);
  CHECK_EQ_INT(sg_block_decode(b.data, b.len, 4, &blk, NULL), SEOGO_OK);
  CHECK(blk.pids[0] == 10 && blk.last_pid == 300);
  /* the encoder refuses what the format cannot hold */
  const uint32_t unordered[] = {10, 10, 300};
  CHECK(sg_block_encode(&b, 10, 3, unordered, demo_starts, demo_pos) == -1);
  CHECK(sg_block_encode(&b, 11, 3, demo_pids, demo_starts, demo_pos) == -1);
  sg_block_free(&blk);
  sg_buf_free(&b);
}

/* Encodes a block by hand, field by field, so that each field can be made wrong. */
static void put_block(sg_buf *b, const uint64_t *fields, size_t n) {
  sg_buf_clear(b);
  for (size_t i = 0; i < n; i++) sg_buf_put_varint(b, fields[i]);
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

static void test_corrupt_blocks(void) {
  sg_buf b = {0};
  /* count, last_delta, max_tf, gaps, tfs, positions */
  const uint64_t good[] = {2, 5, 2, 0, 5, 1, 2, 4 << 2 | 1, 3 << 2, 1 << 2};
  put_block(&b, good, 10);
  CHECK_EQ_INT(decodes(&b, 7), SEOGO_OK);

  /* every truncation is refused */
  int refused = 0;
  for (size_t n = 0; n < b.len; n++) {
    unsigned char *copy = malloc(n ? n : 1);
    memcpy(copy, b.data, n);
    sg_block blk;
    sg_block_init(&blk);
    refused += sg_block_decode(copy, n, 7, &blk, NULL) == SEOGO_ECORRUPT;
    sg_block_free(&blk);
    free(copy);
  }
  CHECK_EQ_INT(refused, b.len);

  const uint64_t zero_count[] = {0, 0, 1};
  put_block(&b, zero_count, 3);
  CHECK_EQ_INT(decodes(&b, 7), SEOGO_ECORRUPT);
  const uint64_t huge_count[] = {1000000, 5, 2, 0, 5, 1, 2, 4 << 2 | 1, 3 << 2, 1 << 2};
  put_block(&b, huge_count, 10);
  CHECK_EQ_INT(decodes(&b, 7), SEOGO_ECORRUPT);
  const uint64_t pids_out_of_order[] = {2, 0, 2, 0, 0, 1, 2, 4 << 2, 3 << 2, 1 << 2};
  put_block(&b, pids_out_of_order, 10);
  CHECK_EQ_INT(decodes(&b, 7), SEOGO_ECORRUPT);
  const uint64_t wrong_last[] = {2, 6, 2, 0, 5, 1, 2, 4 << 2 | 1, 3 << 2, 1 << 2};
  put_block(&b, wrong_last, 10);
  CHECK_EQ_INT(decodes(&b, 7), SEOGO_ECORRUPT);
  const uint64_t wrong_max_tf[] = {2, 5, 3, 0, 5, 1, 2, 4 << 2 | 1, 3 << 2, 1 << 2};
  put_block(&b, wrong_max_tf, 10);
  CHECK_EQ_INT(decodes(&b, 7), SEOGO_ECORRUPT);
  const uint64_t zero_tf[] = {2, 5, 2, 0, 5, 0, 2, 3 << 2, 1 << 2};
  put_block(&b, zero_tf, 9);
  CHECK_EQ_INT(decodes(&b, 7), SEOGO_ECORRUPT);
  const uint64_t huge_tf[] = {1, 0, 4000000000ULL, 0, 4000000000ULL, 1 << 2};
  put_block(&b, huge_tf, 6);
  CHECK_EQ_INT(decodes(&b, 7), SEOGO_ECORRUPT);
  const uint64_t too_many_positions[] = {1, 0, 1000, 0, 1000, 1 << 2};
  put_block(&b, too_many_positions, 6);
  CHECK_EQ_INT(decodes(&b, 7), SEOGO_ECORRUPT);
  const uint64_t position_overflow[] = {1, 0, 2, 0, 2, 65000ULL << 2, 1000ULL << 2};
  put_block(&b, position_overflow, 7);
  CHECK_EQ_INT(decodes(&b, 7), SEOGO_ECORRUPT);
  const uint64_t pid_overflow[] = {1, 0, 1, 0xffffffffULL, 1, 1 << 2};
  put_block(&b, pid_overflow, 6);
  CHECK_EQ_INT(decodes(&b, 7), SEOGO_ECORRUPT);
  const uint64_t trailing[] = {1, 0, 1, 0, 1, 1 << 2, 9};
  put_block(&b, trailing, 7);
  CHECK_EQ_INT(decodes(&b, 7), SEOGO_ECORRUPT);
  /* an overlong varint (11 bytes) */
  sg_buf_clear(&b);
  for (int i = 0; i < 11; i++) sg_buf_putc(&b, 0xff);
  CHECK_EQ_INT(decodes(&b, 7), SEOGO_ECORRUPT);
  sg_buf_free(&b);
}

int main(void) {
  RUN(test_stats_round_trip);
  RUN(test_doc_round_trip);
  RUN(test_passage_and_term);
  RUN(test_postings_key);
  RUN(test_block_round_trip);
  RUN(test_corrupt_blocks);
  return tl_summary();
}
