/* segment.c - ICU word and sentence boundaries over the normalized UTF-8 text (UText, no
 * copy to UTF-16), with fast paths that skip ICU where its answer is certain. */
#include <stdlib.h>
#include <string.h>
#include <unicode/ubrk.h>
#include <unicode/uchar.h>
#include <unicode/utext.h>

#include "analysis_int.h"

/* ICU break iterators report int32_t offsets, so text is handed to them in windows. Both word
 * and sentence rules always break after a line feed, so windows end at one when they can. */
#define WINDOW_MAX ((size_t)1 << 30)

struct sg_segmenter {
  UBreakIterator *words;
  UBreakIterator *sentences;
  UText *text;
  unsigned char ascii_sb[128]; /* Sentence_Break of each ASCII character */
};

static int icu_status(UErrorCode st) {
  return st == U_MEMORY_ALLOCATION_ERROR ? SEOGO_ENOMEM : SEOGO_EINVAL;
}

int sg_segmenter_new(sg_segmenter **out, seogo_error *err) {
  *out = NULL;
  sg_segmenter *s = calloc(1, sizeof *s);
  if (!s) return sg_fail(err, SEOGO_ENOMEM, "out of memory creating the word segmenter");
  UErrorCode st = U_ZERO_ERROR;
  s->words = ubrk_open(UBRK_WORD, "", NULL, 0, &st);
  if (U_SUCCESS(st)) s->sentences = ubrk_open(UBRK_SENTENCE, "", NULL, 0, &st);
  if (U_FAILURE(st)) {
    sg_segmenter_free(s);
    return sg_fail(err, icu_status(st), "ICU break iterators unavailable: %s", u_errorName(st));
  }
  for (int c = 0; c < 128; c++)
    s->ascii_sb[c] = (unsigned char)u_getIntPropertyValue(c, UCHAR_SENTENCE_BREAK);
  *out = s;
  return SEOGO_OK;
}

void sg_segmenter_free(sg_segmenter *s) {
  if (!s) return;
  ubrk_close(s->words);
  ubrk_close(s->sentences);
  utext_close(s->text);
  free(s);
}

/* Length of the next window of text[0, len): at most WINDOW_MAX, ending after a line feed. */
static size_t window_len(const char *text, size_t len) {
  if (len <= WINDOW_MAX) return len;
  size_t w = WINDOW_MAX;
  while (w > WINDOW_MAX / 2 && text[w - 1] != '\n') w--;
  if (text[w - 1] != '\n') {
    w = WINDOW_MAX;
    while (w > 1 && ((unsigned char)text[w] & 0xC0) == 0x80) w--;
  }
  return w;
}

static int set_text(sg_segmenter *s, UBreakIterator *bi, const char *text, size_t len) {
  UErrorCode st = U_ZERO_ERROR;
  s->text = utext_openUTF8(s->text, text, (int64_t)len, &st);
  if (U_SUCCESS(st)) ubrk_setUText(bi, s->text, &st);
  return U_FAILURE(st) ? icu_status(st) : SEOGO_OK;
}

static int word_kind(int32_t status) {
  if (status >= UBRK_WORD_IDEO && status < UBRK_WORD_IDEO_LIMIT) return SG_WORD_IDEO;
  if (status >= UBRK_WORD_KANA && status < UBRK_WORD_KANA_LIMIT) return SG_WORD_KANA;
  if (status >= UBRK_WORD_LETTER && status < UBRK_WORD_LETTER_LIMIT) return SG_WORD_LETTER;
  if (status >= UBRK_WORD_NUMBER && status < UBRK_WORD_NUMBER_LIMIT) return SG_WORD_NUMBER;
  return 0;
}

static int icu_words(sg_segmenter *s, const char *text, size_t len, size_t base, sg_word_fn fn,
                     void *ctx) {
  int rc = set_text(s, s->words, text, len);
  if (rc) return rc;
  int32_t a = ubrk_first(s->words), b;
  while ((b = ubrk_next(s->words)) != UBRK_DONE) {
    int kind = word_kind(ubrk_getRuleStatus(s->words));
    if (kind && (rc = fn(ctx, base + (size_t)a, base + (size_t)b, kind)) != 0) return rc;
    a = b;
  }
  return SEOGO_OK;
}

