/* bench_queries.c - the benchmark's query set and Korean ground truth, made from the exported
 * passages (Seogo's repaired, normalized passage texts).
 *
 *   bench_queries --passages passages.tsv --queries queries.tsv --truth truth.json
 *                 [--per-class N] [--seed N]
 *
 * Query classes (N each, fewer when the corpus has fewer candidates):
 *   ko_noun    a Hangul word of 2-4 syllables that stands alone somewhere (so it is a word,
 *              not an ending) and also occurs inside longer words (반도체 in 반도체를,
 *              AI반도체산업); chosen across the frequency ranks, frequent to rare
 *   en_word    an English word of 4+ letters (no stop words), across the frequency ranks
 *   ko_phrase  two adjacent Korean words as they occur in a passage ("국가 전략")
 *   en_phrase  two adjacent English words ("data centers")
 *   and, not  two words (Korean nouns or English words) that occur in one passage
 *   or         two words of the ko_noun and en_word sets
 *
 * Ground truth for each ko_noun query: every passage whose text contains the noun as a byte
 * substring (brute force over all passages; the texts are already NFKC-normalized and
 * line-repaired by Seogo's analyzer, and the nouns are taken from them). For each en_word
 * query: every passage containing the word as a whole word in any case, a whole word being a
 * maximal run of ASCII letters ("Centers" and "data-driven" hold "centers" and "data";
 * "datasets" does not hold "data"), the way the words were counted. Written as JSON
 * {"query index": [passage ids...]} with the index of the query's line in queries.tsv.
 * Same passages and arguments, same output.
 */
#define _GNU_SOURCE /* memmem */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "base.h"
#include "bench_rng.h"

/* ---- Utilities ------------------------------------------------------------------------------ */

