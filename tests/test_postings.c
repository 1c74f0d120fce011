/* test_postings.c - the postings cursor a search moves over the corpus: tf without positions,
 * positions decoded only when asked for, and block and term bounds (block-max scoring) that
 * never understate a tf nor overstate a passage's shortness. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "searcher.h"
#include "testlib.h"

static const char *const CORPUS[] = {
    "corpus/000_659a9385f88d803c.txt", "corpus/001_5c4ecdcc42dba0b5.txt",
    "corpus/002_0223f975d8e56b67.txt", "corpus/003_6aa41a9c697c4b0d.txt",
    "corpus/004_4c37cfff86aabd90.txt"};

static seogo_index *ix;

static void build_index(void) {
  char dir[512];
  snprintf(dir, sizeof dir, "%s/index", tl_tmpdir());
  seogo_error err = {0};
  if (seogo_open(dir, SEOGO_OPEN_WRITE, &ix, &err)) {
    fprintf(stderr, "cannot create the test index: %s\n", err.message);
    exit(2);
  }
  for (size_t i = 0; i < sizeof CORPUS / sizeof CORPUS[0]; i++) {
    if (seogo_add_file(ix, tl_source_path(CORPUS[i]), CORPUS[i], NULL, &err)) {
      fprintf(stderr, "cannot index %s: %s\n", CORPUS[i], err.message);
      exit(2);
    }
    /* a commit per document: terms get blocks that are filled up in later commits */
    if (seogo_commit(ix, &err)) {
      fprintf(stderr, "commit: %s\n", err.message);
      exit(2);
    }
  }
}

typedef struct posting {
  uint32_t pid, tf, len;
} posting;

/* Every posting of a term, walking one passage at a time; checks tf against the positions. */
static posting *walk(sg_reader *r, const char *term, size_t *n) {
  sg_postings p;
  size_t cap = 64;
  posting *all = malloc(cap * sizeof *all);
  *n = 0;
  CHECK_EQ_INT(sg_postings_open(&p, r, term, strlen(term), NULL), SEOGO_OK);
  size_t bad_tf = 0, unordered = 0, early = 0;
  uint32_t block = SG_PID_END;
  while (p.pid != SG_PID_END) {
    if (*n == cap) all = realloc(all, (cap *= 2) * sizeof *all);
    uint32_t tf = sg_postings_tf(&p), len = 0;
    /* moving into a block decoded its pids and tfs, not its positions */
    if (p.block.first_pid != block) early += p.block.pos_ready;
    block = p.block.first_pid;
    size_t npos;
    seogo_error err = {0};
    const uint32_t *pos = sg_postings_positions(&p, &npos, &err);
    CHECK_MSG(pos != NULL, "%s: positions of %u: %s", term, (unsigned)p.pid, err.message);
    if (!pos) break;
    bad_tf += npos != tf;
    for (size_t j = 1; j < npos; j++) unordered += (pos[j] >> 2) < (pos[j - 1] >> 2);
    CHECK_EQ_INT(sg_reader_norm(r, p.pid, &len, NULL), SEOGO_OK);
    all[(*n)++] = (posting){p.pid, tf, len};
    /* asking again within the passage gives the same positions */
    size_t again;
    CHECK(sg_postings_positions(&p, &again, NULL) == pos && again == npos);
    CHECK_EQ_INT(sg_postings_seek(&p, p.pid + 1, NULL), SEOGO_OK);
  }
  CHECK_MSG(bad_tf == 0, "%s: %zu tfs differ from their positions", term, bad_tf);
  CHECK_MSG(unordered == 0, "%s: %zu positions out of order", term, unordered);
  CHECK_MSG(early == 0, "%s: positions decoded %zu times before being asked for", term, early);
  sg_postings_close(&p);
  return all;
}

/* The block bound at target covers the first posting >= target, and no posting in its range
 * has a larger tf or a shorter passage than it says. */
