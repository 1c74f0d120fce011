/* gen_corpus.c - deterministic benchmark corpus: Korean/English documents whose words and word
 * frequencies follow given source texts, some laid out like PDF extraction.
 *
 *   gen_corpus --size 10M --out DIR [--seed N] SOURCE.txt... [--english FILE...]
 *
 * Each SOURCE file becomes a word-bigram model (a word is followed by what followed it in the
 * source, in proportion), so generated text keeps the source's vocabulary, word frequencies,
 * particles and sentence shapes. Files given after --english are pooled into one extra English
 * source. A generated document imitates one source (picked in turn at random) and has about
 * its length. To let the vocabulary grow with the corpus as real collections do, some Korean
 * words get a noun from the sources prefixed (new compounds such as 반도체전략을) and some
 * numbers are redrawn.
 *
 * Documents modelled on a PDF-extracted source (short physical lines separated by blank
 * lines), and a fifth of the others, are written the same way: lines of at most 80 columns
 * separated by blank lines, a paragraph's first line indented by a space, a line that ends at
 * a word boundary ending in a space, Hangul words broken between two syllables with no hyphen,
 * long lowercase Latin words sometimes hyphenated.
 *
 * The output depends only on the arguments and the bytes of the source files: same arguments,
 * same bytes. Writes DIR/dNNNNNN.txt and prints "documents bytes" to stdout.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <utf8proc.h>

#include "base.h"
#include "bench_rng.h"

#define PARA_END 0u           /* token id that ends a paragraph */
#define MAX_PARA_WORDS 400    /* paragraphs longer than this are cut at a sentence end */
#define PDF_WIDTH 80          /* columns of a PDF-like line; a Hangul syllable takes two */
#define COMPOUND_PERCENT 8    /* Korean words that get a noun prefixed */
#define NUMBER_PERCENT 50     /* numbers that are redrawn */

/* ---- Small utilities ---------------------------------------------------------------------- */

static void die_oom(void) {
  fprintf(stderr, "gen_corpus: out of memory\n");
  exit(1);
}

static void *xrealloc(void *p, size_t n) {
  void *q = realloc(p, n ? n : 1);
  if (!q) die_oom();
  return q;
}

static int rng_percent(unsigned p) { return rng_below(100) < p; }

/* Code point at s (n bytes left) and its length; invalid bytes count as U+FFFD of length 1. */
static int32_t next_cp(const char *s, size_t n, size_t *len) {
  utf8proc_int32_t cp;
  utf8proc_ssize_t k = utf8proc_iterate((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)n, &cp);
  if (k <= 0) {
    *len = 1;
    return 0xFFFD;
  }
  *len = (size_t)k;
  return cp;
}

static int is_hangul(int32_t cp) { return cp >= 0xAC00 && cp <= 0xD7A3; }

/* Columns a code point takes on a printed line (Hangul and other wide scripts take two). */
static int cp_columns(int32_t cp) { return cp >= 0x1100 && utf8proc_charwidth(cp) == 2 ? 2 : 1; }

/* ---- Words ------------------------------------------------------------------------------- */

/* Last syllables of Korean words that are endings or particles rather than nouns. */
static const char *const NON_NOUN_ENDINGS[] = {
    "다", "는", "은", "을", "를", "이", "가", "의", "에", "로", "고", "며", "서", "한", "된",
    "할", "와", "과", "도", "만", "게", "면", "요", "던", "였", "했", "해", "될", "하", "져", "써", "지", "인", "어", "여", "니", "라"};

/* Number of syllables when w is all Hangul, else 0. */
static size_t hangul_syllables(const char *w, size_t n) {
  size_t count = 0;
  for (size_t i = 0; i < n;) {
    size_t k;
    if (!is_hangul(next_cp(w + i, n - i, &k))) return 0;
    i += k;
    count++;
  }
  return count;
}

