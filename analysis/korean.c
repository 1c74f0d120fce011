/* korean.c - Hangul and Han/kana runs to syllable bigrams, and the particle/ending stripper
 * that finds where a Korean word's stem ends. */
#include <string.h>

#include "analysis_int.h"

/* Which syllable may precede a particle: Korean alternates 이/가, 을/를, 은/는, 과/와 and
 * 으로/로 on whether the syllable before ends in a consonant (batchim). Honouring that keeps
 * nouns such as 전문가 or 기업가 (가 after a batchim cannot be the subject particle) whole. */
enum after {
  ANY,
  CLOSED,       /* after a syllable with a final consonant */
  OPEN,         /* after a syllable without one */
  OPEN_OR_RIEUL, /* 로: after a vowel or after ㄹ */
  CLOSED_NOT_RIEUL, /* 으로: after a final consonant other than ㄹ */
  JEOK          /* 인 only after -적 (경제적인 -> 경제적); 원인, 개인 stay whole */
};

typedef struct suffix {
  const char *text; /* UTF-8, whole syllables */
  unsigned char len;
  unsigned char after;
} suffix;

/* Looked up by the word's last syllable: sorted by final syllable, longest first within one
 * final syllable so that 에서는 wins over 는 and 하는 over 는 (a test checks the order). */
#define SFX(text, after) {text, sizeof text - 1, after}
static const suffix SUFFIXES[] = {
    SFX("가", OPEN), SFX("에게", ANY), SFX("하게", ANY), SFX("이고", CLOSED), SFX("하고", ANY),
    SFX("되고", ANY), SFX("과", CLOSED), SFX("하기", ANY), SFX("되기", ANY), SFX("이나", CLOSED),
    SFX("에서는", ANY), SFX("에게는", ANY), SFX("으로는", CLOSED_NOT_RIEUL), SFX("이라는", CLOSED),
    SFX("부터는", ANY), SFX("에는", ANY), SFX("과는", CLOSED), SFX("와는", OPEN), SFX("로는", OPEN_OR_RIEUL),
    SFX("하는", ANY), SFX("되는", ANY), SFX("는", OPEN), SFX("하였다", ANY),
    SFX("되었다", ANY), SFX("보다", ANY), SFX("마다", ANY), SFX("이다", CLOSED), SFX("했다", ANY),
    SFX("한다", ANY), SFX("된다", ANY), SFX("됐다", ANY), SFX("에서도", ANY), SFX("으로도", CLOSED_NOT_RIEUL),
    SFX("에도", ANY), SFX("로도", OPEN_OR_RIEUL), SFX("도", ANY), SFX("된", ANY), SFX("처럼", ANY),
    SFX("으로", CLOSED_NOT_RIEUL), SFX("로", OPEN_OR_RIEUL), SFX("를", OPEN), SFX("만", ANY),
    SFX("하였으며", ANY), SFX("되었으며", ANY), SFX("했으며", ANY), SFX("이며", CLOSED), SFX("하며", ANY),
    SFX("되며", ANY), SFX("하면", ANY), SFX("에게서", ANY), SFX("으로서", CLOSED_NOT_RIEUL), SFX("에서", ANY),
    SFX("로서", OPEN_OR_RIEUL), SFX("해서", ANY), SFX("으로써", CLOSED_NOT_RIEUL),
    SFX("로써", OPEN_OR_RIEUL), SFX("해야", ANY), SFX("되어", ANY), SFX("에", ANY), SFX("하여", ANY),
    SFX("와", OPEN), SFX("은", CLOSED), SFX("을", CLOSED), SFX("에서의", ANY),
    SFX("으로의", CLOSED_NOT_RIEUL), SFX("까지의", ANY), SFX("에의", ANY), SFX("만의", ANY),
    SFX("과의", CLOSED), SFX("와의", OPEN), SFX("로의", OPEN_OR_RIEUL), SFX("의", ANY), SFX("이", CLOSED),
    SFX("인", JEOK), SFX("까지", ANY), SFX("하지", ANY), SFX("되지", ANY), SFX("조차", ANY), SFX("부터", ANY),
    SFX("한", ANY), SFX("할", ANY),
};
#define NSUFFIXES (sizeof SUFFIXES / sizeof *SUFFIXES)

/* Nouns whose last syllable only looks like the particle 도: the -도 of degree (의존도), 제도,
 * 반도 and the like. Matched against the last two syllables of the word. */
static const char *const WHOLE_TAILS[] = {"존도", "뢰도", "족도", "중도", "반도", "지도", "제도",
                                          "주도", "속도", "정도", "한도", "온도", "강도", "빈도",
                                          "밀도", "태도", "용도", "각도", "수도", "시도"};

#define SYLLABLE_BYTES 3
#define PLURAL "들"

static int32_t syllable_at(const char *p) {
  return sg_syllable_at((const unsigned char *)p, (const unsigned char *)p + SYLLABLE_BYTES);
}

/* The three bytes of one syllable compared without a call. */
static int same_syllable(const char *a, const char *b) {
  return a[0] == b[0] && a[1] == b[1] && a[2] == b[2];
}

