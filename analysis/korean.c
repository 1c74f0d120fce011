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
  unsigned char after;
} suffix;

/* Longest first, so that 에서는 wins over 는 and 하는 over 는. */
static const suffix SUFFIXES[] = {
    {"하였으며", ANY}, {"되었으며", ANY},
    {"에서는", ANY}, {"에게서", ANY}, {"에서도", ANY}, {"에서의", ANY}, {"에게는", ANY},
    {"으로서", CLOSED_NOT_RIEUL}, {"으로써", CLOSED_NOT_RIEUL}, {"으로는", CLOSED_NOT_RIEUL},
    {"으로도", CLOSED_NOT_RIEUL}, {"으로의", CLOSED_NOT_RIEUL}, {"이라는", CLOSED},
    {"까지의", ANY}, {"부터는", ANY}, {"하였다", ANY}, {"되었다", ANY}, {"했으며", ANY},
    {"에서", ANY}, {"에게", ANY}, {"부터", ANY}, {"까지", ANY}, {"처럼", ANY},
    {"보다", ANY}, {"마다", ANY}, {"조차", ANY}, {"에는", ANY}, {"에도", ANY},
    {"에의", ANY}, {"만의", ANY}, {"으로", CLOSED_NOT_RIEUL}, {"과의", CLOSED},
    {"와의", OPEN}, {"과는", CLOSED}, {"와는", OPEN}, {"로서", OPEN_OR_RIEUL},
    {"로써", OPEN_OR_RIEUL}, {"로는", OPEN_OR_RIEUL}, {"로도", OPEN_OR_RIEUL},
    {"로의", OPEN_OR_RIEUL}, {"라는", OPEN}, {"이며", CLOSED}, {"이고", CLOSED},
    {"이다", CLOSED}, {"이나", CLOSED}, {"하는", ANY}, {"하고", ANY}, {"하여", ANY},
    {"하며", ANY}, {"해서", ANY}, {"했다", ANY}, {"한다", ANY}, {"하기", ANY},
    {"하지", ANY}, {"하게", ANY}, {"하면", ANY}, {"해야", ANY}, {"된다", ANY},
    {"되는", ANY}, {"되어", ANY}, {"됐다", ANY}, {"되고", ANY}, {"되며", ANY},
    {"되기", ANY}, {"되지", ANY},
    {"은", CLOSED}, {"는", OPEN}, {"이", CLOSED}, {"가", OPEN}, {"을", CLOSED},
    {"를", OPEN}, {"과", CLOSED}, {"와", OPEN}, {"로", OPEN_OR_RIEUL}, {"의", ANY},
    {"에", ANY}, {"도", ANY}, {"만", ANY}, {"한", ANY}, {"할", ANY}, {"된", ANY},
    {"인", JEOK},
};

/* Nouns whose last syllable only looks like a particle: the -도 of degree (의존도) and
 * a few place names. Matched against the last two syllables of the word. */
static const char *const WHOLE_TAILS[] = {"존도", "뢰도", "족도", "중도", "반도", "지도", "제도",
                                          "주도", "속도", "정도", "한도", "온도", "강도", "빈도",
                                          "밀도", "태도", "용도", "각도", "수도", "시도"};

#define SYLLABLE_BYTES 3
#define PLURAL "들"

static int32_t syllable_at(const char *p) {
  int32_t cp;
  if (sg_utf8_decode((const unsigned char *)p, SYLLABLE_BYTES, &cp) != SYLLABLE_BYTES) return 0;
  return sg_is_hangul_syllable(cp) ? cp : 0;
}

static int may_follow(int32_t prev, unsigned char after) {
  int final = (prev - 0xAC00) % 28; /* 0: no batchim; 8: ㄹ */
  switch (after) {
  case CLOSED: return final != 0;
  case OPEN: return final == 0;
  case OPEN_OR_RIEUL: return final == 0 || final == 8;
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
  size_t sl = strlen(s->text);
  if (n < sl + 2 * SYLLABLE_BYTES || memcmp(w + n - sl, s->text, sl) != 0) return 0;
  int32_t prev = syllable_at(w + n - sl - SYLLABLE_BYTES);
  return prev && may_follow(prev, s->after);
}

static int whole_tail(const char *w, size_t n) {
  if (n < 2 * SYLLABLE_BYTES) return 0;
  for (size_t i = 0; i < sizeof WHOLE_TAILS / sizeof *WHOLE_TAILS; i++)
    if (memcmp(w + n - 2 * SYLLABLE_BYTES, WHOLE_TAILS[i], 2 * SYLLABLE_BYTES) == 0) return 1;
  return 0;
}

static size_t particle_len(const char *w, size_t n) {
  for (size_t i = 0; i < sizeof SUFFIXES / sizeof *SUFFIXES; i++) {
    size_t sl = strlen(SUFFIXES[i].text);
    if (sl == SYLLABLE_BYTES && whole_tail(w, n)) return 0;
    if (strips(w, n, &SUFFIXES[i])) return sl;
  }
  return 0;
}

size_t sg_korean_suffix_len(const char *w, size_t n) {
  if (n < 3 * SYLLABLE_BYTES || !syllable_at(w + n - SYLLABLE_BYTES)) return 0;
  size_t len = particle_len(w, n);
  /* 기업들, 기업들이: the plural goes with the particle. */
  size_t rest = n - len, pl = sizeof PLURAL - 1;
  if (rest >= pl + 2 * SYLLABLE_BYTES && memcmp(w + rest - pl, PLURAL, pl) == 0 &&
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