/* A Hangul word of 2-4 syllables that does not end like a particle or a verb. */
static int noun_like(const char *w, size_t n) {
  size_t syl = hangul_syllables(w, n);
  if (syl < 2 || syl > 4) return 0;
  for (size_t i = 0; i < sizeof NON_NOUN_ENDINGS / sizeof *NON_NOUN_ENDINGS; i++)
    if (memcmp(w + n - 3, NON_NOUN_ENDINGS[i], 3) == 0) return 0;
  return 1;
}

static int all_digits(const char *w, size_t n) {
  if (n < 2) return 0;
  for (size_t i = 0; i < n; i++)
    if (w[i] < '0' || w[i] > '9') return 0;
  return 1;
}

/* ---- A source's word-bigram model --------------------------------------------------------- */

typedef struct id_list {
  uint32_t *ids;
  size_t n, cap;
} id_list;

static void id_push(id_list *l, uint32_t id) {
  if (l->n == l->cap) {
    l->cap = l->cap ? 2 * l->cap : 4;
    l->ids = xrealloc(l->ids, l->cap * sizeof *l->ids);
  }
  l->ids[l->n++] = id;
}

typedef struct model {
  char **words;         /* words[0] is the paragraph end */
  size_t *lens;
  id_list *next;        /* next[id]: the words that followed id, with repetition */
  size_t nwords, cap;
  uint32_t *slots;      /* open-addressing table of ids + 1 (0 = empty) */
  size_t nslots;
  id_list starts;       /* first words of paragraphs */
  size_t bytes;         /* size of the source text */
  int pdf_like;         /* the source is laid out like PDF extraction */
} model;

/* Noun-like words of all sources (pointing into the models' word strings), with repetition so
 * that drawing one at random follows the nouns' frequencies. */
typedef struct noun_list {
  const char **words;
  size_t *lens;
  size_t n, cap;
} noun_list;

static void noun_push(noun_list *l, const char *w, size_t n) {
  if (l->n == l->cap) {
    l->cap = l->cap ? 2 * l->cap : 256;
    l->words = xrealloc(l->words, l->cap * sizeof *l->words);
    l->lens = xrealloc(l->lens, l->cap * sizeof *l->lens);
  }
  l->words[l->n] = w;
  l->lens[l->n++] = n;
}

static void model_grow_slots(model *m);

static uint32_t model_intern(model *m, const char *w, size_t n) {
  if (2 * (m->nwords + 1) >= m->nslots) model_grow_slots(m);
  size_t mask = m->nslots - 1, i = sg_hash64(w, n) & mask;
  for (; m->slots[i]; i = (i + 1) & mask) {
    uint32_t id = m->slots[i] - 1;
    if (m->lens[id] == n && memcmp(m->words[id], w, n) == 0) return id;
  }
  if (m->nwords == m->cap) {
    m->cap = m->cap ? 2 * m->cap : 1024;
    m->words = xrealloc(m->words, m->cap * sizeof *m->words);
    m->lens = xrealloc(m->lens, m->cap * sizeof *m->lens);
    m->next = xrealloc(m->next, m->cap * sizeof *m->next);
  }
  uint32_t id = (uint32_t)m->nwords++;
  m->words[id] = xrealloc(NULL, n + 1);
  memcpy(m->words[id], w, n);
  m->words[id][n] = 0;
  m->lens[id] = n;
  memset(&m->next[id], 0, sizeof m->next[id]);
  m->slots[i] = id + 1;
  return id;
}

static void model_grow_slots(model *m) {
  size_t old = m->nslots;
  uint32_t *old_slots = m->slots;
  m->nslots = old ? 2 * old : 4096;
  m->slots = calloc(m->nslots, sizeof *m->slots);
  if (!m->slots) die_oom();
  size_t mask = m->nslots - 1;
  for (size_t s = 0; s < old; s++) {
    if (!old_slots[s]) continue;
    uint32_t id = old_slots[s] - 1;
    size_t i = sg_hash64(m->words[id], m->lens[id]) & mask;
    while (m->slots[i]) i = (i + 1) & mask;
    m->slots[i] = id + 1;
  }
  free(old_slots);
}

