/* base.h - small shared pieces: growable byte buffers, varints, error reporting, hashing. */
#ifndef SEOGO_BASE_H
#define SEOGO_BASE_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "seogo.h"

/* ---- Errors ---------------------------------------------------------------------------- */

/* Sets err (if not NULL) to `code` with a printf-style message; returns `code` so that callers
 * can write `return sg_fail(err, SEOGO_EIO, "%s: %s", path, strerror(errno));`. */
int sg_fail(seogo_error *err, seogo_status code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* As sg_fail, recording the 1-based query column. */
int sg_fail_at(seogo_error *err, seogo_status code, int column, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* ---- Growable buffer ---------------------------------------------------------------------- */

typedef struct sg_buf {
  unsigned char *data;
  size_t len;
  size_t cap;
} sg_buf;

/* All return 0 on success, -1 when memory runs out (the buffer is then unchanged). */
int sg_buf_reserve(sg_buf *b, size_t extra);
int sg_buf_append(sg_buf *b, const void *data, size_t len);
int sg_buf_putc(sg_buf *b, unsigned char c);
void sg_buf_free(sg_buf *b);
/* Appends printf-style formatted text (no terminating NUL is counted in len). */
int sg_buf_printf(sg_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static inline void sg_buf_clear(sg_buf *b) { b->len = 0; }

/* ---- Varints (LEB128, little-endian groups of 7 bits, at most 10 bytes) -------------- */

#define SG_VARINT_MAX 10

/* Writes v at p (which must have SG_VARINT_MAX bytes); returns the bytes written. Inline:
 * encoders write one per posting. */
static inline size_t sg_varint_encode(unsigned char *p, uint64_t v) {
  size_t n = 0;
  while (v >= 0x80) {
    p[n++] = (unsigned char)(v | 0x80);
    v >>= 7;
  }
  p[n++] = (unsigned char)v;
  return n;
}

/* Appends v to b; 0 on success, -1 on out of memory. Inline, testing the room before calling
 * sg_buf_reserve: encoders append one per posting. */
static inline int sg_buf_put_varint(sg_buf *b, uint64_t v) {
  if (b->cap - b->len < SG_VARINT_MAX && sg_buf_reserve(b, SG_VARINT_MAX)) return -1;
  b->len += sg_varint_encode(b->data + b->len, v);
  return 0;
}

/* Reads a varint from [*p, end). On success advances *p and returns 0; returns -1 when the
 * bytes end early or the value is longer than 10 bytes (corrupt data, never trusted). */
int sg_varint_decode(const unsigned char **p, const unsigned char *end, uint64_t *v);

/* ---- Big-endian fixed-width keys ---------------------------------------------------------- */

static inline void sg_put_be32(unsigned char *p, uint32_t v) {
  p[0] = (unsigned char)(v >> 24);
  p[1] = (unsigned char)(v >> 16);
  p[2] = (unsigned char)(v >> 8);
  p[3] = (unsigned char)v;
}
static inline uint32_t sg_get_be32(const unsigned char *p) {
  return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

/* ---- Hashing ---------------------------------------------------------------------------- */

/* 64-bit FNV-1a over len bytes; content hashes for change detection (not cryptographic). */
uint64_t sg_hash64(const void *data, size_t len);

#endif /* SEOGO_BASE_H */