int sg_segment_words_icu(sg_segmenter *s, const char *text, size_t len, size_t base,
                         sg_word_fn fn, void *ctx) {
  for (size_t off = 0; off < len;) {
    size_t w = window_len(text + off, len - off);
    int rc = icu_words(s, text + off, w, base + off, fn, ctx);
    if (rc) return rc;
    off += w;
  }
  return SEOGO_OK;
}

/* ---- The fast path ---------------------------------------------------------------------------
 * ICU word break runs at about 20 MB/s, slower than everything else the analyzer does. Most of
 * the text, though, is stretches between ASCII whitespace made of Hangul syllables, ASCII
 * letters and digits and punctuation on which ICU's rules always break: there a word is
 * a run of Hangul syllables or a run of ASCII letters and digits, exactly as ICU finds it
 * (test_analyzer compares the two on the corpus and on random text). Every other stretch goes
 * to ICU, and stretches close to each other go together, to keep ICU calls few. */

#define NEAR_BYTES 64          /* simple stretches shorter than this ride along with ICU */
#define REGION_MAX (1u << 20)   /* bytes handed to ICU at once, at stretch boundaries */

static int is_space(unsigned char c) { return c == ' ' || c == '\t' || c == '\n'; }
static int is_alnum(unsigned char c) {
  return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z');
}
/* . , ; : ' join letters or digits on both sides (U.S, 1,000, don't). */
static int may_join(unsigned char c) {
  return c == '.' || c == ',' || c == ';' || c == ':' || c == '\'';
}

/* Punctuation common in Korean reports on which ICU always breaks (Word_Break=Other). */
static int is_breaking_punct(unsigned cp) {
  switch (cp) {
  case 0x2013: case 0x2014: case 0x2022: case 0x201C: case 0x201D: case 0x2192: case 0x2981:
  case 0x25A0: case 0x25A1: case 0x25CB: case 0x25CF: case 0x25B6: case 0x25B2: case 0x203B:
  case 0x3008: case 0x3009: case 0x300A: case 0x300B: case 0x300C: case 0x300D: case 0x300E:
  case 0x300F: case 0x3010: case 0x3011: case 0x3001: case 0x3002:
    return 1;
  default:
    return 0;
  }
}

/* · (MidLetter) and ‘ ’ (MidNumLet) join ASCII letters or digits on both sides, like '. */
static int is_joining_punct(unsigned cp) { return cp == 0xB7 || cp == 0x2018 || cp == 0x2019; }

static int is_syllable(const unsigned char *p, const unsigned char *end) {
  return sg_syllable_at(p, end) != 0;
}

/* What one scan of a stretch found: where it ends, whether ICU is needed, and its words. */
#define STRETCH_WORDS 32
typedef struct stretch {
  const unsigned char *end;
  int needs_icu;
  size_t nwords; /* more than STRETCH_WORDS: the words are found again when emitted */
  const unsigned char *word[STRETCH_WORDS][2];
  unsigned char kind[STRETCH_WORDS];
} stretch;

static void add_word(stretch *st, const unsigned char *a, const unsigned char *b, int kind) {
  if (st->nwords < STRETCH_WORDS) {
    st->word[st->nwords][0] = a;
    st->word[st->nwords][1] = b;
    st->kind[st->nwords] = (unsigned char)kind;
  }
  st->nwords++;
}

/* Whether the punctuation character at p (n bytes) makes the stretch a matter for ICU. */
static int punct_needs_icu(const unsigned char *start, const unsigned char *p, size_t n,
                           const unsigned char *end) {
  int joined = p > start && is_alnum(p[-1]) && p + n < end && is_alnum(p[n]);
  unsigned c = *p;
  if (c < 0x80) {
    if (c == '@' || c == '_' || c < 0x20 || c == 0x7F) return 1; /* @me and __ are words */
    return may_join((unsigned char)c) && joined;
  }
  unsigned cp = n == 2 ? ((c & 0x1Fu) << 6) | (p[1] & 0x3Fu)
              : n == 3 ? ((c & 0x0Fu) << 12) | ((p[1] & 0x3Fu) << 6) | (p[2] & 0x3Fu)
                       : 0;
  if (is_joining_punct(cp)) return joined;
  return !is_breaking_punct(cp);
}