static void model_free(model *m) {
  for (size_t i = 0; i < m->nwords; i++) {
    free(m->words[i]);
    free(m->next[i].ids);
  }
  free(m->words);
  free(m->lens);
  free(m->next);
  free(m->slots);
  free(m->starts.ids);
}

/* Learns the words of one paragraph (whitespace-separated) into m. */
static void model_learn_paragraph(model *m, const char *p, size_t n, noun_list *nouns) {
  uint32_t prev = PARA_END;
  for (size_t i = 0; i < n;) {
    while (i < n && (p[i] == ' ' || p[i] == '\t')) i++;
    size_t s = i;
    while (i < n && p[i] != ' ' && p[i] != '\t') i++;
    if (i == s) break;
    uint32_t id = model_intern(m, p + s, i - s);
    if (prev == PARA_END)
      id_push(&m->starts, id);
    else
      id_push(&m->next[prev], id);
    if (noun_like(p + s, i - s)) noun_push(nouns, m->words[id], m->lens[id]);
    prev = id;
  }
  if (prev != PARA_END) id_push(&m->next[prev], PARA_END);
}

/* ---- Reading a source ----------------------------------------------------------------------- */

typedef struct line {
  const char *s;
  size_t n; /* without the newline */
} line;

static line *split_lines(const char *text, size_t len, size_t *count) {
  line *lines = NULL;
  size_t n = 0, cap = 0;
  for (size_t i = 0; i < len;) {
    size_t e = i;
    while (e < len && text[e] != '\n') e++;
    size_t k = e;
    if (k > i && text[k - 1] == '\r') k--;
    if (n == cap) {
      cap = cap ? 2 * cap : 256;
      lines = xrealloc(lines, cap * sizeof *lines);
    }
    lines[n++] = (line){text + i, k - i};
    i = e + 1;
  }
  *count = n;
  return lines;
}

static int blank(const line *l) {
  for (size_t i = 0; i < l->n; i++)
    if (l->s[i] != ' ' && l->s[i] != '\t') return 0;
  return 1;
}

/* How a source lays out paragraphs. */
enum layout { ONE_LINE_PARAGRAPHS, BLOCK_PARAGRAPHS, PDF_LINES };

static enum layout detect_layout(const line *lines, size_t n) {
  size_t text = 0, long_lines = 0, followed_by_blank = 0;
  for (size_t i = 0; i < n; i++) {
    if (blank(&lines[i])) continue;
    text++;
    if (lines[i].n > 200) long_lines++;
    if (i + 1 < n && blank(&lines[i + 1])) followed_by_blank++;
  }
  if (text == 0) return ONE_LINE_PARAGRAPHS;
  if (4 * followed_by_blank > 3 * text && 10 * long_lines < text) return PDF_LINES;
  if (3 * long_lines > text) return ONE_LINE_PARAGRAPHS;
  return BLOCK_PARAGRAPHS;
}

static size_t last_cp_at(const char *s, size_t n, int32_t *cp) {
  size_t b = n;
  while (b > 0 && ((unsigned char)s[b - 1] & 0xC0) == 0x80) b--;
  if (b > 0) b--;
  size_t k;
  *cp = next_cp(s + b, n - b, &k);
  return b;
}

/* Appends line l to paragraph buffer p, undoing the PDF line break before it: a break after a
 * trailing space or between non-Hangul letters is a space, one between two Hangul syllables
 * is inside a word. */
