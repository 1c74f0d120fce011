/* encoding.c - tells text from binary and converts a document's bytes to valid UTF-8: UTF-8
 * (with or without BOM), UTF-16 with BOM, and Korean CP949/EUC-KR through ICU. */
#include <string.h>
#include <unicode/ucnv.h>

#include "indexer.h"

/* A share of control bytes above 1 in SG_CONTROL_SHARE marks binary data (text has tabs and
 * line breaks, and rarely anything else below 0x20). */
#define SG_CONTROL_SHARE 100

/* Length of the valid UTF-8 sequence at p (Unicode Table 3-7), or 0 when the bytes there
 * do not start one. */
static size_t utf8_valid_len(const unsigned char *p, const unsigned char *end) {
  unsigned c = p[0];
  if (c < 0x80) return 1;
  size_t avail = (size_t)(end - p);
  if (c >= 0xc2 && c <= 0xdf) return avail >= 2 && (p[1] & 0xc0) == 0x80 ? 2 : 0;
  if (c >= 0xe0 && c <= 0xef) {
    if (avail < 3) return 0;
    unsigned lo = c == 0xe0 ? 0xa0 : 0x80, hi = c == 0xed ? 0x9f : 0xbf;
    return p[1] >= lo && p[1] <= hi && (p[2] & 0xc0) == 0x80 ? 3 : 0;
  }
  if (c >= 0xf0 && c <= 0xf4) {
    if (avail < 4) return 0;
    unsigned lo = c == 0xf0 ? 0x90 : 0x80, hi = c == 0xf4 ? 0x8f : 0xbf;
    return p[1] >= lo && p[1] <= hi && (p[2] & 0xc0) == 0x80 && (p[3] & 0xc0) == 0x80 ? 4 : 0;
  }
  return 0;
}

/* Length of the maximal invalid subpart at p: the bytes a decoder replaces by one U+FFFD. */
static size_t utf8_invalid_len(const unsigned char *p, const unsigned char *end) {
  size_t n = 1;
  unsigned c = p[0];
  size_t want = c >= 0xf0 && c <= 0xf4 ? 4 : c >= 0xe0 && c <= 0xef ? 3 : 0;
  /* a truncated sequence that was well-formed so far counts as one */
  while (n < want && p + n < end) {
    unsigned lo = 0x80, hi = 0xbf;
    if (n == 1 && c == 0xe0) lo = 0xa0;
    if (n == 1 && c == 0xed) hi = 0x9f;
    if (n == 1 && c == 0xf0) lo = 0x90;
    if (n == 1 && c == 0xf4) hi = 0x8f;
    if (p[n] < lo || p[n] > hi) break;
    n++;
  }
  return n;
}

typedef struct utf8_census {
  size_t invalid;     /* invalid sequences */
  size_t multibyte;   /* valid non-ASCII characters */
  size_t controls;    /* bytes below 0x20 other than whitespace, and DEL */
  size_t nuls;
  size_t first_invalid_at;
} utf8_census;

/* Whether the 8 bytes of x are all printable ASCII (0x20-0x7e): the common case, skipped a
 * word at a time. */
static inline int printable_ascii8(uint64_t x) {
  const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
  uint64_t below_space = (x - 0x20 * ones) & ~x & highs;
  uint64_t y = x ^ (0x7f * ones); /* a DEL byte becomes zero */
  uint64_t del = (y - ones) & ~y & highs;
  return !((x & highs) | below_space | del);
}

/* Takes the census of the character (or invalid subpart) at q; returns the byte after it. */
static const unsigned char *census_step(const unsigned char *p, const unsigned char *q,
                                        const unsigned char *end, utf8_census *c) {
  unsigned b = *q;
  if (b < 0x80) {
    if (b == 0)
      c->nuls++;
    else if ((b < 0x20 && b != '\t' && b != '\n' && b != '\r' && b != '\f' && b != '\v' &&
              b != 0x1b) ||
             b == 0x7f)
      c->controls++;
    return q + 1;
  }
  size_t n = utf8_valid_len(q, end);
  if (n) {
    c->multibyte++;
    return q + n;
  }
  if (!c->invalid) c->first_invalid_at = (size_t)(q - p);
  c->invalid++;
  return q + utf8_invalid_len(q, end);
}

#if defined(__x86_64__)
#include <immintrin.h>

