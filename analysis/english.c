/* english.c - Latin-script words to case-folded Snowball English stems (U.S. -> us, GPUs ->
 * gpu) and numbers to number terms (1,000 -> 1000, 3.5 kept). */
#include <stdlib.h>
#include <string.h>
#include <libstemmer.h>
#include <utf8proc.h>

#include "analysis_int.h"

/* Snowball took a sixth of the analyzer's instructions, mostly on the same few thousand words
 * again and again; a direct-mapped cache of short words' stems answers those. */
#define STEM_CACHE_SLOTS 8192 /* a power of two */
#define STEM_CACHE_BYTES 23   /* longest word (and stem) cached */

typedef struct stem_slot {
  unsigned char word_len, stem_len; /* word_len 0: empty */
  char word[STEM_CACHE_BYTES], stem[STEM_CACHE_BYTES];
} stem_slot;

struct sg_stemmer {
  struct sb_stemmer *snowball;
  stem_slot cache[STEM_CACHE_SLOTS];
};

sg_stemmer *sg_stemmer_new(void) {
  sg_stemmer *s = calloc(1, sizeof *s);
  if (!s) return NULL;
  s->snowball = sb_stemmer_new("english", "UTF_8");
  if (!s->snowball) {
    free(s);
    return NULL;
  }
  return s;
}

void sg_stemmer_free(sg_stemmer *s) {
  if (!s) return;
  sb_stemmer_delete(s->snowball);
  free(s);
}

/* Largest length <= max that ends at a character boundary of w. */
static size_t char_floor(const char *w, size_t n, size_t max) {
  if (n <= max) return n;
  while (max > 0 && ((unsigned char)w[max] & 0xC0) == 0x80) max--;
  return max;
}

static stem_slot *cache_slot(sg_stemmer *s, const char *w, size_t n) {
  uint32_t h = 2166136261u;
  for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)w[i]) * 16777619u;
  return &s->cache[(h ^ (h >> 15)) & (STEM_CACHE_SLOTS - 1)];
}

/* Sets *ok to 0 when Snowball failed (the answer is then not to be remembered). */
static size_t stem_uncached(sg_stemmer *s, const char *w, size_t n, char *out, int *ok) {
  const sb_symbol *stem = sb_stemmer_stem(s->snowball, (const sb_symbol *)w, (int)n);
  *ok = stem != NULL;
  if (!stem) { /* out of memory inside Snowball: the word itself still finds itself */
    n = char_floor(w, n, SG_MAX_TERM_BYTES);
    memcpy(out, w, n);
    return n;
  }
  size_t len = char_floor((const char *)stem, (size_t)sb_stemmer_length(s->snowball),
                          SG_MAX_TERM_BYTES);
  memcpy(out, stem, len);
  /* Snowball keeps a final s after a vowel (gpus, ngos) or when no vowel precedes it (gvcs,
   * llms): so an acronym's plural typed in lower case would not find GPUs or GPU. A single
   * final s goes from every stem of three letters or more, as Porter's first stemmer drops
   * it; like that stemmer, this merges a few short words with others (his with hi). */
  if (len >= 3 && out[len - 1] == 's' && out[len - 2] != 's') len--;
  return len;
}

size_t sg_stem_english(sg_stemmer *s, const char *w, size_t n, char *out) {
  int ok;
  if (n == 0 || n > STEM_CACHE_BYTES) return stem_uncached(s, w, n, out, &ok);
  stem_slot *slot = cache_slot(s, w, n);
  if (slot->word_len == n && memcmp(slot->word, w, n) == 0) {
    memcpy(out, slot->stem, slot->stem_len);
    return slot->stem_len;
  }
  size_t len = stem_uncached(s, w, n, out, &ok);
  if (ok && len <= STEM_CACHE_BYTES) { /* a stem is never longer than its word, but be sure */
    slot->word_len = (unsigned char)n;
    slot->stem_len = (unsigned char)len;
    memcpy(slot->word, w, n);
    memcpy(slot->stem, out, len);
  }
  return len;
}