static void append_pdf_line(char **p, size_t *len, size_t *cap, const line *l) {
  if (*len > 0) {
    int32_t last, first;
    size_t k;
    last_cp_at(*p, *len, &last);
    first = next_cp(l->s, l->n, &k);
    int join = (*p)[*len - 1] != ' ' && is_hangul(last) && is_hangul(first);
    if (!join && (*p)[*len - 1] != ' ') {
      if (*len + 1 > *cap) *p = xrealloc(*p, *cap = 2 * (*len + 1));
      (*p)[(*len)++] = ' ';
    }
  }
  if (*len + l->n > *cap) *p = xrealloc(*p, *cap = 2 * (*len + l->n));
  memcpy(*p + *len, l->s, l->n);
  *len += l->n;
}

static void learn_source(model *m, const char *text, size_t len, noun_list *nouns) {
  size_t n;
  line *lines = split_lines(text, len, &n);
  enum layout layout = detect_layout(lines, n);
  m->pdf_like = layout == PDF_LINES;
  m->bytes = len;
  model_intern(m, "", 0); /* PARA_END */
  char *para = NULL;
  size_t plen = 0, pcap = 0;
  for (size_t i = 0; i <= n; i++) {
    int end_here;
    if (i == n)
      end_here = 1;
    else if (layout == ONE_LINE_PARAGRAPHS)
      end_here = 1;
    else if (layout == BLOCK_PARAGRAPHS)
      end_here = blank(&lines[i]);
    else
      end_here = !blank(&lines[i]) && (lines[i].s[0] == ' ' || lines[i].s[0] == '\t');
    if (end_here && plen) {
      model_learn_paragraph(m, para, plen, nouns);
      plen = 0;
    }
    if (i < n && !blank(&lines[i])) append_pdf_line(&para, &plen, &pcap, &lines[i]);
  }
  free(para);
  free(lines);
}

static char *read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    fprintf(stderr, "gen_corpus: %s: %s\n", path, strerror(errno));
    exit(1);
  }
  char *data = NULL;
  size_t n = 0, cap = 0;
  for (;;) {
    if (n == cap) data = xrealloc(data, cap = cap ? 2 * cap : 65536);
    size_t k = fread(data + n, 1, cap - n, f);
    if (k == 0) break;
    n += k;
  }
  fclose(f);
  *len = n;
  return data;
}

/* ---- Generating text ---------------------------------------------------------------------- */

typedef struct text {
  char *s;
  size_t n, cap;
} text;

static void put(text *t, const char *s, size_t n) {
  if (t->n + n + 1 > t->cap) t->s = xrealloc(t->s, t->cap = 2 * (t->n + n + 1) + 4096);
  memcpy(t->s + t->n, s, n);
  t->n += n;
  t->s[t->n] = 0;
}

typedef struct generator {
  model *models;
  size_t nmodels;
  noun_list nouns;         /* noun-like word occurrences, for compounds */
} generator;

static int ends_sentence(const char *w, size_t n) {
  return n > 0 && (w[n - 1] == '.' || w[n - 1] == '?' || w[n - 1] == '!');
}

/* Appends word id of m to paragraph t, sometimes as a new compound or a redrawn number. */
static void emit_word(const generator *g, const model *m, uint32_t id, text *t) {
  const char *w = m->words[id];
  size_t n = m->lens[id];
  if (t->n) put(t, " ", 1);
  if (all_digits(w, n) && rng_percent(NUMBER_PERCENT)) {
    char digits[64];
    size_t k = n < sizeof digits ? n : sizeof digits;
    digits[0] = (char)('1' + rng_below(9));
    for (size_t i = 1; i < k; i++) digits[i] = (char)('0' + rng_below(10));
    put(t, digits, k);
    return;
  }
  if (g->nouns.n && hangul_syllables(w, n) >= 2 && rng_percent(COMPOUND_PERCENT)) {
    size_t noun = rng_below(g->nouns.n);
    put(t, g->nouns.words[noun], g->nouns.lens[noun]);
  }
  put(t, w, n);
}