static int may_follow(int32_t prev, unsigned char after) {
  int final = (prev - 0xAC00) % 28; /* 0: no batchim; 8: ㄹ */
  switch (after) {
  case CLOSED: return final != 0;
  case OPEN: return final == 0;
  case OPEN_OR_RIEUL: return (final == 0 && prev != 0xC73C) || final == 8; /* not 것으로 */
  case CLOSED_NOT_RIEUL: return final != 0 && final != 8;
  case JEOK: return prev == 0xC801; /* 적 */
  default: return 1;
  }
}

static size_t count_chars(const char *w, size_t n) {
  size_t c = 0;
  for (size_t k = 0; k < n; k++) c += ((unsigned char)w[k] & 0xC0) != 0x80;
  return c;
}

/* Whether w (n bytes, whole syllables) ends in `s` that may follow the syllable before it and
 * leaves a stem of at least two syllables. */
static int strips(const char *w, size_t n, const suffix *s) {
  size_t sl = s->len;
  if (n < sl + 2 * SYLLABLE_BYTES || memcmp(w + n - sl, s->text, sl) != 0) return 0;
  int32_t prev = syllable_at(w + n - sl - SYLLABLE_BYTES);
  return prev && may_follow(prev, s->after);
}

static int whole_tail(const char *w, size_t n) {
  if (n < 2 * SYLLABLE_BYTES || !same_syllable(w + n - SYLLABLE_BYTES, "도")) return 0;
  for (size_t i = 0; i < sizeof WHOLE_TAILS / sizeof *WHOLE_TAILS; i++)
    if (same_syllable(w + n - SYLLABLE_BYTES, WHOLE_TAILS[i] + SYLLABLE_BYTES) &&
        same_syllable(w + n - 2 * SYLLABLE_BYTES, WHOLE_TAILS[i]))
      return 1;
  return 0;
}

static int compare_final(const suffix *s, const char *syllable) {
  const unsigned char *a = (const unsigned char *)s->text + s->len - SYLLABLE_BYTES;
  const unsigned char *b = (const unsigned char *)syllable;
  for (int i = 0; i < SYLLABLE_BYTES; i++)
    if (a[i] != b[i]) return a[i] < b[i] ? -1 : 1;
  return 0;
}

int sg_korean_suffixes_sorted(void) {
  for (size_t i = 1; i < NSUFFIXES; i++) {
    int c = compare_final(&SUFFIXES[i - 1], SUFFIXES[i].text + SUFFIXES[i].len - SYLLABLE_BYTES);
    if (c > 0 || (c == 0 && SUFFIXES[i - 1].len < SUFFIXES[i].len)) return 0;
  }
  return 1;
}

static size_t particle_len(const char *w, size_t n) {
  const char *last = w + n - SYLLABLE_BYTES;
  size_t lo = 0, hi = NSUFFIXES;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (compare_final(&SUFFIXES[mid], last) < 0) lo = mid + 1;
    else hi = mid;
  }
  for (size_t i = lo; i < NSUFFIXES && compare_final(&SUFFIXES[i], last) == 0; i++) {
    if (SUFFIXES[i].len == SYLLABLE_BYTES && whole_tail(w, n)) return 0;
    if (strips(w, n, &SUFFIXES[i])) return SUFFIXES[i].len;
  }
  return 0;
}

size_t sg_korean_suffix_len(const char *w, size_t n) {
  if (n < 3 * SYLLABLE_BYTES || !syllable_at(w + n - SYLLABLE_BYTES)) return 0;
  size_t len = particle_len(w, n);
  /* 기업들, 기업들이: the plural goes with the particle. */
  size_t rest = n - len, pl = sizeof PLURAL - 1;
  if (rest >= pl + 2 * SYLLABLE_BYTES && same_syllable(w + rest - pl, PLURAL) &&
      syllable_at(w + rest - pl - SYLLABLE_BYTES))
    len += pl;
  return len;
}

static size_t next_char(const char *n, size_t at, size_t end) {
  at++;
  while (at < end && ((unsigned char)n[at] & 0xC0) == 0x80) at++;
  return at;
}

int sg_korean_run(sg_emitter *e, size_t start, size_t end, unsigned script_flag, int query) {
  const char *n = e->norm;
  size_t chars = count_chars(n + start, end - start), stem_chars = chars;
  if (script_flag == SEOGO_TERM_HANGUL) {
    size_t tail = sg_korean_suffix_len(n + start, end - start);
    stem_chars -= count_chars(n + end - tail, tail);
    if (query) {
      end -= tail;
      chars = stem_chars;
    }
  }
  unsigned word = script_flag | SEOGO_TERM_WORD_START;
  if (chars <= 1)
    return sg_emit_term(e, n + start, end - start, word | SEOGO_TERM_STEM_END, start, end);
  size_t a = start, b = next_char(n, a, end);
  for (size_t i = 0; i + 1 < chars; i++) {
    size_t c = next_char(n, b, end);
    unsigned flags = (i == 0 ? word : script_flag) | (i + 2 == stem_chars ? SEOGO_TERM_STEM_END : 0);
    size_t len = c - a < SG_MAX_TERM_BYTES ? c - a : SG_MAX_TERM_BYTES;
    int rc = sg_emit_term(e, n + a, len, flags, a, c);
    if (rc) return rc;
    a = b;
    b = c;
  }
  return SEOGO_OK;
}
