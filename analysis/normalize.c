/* normalize.c - original UTF-8 to the normalized text N (NFKC per segment with utf8proc,
 * invalid UTF-8, controls, default-ignorables) with its map back to original offsets. */
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "analysis_int.h"

/* A segment is a starter and the characters that may combine or reorder with it. Capping it
 * at 30 followers (as the Stream-Safe Text Format does) bounds the work per segment. */
#define SEGMENT_MAX_CHARS 31
/* The longest NFKC expansion of one character is 18 code points. */
#define SEGMENT_MAX_CPS (SEGMENT_MAX_CHARS * 18)

#define NFKC_OPTIONS (UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_COMPAT)

/* Length of the maximal subpart of an ill-formed sequence at p (Unicode's recommended unit
 * of replacement by one U+FFFD). */
static size_t invalid_len(const unsigned char *p, size_t n) {
  unsigned c = p[0];
  if (c < 0xC2 || c > 0xF4) return 1;
  size_t need = c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
  unsigned lo = 0x80, hi = 0xBF;
  if (c == 0xE0) lo = 0xA0;
  else if (c == 0xED) hi = 0x9F;
  else if (c == 0xF0) lo = 0x90;
  else if (c == 0xF4) hi = 0x8F;
  size_t k = 1;
  if (k < n && p[k] >= lo && p[k] <= hi) {
    k++;
    while (k < need && k < n && (p[k] & 0xC0) == 0x80) k++;
  }
  return k;
}

/* ---- Output: N, its map, lines, drops -------------------------------------------------- */

static int out_reserve(sg_analysis *r, size_t extra) {
  if (extra > UINT32_MAX - r->norm.len) return SEOGO_ELIMIT;
  if (sg_buf_reserve(&r->norm, extra)) return SEOGO_ENOMEM;
  if (r->map_cap < r->norm.cap + 1) {
    uint32_t *m = realloc(r->norm_to_orig, (r->norm.cap + 1) * sizeof *m);
    if (!m) return SEOGO_ENOMEM;
    r->norm_to_orig = m;
    r->map_cap = r->norm.cap + 1;
  }
  return SEOGO_OK;
}

/* Copies original bytes [i, i + n) unchanged into N. */
static int out_copy(sg_analysis *r, const unsigned char *s, size_t i, size_t n) {
  if (r->norm.cap - r->norm.len < n) {
    int rc = out_reserve(r, n);
    if (rc) return rc;
  }
  unsigned char *d = r->norm.data + r->norm.len;
  uint32_t *m = r->norm_to_orig + r->norm.len;
  memcpy(d, s + i, n);
  for (size_t k = 0; k < n; k++) m[k] = (uint32_t)(i + k);
  r->norm.len += n;
  return SEOGO_OK;
}

/* Appends byte b to N as coming from original offset `orig`. */
static int out_byte(sg_analysis *r, unsigned char b, size_t orig) {
  if (r->norm.cap == r->norm.len) {
    int rc = out_reserve(r, 1);
    if (rc) return rc;
  }
  r->norm_to_orig[r->norm.len] = (uint32_t)orig;
  r->norm.data[r->norm.len++] = b;
  return SEOGO_OK;
}

static int add_line_start(sg_analysis *r, size_t off) {
  if (r->nlines == r->lines_cap) {
    size_t cap = r->lines_cap ? r->lines_cap * 2 : 256;
    uint32_t *p = realloc(r->line_starts, cap * sizeof *p);
    if (!p) return SEOGO_ENOMEM;
    r->line_starts = p;
    r->lines_cap = cap;
  }
  r->line_starts[r->nlines++] = (uint32_t)off;
  return SEOGO_OK;
}

static int add_drop(sg_analysis *r, size_t start, size_t end) {
  if (r->ndrops && r->drops[r->ndrops - 1].end == start) {
    r->drops[r->ndrops - 1].end = (uint32_t)end;
    return SEOGO_OK;
  }
  if (r->ndrops == r->drops_cap) {
    size_t cap = r->drops_cap ? r->drops_cap * 2 : 16;
    sg_join *p = realloc(r->drops, cap * sizeof *p);
    if (!p) return SEOGO_ENOMEM;
    r->drops = p;
    r->drops_cap = cap;
  }
  r->drops[r->ndrops++] = (sg_join){(uint32_t)start, (uint32_t)end, 0};
  return SEOGO_OK;
}