/* One paragraph from m's chain into t (replacing it). */
static void gen_paragraph(const generator *g, const model *m, text *t) {
  t->n = 0;
  if (!m->starts.n) return;
  uint32_t id = m->starts.ids[rng_below(m->starts.n)];
  for (size_t words = 0; id != PARA_END; words++) {
    emit_word(g, m, id, t);
    if (words >= MAX_PARA_WORDS && ends_sentence(m->words[id], m->lens[id])) break;
    const id_list *next = &m->next[id];
    id = next->n ? next->ids[rng_below(next->n)] : PARA_END;
  }
}

/* ---- Laying out a document ------------------------------------------------------------------ */

static size_t str_columns(const char *s, size_t n) {
  size_t cols = 0;
  for (size_t i = 0; i < n;) {
    size_t k;
    cols += (size_t)cp_columns(next_cp(s + i, n - i, &k));
    i += k;
  }
  return cols;
}

/* Longest prefix of word w (n bytes) that fits in `room` columns and ends between two Hangul
 * syllables, or 0 when there is none. */
static size_t hangul_break(const char *w, size_t n, size_t room) {
  size_t best = 0, cols = 0;
  int32_t prev = 0;
  for (size_t i = 0; i < n;) {
    size_t k;
    int32_t cp = next_cp(w + i, n - i, &k);
    if (i > 0 && is_hangul(prev) && is_hangul(cp)) best = i;
    cols += (size_t)cp_columns(cp);
    if (cols > room) break;
    prev = cp;
    i += k;
  }
  return best;
}

/* Where to hyphenate a lowercase Latin word so that the head plus '-' fits in room. */
static size_t latin_break(const char *w, size_t n, size_t room) {
  if (n < 10 || room < 5) return 0;
  for (size_t i = 0; i < n; i++)
    if (w[i] < 'a' || w[i] > 'z') return 0;
  size_t cut = room - 1 < n - 3 ? room - 1 : n - 3;
  return cut >= 3 ? cut : 0;
}

/* Writes paragraph p as PDF-extracted lines: lines end in a space at word boundaries, words
 * may be broken at line ends, lines are separated by blank lines. */
static void layout_pdf(const text *p, text *out) {
  size_t col = 1;
  put(out, " ", 1);
  for (size_t i = 0; i < p->n;) {
    while (i < p->n && p->s[i] == ' ') i++;
    size_t s = i;
    while (i < p->n && p->s[i] != ' ') i++;
    const char *w = p->s + s;
    size_t n = i - s;
    while (n > 0) {
      size_t cols = str_columns(w, n);
      if (col + cols <= PDF_WIDTH) {
        put(out, w, n);
        put(out, " ", 1);
        col += cols + 1;
        break;
      }
      size_t room = PDF_WIDTH - col, cut = hangul_break(w, n, room);
      int hyphen = 0;
      if (!cut && rng_percent(50)) hyphen = (cut = latin_break(w, n, room)) != 0;
      if (cut) put(out, w, cut);
      if (hyphen) put(out, "-", 1);
      if (col > 0 || cut) put(out, "\n\n", 2);
      w += cut;
      n -= cut;
      col = 0;
      if (cols > PDF_WIDTH && !cut) { /* a word longer than a line: write it alone */
        put(out, w, n);
        put(out, "\n\n", 2);
        break;
      }
    }
  }
  while (out->n && out->s[out->n - 1] == ' ') out->n--;
  put(out, "\n\n", 2);
}

/* Picks a target length near the source's: short articles vary around their length, long
 * reports are cut to a part of theirs. */
static size_t target_bytes(const model *m) {
  if (m->bytes > 100000) return m->bytes * (30 + rng_below(71)) / 100;
  return m->bytes * (50 + rng_below(101)) / 100 + 500;
}

