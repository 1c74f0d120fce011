/* base.c - growable buffers, varints, error reporting and hashing shared by all modules. */
#include "base.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int sg_vfail(seogo_error *err, seogo_status code, int column, const char *fmt,
                    va_list ap) {
  if (err) {
    err->code = code;
    err->column = column;
    err->line = 0;
    vsnprintf(err->message, sizeof err->message, fmt, ap);
  }
  return code;
}

int sg_fail(seogo_error *err, seogo_status code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  sg_vfail(err, code, 0, fmt, ap);
  va_end(ap);
  return code;
}

int sg_fail_at(seogo_error *err, seogo_status code, int column, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  sg_vfail(err, code, column, fmt, ap);
  va_end(ap);
  return code;
}

int sg_buf_reserve(sg_buf *b, size_t extra) {
  if (extra <= b->cap - b->len) return 0;
  size_t need = b->len + extra;
  if (need < b->len) return -1;
  size_t cap = b->cap ? b->cap : 64;
  while (cap < need) {
    if (cap > SIZE_MAX / 2) {
      cap = need;
      break;
    }
    cap *= 2;
  }
  unsigned char *p = realloc(b->data, cap);
  if (!p) return -1;
  b->data = p;
  b->cap = cap;
  return 0;
}

int sg_buf_append(sg_buf *b, const void *data, size_t len) {
  if (len == 0) return 0;
  if (sg_buf_reserve(b, len)) return -1;
  memcpy(b->data + b->len, data, len);
  b->len += len;
  return 0;
}

int sg_buf_putc(sg_buf *b, unsigned char c) {
  if (b->len == b->cap && sg_buf_reserve(b, 1)) return -1;
  b->data[b->len++] = c;
  return 0;
}

int sg_buf_printf(sg_buf *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (n < 0 || sg_buf_reserve(b, (size_t)n + 1)) return -1;
  va_start(ap, fmt);
  vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
  va_end(ap);
  b->len += (size_t)n;
  return 0;
}

void sg_buf_free(sg_buf *b) {
  free(b->data);
  b->data = NULL;
  b->len = b->cap = 0;
}

int sg_varint_decode(const unsigned char **p, const unsigned char *end, uint64_t *v) {
  const unsigned char *q = *p;
  uint64_t result = 0;
  for (unsigned shift = 0; shift < 70; shift += 7) {
    if (q >= end) return -1;
    unsigned char c = *q++;
    if (shift == 63 && c > 1) return -1;
    result |= (uint64_t)(c & 0x7f) << shift;
    if (!(c & 0x80)) {
      *p = q;
      *v = result;
      return 0;
    }
  }
  return -1;
}

uint64_t sg_hash64(const void *data, size_t len) {
  const unsigned char *p = data;
  uint64_t h = 1469598103934665603ULL;
  for (size_t i = 0; i < len; i++) {
    h ^= p[i];
    h *= 1099511628211ULL;
  }
  return h;
}