static size_t check_bound(const posting *all, size_t n, const sg_block_bound *b, uint32_t target) {
  size_t i = 0, wrong = 0;
  while (i < n && all[i].pid < target) i++;
  if (i == n) return b->first_pid != SG_PID_END;
  if (b->first_pid > all[i].pid || b->last_pid < all[i].pid) return 1;
  for (size_t j = 0; j < n; j++) {
    if (all[j].pid < b->first_pid || all[j].pid > b->last_pid) continue;
    wrong += all[j].tf > b->max_tf || all[j].len < b->min_len;
  }
  return wrong;
}

/* Seeks by any stride, from one passage to the next up to several blocks at once, to a
 * passage of the term or just after one, land on the first posting at or after the target,
 * with its tf; also when every seek out of the block finds its block through the tree (far =
 * 0: what a seek far ahead does in a long list). */
static void check_seeks(sg_reader *r, const char *term, const posting *all, size_t n) {
  for (size_t stride = 1; stride < n; stride = stride * 3 + 1) {
    for (int tree = 0; tree < 2; tree++) {
      sg_postings p;
      CHECK_EQ_INT(sg_postings_open(&p, r, term, strlen(term), NULL), SEOGO_OK);
      if (tree) p.far = 0;
      size_t wrong = 0;
      for (size_t j = 0; j < n; j += stride) {
        uint32_t t = all[j].pid + (j & 1);
        size_t i = j + (j & 1); /* the first posting >= t */
        CHECK_EQ_INT(sg_postings_seek(&p, t, NULL), SEOGO_OK);
        if (i == n) wrong += p.pid != SG_PID_END;
        else wrong += p.pid != all[i].pid || sg_postings_tf(&p) != all[i].tf;
      }
      CHECK_MSG(wrong == 0, "%s stride %zu%s: %zu seeks landed wrong", term, stride,
                tree ? " (through the tree)" : "", wrong);
      sg_postings_close(&p);
    }
  }
}

static void check_term(sg_reader *r, const char *term, uint32_t min_blocks) {
  sg_term_info info;
  CHECK_EQ_INT(sg_reader_term(r, term, strlen(term), &info, NULL), SEOGO_OK);
  CHECK_MSG(info.nblocks >= min_blocks, "%s has %u blocks", term, (unsigned)info.nblocks);
  size_t n;
  posting *all = walk(r, term, &n);
  CHECK_EQ_INT(n, info.df);
  sg_postings p;
  CHECK_EQ_INT(sg_postings_open(&p, r, term, strlen(term), NULL), SEOGO_OK);
  /* the term's bounds hold for every posting */
  size_t beyond = 0;
  for (size_t i = 0; i < n; i++) beyond += all[i].tf > p.max_tf || all[i].len < p.min_len;
  CHECK_MSG(beyond == 0, "%s: %zu postings beyond the term's bounds", term, beyond);
  /* headers ahead of the cursor, by any stride, without moving it */
  uint32_t end = n ? all[n - 1].pid + 2 : 2;
  for (uint32_t stride = 1; stride < 3000; stride = stride * 4 + 3) {
    size_t wrong = 0, moved = 0;
    uint32_t at = p.pid;
    for (uint32_t t = 1; t < end; t += stride) {
      sg_block_bound b;
      CHECK_EQ_INT(sg_postings_block_header(&p, t, &b, NULL), SEOGO_OK);
      wrong += check_bound(all, n, &b, t < p.pid ? p.pid : t);
      moved += p.pid != at;
    }
    CHECK_MSG(wrong == 0 && moved == 0, "%s stride %u: %zu wrong bounds, moved %zu times", term,
              (unsigned)stride, wrong, moved);
  }
  /* interleaved with seeks: the bound at the next target, then the seek there */
  size_t wrong = 0;
  for (uint32_t t = 1; p.pid != SG_PID_END; t += 37) {
    sg_block_bound b;
    CHECK_EQ_INT(sg_postings_block_header(&p, t, &b, NULL), SEOGO_OK);
    wrong += check_bound(all, n, &b, t < p.pid ? p.pid : t);
    CHECK_EQ_INT(sg_postings_seek(&p, t, NULL), SEOGO_OK);
    if (p.pid != SG_PID_END) wrong += p.pid < b.first_pid || p.pid > b.last_pid;
  }
  CHECK_MSG(wrong == 0, "%s: %zu wrong bounds between seeks", term, wrong);
  check_seeks(r, term, all, n);
  sg_block_bound b;
  CHECK_EQ_INT(sg_postings_block_header(&p, 1, &b, NULL), SEOGO_OK);
  CHECK(b.first_pid == SG_PID_END && b.last_pid == SG_PID_END);
  sg_postings_close(&p);
  free(all);
}