static void gen_document(const generator *g, text *doc) {
  const model *m = &g->models[rng_below(g->nmodels)];
  int pdf = m->pdf_like || rng_percent(20);
  int blank_between = rng_percent(50);
  size_t want = target_bytes(m);
  text para = {0};
  doc->n = 0;
  while (doc->n < want) {
    gen_paragraph(g, m, &para);
    if (!para.n) break;
    if (pdf) {
      layout_pdf(&para, doc);
    } else {
      put(doc, para.s, para.n);
      put(doc, blank_between ? "\n\n" : "\n", blank_between ? 2 : 1);
    }
  }
  free(para.s);
}

/* ---- Command line ---------------------------------------------------------------------------- */

static uint64_t parse_size(const char *s) {
  char *end;
  double v = strtod(s, &end);
  uint64_t mult = 1;
  switch (*end) {
  case 'k': case 'K': mult = 1000; break;
  case 'm': case 'M': mult = 1000 * 1000; break;
  case 'g': case 'G': mult = 1000 * 1000 * 1000; break;
  case 0: break;
  default: v = -1;
  }
  if (v <= 0) {
    fprintf(stderr, "gen_corpus: bad size '%s' (use e.g. 10M, 1G)\n", s);
    exit(2);
  }
  return (uint64_t)(v * (double)mult);
}

static void usage(void) {
  fprintf(stderr, "usage: gen_corpus --size 10M --out DIR [--seed N] SOURCE... "
                  "[--english FILE...]\n");
  exit(2);
}

static void write_document(const char *dir, size_t index, const text *doc) {
  char path[4096];
  snprintf(path, sizeof path, "%s/d%06zu.txt", dir, index);
  FILE *f = fopen(path, "wb");
  if (!f || fwrite(doc->s, 1, doc->n, f) != doc->n || fclose(f) != 0) {
    fprintf(stderr, "gen_corpus: %s: %s\n", path, strerror(errno));
    exit(1);
  }
}

int main(int argc, char **argv) {
  uint64_t size = 0, seed = 1;
  const char *out = NULL;
  generator g = {0};
  g.models = xrealloc(NULL, (size_t)argc * sizeof *g.models);
  memset(g.models, 0, (size_t)argc * sizeof *g.models);
  model english = {0};
  text english_text = {0};
  int in_english = 0;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--size") && i + 1 < argc) {
      size = parse_size(argv[++i]);
    } else if (!strcmp(argv[i], "--seed") && i + 1 < argc) {
      seed = strtoull(argv[++i], NULL, 10);
    } else if (!strcmp(argv[i], "--out") && i + 1 < argc) {
      out = argv[++i];
    } else if (!strcmp(argv[i], "--english")) {
      in_english = 1;
    } else if (argv[i][0] == '-') {
      usage();
    } else {
      size_t len;
      char *data = read_file(argv[i], &len);
      if (in_english) {
        put(&english_text, data, len);
        put(&english_text, "\n\n", 2);
      } else {
        model *m = &g.models[g.nmodels++];
        learn_source(m, data, len, &g.nouns);
      }
      free(data);
    }
  }
  if (!size || !out || !g.nmodels) usage();
  if (english_text.n) {
    learn_source(&english, english_text.s, english_text.n, &g.nouns);
    g.models[g.nmodels++] = english;
  }
  free(english_text.s);
  if (mkdir(out, 0777) != 0 && errno != EEXIST) {
    fprintf(stderr, "gen_corpus: %s: %s\n", out, strerror(errno));
    return 1;
  }
  rng_state = seed;
  text doc = {0};
  uint64_t total = 0;
  size_t docs = 0;
  while (total < size) {
    gen_document(&g, &doc);
    if (!doc.n) continue;
    write_document(out, ++docs, &doc);
    total += doc.n;
  }
  printf("%zu %llu\n", docs, (unsigned long long)total);
  free(doc.s);
  for (size_t i = 0; i < g.nmodels; i++) model_free(&g.models[i]);
  free(g.models);
  free(g.nouns.words);
  free(g.nouns.lens);
  return 0;
}