/* Scans the stretch of non-space bytes at p, finding its words on the way. */
static void scan_stretch(const unsigned char *p, const unsigned char *end, stretch *st) {
  const unsigned char *start = p;
  st->needs_icu = 0;
  st->nwords = 0;
  while (p < end && !is_space(*p)) {
    const unsigned char *w = p;
    if (is_syllable(p, end)) {
      do p += 3;
      while (p < end && is_syllable(p, end));
      add_word(st, w, p, SG_WORD_LETTER);
    } else if (is_alnum(*p)) {
      int letters = 0;
      for (; p < end && is_alnum(*p); p++) letters |= *p > '9';
      add_word(st, w, p, letters ? SG_WORD_LETTER : SG_WORD_NUMBER);
    } else {
      size_t n = *p >= 0xF0 ? 4 : *p >= 0xE0 ? 3 : *p >= 0xC0 ? 2 : 1;
      if (n > (size_t)(end - p)) n = (size_t)(end - p);
      if (punct_needs_icu(start, p, n, end)) {
        st->needs_icu = 1;
        while (p < end && !is_space(*p)) p++;
        break;
      }
      p += n;
    }
  }
  st->end = p;
}

/* Emits the words of a stretch that needs no ICU. */
static int simple_words(const unsigned char *text, const unsigned char *p, const unsigned char *end,
                        sg_word_fn fn, void *ctx) {
  while (p < end) {
    const unsigned char *w = p;
    int rc = 0;
    if (is_syllable(p, end)) {
      while (p < end && is_syllable(p, end)) p += 3;
      rc = fn(ctx, (size_t)(w - text), (size_t)(p - text), SG_WORD_LETTER);
    } else if (*p >= 0x80) {
      p += *p >= 0xE0 ? 3 : 2; /* punctuation */
    } else if (is_alnum(*p)) {
      int letters = 0;
      for (; p < end && is_alnum(*p); p++) letters |= *p > '9';
      rc = fn(ctx, (size_t)(w - text), (size_t)(p - text), letters ? SG_WORD_LETTER : SG_WORD_NUMBER);
    } else {
      p++;
    }
    if (rc) return rc;
  }
  return SEOGO_OK;
}

int sg_segment_words(sg_segmenter *s, const char *text, size_t len, sg_word_fn fn, void *ctx) {
  const unsigned char *t = (const unsigned char *)text, *end = t + len, *p = t;
  const unsigned char *region = NULL, *region_end = NULL;
  while (1) {
    while (p < end && is_space(*p)) p++;
    stretch st; /* no initializer: zeroing its word table per stretch would cost more than
                   finding the words */
    st.end = p;
    st.needs_icu = 0;
    st.nwords = 0;
    if (p < end) scan_stretch(p, end, &st);
    int needs_icu = st.needs_icu;
    const unsigned char *stretch_end = st.end;
    int far = region && (p == end || (size_t)(p - region_end) > NEAR_BYTES ||
                         (needs_icu && (size_t)(stretch_end - region) > REGION_MAX));
    if (far) { /* hand the region to ICU, then take up the text after it again */
      int rc = sg_segment_words_icu(s, (const char *)region, (size_t)(region_end - region),
                                    (size_t)(region - t), fn, ctx);
      if (rc) return rc;
      p = region_end;
      region = NULL;
      continue;
    }
    if (p == end) return SEOGO_OK;
    if (needs_icu) {
      if (!region) region = p;
      region_end = stretch_end;
    } else if (!region) {
      int rc = st.nwords > STRETCH_WORDS ? simple_words(t, p, stretch_end, fn, ctx) : SEOGO_OK;
      for (size_t i = 0; !rc && st.nwords <= STRETCH_WORDS && i < st.nwords; i++)
        rc = fn(ctx, (size_t)(st.word[i][0] - t), (size_t)(st.word[i][1] - t), st.kind[i]);
      if (rc) return rc;
    }
    p = stretch_end;
  }
}

static int add_sentence_end(sg_analysis *r, size_t end) {
  if (r->nsentences == r->sentences_cap) {
    size_t cap = r->sentences_cap ? r->sentences_cap * 2 : 64;
    uint32_t *p = realloc(r->sentence_ends, cap * sizeof *p);
    if (!p) return SEOGO_ENOMEM;
    r->sentence_ends = p;
    r->sentences_cap = cap;
  }
  r->sentence_ends[r->nsentences++] = (uint32_t)end;
  return SEOGO_OK;
}