static void test_common_english_word(void) {
  sg_reader r;
  CHECK_EQ_INT(sg_reader_begin(&r, ix, NULL), SEOGO_OK);
  check_term(&r, "ai", 3);
  sg_reader_end(&r);
}

static void test_korean_terms(void) {
  sg_reader r;
  CHECK_EQ_INT(sg_reader_begin(&r, ix, NULL), SEOGO_OK);
  check_term(&r, "반도", 1);
  check_term(&r, "데이", 1);
  sg_reader_end(&r);
}

/* The positions of a few passages of a block, each decoded alone, equal what decoding the
 * whole block gives them (a phrase of rare words reads only those). */
static void check_alone(sg_reader *r, const char *term, uint32_t every) {
  sg_postings few, all;
  CHECK_EQ_INT(sg_postings_open(&few, r, term, strlen(term), NULL), SEOGO_OK);
  CHECK_EQ_INT(sg_postings_open(&all, r, term, strlen(term), NULL), SEOGO_OK);
  size_t asked = 0, alone = 0, differ = 0;
  for (uint32_t k = 0; all.pid != SG_PID_END; k++) {
    CHECK_EQ_INT(sg_postings_seek(&few, all.pid, NULL), SEOGO_OK);
    CHECK_EQ_INT(few.pid, all.pid);
    if (k % every == 0) {
      size_t n, nfull;
      const uint32_t *pos = sg_postings_positions(&few, &n, NULL);
      CHECK_EQ_INT(sg_block_decode_positions(&all.block, NULL), SEOGO_OK);
      const uint32_t *full = sg_postings_positions(&all, &nfull, NULL);
      CHECK(pos != NULL && full != NULL);
      if (!pos || !full) break;
      asked++;
      alone += !few.block.pos_ready;
      differ += n != nfull || memcmp(pos, full, n * sizeof *pos) != 0;
    }
    CHECK_EQ_INT(sg_postings_seek(&all, all.pid + 1, NULL), SEOGO_OK);
  }
  CHECK_MSG(differ == 0, "%s: %zu of %zu passages decoded alone differ", term, differ, asked);
  CHECK_MSG(alone > 0, "%s: no passage was decoded alone", term);
  sg_postings_close(&few);
  sg_postings_close(&all);
}

static void test_positions_alone(void) {
  sg_reader r;
  CHECK_EQ_INT(sg_reader_begin(&r, ix, NULL), SEOGO_OK);
  check_alone(&r, "ai", 7);
  check_alone(&r, "반도", 5);
  check_alone(&r, "데이", 11);
  check_alone(&r, "the", 9);
  sg_reader_end(&r);
}

/* A block of varying positions (several runs, with outliers the packer patches) whose bytes are
 * then damaged one at a time: decoding single passages either gives what the whole block gives
 * or refuses, never reads outside the value (the sanitizer builds check that). */