/* x <= k for each unsigned byte, as a bit mask */
__attribute__((target("avx2"))) static inline uint32_t bytes_at_most(__m256i x, unsigned char k) {
  __m256i top = _mm256_set1_epi8((char)k);
  return (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(_mm256_min_epu8(x, top), x));
}

/* lo <= x <= hi for each unsigned byte */
__attribute__((target("avx2"))) static inline uint32_t bytes_within(__m256i x, unsigned char lo,
                                                                    unsigned char hi) {
  return bytes_at_most(_mm256_sub_epi8(x, _mm256_set1_epi8((char)lo)), (unsigned char)(hi - lo));
}

typedef struct byte_classes {
  uint64_t high;                /* 0x80 and above */
  uint64_t lead2;               /* C2-DF: any continuation may follow */
  uint64_t lead3;               /* E0-EF: two continuations follow */
  uint64_t e0, ed;              /* the two lead3 bytes whose next byte has a narrower range */
  uint64_t cont_low, cont_high; /* continuations 80-9F (allowed after ED), A0-BF (after E0) */
  uint64_t below;               /* below 0x20 */
  uint64_t nul, space, del;     /* 00; 09-0D and 1B (not controls); 7F */
} byte_classes;

__attribute__((target("avx2"))) static void classify32(const unsigned char *q, byte_classes *k,
                                                       unsigned shift) {
  __m256i x = _mm256_loadu_si256((const __m256i *)(const void *)q);
  k->high |= (uint64_t)(uint32_t)_mm256_movemask_epi8(x) << shift;
  k->lead2 |= (uint64_t)bytes_within(x, 0xc2, 0xdf) << shift;
  k->lead3 |= (uint64_t)bytes_within(x, 0xe0, 0xef) << shift;
  k->e0 |= (uint64_t)bytes_within(x, 0xe0, 0xe0) << shift;
  k->ed |= (uint64_t)bytes_within(x, 0xed, 0xed) << shift;
  k->cont_low |= (uint64_t)bytes_within(x, 0x80, 0x9f) << shift;
  k->cont_high |= (uint64_t)bytes_within(x, 0xa0, 0xbf) << shift;
  k->below |= (uint64_t)bytes_at_most(x, 0x1f) << shift;
  k->nul |= (uint64_t)bytes_at_most(x, 0) << shift;
  k->space |= (uint64_t)(bytes_within(x, 0x09, 0x0d) | bytes_within(x, 0x1b, 0x1b)) << shift;
  k->del |= (uint64_t)bytes_within(x, 0x7f, 0x7f) << shift;
}

/* The census of 64 bytes from q, a character boundary, when they hold only ASCII and two- and
 * three-byte sequences (which every Korean text is made of): returns how many bytes it took
 * (a character cut by the block's end is left for the next), or 0 when the block holds
 * anything else or an ill-formed sequence, for census_step to take. */
__attribute__((target("avx2"))) static size_t census_block64(const unsigned char *q,
                                                             utf8_census *c) {
  byte_classes k = {0};
  classify32(q, &k, 0);
  classify32(q + 32, &k, 32);
  uint64_t cont = k.cont_low | k.cont_high;
  if (k.high & ~(cont | k.lead2 | k.lead3)) return 0;
  /* every continuation sits one after a lead, or two after a lead3, and nothing else does */
  if (cont != ((k.lead2 << 1) | (k.lead3 << 1) | (k.lead3 << 2))) return 0;
  /* no overlong form after E0, no surrogate after ED */
  if (((k.e0 << 1) & ~k.cont_high) | ((k.ed << 1) & ~k.cont_low)) return 0;
  size_t cut = k.lead3 >> 62 & 1 ? 2 : (k.lead2 | k.lead3) >> 63 ? 1 : 0;
  uint64_t taken = ~0ULL >> cut; /* the cut character's bytes are all 0x80 and above */
  c->multibyte += (size_t)__builtin_popcountll((k.lead2 | k.lead3) & taken);
  c->nuls += (size_t)__builtin_popcountll(k.nul);
  c->controls += (size_t)__builtin_popcountll((k.below & ~k.space & ~k.nul) | k.del);
  return 64 - cut;
}
#endif