static void die(const char *what, const char *detail) {
  fprintf(stderr, "bench_queries: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
  exit(1);
}

static void *xrealloc(void *p, size_t n) {
  void *q = realloc(p, n ? n : 1);
  if (!q) die("out of memory", NULL);
  return q;
}

static int is_hangul_at(const char *s, size_t n, size_t *len) {
  utf8proc_int32_t cp;
  utf8proc_ssize_t k = utf8proc_iterate((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)n, &cp);
  *len = k > 0 ? (size_t)k : 1;
  return k > 0 && cp >= 0xAC00 && cp <= 0xD7A3;
}

/* ---- A string -> counts table ------------------------------------------------------------ */

typedef struct entry {
  size_t off, len;  /* key bytes in the arena */
  uint64_t whole;   /* occurrences as a whole word (or run) */
  uint64_t inside;  /* occurrences inside a longer Hangul run */
} entry;

typedef struct table {
  char *arena;
  size_t arena_len, arena_cap;
  entry *entries;
  size_t n, cap;
  uint32_t *slots; /* entry index + 1; 0 = empty */
  size_t nslots;
} table;

static const char *key_of(const table *t, const entry *e) { return t->arena + e->off; }

static void table_rehash(table *t) {
  free(t->slots);
  t->nslots = t->nslots ? 2 * t->nslots : 1u << 14;
  t->slots = calloc(t->nslots, sizeof *t->slots);
  if (!t->slots) die("out of memory", NULL);
  for (size_t i = 0; i < t->n; i++) {
    size_t s = sg_hash64(key_of(t, &t->entries[i]), t->entries[i].len) & (t->nslots - 1);
    while (t->slots[s]) s = (s + 1) & (t->nslots - 1);
    t->slots[s] = (uint32_t)i + 1;
  }
}

/* The entry for key (created with zero counts when add is set), or NULL. */
static entry *table_get(table *t, const char *k, size_t n, int add) {
  if (add && 2 * (t->n + 1) >= t->nslots) table_rehash(t);
  if (!t->nslots) return NULL;
  size_t s = sg_hash64(k, n) & (t->nslots - 1);
  for (; t->slots[s]; s = (s + 1) & (t->nslots - 1)) {
    entry *e = &t->entries[t->slots[s] - 1];
    if (e->len == n && memcmp(key_of(t, e), k, n) == 0) return e;
  }
  if (!add) return NULL;
  if (t->arena_len + n + 1 > t->arena_cap)
    t->arena = xrealloc(t->arena, t->arena_cap = 2 * (t->arena_len + n + 1) + 65536);
  if (t->n == t->cap) t->entries = xrealloc(t->entries, (t->cap = t->cap ? 2 * t->cap : 1024) *
                                                            sizeof *t->entries);
  memcpy(t->arena + t->arena_len, k, n);
  t->arena[t->arena_len + n] = 0;
  t->entries[t->n] = (entry){t->arena_len, n, 0, 0};
  t->arena_len += n + 1;
  t->slots[s] = (uint32_t)++t->n;
  return &t->entries[t->n - 1];
}

static void table_free(table *t) {
  free(t->arena);
  free(t->entries);
  free(t->slots);
}

/* ---- Samples of phrases (reservoir sampling: each occurrence equally likely) ----------- */

#define RESERVOIR 4096

typedef struct reservoir {
  char *items[RESERVOIR];
  size_t n;
  uint64_t seen;
} reservoir;

static void reservoir_offer(reservoir *r, const char *s, size_t n) {
  size_t slot = r->seen < RESERVOIR ? r->seen : rng_below(r->seen + 1);
  r->seen++;
  if (slot >= RESERVOIR) return;
  if (slot == r->n) r->n++;
  free(r->items[slot]);
  r->items[slot] = xrealloc(NULL, n + 1);
  memcpy(r->items[slot], s, n);
  r->items[slot][n] = 0;
}

/* ---- Words ----------------------------------------------------------------------------------- */

static const char *const NON_NOUN_ENDINGS[] = {
    "다", "는", "은", "을", "를", "이", "가", "의", "에", "로", "고", "며", "서", "한", "된",
    "할", "와", "과", "도", "만", "게", "면", "요", "던", "였", "했", "해", "될", "하", "져", "써", "지", "인", "어", "여", "니", "라"};

static const char *const STOP_WORDS[] = {
    "that", "with", "this", "from", "were", "which", "have", "been", "will", "shall", "such",
    "other", "their", "these", "those", "into", "under", "each", "more", "than", "also", "only",
    "your", "they", "them", "there", "where", "when", "what", "whom", "would", "could",
    "should", "must", "does", "upon", "about", "between", "within", "without", "including",
    "over", "some", "both", "many", "most", "very", "then", "while", "being", "same", "the",
    "and", "for", "any", "are", "was", "not", "but", "its", "our", "all", "may", "can", "has",
    "had", "who", "you", "his", "her", "one", "two", "out", "use", "via", "per"};

static size_t syllables(const char *w, size_t n) {
  size_t count = 0, k;
  for (size_t i = 0; i < n; i += k, count++)
    if (!is_hangul_at(w + i, n - i, &k)) return 0;
  return count;
}

static int noun_like(const char *w, size_t n) {
  size_t syl = syllables(w, n);
  if (syl < 2 || syl > 4) return 0;
  for (size_t i = 0; i < sizeof NON_NOUN_ENDINGS / sizeof *NON_NOUN_ENDINGS; i++)
    if (memcmp(w + n - 3, NON_NOUN_ENDINGS[i], 3) == 0) return 0;
  return 1;
}

static int is_lower_word(const char *w, size_t n, size_t min) {
  if (n < min) return 0;
  for (size_t i = 0; i < n; i++)
    if (w[i] < 'a' || w[i] > 'z') return 0;
  for (size_t i = 0; i < sizeof STOP_WORDS / sizeof *STOP_WORDS; i++)
    if (strlen(STOP_WORDS[i]) == n && !memcmp(STOP_WORDS[i], w, n)) return 0;
  return 1;
}

static int is_ascii_letter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

/* ---- Pass 1: statistics ------------------------------------------------------------------- */

typedef struct stats {
  table runs;    /* Hangul runs: whole = occurrences */
  table english; /* lowercased English words */
  reservoir ko_phrases, en_phrases;
  reservoir pairs; /* "a<TAB>b": two words of one passage, for boolean queries */
} stats;

static void count_token(stats *st, const char *w, size_t n) {
  for (size_t i = 0; i < n;) { /* Hangul runs */
    size_t k = 1, s = i;
    while (i < n && is_hangul_at(w + i, n - i, &k)) i += k;
    if (i > s) table_get(&st->runs, w + s, i - s, 1)->whole++;
    else i += k;
  }
  for (size_t i = 0; i < n;) { /* English words */
    size_t s = i;
    while (i < n && is_ascii_letter(w[i])) i++;
    if (i - s >= 4 && i - s < 40) {
      char low[40];
      for (size_t j = s; j < i; j++) low[j - s] = (char)(w[j] | 0x20);
      if (is_lower_word(low, i - s, 4)) table_get(&st->english, low, i - s, 1)->whole++;
    }
    if (i == s) i++;
  }
}

static void offer_phrase(stats *st, const char *p, size_t pn, const char *w, size_t n) {
  char buf[512];
  if (pn + n + 1 >= sizeof buf) return;
  memcpy(buf, p, pn);
  buf[pn] = ' ';
  memcpy(buf + pn + 1, w, n);
  if (noun_like(p, pn) && noun_like(w, n))
    reservoir_offer(&st->ko_phrases, buf, pn + n + 1);
  else if (is_lower_word(p, pn, 3) && is_lower_word(w, n, 3) && (pn >= 4 || n >= 4))
    reservoir_offer(&st->en_phrases, buf, pn + n + 1);
}

/* A word fit for a boolean query: a noun-like Korean word or a plain English word. */
static int query_word(const char *w, size_t n) {
  return noun_like(w, n) || is_lower_word(w, n, 4);
}

/* Offers two different query words of one passage as a pair. */
static void offer_pair(stats *st, const char **words, const size_t *lens, size_t n) {
  if (n < 2) return;
  size_t i = rng_below(n), j = rng_below(n - 1);
  if (j >= i) j++;
  if (lens[i] == lens[j] && !memcmp(words[i], words[j], lens[i])) return;
  char buf[512];
  if (lens[i] + lens[j] + 1 >= sizeof buf) return;
  memcpy(buf, words[i], lens[i]);
  buf[lens[i]] = '\t';
  memcpy(buf + lens[i] + 1, words[j], lens[j]);
  reservoir_offer(&st->pairs, buf, lens[i] + lens[j] + 1);
}

static void scan_passage(stats *st, const char *text, size_t len) {
  const char *prev = NULL, *words[64];
  size_t prev_n = 0, lens[64], nwords = 0;
  for (size_t i = 0; i < len;) {
    while (i < len && text[i] == ' ') i++;
    size_t s = i;
    while (i < len && text[i] != ' ') i++;
    if (i == s) break;
    count_token(st, text + s, i - s);
    if (prev) offer_phrase(st, prev, prev_n, text + s, i - s);
    if (nwords < 64 && query_word(text + s, i - s)) {
      words[nwords] = text + s;
      lens[nwords++] = i - s;
    }
    prev = text + s;
    prev_n = i - s;
  }
  offer_pair(st, words, lens, nwords);
}

/* Counts, for each noun-like run, its occurrences inside longer runs. */
static void count_inside(table *runs) {
  for (size_t r = 0; r < runs->n; r++) {
    entry *e = &runs->entries[r];
    const char *w = key_of(runs, e);
    size_t starts[64], nst = 0, k;
    for (size_t i = 0; i < e->len && nst < 64; i += k) {
      starts[nst++] = i;
      is_hangul_at(w + i, e->len - i, &k);
    }
    uint64_t whole = e->whole;
    for (size_t a = 0; a < nst; a++)
      for (size_t syl = 2; syl <= 4 && a + syl <= nst; syl++) {
        if (a == 0 && a + syl == nst) continue; /* the whole run itself */
        size_t end = a + syl < nst ? starts[a + syl] : e->len;
        entry *sub = table_get(runs, w + starts[a], end - starts[a], 0);
        if (sub) sub->inside += whole;
      }
  }
}

/* ---- Choosing queries ------------------------------------------------------------------------- */

typedef struct pick {
  const char *s;
  uint64_t freq;
} pick;

static int cmp_pick(const void *a, const void *b) {
  const pick *x = a, *y = b;
  if (x->freq != y->freq) return x->freq > y->freq ? -1 : 1;
  return strcmp(x->s, y->s);
}

/* Up to n strings spread evenly over the frequency ranks of the candidates. */
static size_t spread(pick *cands, size_t nc, size_t n, const char **out) {
  qsort(cands, nc, sizeof *cands, cmp_pick);
  if (nc <= n) {
    for (size_t i = 0; i < nc; i++) out[i] = cands[i].s;
    return nc;
  }
  for (size_t i = 0; i < n; i++) out[i] = cands[i * nc / n].s;
  return n;
}

static size_t choose_nouns(const table *runs, size_t n, const char **out) {
  pick *c = xrealloc(NULL, (runs->n + 1) * sizeof *c);
  size_t nc = 0;
  for (size_t i = 0; i < runs->n; i++) {
    const entry *e = &runs->entries[i];
    if (e->whole >= 2 && e->inside >= 1 && noun_like(key_of(runs, e), e->len))
      c[nc++] = (pick){key_of(runs, e), e->whole + e->inside};
  }
  size_t got = spread(c, nc, n, out);
  free(c);
  return got;
}

static size_t choose_english(const table *words, size_t n, const char **out) {
  pick *c = xrealloc(NULL, (words->n + 1) * sizeof *c);
  size_t nc = 0;
  for (size_t i = 0; i < words->n; i++)
    if (words->entries[i].whole >= 2)
      c[nc++] = (pick){key_of(words, &words->entries[i]), words->entries[i].whole};
  size_t got = spread(c, nc, n, out);
  free(c);
  return got;
}

/* Up to n distinct phrases from the reservoir, in sampling order. */
static size_t choose_phrases(const reservoir *r, size_t n, const char **out) {
  size_t got = 0;
  for (size_t i = 0; i < r->n && got < n; i++) {
    int dup = 0;
    for (size_t j = 0; j < got && !dup; j++) dup = !strcmp(out[j], r->items[i]);
    if (!dup) out[got++] = r->items[i];
  }
  return got;
}

typedef struct query_set {
  FILE *f;
  size_t count;
} query_set;

static void emit(query_set *qs, const char *cls, const char *op, const char *a, const char *b) {
  fprintf(qs->f, "%s\t%s\t%s\t%s\n", cls, op, a, b ? b : "");
  qs->count++;
}

/* Boolean queries: `and` and `not` take two words that occur in one passage (so that both
 * have answers worth ranking), `or` two words of the query pools. */
static void emit_booleans(query_set *qs, size_t n, const char **pairs, size_t npairs,
                          const char **pool, size_t npool) {
  for (int o = 0; o < 2; o++)
    for (size_t i = 0; i < n && i < npairs; i++) {
      size_t k = o == 0 ? i : npairs - 1 - i;
      char a[512], *tab = strchr(pairs[k], '\t');
      snprintf(a, sizeof a, "%.*s", (int)(tab - pairs[k]), pairs[k]);
      emit(qs, o == 0 ? "and" : "not", o == 0 ? "and" : "not", a, tab + 1);
    }
  for (size_t i = 0; i < n && npool > 1; i++) {
    size_t a = rng_below(npool), b = rng_below(npool - 1);
    if (b >= a) b++;
    emit(qs, "or", "or", pool[a], pool[b]);
  }
}

/* ---- Ground truth ------------------------------------------------------------------------------- */

/* Queries 0..nko-1 are the Korean nouns (substrings), nko..n-1 the English words (whole
 * words: maximal runs of ASCII letters, any case). */
typedef struct truth {
  const char **words;
  size_t *query_index;
  size_t n, nko;
  table english; /* lowercased English word -> query number (in `whole`) */
  uint64_t **ids;
  size_t *nids, *cap;
} truth;

static void truth_add(truth *t, size_t i, uint64_t pid) {
  if (t->nids[i] && t->ids[i][t->nids[i] - 1] == pid) return; /* the word again */
  if (t->nids[i] == t->cap[i])
    t->ids[i] = xrealloc(t->ids[i], (t->cap[i] = t->cap[i] ? 2 * t->cap[i] : 64) *
                                        sizeof **t->ids);
  t->ids[i][t->nids[i]++] = pid;
}

static void truth_scan_english(truth *t, uint64_t pid, const char *text, size_t len) {
  for (size_t i = 0; i < len;) {
    size_t s = i;
    while (i < len && is_ascii_letter(text[i])) i++;
    if (i - s >= 4 && i - s < 40) {
      char low[40];
      for (size_t j = s; j < i; j++) low[j - s] = (char)(text[j] | 0x20);
      entry *e = table_get(&t->english, low, i - s, 0);
      if (e) truth_add(t, (size_t)e->whole, pid);
    }
    if (i == s) i++;
  }
}

static void truth_scan(truth *t, uint64_t pid, const char *text, size_t len) {
  for (size_t i = 0; i < t->nko; i++)
    if (memmem(text, len, t->words[i], strlen(t->words[i]))) truth_add(t, i, pid);
  if (t->n > t->nko) truth_scan_english(t, pid, text, len);
}

static void truth_write(const truth *t, const char *path) {
  FILE *f = fopen(path, "w");
  if (!f) die(path, strerror(errno));
  fprintf(f, "{");
  for (size_t i = 0; i < t->n; i++) {
    fprintf(f, "%s\n  \"%zu\": [", i ? "," : "", t->query_index[i]);
    for (size_t k = 0; k < t->nids[i]; k++)
      fprintf(f, "%s%llu", k ? "," : "", (unsigned long long)t->ids[i][k]);
    fprintf(f, "]");
  }
  fprintf(f, "\n}\n");
  if (fclose(f) != 0) die(path, strerror(errno));
}

/* ---- Passages file -------------------------------------------------------------------------- */

typedef void (*passage_fn)(void *ctx, uint64_t pid, const char *text, size_t len);

static void each_passage(const char *path, passage_fn fn, void *ctx) {
  FILE *f = fopen(path, "rb");
  if (!f) die(path, strerror(errno));
  char *line = NULL;
  size_t cap = 0;
  ssize_t n;
  while ((n = getline(&line, &cap, f)) >= 0) {
    if (n > 0 && line[n - 1] == '\n') line[--n] = 0;
    char *tab = strchr(line, '\t');
    if (!tab) continue;
    fn(ctx, strtoull(line, NULL, 10), tab + 1, (size_t)(line + n - (tab + 1)));
  }
  free(line);
  fclose(f);
}

static void stats_cb(void *ctx, uint64_t pid, const char *text, size_t len) {
  (void)pid;
  scan_passage(ctx, text, len);
}

static void truth_cb(void *ctx, uint64_t pid, const char *text, size_t len) {
  truth_scan(ctx, pid, text, len);
}

/* ---- Main ---------------------------------------------------------------------------------------- */

static void usage(void) {
  fprintf(stderr, "usage: bench_queries --passages FILE --queries OUT.tsv --truth OUT.json "
                  "[--per-class N] [--seed N]\n");
  exit(2);
}

int main(int argc, char **argv) {
  const char *passages = NULL, *queries = NULL, *truth_path = NULL;
  size_t per_class = 50;
  uint64_t seed = 1;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!strcmp(argv[i], "--passages")) passages = argv[i + 1];
    else if (!strcmp(argv[i], "--queries")) queries = argv[i + 1];
    else if (!strcmp(argv[i], "--truth")) truth_path = argv[i + 1];
    else if (!strcmp(argv[i], "--per-class")) per_class = strtoul(argv[i + 1], NULL, 10);
    else if (!strcmp(argv[i], "--seed")) seed = strtoull(argv[i + 1], NULL, 10);
    else usage();
  }
  if (argc % 2 == 0 || !passages || !queries || !truth_path || !per_class) usage();
  rng_state = seed;

  static stats st;
  each_passage(passages, stats_cb, &st);
  count_inside(&st.runs);

  const char **ko = xrealloc(NULL, per_class * sizeof *ko);
  const char **en = xrealloc(NULL, per_class * sizeof *en);
  const char **kp = xrealloc(NULL, per_class * sizeof *kp);
  const char **ep = xrealloc(NULL, per_class * sizeof *ep);
  size_t nko = choose_nouns(&st.runs, per_class, ko);
  size_t nen = choose_english(&st.english, per_class, en);
  size_t nkp = choose_phrases(&st.ko_phrases, per_class, kp);
  size_t nep = choose_phrases(&st.en_phrases, per_class, ep);

  query_set qs = {fopen(queries, "w"), 0};
  if (!qs.f) die(queries, strerror(errno));
  truth t = {0};
  t.n = nko + nen;
  t.nko = nko;
  t.words = xrealloc(NULL, (t.n + 1) * sizeof *t.words);
  t.query_index = xrealloc(NULL, (t.n + 1) * sizeof *t.query_index);
  t.ids = calloc(t.n + 1, sizeof *t.ids);
  t.nids = calloc(t.n + 1, sizeof *t.nids);
  t.cap = calloc(t.n + 1, sizeof *t.cap);
  if (!t.ids || !t.nids || !t.cap) die("out of memory", NULL);
  for (size_t i = 0; i < nko; i++) {
    t.words[i] = ko[i];
    t.query_index[i] = qs.count;
    emit(&qs, "ko_noun", "term", ko[i], NULL);
  }
  for (size_t i = 0; i < nen; i++) {
    t.words[nko + i] = en[i];
    t.query_index[nko + i] = qs.count;
    table_get(&t.english, en[i], strlen(en[i]), 1)->whole = nko + i;
    emit(&qs, "en_word", "term", en[i], NULL);
  }
  for (size_t i = 0; i < nkp; i++) emit(&qs, "ko_phrase", "phrase", kp[i], NULL);
  for (size_t i = 0; i < nep; i++) emit(&qs, "en_phrase", "phrase", ep[i], NULL);
  const char **pairs = xrealloc(NULL, per_class * sizeof *pairs);
  size_t npairs = choose_phrases(&st.pairs, per_class, pairs);
  const char **pool = xrealloc(NULL, (nko + nen) * sizeof *pool);
  memcpy(pool, ko, nko * sizeof *pool);
  memcpy(pool + nko, en, nen * sizeof *pool);
  emit_booleans(&qs, per_class, pairs, npairs, pool, nko + nen);
  free(pairs);
  free(pool);
  if (fclose(qs.f) != 0) die(queries, strerror(errno));

  each_passage(passages, truth_cb, &t);
  truth_write(&t, truth_path);
  fprintf(stderr, "bench_queries: %zu queries (%zu Korean nouns, %zu English words, %zu+%zu "
                  "phrases)\n", qs.count, nko, nen, nkp, nep);

  for (size_t i = 0; i < t.n; i++) free(t.ids[i]);
  table_free(&t.english);
  free(t.words);
  free(t.ids);
  free(t.nids);
  free(t.cap);
  free(t.query_index);
  free(ko);
  free(en);
  free(kp);
  free(ep);
  for (size_t i = 0; i < st.ko_phrases.n; i++) free(st.ko_phrases.items[i]);
  for (size_t i = 0; i < st.en_phrases.n; i++) free(st.en_phrases.items[i]);
  for (size_t i = 0; i < st.pairs.n; i++) free(st.pairs.items[i]);
  table_free(&st.runs);
  table_free(&st.english);
  return 0;
}