static int is_blank_text(const char *p, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (p[i] != ' ' && p[i] != '\t' && p[i] != '\n') return 0;
  return 1;
}

/* ICU ends a sentence at every line break, so blank lines come out as sentences of their own;
 * they are folded into the sentence before (the first one's into the sentence after). */
static int sentence_boundary(sg_analysis *r, size_t end) {
  size_t prev = r->nsentences ? r->sentence_ends[r->nsentences - 1] : 0;
  if (!is_blank_text((const char *)r->norm.data + prev, end - prev)) return add_sentence_end(r, end);
  if (r->nsentences) {
    r->sentence_ends[r->nsentences - 1] = (uint32_t)end;
    return SEOGO_OK;
  }
  return end == r->norm.len ? add_sentence_end(r, end) : SEOGO_OK;
}

int sg_segment_sentences_icu(sg_segmenter *s, sg_analysis *r) {
  const char *text = (const char *)r->norm.data;
  r->nsentences = 0;
  for (size_t off = 0; off < r->norm.len;) {
    size_t w = window_len(text + off, r->norm.len - off);
    int rc = set_text(s, s->sentences, text + off, w);
    if (rc) return rc;
    int32_t b;
    ubrk_first(s->sentences);
    while ((b = ubrk_next(s->sentences)) != UBRK_DONE) {
      if ((rc = sentence_boundary(r, off + (size_t)b)) != 0) return rc;
    }
    off += w;
  }
  return SEOGO_OK;
}

/* ---- Sentences without ICU where the answer is certain -----------------------------------
 * ICU's sentence rules (UAX 29) always break after a line feed, and inside a line only right
 * after a terminator (STerm, ATerm), its closing punctuation and spaces, or after a paragraph
 * separator; what decides the break is the character before the terminator and the text after
 * it up to the next letter or terminator. So each line is scanned for terminators: the common
 * cases ("다. 다음", "end. The", a terminator ending the line) are decided here, and ICU is run
 * only over a window from the character before a terminator to the character that decides it.
 * test_analyzer compares this with ICU over whole texts, on the corpus and on random text. */

static int sb_class(const sg_segmenter *s, const unsigned char *p, size_t n, size_t *len) {
  int32_t cp;
  if (p[0] < 0x80) {
    *len = 1;
    return s->ascii_sb[p[0]];
  }
  *len = sg_utf8_decode(p, n, &cp);
  if (!*len) { /* N is well-formed; be safe anyway */
    *len = 1;
    return U_SB_OTHER;
  }
  return sg_is_hangul_syllable(cp) ? U_SB_OLETTER : u_getIntPropertyValue(cp, UCHAR_SENTENCE_BREAK);
}

static int is_terminator(int c) { return c == U_SB_ATERM || c == U_SB_STERM || c == U_SB_SEP; }

static int decides(int c) {
  return c == U_SB_OLETTER || c == U_SB_UPPER || c == U_SB_LOWER || c == U_SB_SEP ||
         c == U_SB_LF || c == U_SB_CR || c == U_SB_STERM || c == U_SB_ATERM;
}

static int is_extend(int c) { return c == U_SB_EXTEND || c == U_SB_FORMAT; }

/* End of the text that decides the break after the terminator ending at `after`: past the
 * first deciding character (and its Extend/Format), or the line end le. */
static size_t decision_end(const sg_segmenter *s, const unsigned char *t, size_t after, size_t le) {
  size_t i = after, l;
  while (i < le) {
    int c = sb_class(s, t + i, le - i, &l);
    i += l;
    if (c == U_SB_LF) return le;
    if (!decides(c)) continue;
    while (i < le && is_extend(sb_class(s, t + i, le - i, &l))) i += l;
    return i;
  }
  return le;
}

/* Start of the character before the terminator at `at` (Extend/Format skipped), at least ls. */
static size_t window_start(const sg_segmenter *s, const unsigned char *t, size_t ls, size_t at) {
  size_t i = at, l;
  while (i > ls) {
    do i--;
    while (i > ls && (t[i] & 0xC0) == 0x80);
    if (!is_extend(sb_class(s, t + i, at - i, &l))) break;
  }
  return i;
}

enum { FAST_NO, FAST_BREAK, FAST_NONE };