static void census_utf8(const unsigned char *p, size_t len, utf8_census *c) {
  memset(c, 0, sizeof *c);
  const unsigned char *end = p + len, *q = p;
#if defined(__x86_64__)
  if (__builtin_cpu_supports("avx2"))
    while (end - q >= 64) {
      size_t took = census_block64(q, c);
      if (took) {
        q += took;
        continue;
      }
      for (const unsigned char *stop = q + 64; q < stop;) q = census_step(p, q, end, c);
    }
#endif
  while (q < end) {
    unsigned b = *q;
    uint64_t x;
    if (b < 0x80 && end - q >= 8 && (memcpy(&x, q, 8), printable_ascii8(x))) {
      q += 8;
      continue;
    }
    q = census_step(p, q, end, c);
  }
}

static uint32_t line_at(const unsigned char *p, size_t off) {
  uint32_t line = 1;
  for (size_t i = 0; i < off; i++) line += p[i] == '\n';
  return line;
}

/* Copies UTF-8 with each invalid subpart replaced by U+FFFD. */
static int copy_replacing(sg_text *t, const unsigned char *p, size_t len, seogo_error *err) {
  if (sg_buf_reserve(&t->owned, len + len / 2 + 4))
    return sg_fail(err, SEOGO_ENOMEM, "out of memory");
  const unsigned char *end = p + len;
  while (p < end) {
    size_t n = utf8_valid_len(p, end);
    if (n) {
      sg_buf_append(&t->owned, p, n);
      p += n;
    } else {
      if (sg_buf_append(&t->owned, "\xef\xbf\xbd", 3))
        return sg_fail(err, SEOGO_ENOMEM, "out of memory");
      p += utf8_invalid_len(p, end);
    }
  }
  t->data = (const char *)t->owned.data;
  t->len = t->owned.len;
  return SEOGO_OK;
}

/* Converts with ICU from `charset` to UTF-8 into t->owned. With `strict`, an unmappable or
 * illegal byte sequence fails (so that a wrong guess is noticed); else it is substituted. */
static int icu_to_utf8(sg_text *t, const char *charset, const char *src, size_t len, int strict) {
  UErrorCode status = U_ZERO_ERROR;
  UConverter *from = ucnv_open(charset, &status);
  UConverter *to = ucnv_open("UTF-8", &status);
  if (U_FAILURE(status)) goto done;
  if (strict) ucnv_setToUCallBack(from, UCNV_TO_U_CALLBACK_STOP, NULL, NULL, NULL, &status);
  size_t cap = 2 * len + 16;
  for (;;) {
    sg_buf_clear(&t->owned);
    if (sg_buf_reserve(&t->owned, cap)) {
      status = U_MEMORY_ALLOCATION_ERROR;
      break;
    }
    char *target = (char *)t->owned.data;
    const char *source = src;
    status = U_ZERO_ERROR;
    ucnv_reset(from);
    ucnv_reset(to);
    ucnv_convertEx(to, from, &target, target + cap, &source, src + len, NULL, NULL, NULL, NULL,
                   1, 1, &status);
    if (status == U_BUFFER_OVERFLOW_ERROR) {
      cap *= 2;
      continue;
    }
    t->owned.len = (size_t)(target - (char *)t->owned.data);
    break;
  }
done:
  ucnv_close(from);
  ucnv_close(to);
  if (U_FAILURE(status)) return -1;
  t->data = (const char *)t->owned.data;
  t->len = t->owned.len;
  return 0;
}

/* CP949 double-byte pairs outside the EUC-KR ranges (lead or trail below 0xA1) are UHC
 * extensions; without any, the file is plain EUC-KR. */
static const char *korean_charset_name(const unsigned char *p, size_t len) {
  for (size_t i = 0; i < len; i++) {
    if (p[i] < 0x80) continue;
    if (i + 1 >= len) break;
    if (p[i] < 0xa1 || p[i + 1] < 0xa1) return "CP949";
    i++;
  }
  return "EUC-KR";
}

static int only_whitespace(const unsigned char *p, size_t len) {
  for (size_t i = 0; i < len;) {
    unsigned c = p[i];
    if (c == ' ' || (c >= '\t' && c <= '\r')) {
      i++;
    } else if (c == 0xc2 && i + 1 < len && p[i + 1] == 0xa0) { /* no-break space */
      i += 2;
    } else if (i + 2 < len && ((c == 0xe3 && p[i + 1] == 0x80 && p[i + 2] == 0x80) || /* U+3000 */
                               (c == 0xef && p[i + 1] == 0xbb && p[i + 2] == 0xbf))) { /* BOM */
      i += 3;
    } else {
      return 0;
    }
  }
  return 1;
}

