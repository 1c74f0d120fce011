/* matcher.h - the matchers of a compiled query, shared by plan.c (which builds them from the
 * query's words) and eval.c (which moves them over the postings). Internal to searcher/. */
#ifndef SEOGO_MATCHER_H
#define SEOGO_MATCHER_H

#include "searcher.h"

/* M_UNION: the occurrences of any of its positional kids (a Korean word or its splits). */
typedef enum mkind { M_SEQ, M_ALT, M_PHRASE, M_NEAR, M_UNION, M_AND, M_OR, M_FILE } mkind;

typedef struct alt_rec {
  uint32_t pid, pos;
  float weight;
} alt_rec;

typedef struct pid_range {
  uint32_t first, end; /* [first, end) */
} pid_range;

/* Top-k pruning shared by the matchers of one plan (eval.c): the score a passage must beat and
 * what its bounds are computed from. */
typedef struct sg_pruner {
  sg_matcher *root;
  const sg_rank_params *params;
  sg_reader *reader;  /* passage lengths */
  double theta;       /* the top-k's worst score; -HUGE_VAL: no pruning yet */
  double prox;        /* the largest proximity factor of the query */
  int pruned;         /* a passage was skipped */
  sg_unit **units;    /* the plan's */
  size_t nunits;
  double range_total; /* the units' range_score summed, for [pass_from, pass_upto] */
  size_t ncursors;    /* postings cursors (and expansions) the bounds read */
  uint32_t pass_from, pass_upto; /* the block bounds let these passages through */
} sg_pruner;

/* What the query's only unit, a term sequence, must score for a passage to beat the top-k and
 * the tf that takes at a block's shortest passage length (eval.c: tf_floor), cached per
 * threshold and length. */
typedef struct sg_tf_need {
  const sg_pruner *pr;
  const struct sg_unit *unit;
  double theta, score;
  unsigned share;              /* the unit's tf is at most share x the sequence's occurrences */
  uint32_t len[16], floor[16]; /* by length mod 16 (floor 0: none cached) */
} sg_tf_need;

struct sg_matcher {
  mkind kind;
  uint32_t pid;      /* current passage; 0 before the first seek; SG_PID_END at the end */
  int korean;        /* ends with a Hangul/CJK word: a phrase's next word may be 1 or 2 on */
  int particle_gap;  /* so may the next word after a Latin word written with a particle */
  char *label;       /* query text (explain) */
  const sg_occ *occ; /* occurrences in the current passage (positional kinds) */
  size_t nocc;
  sg_occ *buf;       /* storage behind occ for SEQ, PHRASE, NEAR */
  size_t buf_cap;
  sg_unit *unit;     /* when this matcher is scored as a unit */
  sg_pruner *pruner; /* may skip passages that cannot enter the top-k (NULL under NOT) */
  int point_gate;    /* judges single passages too (see attach_pruner in eval.c) */
  const sg_matcher *scope; /* the unit matcher it belongs to (itself for one), NULL above */
  double range_score; /* a unit's: its block bound when the last range was judged */
  sg_matcher **kids;
  size_t nkids, npos; /* AND: kids[0 .. npos) positive, the rest excluded */
  int never;         /* AND: an excluded kid matches wherever a positive one does */
  sg_matcher **lf;   /* AND, PHRASE, NEAR: the positive kids, rarest first (eval.c) */
  int seq_kids;      /* AND, PHRASE, NEAR: every positive kid is a term sequence that need not
                        start a word (eval.c: leapfrog_seq); 2: each of one term */
  double df_est;     /* an upper bound of the passages where it matches (eval.c) */
  /* SEQ: terms at consecutive positions */
  sg_postings *post;
  size_t *at;        /* per term: scan index into its positions */
  size_t *order;     /* terms by df, rarest first: the order they are moved in */
  sg_postings *lead; /* the rarest term (set by sg_plan_prepare) */
  size_t nterms;
  /* SEQ: the unit whose tf this sequence's occurrences bound (the plan's only unit: the
   * sequence itself, or the last word of a phrase; or one word of a root AND of words), what
   * the other units can add at most (floor_rest), and what that unit needs (eval.c) */
  const struct sg_unit *floor_unit;
  double floor_rest;
  unsigned floor_share; /* the unit occurs at most this many times per occurrence (0: once) */
  sg_tf_need need;
  int word_start;    /* the first term must start a word (prefix queries) */
  int lone_term;     /* one term that need not start a word: an intersection moves its cursor
                        directly (set by sg_plan_prepare) */
  /* ALT: expanded terms, their occurrences merged and sorted by passage */
  alt_rec *recs;
  size_t nrecs, rec_i;
  size_t nexpanded;
  sg_occ *alt_occ;
  double alt_max;    /* most occurrences in one passage */
  /* NEAR: the window; PHRASE: the largest gap between words when not 0 (default: 1, or 2
   * after a Korean word) */
  uint32_t distance;
  /* FILE */
  pid_range *ranges;
  size_t nranges, range_i;
};

sg_matcher *sg_matcher_new(mkind kind, const char *label, size_t label_len);
void sg_matcher_free(sg_matcher *m);
/* Adds kid to m (taking ownership on success); -1 when memory runs out. */
int sg_matcher_add_kid(sg_matcher *m, sg_matcher *kid);

/* Moves m to the first passage >= target where it matches (never backwards); m->pid is
 * SG_PID_END at the end. Positional kinds then hold their occurrences there. */
int sg_matcher_seek(sg_matcher *m, uint32_t target, seogo_error *err);

/* Back to before the first passage. */
int sg_matcher_rewind(sg_matcher *m, seogo_error *err);

/* Appends the analyzed tree for --explain, e.g. AND(반도체{korean word}, NOT 중국{...}). */
int sg_matcher_describe(const sg_matcher *m, sg_buf *out);

#endif /* SEOGO_MATCHER_H */