/* ---- Words --------------------------------------------------------------------------------- */

static int is_digit(unsigned char c) { return c >= '0' && c <= '9'; }
static int is_upper(unsigned char c) { return c >= 'A' && c <= 'Z'; }
static int is_alpha(unsigned char c) { return (c | 0x20) >= 'a' && (c | 0x20) <= 'z'; }

/* ’ (U+2019) and ‘ (U+2018), ICU's apostrophes inside words. */
static int quote_at(const char *w, size_t n, size_t i) {
  return i + 2 < n && (unsigned char)w[i] == 0xE2 && (unsigned char)w[i + 1] == 0x80 &&
         ((unsigned char)w[i + 2] == 0x99 || (unsigned char)w[i + 2] == 0x98);
}

/* 1,000: a comma between a digit and exactly three digits. */
static int thousands_comma(const char *w, size_t n, size_t i) {
  if (i == 0 || !is_digit((unsigned char)w[i - 1])) return 0;
  for (size_t k = 1; k <= 3; k++)
    if (i + k >= n || !is_digit((unsigned char)w[i + k])) return 0;
  return i + 4 >= n || !is_digit((unsigned char)w[i + 4]);
}

/* Emits the number N[start, end): thousands commas dropped, decimals kept, other separators
 * (1;2, 1,23) split it into several numbers. */
static int number_word(sg_emitter *e, size_t start, size_t end) {
  const char *w = e->norm + start;
  size_t n = end - start;
  char term[SG_MAX_TERM_BYTES];
  size_t len = 0, part = 0;
  int digits = 0;
  for (size_t i = 0; i <= n; i++) {
    unsigned char c = i < n ? (unsigned char)w[i] : 0;
    if (i < n && (is_digit(c) || c == '.')) {
      if (len < SG_MAX_TERM_BYTES) term[len++] = (char)c;
      digits |= is_digit(c);
      continue;
    }
    if (i < n && c == ',' && thousands_comma(w, n, i)) continue;
    if (digits) {
      int rc = sg_emit_term(e, term, len, SEOGO_TERM_WORD_START | SEOGO_TERM_NUMBER,
                            start + part, start + i);
      if (rc) return rc;
    }
    len = 0;
    digits = 0;
    part = i + 1;
    while (part < n && ((unsigned char)w[part] & 0xC0) == 0x80) part++;
  }
  return SEOGO_OK;
}

/* Copies whole characters of f into out (at most SG_MAX_TERM_BYTES), ’ as '. */
static size_t copy_term(const char *f, size_t n, char *out) {
  size_t len = 0;
  for (size_t i = 0; i < n;) {
    if (quote_at(f, n, i)) {
      if (len == SG_MAX_TERM_BYTES) break;
      out[len++] = '\'';
      i += 3;
      continue;
    }
    size_t clen = 1;
    while (i + clen < n && ((unsigned char)f[i + clen] & 0xC0) == 0x80) clen++;
    if (len + clen > SG_MAX_TERM_BYTES) break;
    memcpy(out + len, f + i, clen);
    len += clen;
    i += clen;
  }
  return len;
}

/* Case-folds w into out (at most SG_MAX_TERM_BYTES bytes): ASCII directly, the rest with
 * utf8proc's full case folding. */
static size_t fold_case(const char *w, size_t n, char *out) {
  int ascii = 1;
  for (size_t i = 0; i < n; i++) ascii &= (unsigned char)w[i] < 0x80;
  if (ascii) {
    size_t len = n < SG_MAX_TERM_BYTES ? n : SG_MAX_TERM_BYTES;
    for (size_t i = 0; i < len; i++) {
      unsigned char c = (unsigned char)w[i];
      out[i] = (char)(is_upper(c) ? c | 0x20 : c);
    }
    return len;
  }
  utf8proc_uint8_t *folded = NULL;
  utf8proc_ssize_t fl = utf8proc_map((const utf8proc_uint8_t *)w, (utf8proc_ssize_t)n, &folded,
                                     UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_CASEFOLD);
  size_t len = fl >= 0 ? copy_term((const char *)folded, (size_t)fl, out)
                       : copy_term(w, n, out); /* out of memory: unfolded still works */
  free(folded);
  return len;
}