/* Decides an ASCII terminator at `at` followed by blanks and a Hangul syllable or a capital
 * (a break before that), or by blanks up to the line end (no break before it). */
static int fast_sentence(const unsigned char *t, size_t at, size_t le, size_t *brk) {
  size_t k = at + 1;
  while (k < le && (t[k] == ' ' || t[k] == '\t')) k++;
  if (k == le || t[k] == '\n') return FAST_NONE;
  if (k == at + 1) return FAST_NO;
  if ((t[k] >= 'A' && t[k] <= 'Z') || sg_syllable_at(t + k, t + le)) {
    *brk = k;
    return FAST_BREAK;
  }
  return FAST_NO;
}

typedef struct sentence_walk {
  sg_segmenter *s;
  sg_analysis *r;
  const unsigned char *t;
  size_t ws, we; /* window waiting for ICU; ws == we: none */
} sentence_walk;

/* ICU over the waiting window; its breaks inside are sentence ends (one at its end is an
 * artifact of the window, and the line end is added by the caller). */
static int flush_window(sentence_walk *w) {
  if (w->ws == w->we) return SEOGO_OK;
  size_t ws = w->ws, we = w->we;
  if (we - ws > WINDOW_MAX) we = ws + window_len((const char *)w->t + ws, we - ws);
  w->ws = w->we = 0;
  int rc = set_text(w->s, w->s->sentences, (const char *)w->t + ws, we - ws);
  if (rc) return rc;
  ubrk_first(w->s->sentences);
  for (int32_t b; (b = ubrk_next(w->s->sentences)) != UBRK_DONE && ws + (size_t)b < we;)
    if ((rc = sentence_boundary(w->r, ws + (size_t)b)) != 0) return rc;
  return SEOGO_OK;
}

static int terminator(sentence_walk *w, size_t ls, size_t le, size_t at, size_t len) {
  size_t ws = window_start(w->s, w->t, ls, at);
  if (w->ws != w->we && ws < w->we) { /* overlaps the waiting window: one ICU run */
    size_t we = decision_end(w->s, w->t, at + len, le);
    if (we > w->we) w->we = we;
    return SEOGO_OK;
  }
  int rc = flush_window(w);
  if (rc) return rc;
  size_t brk;
  int fast = w->t[at] < 0x80 ? fast_sentence(w->t, at, le, &brk) : FAST_NO;
  if (fast == FAST_BREAK) return sentence_boundary(w->r, brk);
  if (fast == FAST_NO) {
    w->ws = ws;
    w->we = decision_end(w->s, w->t, at + len, le);
  }
  return SEOGO_OK;
}

/* The sentence ends inside line [ls, le) (le after its line feed), then le. */
static int line_sentences(sentence_walk *w, size_t ls, size_t le) {
  const unsigned char *t = w->t;
  for (size_t i = ls, l; i < le; i += l) {
    unsigned char c = t[i];
    if (c < 0x80) { /* the only ASCII terminators (a test checks ICU's table agrees) */
      l = 1;
      if (c != '.' && c != '!' && c != '?') continue;
    } else if (sg_syllable_at(t + i, t + le)) {
      l = 3;
      continue;
    } else if (!is_terminator(sb_class(w->s, t + i, le - i, &l))) {
      continue;
    }
    int rc = terminator(w, ls, le, i, l);
    if (rc) return rc;
  }
  int rc = flush_window(w);
  return rc ? rc : sentence_boundary(w->r, le);
}

int sg_ascii_terminators_are_dot_bang_question(const sg_segmenter *s) {
  for (int c = 0; c < 128; c++)
    if (is_terminator(s->ascii_sb[c]) != (c == '.' || c == '!' || c == '?')) return 0;
  return 1;
}

int sg_segment_sentences(sg_segmenter *s, sg_analysis *r) {
  sentence_walk w = {s, r, r->norm.data, 0, 0};
  r->nsentences = 0;
  size_t n = r->norm.len;
  for (size_t ls = 0; ls < n;) {
    const unsigned char *nl = memchr(w.t + ls, '\n', n - ls);
    size_t le = nl ? (size_t)(nl - w.t) + 1 : n;
    int rc = line_sentences(&w, ls, le);
    if (rc) return rc;
    ls = le;
  }
  return SEOGO_OK;
}
