/* fuzz_postings.c - fuzz target for the decoders of stored bytes (format.c): a postings block
 * (the first 4 bytes are the key's passage id), the records and the postings key. Hostile bytes
 * must decode to something that keeps the format's rules or be SEOGO_ECORRUPT, and a decoded
 * block must encode and decode back to itself. */
#include <string.h>

#include "format.h"
#include "fuzz.h"

static sg_block fp_block, fp_again;
static sg_buf fp_buf;
static int fp_ready;

static void fp_cleanup(void) {
  sg_block_free(&fp_block);
  sg_block_free(&fp_again);
  sg_buf_free(&fp_buf);
}

static void fp_check_block(const sg_block *b, uint32_t key_pid) {
  FUZZ_ASSERT(b->count >= 1 && b->count <= SG_BLOCK_MAX);
  FUZZ_ASSERT(b->pids[0] >= key_pid && b->first_pid == key_pid);
  FUZZ_ASSERT(b->last_pid == b->pids[b->count - 1]);
  FUZZ_ASSERT(b->pos_start[0] == 0);
  for (uint32_t i = 0; i < b->count; i++) {
    if (i) FUZZ_ASSERT(b->pids[i - 1] < b->pids[i]);
    uint32_t s = b->pos_start[i], e = b->pos_start[i + 1];
    FUZZ_ASSERT(s < e && e - s <= b->max_tf && e - s <= SG_MAX_POSITIONS);
    for (uint32_t j = s; j < e; j++) {
      FUZZ_ASSERT((b->positions[j] >> 2) < SG_MAX_POSITIONS);
      if (j > s) FUZZ_ASSERT((b->positions[j - 1] >> 2) <= (b->positions[j] >> 2));
    }
  }
}

static void fp_block_roundtrip(const uint8_t *body, size_t n, uint32_t key_pid) {
  seogo_error err;
  uint32_t count = 0, last = 0, max_tf = 0;
  int peek = sg_block_peek(body, n, key_pid, &count, &last, &max_tf, &err);
  FUZZ_ASSERT(peek == SEOGO_OK || peek == SEOGO_ECORRUPT);
  int rc = sg_block_decode(body, n, key_pid, &fp_block, &err);
  FUZZ_ASSERT(rc == SEOGO_OK || rc == SEOGO_ECORRUPT);
  if (rc) return;
  FUZZ_ASSERT(peek == SEOGO_OK && count == fp_block.count && last == fp_block.last_pid);
  fp_check_block(&fp_block, key_pid);
  FUZZ_ASSERT(sg_block_encode(&fp_buf, key_pid, fp_block.count, fp_block.pids,
                              fp_block.pos_start, fp_block.positions, fp_block.min_len) == 0);
  rc = sg_block_decode(fp_buf.data, fp_buf.len, key_pid, &fp_again, &err);
  FUZZ_ASSERT(rc == SEOGO_OK);
  if (rc) return;
  FUZZ_ASSERT(fp_again.count == fp_block.count && fp_again.max_tf == fp_block.max_tf &&
              fp_again.min_len == fp_block.min_len);
  FUZZ_ASSERT(!memcmp(fp_again.pids, fp_block.pids, fp_block.count * sizeof *fp_block.pids));
  FUZZ_ASSERT(!memcmp(fp_again.pos_start, fp_block.pos_start,
                      (fp_block.count + 1) * sizeof *fp_block.pos_start));
  FUZZ_ASSERT(!memcmp(fp_again.positions, fp_block.positions,
                      fp_block.pos_start[fp_block.count] * sizeof *fp_block.positions));
}

static void fp_records(const uint8_t *data, size_t n) {
  seogo_error err;
  sg_stats st;
  sg_doc doc;
  sg_passage p;
  sg_term_info t;
  int rc = sg_stats_decode(data, n, &st, &err);
  FUZZ_ASSERT(rc == SEOGO_OK || rc == SEOGO_ECORRUPT);
  rc = sg_doc_decode(data, n, &doc, &err);
  FUZZ_ASSERT(rc == SEOGO_OK || rc == SEOGO_ECORRUPT);
  if (!rc) {
    FUZZ_ASSERT(doc.path >= (const char *)data && doc.path + doc.path_len <= (const char *)data + n);
    FUZZ_ASSERT(memchr(doc.encoding, 0, sizeof doc.encoding) != NULL);
    FUZZ_ASSERT((uint64_t)doc.first_pid + doc.npassages <= (uint64_t)UINT32_MAX + 1);
  }
  sg_passage_page pg;
  rc = sg_passage_page_open(&pg, data, n, &err);
  FUZZ_ASSERT(rc == SEOGO_OK || rc == SEOGO_ECORRUPT);
  for (uint32_t i = 0; !rc && i <= pg.nslots; i++) {
    sg_page_doc d;
    int got = sg_passage_page_get(&pg, i, &p, &d, &err);
    FUZZ_ASSERT(got == SEOGO_OK || got == SEOGO_NOTFOUND || got == SEOGO_ECORRUPT);
    if (got == SEOGO_OK)
      FUZZ_ASSERT(p.doc_id != 0 && p.start <= p.end && p.line_start >= 1 &&
                  p.line_start <= p.line_end && i < pg.nslots && d.doc_id == p.doc_id &&
                  d.path_len > 0 && d.path >= (const char *)data &&
                  d.path + d.path_len <= (const char *)data + n);
  }
  rc = sg_term_decode(data, n, &t, &err);
  FUZZ_ASSERT(rc == SEOGO_OK || rc == SEOGO_ECORRUPT);
  if (!rc) FUZZ_ASSERT(t.cf >= t.df && t.nblocks <= t.df);
  size_t term_len;
  uint32_t first_pid;
  if (sg_postings_key_parse(data, n, &term_len, &first_pid) == 0)
    FUZZ_ASSERT(term_len + 5 == n);
}

static int fuzz_postings(const uint8_t *data, size_t size) {
  if (!fp_ready) {
    sg_block_init(&fp_block);
    sg_block_init(&fp_again);
    atexit(fp_cleanup);
    fp_ready = 1;
  }
  fp_records(data, size);
  if (size < 4) return 0;
  uint32_t key_pid = sg_get_be32(data);
  fp_block_roundtrip(data + 4, size - 4, key_pid);
  return 0;
}

FUZZ_TARGET(fuzz_postings)