/* If one of the ascending, disjoint ranges ends at `end` and starts at or after `floor`,
 * returns its start, else `end`. */
static uint32_t before_removed(const sg_join *ranges, size_t n, uint32_t end, uint32_t floor) {
  size_t lo = 0, hi = n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (ranges[mid].end < end) lo = mid + 1;
    else hi = mid;
  }
  return lo < n && ranges[lo].end == end && ranges[lo].start >= floor ? ranges[lo].start : end;
}

uint32_t sg_orig_end(const sg_analysis *r, size_t nend) {
  const uint32_t *map = r->norm_to_orig;
  if (nend == 0) return map[0];
  /* An end inside one character's expansion (㈜ -> (주)) extends to the character's end. */
  uint32_t last = map[nend - 1];
  if (map[nend] == last + 1) return last + 1; /* copied byte, nothing removed after it */
  while (nend < r->norm.len && map[nend] == last) nend++;
  /* What line repair or normalization removed right after the character is not part of it. */
  uint32_t end = map[nend], prev;
  do {
    prev = end;
    end = before_removed(r->joins, r->njoins, end, last);
    end = before_removed(r->drops, r->ndrops, end, last);
  } while (end != prev);
  return end;
}

/* ---- Segments ---------------------------------------------------------------------------- */

static int can_compose_second(const utf8proc_property_t *p) {
  return p->comb_index != UINT16_MAX && p->comb_index >= 0x8000;
}

/* Whether cp combines with or reorders against what precedes it, so that it belongs to the
 * segment of the preceding starter. Compatibility vowels count: NFKC turns ㅎㅏ into 하. */
static int is_follower(int32_t cp) {
  if (cp < 0x300) return 0;
  if ((cp >= 0x1161 && cp <= 0x1175) || (cp >= 0x11A8 && cp <= 0x11C2)) return 1;
  if ((cp >= 0x314F && cp <= 0x3163) || (cp >= 0xFFC2 && cp <= 0xFFDC)) return 1;
  const utf8proc_property_t *p = utf8proc_get_property(cp);
  return p->combining_class != 0 || can_compose_second(p);
}

/* Whether the character at s[j] would join the segment of the ASCII or Hangul character
 * `prev` before it. */
static int joins_previous(const unsigned char *s, size_t len, size_t j, int32_t prev) {
  int32_t cp;
  if (j >= len || s[j] < 0x80) return 0;
  if (!sg_utf8_decode(s + j, len - j, &cp) || sg_is_hangul_syllable(cp)) return 0;
  if (sg_is_hangul_syllable(prev)) {
    return cp >= 0x11A8 && cp <= 0x11C2 && (prev - 0xAC00) % 28 == 0;
  }
  return is_follower(cp);
}

/* Normalizes the segment starting with the well-formed character at s[i] (its length `clen`)
 * and stores the index after it in *next. */
static int normalize_segment(const unsigned char *s, size_t len, size_t i, size_t clen,
                             sg_analysis *r, size_t *next) {
  int32_t cp;
  size_t j = i + clen;
  for (int count = 1; j < len && count < SEGMENT_MAX_CHARS; count++) {
    size_t l = sg_utf8_decode(s + j, len - j, &cp);
    if (!l || !is_follower(cp)) break;
    j += l;
  }
  *next = j;
  utf8proc_int32_t buf[SEGMENT_MAX_CPS];
  utf8proc_ssize_t n = utf8proc_decompose(s + i, (utf8proc_ssize_t)(j - i), buf, SEGMENT_MAX_CPS,
                                          NFKC_OPTIONS | UTF8PROC_IGNORE);
  if (n < 0 || n > SEGMENT_MAX_CPS) return out_copy(r, s, i, j - i); /* cannot happen */
  n = utf8proc_normalize_utf32(buf, n, NFKC_OPTIONS);
  if (n <= 0) return add_drop(r, i, j);
  int rc = out_reserve(r, (size_t)n * 4);
  if (rc) return rc;
  for (utf8proc_ssize_t k = 0; k < n; k++) {
    unsigned char *d = r->norm.data + r->norm.len;
    utf8proc_ssize_t w = utf8proc_encode_char(buf[k], d);
    for (utf8proc_ssize_t b = 0; b < w; b++) r->norm_to_orig[r->norm.len + (size_t)b] = (uint32_t)i;
    r->norm.len += (size_t)w;
  }
  return SEOGO_OK;
}

/* ---- The main pass ------------------------------------------------------------------------- */