static void test_positions_alone_damaged(void) {
  enum { N = 100 };
  uint32_t pids[N], starts[N + 1], pos[8 * N], at = 0;
  for (uint32_t i = 0; i < N; i++) {
    pids[i] = 500 + 3 * i;
    starts[i] = at;
    uint32_t tf = 1 + i % 5 + (i % 23 == 0) * 3;
    for (uint32_t j = 0; j < tf; j++)
      pos[at++] = (i + j * (i % 11 == 0 ? 3000 : 7)) << 2 | (i + j) % 4;
  }
  starts[N] = at;
  sg_buf b = {0};
  CHECK(sg_block_encode(&b, 500, N, pids, starts, pos, 1) == 0);
  sg_block whole, one;
  sg_block_init(&whole);
  sg_block_init(&one);
  size_t refused = 0, differ = 0;
  for (size_t k = 0; k <= b.len; k++) {
    unsigned char *copy = malloc(b.len);
    memcpy(copy, b.data, b.len);
    if (k < b.len) copy[k] ^= (unsigned char)(0x5a + k);
    /* the passages from last to first, each alone, against the whole block's decode */
    int head = sg_block_decode_head(copy, b.len, 500, &one, NULL);
    int full = head ? head : sg_block_decode(copy, b.len, 500, &whole, NULL);
    for (uint32_t i = one.count; !head && i-- > 0;) {
      int rc = sg_block_passage_positions(&one, i, NULL);
      refused += rc != SEOGO_OK;
      if (rc || full) continue;
      uint32_t s = one.pos_start[i], e = one.pos_start[i + 1];
      differ += s != whole.pos_start[i] || e != whole.pos_start[i + 1] ||
                memcmp(one.positions + s, whole.positions + s, (e - s) * sizeof *pos) != 0;
    }
    if (k == b.len) { /* undamaged */
      CHECK(head == SEOGO_OK && full == SEOGO_OK);
      CHECK(memcmp(whole.positions, pos, at * sizeof *pos) == 0);
    }
    free(copy);
  }
  CHECK_MSG(differ == 0, "%zu passages decoded alone differ from the whole block", differ);
  CHECK(refused > 0); /* some damage reached the positions */
  sg_block_free(&whole);
  sg_block_free(&one);
  sg_buf_free(&b);
}

static uint32_t floor_of(void *ctx, uint32_t min_len) {
  (void)min_len;
  return *(const uint32_t *)ctx;
}

/* Pruning by tf lands on exactly the passages where the term occurs often enough, across
 * blocks, and says when it passed some over. */
static void test_seek_by_tf(void) {
  sg_reader r;
  CHECK_EQ_INT(sg_reader_begin(&r, ix, NULL), SEOGO_OK);
  const char *const terms[] = {"ai", "반도"};
  for (size_t k = 0; k < 2; k++) {
    size_t n;
    posting *all = walk(&r, terms[k], &n);
    for (uint32_t floor = 1; floor <= 4; floor++) {
      sg_postings p;
      CHECK_EQ_INT(sg_postings_open(&p, &r, terms[k], strlen(terms[k]), NULL), SEOGO_OK);
      size_t i = 0, wrong = 0;
      int skipped_any = 0;
      for (uint32_t t = 1; p.pid != SG_PID_END || i < n;) {
        int skipped = 0;
        CHECK_EQ_INT(sg_postings_seek_tf(&p, t, floor_of, &floor, &skipped, NULL), SEOGO_OK);
        while (i < n && (all[i].pid < t || all[i].tf < floor)) i++;
        uint32_t want = i < n ? all[i].pid : SG_PID_END;
        wrong += p.pid != want;
        skipped_any |= skipped;
        if (p.pid == SG_PID_END || want == SG_PID_END) break;
        t = p.pid + 1;
        i++;
      }
      CHECK_MSG(wrong == 0, "%s, tf >= %u: %zu wrong stops", terms[k], (unsigned)floor, wrong);
      CHECK(floor == 1 ? !skipped_any : skipped_any);
      sg_postings_close(&p);
    }
    free(all);
  }
  sg_reader_end(&r);
}

static void test_missing_term(void) {
  sg_reader r;
  CHECK_EQ_INT(sg_reader_begin(&r, ix, NULL), SEOGO_OK);
  sg_postings p;
  CHECK_EQ_INT(sg_postings_open(&p, &r, "zyxwvutsrq", 10, NULL), SEOGO_OK);
  CHECK_EQ_INT(p.pid, SG_PID_END);
  sg_block_bound b;
  CHECK_EQ_INT(sg_postings_block_header(&p, 1, &b, NULL), SEOGO_OK);
  CHECK_EQ_INT(b.first_pid, SG_PID_END);
  size_t n;
  CHECK(sg_postings_positions(&p, &n, NULL) == NULL && n == 0);
  sg_postings_close(&p);
  sg_reader_end(&r);
}

int main(void) {
  build_index();
  RUN(test_common_english_word);
  RUN(test_korean_terms);
  RUN(test_positions_alone);
  RUN(test_positions_alone_damaged);
  RUN(test_seek_by_tf);
  RUN(test_missing_term);
  seogo_close(ix);
  return tl_summary();
}