/* Emits one Latin word w = N[start, end) without dots. */
static int latin_part(sg_emitter *e, sg_stemmer *s, size_t start, size_t end, size_t term_start,
                      size_t term_end) {
  const char *w = e->norm + term_start;
  size_t n = term_end - term_start;
  if (n == 0) return SEOGO_OK;
  char folded[SG_MAX_TERM_BYTES], stem[SG_MAX_TERM_BYTES];
  size_t len = fold_case(w, n, folded);
  int letters_only = 1;
  for (size_t i = 0; i < len; i++) letters_only &= !is_digit((unsigned char)folded[i]);
  const char *term = folded;
  if (letters_only) {
    len = sg_stem_english(s, folded, len, stem);
    term = stem;
  }
  if (len == 0) return SEOGO_OK;
  return sg_emit_term(e, term, len, SEOGO_TERM_WORD_START | SEOGO_TERM_LATIN, start, end);
}

/* U.S, e.g, Ph.D: every dot-separated piece is one or two letters. */
static int is_abbreviation(const char *w, size_t n) {
  size_t piece = 0;
  for (size_t i = 0; i <= n; i++) {
    if (i == n || w[i] == '.') {
      if (piece == 0 || piece > 2) return 0;
      piece = 0;
    } else if (!is_alpha((unsigned char)w[i])) {
      return 0;
    } else {
      piece++;
    }
  }
  return 1;
}

/* Emits a letter word: an abbreviation loses its dots (U.S -> us), other dotted words split
 * into words (example.com -> example, com); words with digits keep them (v2.0). */
static int letter_word(sg_emitter *e, sg_stemmer *s, size_t start, size_t end) {
  const char *w = e->norm + start;
  size_t n = end - start;
  int has_dot = memchr(w, '.', n) != NULL, has_digit = 0;
  for (size_t i = 0; i < n; i++) has_digit |= is_digit((unsigned char)w[i]);
  if (!has_dot || has_digit) return latin_part(e, s, start, end, start, end);
  if (is_abbreviation(w, n)) {
    char joined[SG_MAX_TERM_BYTES];
    size_t len = 0;
    for (size_t i = 0; i < n && len < SG_MAX_TERM_BYTES; i++)
      if (w[i] != '.') joined[len++] = (char)((unsigned char)w[i] | 0x20);
    return sg_emit_term(e, joined, len, SEOGO_TERM_WORD_START | SEOGO_TERM_LATIN, start, end);
  }
  size_t piece = start;
  for (size_t i = start; i <= end; i++) {
    if (i < end && e->norm[i] != '.') continue;
    if (i > piece) {
      int rc = latin_part(e, s, piece, i, piece, i);
      if (rc) return rc;
    }
    piece = i + 1;
  }
  return SEOGO_OK;
}

int sg_english_word(sg_emitter *e, sg_stemmer *s, size_t start, size_t end) {
  const char *w = e->norm + start;
  size_t n = end - start;
  int letters = 0;
  for (size_t i = 0; i < n && !letters; i++) {
    unsigned char c = (unsigned char)w[i];
    letters = !(is_digit(c) || c == '.' || c == ',' || c == ';' || c == ':' || c == '\'' ||
                c == '_');
    if (letters && quote_at(w, n, i)) {
      letters = 0;
      i += 2;
    }
  }
  if (!letters) return number_word(e, start, end);
  return letter_word(e, s, start, end);
}