static int invalid_sequence(const unsigned char *s, size_t len, size_t i, sg_analysis *r,
                            size_t *next) {
  static const unsigned char replacement[3] = {0xEF, 0xBF, 0xBD};
  if (r->invalid_sequences++ == 0) r->first_invalid_line = (uint32_t)r->nlines;
  *next = i + invalid_len(s + i, len - i);
  int rc = out_reserve(r, 3);
  for (int k = 0; !rc && k < 3; k++) rc = out_byte(r, replacement[k], i);
  return rc;
}

/* ASCII control characters: line breaks are kept (CR LF and a lone CR become LF), tabs too,
 * and the rest become spaces. */
static int control_char(const unsigned char *s, size_t len, size_t i, sg_analysis *r,
                        size_t *next) {
  unsigned char c = s[i];
  *next = i + 1;
  if (c == '\n' || c == '\r') {
    if (c == '\r' && i + 1 < len && s[i + 1] == '\n') *next = i + 2;
    int rc = out_byte(r, '\n', i);
    if (!rc && *next < len) rc = add_line_start(r, *next);
    return rc;
  }
  return out_byte(r, c == '\t' ? '\t' : ' ', i);
}

/* Copies the run of printable ASCII and precomposed Hangul syllables at s[i]: NFKC leaves
 * both alone and nothing in such a run composes with its neighbour, so only the run's last
 * character is checked against what follows it (e + U+0301, 가 + ᆨ -> 각). Korean text
 * alternates short words and spaces, so one run per stretch, not per word, saves the
 * per-run work. */
static int simple_run(const unsigned char *s, size_t len, size_t i, sg_analysis *r,
                      size_t *next) {
  size_t j = i, last = i;
  while (j < len) {
    if (s[j] >= 0x20 && s[j] < 0x7F) {
      last = j++;
    } else if (sg_syllable_at(s + j, s + len)) {
      last = j;
      j += 3;
    } else {
      break;
    }
  }
  /* any follower at all sends the last character to utf8proc with it (as before, for a
   * syllable too: the result is NFKC either way, and the offset map stays as it was) */
  if (j > i && joins_previous(s, len, j, 0)) j = last;
  *next = j;
  return j > i ? out_copy(r, s, i, j - i) : SEOGO_OK;
}

static int is_syllable_at(const unsigned char *s, size_t len, size_t i, int32_t *cp) {
  return (*cp = sg_syllable_at(s + i, s + len)) != 0;
}

static int other_char(const unsigned char *s, size_t len, size_t i, sg_analysis *r,
                      size_t *next) {
  int32_t cp;
  size_t l = sg_utf8_decode(s + i, len - i, &cp);
  if (!l) return invalid_sequence(s, len, i, r, next);
  if (cp >= 0x80 && cp <= 0x9F) { /* C1 controls */
    *next = i + l;
    return out_byte(r, ' ', i);
  }
  return normalize_segment(s, len, i, l, r, next);
}

static int normalize_text(const unsigned char *s, size_t len, sg_analysis *r) {
  int rc = out_reserve(r, len + len / 16 + 16);
  if (!rc) rc = add_line_start(r, 0);
  size_t i = 0;
  while (!rc && i < len) {
    unsigned c = s[i];
    size_t next;
    int32_t cp;
    if ((c >= 0x20 && c < 0x7F) || is_syllable_at(s, len, i, &cp)) {
      rc = simple_run(s, len, i, r, &next);
      if (!rc && next == i) rc = other_char(s, len, i, r, &next);
    } else if (c < 0x80) {
      rc = control_char(s, len, i, r, &next);
    } else {
      rc = other_char(s, len, i, r, &next);
    }
    i = next;
  }
  if (rc) return rc;
  r->norm_to_orig[r->norm.len] = (uint32_t)len;
  return SEOGO_OK;
}

int sg_normalize(const char *text, size_t len, int mode, sg_analysis *r) {
  if (len > UINT32_MAX) return SEOGO_ELIMIT;
  r->norm.len = 0;
  r->nlines = 0;
  r->njoins = 0;
  r->ndrops = 0;
  r->invalid_sequences = 0;
  r->first_invalid_line = 0;
  int rc = normalize_text((const unsigned char *)text, len, r);
  if (rc) return rc;
  if (mode == SG_ANALYZE_QUERY || mode == SG_ANALYZE_QUOTED) return SEOGO_OK; /* no repair */
  return sg_repair_lines(r, mode);
}
