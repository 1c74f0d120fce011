/* strmap.c - an open-addressing map from byte strings to dense indexes, for the terms and
 * paths of a batch. */
#include <stdlib.h>
#include <string.h>

#include "batch.h"

/* Terms are short: a word-at-a-time multiply-xorshift mix is enough and much faster than a
 * bytewise hash. The values never leave memory, so byte order does not matter. */
uint32_t sg_strmap_hash(const void *key, size_t len) {
  const unsigned char *p = key;
  uint64_t h = 0x9e3779b97f4a7c15ULL ^ (uint64_t)len;
  while (len >= 8) {
    uint64_t v;
    memcpy(&v, p, 8);
    h = (h ^ v) * 0xff51afd7ed558ccdULL;
    h ^= h >> 32;
    p += 8;
    len -= 8;
  }
  uint64_t v = 0;
  if (len) memcpy(&v, p, len);
  h = (h ^ v) * 0xc4ceb9fe1a85ec53ULL;
  h ^= h >> 29;
  return (uint32_t)h;
}

/* Terms are a few bytes: a loop beats a call to memcmp. */
static inline int same_bytes(const unsigned char *a, const unsigned char *b, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (a[i] != b[i]) return 0;
  return 1;
}

long sg_strmap_find(const sg_strmap *m, const void *key, size_t len, uint32_t h) {
  if (!m->nslots) return -1;
  for (size_t s = h & (m->nslots - 1);; s = (s + 1) & (m->nslots - 1)) {
    uint64_t v = m->slots[s];
    if (!v) return -1;
    if ((uint32_t)(v >> 32) != h) continue;
    const sg_strkey *k = &m->keys[(uint32_t)v - 1];
    if (k->len == len && same_bytes(m->bytes.data + k->off, key, len)) return (long)(uint32_t)v - 1;
  }
}

static int rehash(sg_strmap *m) {
  size_t n = m->nslots ? m->nslots * 2 : 1024;
  uint64_t *slots = calloc(n, sizeof *slots);
  if (!slots) return -1;
  for (size_t i = 0; i < m->count; i++) {
    size_t s = m->keys[i].hash & (n - 1);
    while (slots[s]) s = (s + 1) & (n - 1);
    slots[s] = (uint64_t)m->keys[i].hash << 32 | (uint32_t)(i + 1);
  }
  free(m->slots);
  m->slots = slots;
  m->nslots = n;
  return 0;
}

long sg_strmap_intern(sg_strmap *m, const void *key, size_t len) {
  return sg_strmap_intern_hashed(m, key, len, sg_strmap_hash(key, len));
}

long sg_strmap_intern_hashed(sg_strmap *m, const void *key, size_t len, uint32_t h) {
  long found = sg_strmap_find(m, key, len, h);
  if (found >= 0) return found;
  if ((m->count + 1) * 2 > m->nslots && rehash(m)) return -1;
  if (sg_grow_array(&m->keys, &m->cap, m->count + 1, sizeof *m->keys)) return -1;
  if (m->bytes.len + len > UINT32_MAX || sg_buf_append(&m->bytes, key, len)) return -1;
  m->keys[m->count] = (sg_strkey){(uint32_t)(m->bytes.len - len), (uint32_t)len, h};
  size_t s = h & (m->nslots - 1);
  while (m->slots[s]) s = (s + 1) & (m->nslots - 1);
  m->slots[s] = (uint64_t)h << 32 | (uint32_t)(m->count + 1);
  return (long)m->count++;
}

void sg_strmap_free(sg_strmap *m) {
  free(m->slots);
  free(m->keys);
  sg_buf_free(&m->bytes);
  memset(m, 0, sizeof *m);
}

int sg_grow_array_to(void *arr, size_t *cap, size_t n, size_t size) {
  if (n <= *cap) return 0;
  size_t c = *cap ? *cap : 16;
  while (c < n) c *= 2;
  void *p = realloc(*(void **)arr, c * size);
  if (!p) return -1;
  *(void **)arr = p;
  *cap = c;
  return 0;
}