static int from_utf16(sg_text *t, const char *charset, const unsigned char *p, size_t len,
                      seogo_error *err) {
  strcpy(t->encoding, charset);
  if (icu_to_utf8(t, charset, (const char *)p, len, 0))
    return sg_fail(err, SEOGO_EENCODING, "cannot convert from %s", charset);
  if (only_whitespace((const unsigned char *)t->data, t->len))
    return sg_fail(err, SEOGO_EEMPTY, "empty (whitespace only)");
  utf8_census c;
  census_utf8((const unsigned char *)t->data, t->len, &c);
  if (c.nuls || c.controls * SG_CONTROL_SHARE > t->len)
    return sg_fail(err, SEOGO_EBINARY, "a binary file, not text");
  return SEOGO_OK;
}

/* Bytes that are not valid UTF-8: Korean CP949/EUC-KR when ICU converts them cleanly, else
 * UTF-8 with replacements when the bad bytes are rare (stray bytes in a mostly ASCII text). */
static int from_legacy(sg_text *t, const unsigned char *p, size_t len, const utf8_census *c,
                       seogo_error *err) {
  if (icu_to_utf8(t, "windows-949", (const char *)p, len, 1) == 0) {
    strcpy(t->encoding, korean_charset_name(p, len));
    return SEOGO_OK;
  }
  sg_buf_clear(&t->owned);
  if (c->invalid * 100 > len)
    return sg_fail(err, SEOGO_EENCODING,
                   "in no encoding Seogo reads (UTF-8, UTF-16 with BOM, CP949/EUC-KR): %zu "
                   "invalid sequences, the first on line %u",
                   c->invalid, (unsigned)line_at(p, c->first_invalid_at));
  strcpy(t->encoding, "UTF-8");
  t->invalid = c->invalid > UINT32_MAX ? UINT32_MAX : (uint32_t)c->invalid;
  t->first_invalid_line = line_at(p, c->first_invalid_at);
  return copy_replacing(t, p, len, err);
}

static int decode(sg_text *t, const void *data, size_t len, seogo_error *err);

int sg_text_decode(sg_text *t, const void *data, size_t len, seogo_error *err) {
  memset(t, 0, sizeof *t);
  int rc = decode(t, data, len, err);
  if (rc) sg_text_free(t);
  return rc;
}

static int decode(sg_text *t, const void *data, size_t len, seogo_error *err) {
  const unsigned char *p = data;
  if (len >= 2 && p[0] == 0xff && p[1] == 0xfe)
    return from_utf16(t, "UTF-16LE", p + 2, len - 2, err);
  if (len >= 2 && p[0] == 0xfe && p[1] == 0xff)
    return from_utf16(t, "UTF-16BE", p + 2, len - 2, err);
  if (len >= 3 && p[0] == 0xef && p[1] == 0xbb && p[2] == 0xbf) p += 3, len -= 3;
  if (only_whitespace(p, len))
    return sg_fail(err, SEOGO_EEMPTY, "empty%s", len ? " (whitespace only)" : "");
  utf8_census c;
  census_utf8(p, len, &c);
  if (c.nuls) return sg_fail(err, SEOGO_EBINARY, "a binary file (it holds NUL bytes)");
  if (c.controls * SG_CONTROL_SHARE > len)
    return sg_fail(err, SEOGO_EBINARY, "a binary file (%zu control bytes)", c.controls);
  strcpy(t->encoding, "UTF-8");
  if (!c.invalid) {
    t->data = (const char *)p;
    t->len = len;
    return SEOGO_OK;
  }
  /* A few bad bytes in otherwise good UTF-8 are damage, not another encoding. */
  if (c.multibyte >= 8 * c.invalid) {
    t->invalid = c.invalid > UINT32_MAX ? UINT32_MAX : (uint32_t)c.invalid;
    t->first_invalid_line = line_at(p, c.first_invalid_at);
    return copy_replacing(t, p, len, err);
  }
  return from_legacy(t, p, len, &c, err);
}

void sg_text_free(sg_text *t) {
  sg_buf_free(&t->owned);
  t->data = NULL;
  t->len = 0;
}
