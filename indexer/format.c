/* format.c - codecs for the records, keys and postings blocks that format.h defines. */
#include "format.h"

#include <stdlib.h>
#include <string.h>

/* A cursor over one stored value. Every read is bounds-checked, and the first failure sticks,
 * so a decoder can read a whole record and check once at the end. */
typedef struct reader {
  const unsigned char *p, *end;
  int bad;
} reader;

static void reader_init(reader *r, const void *data, size_t len) {
  r->p = data;
  r->end = r->p + len;
  r->bad = (data == NULL && len != 0);
}

static uint64_t read_varint(reader *r) {
  uint64_t v = 0;
  if (r->bad || sg_varint_decode(&r->p, r->end, &v)) {
    r->bad = 1;
    return 0;
  }
  return v;
}

static uint32_t read_u32(reader *r) {
  uint64_t v = read_varint(r);
  if (v > UINT32_MAX) r->bad = 1;
  return (uint32_t)v;
}

static const unsigned char *read_bytes(reader *r, size_t n) {
  if (r->bad || n > (size_t)(r->end - r->p)) {
    r->bad = 1;
    return NULL;
  }
  const unsigned char *at = r->p;
  r->p += n;
  return at;
}

/* A record must be consumed exactly: trailing bytes mean it is not what we think it is. */
static int reader_finish(reader *r, const char *what, seogo_error *err) {
  if (r->bad || r->p != r->end)
    return sg_fail(err, SEOGO_ECORRUPT, "index is corrupt: bad %s record", what);
  return SEOGO_OK;
}

static uint64_t zigzag_encode(int64_t v) {
  return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

static int64_t zigzag_decode(uint64_t v) {
  return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

static int put_str(sg_buf *b, const void *s, size_t len) {
  if (sg_buf_put_varint(b, len)) return -1;
  return sg_buf_append(b, s, len);
}

/* ---- stats ------------------------------------------------------------------------------ */

int sg_stats_encode(sg_buf *b, const sg_stats *s) {
  const uint64_t fields[] = {s->next_doc_id, s->next_passage_id, s->documents, s->passages,
                             s->tokens,      s->postings,        s->terms,     s->text_bytes};
  for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
    if (sg_buf_put_varint(b, fields[i])) return -1;
  return 0;
}

int sg_stats_decode(const void *data, size_t len, sg_stats *s, seogo_error *err) {
  reader r;
  reader_init(&r, data, len);
  s->next_doc_id = read_varint(&r);
  s->next_passage_id = read_varint(&r);
  s->documents = read_varint(&r);
  s->passages = read_varint(&r);
  s->tokens = read_varint(&r);
  s->postings = read_varint(&r);
  s->terms = read_varint(&r);
  s->text_bytes = read_varint(&r);
  /* ids are be32 keys, so the counters can never pass 2^32 */
  if (s->next_doc_id > (uint64_t)UINT32_MAX + 1 || s->next_passage_id > (uint64_t)UINT32_MAX + 1)
    r.bad = 1;
  return reader_finish(&r, "stats", err);
}

/* ---- doc -------------------------------------------------------------------------------- */

int sg_doc_encode(sg_buf *b, const sg_doc *d) {
  unsigned char hash[8];
  for (int i = 0; i < 8; i++) hash[i] = (unsigned char)(d->hash >> (8 * i));
  size_t enc_len = strnlen(d->encoding, sizeof d->encoding);
  if (put_str(b, d->path, d->path_len) || sg_buf_put_varint(b, d->size) ||
      sg_buf_put_varint(b, zigzag_encode(d->mtime)) || sg_buf_append(b, hash, 8) ||
      sg_buf_put_varint(b, d->first_pid) || sg_buf_put_varint(b, d->npassages) ||
      sg_buf_put_varint(b, d->nlines) || put_str(b, d->encoding, enc_len) ||
      sg_buf_putc(b, d->pdf_like) || sg_buf_put_varint(b, d->short_line) ||
      sg_buf_put_varint(b, d->text_len) || sg_buf_put_varint(b, d->invalid))
    return -1;
  return 0;
}

int sg_doc_decode(const void *data, size_t len, sg_doc *d, seogo_error *err) {
  reader r;
  reader_init(&r, data, len);
  memset(d, 0, sizeof *d);
  d->path_len = (size_t)read_varint(&r);
  d->path = (const char *)read_bytes(&r, d->path_len);
  d->size = read_varint(&r);
  d->mtime = zigzag_decode(read_varint(&r));
  const unsigned char *hash = read_bytes(&r, 8);
  for (int i = 0; hash && i < 8; i++) d->hash |= (uint64_t)hash[i] << (8 * i);
  d->first_pid = read_u32(&r);
  d->npassages = read_u32(&r);
  d->nlines = read_u32(&r);
  uint64_t enc_len = read_varint(&r);
  if (enc_len >= sizeof d->encoding) r.bad = 1;
  const unsigned char *enc = read_bytes(&r, (size_t)enc_len);
  if (enc) memcpy(d->encoding, enc, (size_t)enc_len);
  const unsigned char *pdf = read_bytes(&r, 1);
  d->pdf_like = pdf ? *pdf : 0;
  uint32_t short_line = read_u32(&r);
  if (short_line > UINT16_MAX || d->pdf_like > 1) r.bad = 1;
  d->short_line = short_line;
  d->text_len = read_varint(&r);
  d->invalid = read_u32(&r);
  if ((uint64_t)d->first_pid + d->npassages > (uint64_t)UINT32_MAX + 1) r.bad = 1;
  if (r.bad) d->path = NULL, d->path_len = 0;
  return reader_finish(&r, "document", err);
}

/* ---- passage pages ------------------------------------------------------------------------- */

/* base + a zigzag gap, or -1 when the sum leaves 0 .. 2^32 - 1 */
static int64_t add_gap(uint32_t base, uint64_t zz) {
  if (zz >> 33) return -1; /* a gap of 2^32 or more is out of range from any base */
  int64_t v = (int64_t)base + zigzag_decode(zz);
  return v < 0 || v > (int64_t)UINT32_MAX ? -1 : v;
}

/* read_varint with the one- and two-byte cases inline: a passage's fields are below 2^14, and
 * so are most fields of a postings block's header and exceptions */
static inline uint64_t read_small(reader *r) {
  const unsigned char *q = r->p;
  if (q < r->end && q[0] < 0x80) return r->p = q + 1, q[0];
  if (r->end - q >= 2 && q[1] < 0x80) return r->p = q + 2, (uint64_t)(q[0] & 0x7f) | q[1] << 7;
  return read_varint(r);
}

static void put_le32(unsigned char *p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t get_le32(const unsigned char *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Each passage is coded against the run's previous one of its document: passages follow one
 * another through the text, so the gaps and sizes take a byte or two where absolute offsets
 * would take three or four. The gaps are signed (zigzag) because nothing forbids a passage to
 * start before the previous one ends. `doc` is the passage's index among the page's docs,
 * prev_doc the previous passage's (-1: none in the run). */
static int put_slot(sg_buf *b, const sg_passage *p, const sg_passage *prev, int64_t doc,
                    int64_t prev_doc) {
  if (!p->doc_id) return sg_buf_putc(b, 0);
  if (p->end < p->start || p->line_end < p->line_start || p->line_start == 0) return -1;
  int new_doc = doc != prev_doc;
  uint32_t base_end = new_doc ? 0 : prev->end, base_line = new_doc ? 0 : prev->line_end;
  uint64_t head = ((uint64_t)(p->line_end - p->line_start) << 1 | (unsigned)new_doc) + 1;
  if (sg_buf_put_varint(b, head) || (new_doc && sg_buf_put_varint(b, (uint64_t)(doc - prev_doc))) ||
      sg_buf_put_varint(b, zigzag_encode((int64_t)p->start - base_end)) ||
      sg_buf_put_varint(b, p->end - p->start) ||
      sg_buf_put_varint(b, zigzag_encode((int64_t)p->line_start - base_line)))
    return -1;
  return 0;
}

/* Which of the given docs the slots name, in order: used[k] = 1 for those stored; -1 when a
 * slot names a document not given or the slots' documents go back. */
static int docs_used(const sg_passage *p, uint32_t n, const sg_page_doc *docs, uint32_t ndocs,
                     unsigned char *used) {
  uint32_t k = 0;
  for (uint32_t i = 0; i < n; i++) {
    if (!p[i].doc_id) continue;
    while (k < ndocs && docs[k].doc_id < p[i].doc_id) k++;
    if (k == ndocs || docs[k].doc_id != p[i].doc_id || !docs[k].path_len) return -1;
    used[k] = 1;
  }
  for (k = 1; k < ndocs; k++)
    if (docs[k].doc_id <= docs[k - 1].doc_id) return -1;
  return 0;
}

static int encode_page(sg_buf *b, const sg_passage *p, uint32_t n, const sg_page_doc *docs,
                       uint32_t ndocs, const unsigned char *used) {
  uint32_t nruns = (n + SG_PASSAGE_RUN - 1) / SG_PASSAGE_RUN, nused = 0;
  int64_t *index = malloc((ndocs ? ndocs : 1) * sizeof *index); /* a given doc's stored index */
  if (!index) return -1;
  for (uint32_t k = 0; k < ndocs; k++) index[k] = used[k] ? (int64_t)nused++ : -1;
  size_t base = b->len, head = 8 + 4 * ((size_t)nruns + nused);
  int rc = sg_buf_reserve(b, head);
  b->len = rc ? b->len : base + head;
  for (uint32_t r = 0; !rc && r < nruns; r++) {
    put_le32(b->data + base + 8 + 4 * (size_t)r, (uint32_t)(b->len - base));
    const sg_passage *prev = NULL;
    int64_t prev_doc = -1;
    uint32_t k = 0;
    for (uint32_t i = r * SG_PASSAGE_RUN; !rc && i < n && i < (r + 1) * SG_PASSAGE_RUN; i++) {
      while (p[i].doc_id && docs[k].doc_id != p[i].doc_id) k++;
      rc = put_slot(b, &p[i], prev, p[i].doc_id ? index[k] : -1, prev_doc);
      if (p[i].doc_id) prev = &p[i], prev_doc = index[k];
    }
  }
  for (uint32_t k = 0, d = 0; !rc && k < ndocs; k++) {
    if (!used[k]) continue;
    put_le32(b->data + base + 8 + 4 * ((size_t)nruns + d++), (uint32_t)(b->len - base));
    rc = sg_buf_put_varint(b, docs[k].doc_id) || sg_buf_put_varint(b, docs[k].path_len) ||
         sg_buf_append(b, docs[k].path, docs[k].path_len);
  }
  free(index);
  if (rc || b->len - base > UINT32_MAX) return -1;
  put_le32(b->data + base, n);
  put_le32(b->data + base + 4, nused);
  return 0;
}

int sg_passage_page_encode(sg_buf *b, const sg_passage *p, uint32_t n, const sg_page_doc *docs,
                           uint32_t ndocs) {
  if (n == 0 || n > SG_PASSAGES_PER_KEY || p[n - 1].doc_id == 0) return -1;
  unsigned char *used = calloc(ndocs ? ndocs : 1, 1);
  int rc =
      !used || docs_used(p, n, docs, ndocs, used) ? -1 : encode_page(b, p, n, docs, ndocs, used);
  free(used);
  return rc;
}

static int bad_page(seogo_error *err) {
  return sg_fail(err, SEOGO_ECORRUPT, "index is corrupt: bad passage record");
}

int sg_passage_page_open(sg_passage_page *pg, const void *data, size_t len, seogo_error *err) {
  const unsigned char *d = data;
  memset(pg, 0, sizeof *pg);
  if (!d || len < 8) return bad_page(err);
  uint32_t n = get_le32(d), ndocs = get_le32(d + 4),
           nruns = (n + SG_PASSAGE_RUN - 1) / SG_PASSAGE_RUN;
  uint64_t head = 8 + 4 * ((uint64_t)nruns + ndocs);
  /* every slot takes a byte, every doc two */
  if (n == 0 || n > SG_PASSAGES_PER_KEY || ndocs == 0 || ndocs > n ||
      len < head + n + 2 * (uint64_t)ndocs || get_le32(d + 8) != head)
    return bad_page(err);
  *pg = (sg_passage_page){d, len, n, nruns, ndocs};
  return SEOGO_OK;
}

/* Bytes [from, to) of a page; the entries of run_at and doc_at make one ascending list: entry
 * e is run e (e < nruns) or doc e - nruns, and each ends where the next begins. */
static int page_entry(const sg_passage_page *pg, uint32_t e, uint32_t min_bytes, reader *out) {
  uint32_t entries = pg->nruns + pg->ndocs;
  uint64_t from = get_le32(pg->data + 8 + 4 * (size_t)e);
  uint64_t to = e + 1 < entries ? get_le32(pg->data + 12 + 4 * (size_t)e) : pg->len;
  if (from < 8 + 4 * (uint64_t)entries || to > pg->len || from + min_bytes > to) return -1;
  reader_init(out, pg->data + from, (size_t)(to - from));
  return 0;
}

static int run_bytes(const sg_passage_page *pg, uint32_t r, reader *out) {
  uint32_t first = r * SG_PASSAGE_RUN, slots = pg->nslots - first;
  return page_entry(pg, r, slots > SG_PASSAGE_RUN ? SG_PASSAGE_RUN : slots, out);
}

/* Document k of a page. */
static int page_doc(const sg_passage_page *pg, uint32_t k, sg_page_doc *doc) {
  reader r;
  if (k >= pg->ndocs || page_entry(pg, pg->nruns + k, 2, &r)) return -1;
  uint32_t id = read_u32(&r);
  uint64_t len = read_varint(&r);
  const unsigned char *path = len ? read_bytes(&r, (size_t)len) : NULL;
  if (!path || id == 0 || r.p != r.end) return -1;
  *doc = (sg_page_doc){id, (const char *)path, (size_t)len};
  return 0;
}

/* What the next slot of a run is coded against. */
typedef struct run_state {
  int64_t doc; /* the run's last passage's doc index (-1: none yet) */
  uint32_t end, line_end;
} run_state;

/* Reads one slot: 1 for a passage (in *p, but for its doc_id: the page's doc st->doc names
 * it), 0 for an empty slot, -1 for a bad one. */
static int next_slot(const sg_passage_page *pg, reader *r, run_state *st, sg_passage *p) {
  uint64_t head = read_small(r);
  memset(p, 0, sizeof *p);
  if (r->bad) return -1;
  if (head == 0) return 0;
  uint64_t lines = (head - 1) >> 1;
  uint32_t base_end = st->end, base_line = st->line_end;
  if ((head - 1) & 1) {
    uint64_t step = read_small(r);
    if (step == 0 || step > pg->ndocs || st->doc + (int64_t)step >= pg->ndocs) return -1;
    st->doc += (int64_t)step;
    base_end = base_line = 0;
  } else if (st->doc < 0) {
    return -1; /* a run's first passage names its document */
  }
  int64_t start = add_gap(base_end, read_small(r));
  uint64_t bytes = read_small(r);
  int64_t line = add_gap(base_line, read_small(r));
  if (r->bad || start < 0 || line < 1 || bytes > UINT32_MAX - (uint64_t)start ||
      lines > UINT32_MAX - (uint64_t)line)
    return -1;
  *p = (sg_passage){0,
                    (uint32_t)start,
                    (uint32_t)(start + (int64_t)bytes),
                    (uint32_t)line,
                    (uint32_t)(line + (int64_t)lines),
                    0};
  st->end = p->end;
  st->line_end = p->line_end;
  return 1;
}

int sg_passage_page_get(const sg_passage_page *pg, uint32_t slot, sg_passage *p, sg_page_doc *doc,
                        seogo_error *err) {
  if (slot >= pg->nslots) return SEOGO_NOTFOUND;
  reader r;
  run_state st = {-1, 0, 0};
  int got = 0;
  if (run_bytes(pg, slot / SG_PASSAGE_RUN, &r)) return bad_page(err);
  for (uint32_t i = slot / SG_PASSAGE_RUN * SG_PASSAGE_RUN; i <= slot; i++)
    if ((got = next_slot(pg, &r, &st, p)) < 0) return bad_page(err);
  if (!got) return SEOGO_NOTFOUND;
  sg_page_doc d;
  if (page_doc(pg, (uint32_t)st.doc, &d)) return bad_page(err);
  p->doc_id = d.doc_id;
  if (doc) *doc = d;
  return SEOGO_OK;
}

int sg_passage_page_decode(const void *data, size_t len, sg_passage *out, uint32_t *n,
                           sg_page_doc *docs, uint32_t *ndocs, seogo_error *err) {
  sg_passage_page pg;
  int rc = sg_passage_page_open(&pg, data, len, err);
  *n = *ndocs = 0;
  if (rc) return rc;
  for (uint32_t k = 0; k < pg.ndocs; k++)
    if (page_doc(&pg, k, &docs[k]) || (k && docs[k].doc_id <= docs[k - 1].doc_id))
      return bad_page(err);
  int64_t held = -1; /* the docs up to this one hold a passage */
  for (uint32_t k = 0; k < pg.nruns; k++) {
    reader r;
    run_state st = {-1, 0, 0};
    if (run_bytes(&pg, k, &r)) return bad_page(err);
    for (uint32_t i = k * SG_PASSAGE_RUN; i < pg.nslots && i < (k + 1) * SG_PASSAGE_RUN; i++) {
      int got = next_slot(&pg, &r, &st, &out[i]);
      if (got < 0) return bad_page(err);
      if (!got) continue;
      /* passages name the docs in order, each doc at least once */
      if (st.doc != held && st.doc != held + 1) return bad_page(err);
      held = st.doc;
      out[i].doc_id = docs[held].doc_id;
    }
    if (r.p != r.end) return bad_page(err);
  }
  if (!out[pg.nslots - 1].doc_id || held + 1 != (int64_t)pg.ndocs) return bad_page(err);
  *n = pg.nslots;
  *ndocs = pg.ndocs;
  return SEOGO_OK;
}

/* ---- term --------------------------------------------------------------------------------- */

int sg_term_encode(sg_buf *b, const sg_term_info *t) {
  if (sg_buf_put_varint(b, t->df) || sg_buf_put_varint(b, t->cf) ||
      sg_buf_put_varint(b, t->nblocks) || sg_buf_put_varint(b, t->max_tf) ||
      sg_buf_put_varint(b, t->min_len))
    return -1;
  return 0;
}

int sg_term_decode(const void *data, size_t len, sg_term_info *t, seogo_error *err) {
  reader r;
  reader_init(&r, data, len);
  t->df = read_varint(&r);
  t->cf = read_varint(&r);
  t->nblocks = read_u32(&r);
  t->max_tf = read_u32(&r);
  t->min_len = read_u32(&r);
  /* every posting has tf >= 1, and a block holds at least one posting */
  if (t->cf < t->df || t->nblocks > t->df || (t->df > 0 && t->nblocks == 0)) r.bad = 1;
  if (t->max_tf > SG_MAX_POSITIONS || t->min_len > SG_MAX_POSITIONS ||
      (t->df > 0 && t->max_tf == 0))
    r.bad = 1;
  return reader_finish(&r, "term", err);
}

/* ---- keys ------------------------------------------------------------------------------------ */

int sg_postings_key(sg_buf *b, const void *term, size_t term_len, uint32_t first_pid) {
  sg_buf_clear(b);
  if (sg_buf_reserve(b, term_len + 5)) return -1;
  if (term_len) memcpy(b->data, term, term_len);
  b->data[term_len] = 0;
  sg_put_be32(b->data + term_len + 1, first_pid);
  b->len = term_len + 5;
  return 0;
}

int sg_postings_key_parse(const void *key, size_t len, size_t *term_len, uint32_t *first_pid) {
  const unsigned char *k = key;
  if (!k || len < 5 || k[len - 5] != 0) return -1;
  /* the term itself never contains 0x00 */
  if (memchr(k, 0, len - 5)) return -1;
  *term_len = len - 5;
  *first_pid = sg_get_be32(k + len - 4);
  return 0;
}

/* ---- postings blocks --------------------------------------------------------------------- */

void sg_block_init(sg_block *b) {
  memset(b, 0, sizeof *b);
}

void sg_block_free(sg_block *b) {
  free(b->pids);
  free(b->tfs);
  free(b->pos_start);
  free(b->positions);
  free(b->run_at);
  sg_block_init(b);
}

static int block_reserve(sg_block *b, size_t count, size_t npos) {
  if (count > b->cap) {
    uint32_t *pids = realloc(b->pids, count * sizeof *pids);
    if (!pids) return -1;
    b->pids = pids;
    uint32_t *tfs = realloc(b->tfs, count * sizeof *tfs);
    if (!tfs) return -1;
    b->tfs = tfs;
    uint32_t *starts = realloc(b->pos_start, (count + 1) * sizeof *starts);
    if (!starts) return -1;
    b->pos_start = starts;
    b->cap = count;
  }
  if (npos > b->pos_cap) {
    size_t cap = b->pos_cap ? b->pos_cap : 256;
    while (cap < npos) cap *= 2;
    uint32_t *positions = realloc(b->positions, cap * sizeof *positions);
    if (!positions) return -1;
    b->positions = positions;
    b->pos_cap = cap;
  }
  return 0;
}

static int block_corrupt(seogo_error *err, const char *why) {
  return sg_fail(err, SEOGO_ECORRUPT, "index is corrupt: postings block %s", why);
}

/* ---- bit packing: at most SG_BLOCK_MAX values at the smallest width holding them all ---- */

static unsigned bit_width(uint32_t v) {
  return v ? 32u - (unsigned)__builtin_clz(v) : 0;
}

/* The width to pack n values at: the smallest total of the low bits and the exceptions (the
 * values that do not fit, patched afterwards: an index byte and a varint of their high bits),
 * counted from the histogram of the values' widths; the smallest such width on a tie. Only the
 * widths present are visited, and a width whose low bits alone cost as much as the best so far
 * ends the search (wider ones cost more still): most runs are a value or two, packed for
 * every block of every rare term. */
static unsigned best_width(const uint32_t *v, uint32_t n, unsigned *max_width) {
  uint32_t count[33] = {0}, all = 0;
  for (uint32_t i = 0; i < n; i++) {
    count[bit_width(v[i])]++;
    all |= v[i];
  }
  unsigned w = bit_width(all);
  *max_width = w;
  size_t best = ((size_t)n * w + 7) / 8, best_b = w;
  if (best <= 1) return w; /* no exception costs less than a byte */
  uint64_t present = 0;
  for (unsigned x = 0; x <= w; x++) present |= (uint64_t)(count[x] != 0) << x;
  for (unsigned b = 0; b < w; b++) {
    size_t bytes = ((size_t)n * b + 7) / 8 + 1;
    if (bytes >= best) break;
    for (uint64_t above = present >> (b + 1); above && bytes < best; above &= above - 1) {
      unsigned x = b + 1 + (unsigned)__builtin_ctzll(above);
      bytes += count[x] * (1 + (x - b + 6) / 7);
    }
    if (bytes < best) best = bytes, best_b = b;
  }
  return (unsigned)best_b;
}

static unsigned char *pack(unsigned char *q, const uint32_t *v, uint32_t n) {
  unsigned w;
  unsigned b = best_width(v, n, &w);
  *q++ = (unsigned char)(b | (b < w ? SG_PACK_EXCEPTIONS : 0));
  uint64_t acc = 0, low = b == 32 ? 0xffffffffu : ((uint64_t)1 << b) - 1;
  unsigned have = 0;
  for (uint32_t i = 0; i < n && b; i++) {
    acc |= (v[i] & low) << have;
    have += b;
    while (have >= 8) {
      *q++ = (unsigned char)acc;
      acc >>= 8;
      have -= 8;
    }
  }
  if (have) *q++ = (unsigned char)acc;
  if (b == w) return q;
  unsigned char *nexc = q++;
  *nexc = 0;
  for (uint32_t i = 0; i < n; i++) {
    if (!(v[i] >> b)) continue;
    (*nexc)++;
    *q++ = (unsigned char)i;
    q += sg_varint_encode(q, v[i] >> b);
  }
  return q;
}

static inline uint64_t load_le64(const unsigned char *p) {
  uint64_t x;
  memcpy(&x, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  x = __builtin_bswap64(x);
#endif
  return x;
}

/* The exceptions of a run (see packed(n) in format.h), read before its values are unpacked. */
typedef struct exceptions {
  unsigned n;                  /* how many */
  unsigned next;               /* the first not applied yet (running sums) */
  uint8_t at[SG_BLOCK_MAX];    /* their indexes, ascending */
  uint32_t high[SG_BLOCK_MAX]; /* their high bits, shifted into place */
} exceptions;

/* Reads the exceptions of a run of n values at width w < 32; -1 when one is out of place. Out
 * of line: the unpacking loops stay small. */
static __attribute__((noinline)) int read_exceptions(reader *r, uint32_t n, unsigned w,
                                                     exceptions *e) {
  const unsigned char *np = read_bytes(r, 1);
  if (!np || *np == 0 || *np > n) return -1;
  e->n = *np;
  /* With room for every exception at its longest (an index byte and a varint of five bytes,
   * high being below 2^32) no read needs a bounds test, and the checks fold into one test at
   * the end. A longer (overlong) varint leaves it to the careful loop below. */
  const unsigned char *p = r->p;
  if ((size_t)(r->end - p) >= (size_t)e->n * 6) {
    uint32_t from = 0, bad = 0;
    uint64_t limit = ((uint64_t)1 << (32 - w)) - 1; /* high - 1 must be below it */
    unsigned k = 0;
    for (; k < e->n; k++) {
      uint32_t at = p[0];
      uint64_t high = p[1] & 0x7f;
      unsigned len = 2;
      while ((p[len - 1] & 0x80) && len < 6) {
        high |= (uint64_t)(p[len] & 0x7f) << (7 * (len - 1));
        len++;
      }
      if (p[len - 1] & 0x80) break;
      p += len;
      bad |= (at < from) | (at >= n) | (high - 1 >= limit);
      e->at[k] = (uint8_t)at;
      e->high[k] = (uint32_t)(high << w);
      from = at + 1;
    }
    if (k == e->n) {
      r->p = p;
      return bad ? -1 : 0;
    }
  }
  uint32_t from = 0; /* indexes strictly ascending */
  for (unsigned k = 0; k < e->n; k++) {
    const unsigned char *ip = read_bytes(r, 1);
    uint64_t high = read_small(r);
    if (!ip || r->bad || *ip < from || *ip >= n || high == 0 || high >> (32 - w)) return -1;
    e->at[k] = *ip;
    e->high[k] = (uint32_t)(high << w);
    from = *ip + 1u;
  }
  return 0;
}

/* Groups of eight values packed at width w, which fill exactly w bytes: with w a constant
 * every load offset and shift is one too. A group reads up to w + 8 bytes from its start. */
static inline __attribute__((always_inline)) void unpack_groups(const unsigned char *src,
                                                                uint32_t *out, uint32_t groups,
                                                                const unsigned w) {
  const uint64_t mask = w == 32 ? 0xffffffffu : ((uint64_t)1 << w) - 1;
  for (uint32_t g = 0; g < groups; g++, src += w, out += 8)
    for (unsigned j = 0; j < 8; j++)
      out[j] = (uint32_t)((load_le64(src + j * w / 8) >> (j * w % 8)) & mask);
}

/* The last n % 8 values (a group's worth read from src). */
static inline __attribute__((always_inline)) void unpack_tail(const unsigned char *src,
                                                              uint32_t *out, uint32_t tail,
                                                              const unsigned w) {
  uint32_t last[8];
  unpack_groups(src, last, 1, w);
  memcpy(out, last, tail * sizeof *last);
}

/* The n values at width w (1..32) of ceil(n * w / 8) bytes at src, of which avail are
 * readable: the groups that can read w + 8 bytes in place do, the rest (near the end of a
 * stored value) go through a copy padded with zeros. */
static inline __attribute__((always_inline)) void unpack_width(const unsigned char *src,
                                                               size_t avail, uint32_t *out,
                                                               uint32_t n, const unsigned w) {
  uint32_t groups = n / 8, tail = n % 8;
  size_t fit = avail >= w + 8 ? (avail - 8) / w : 0; /* groups (or a tail) in place */
  uint32_t direct = fit < groups ? (uint32_t)fit : groups;
  unpack_groups(src, out, direct, w);
  if (direct == groups && (!tail || fit > groups)) {
    if (tail) unpack_tail(src + (size_t)groups * w, out + groups * 8, tail, w);
    return;
  }
  unsigned char pad[SG_BLOCK_MAX * 4 + 40];
  size_t done = (size_t)direct * w, rest = ((size_t)n * w + 7) / 8 - done;
  memcpy(pad, src + done, rest);
  memset(pad + rest, 0, w + 8);
  unpack_groups(pad, out + direct * 8, groups - direct, w);
  if (tail) unpack_tail(pad + (size_t)(groups - direct) * w, out + groups * 8, tail, w);
}

/* SEOGO_NO_SIMD builds the portable code alone (to test it on a machine with AVX2). */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(SEOGO_NO_SIMD)
#include <immintrin.h>
#define SG_UNPACK_AVX2 1

/* Groups of eight values at width w (1..24) with AVX2, for processors that have it: each half
 * of a group (four values within 13 bytes of the half's first byte) is loaded 16 bytes wide,
 * and each value's four bytes are shuffled into its lane, shifted and masked. A group reads
 * w / 2 + 16 bytes from its start. */
__attribute__((target("avx2"))) static void unpack_groups_avx2(const unsigned char *src,
                                                               uint32_t *out, uint32_t groups,
                                                               unsigned w) {
  size_t half = w / 2; /* the second half's first byte: value 4 starts in it */
  __m256i bit =
      _mm256_mullo_epi32(_mm256_set1_epi32((int)w), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  __m256i base =
      _mm256_setr_epi32(0, 0, 0, 0, (int)half * 8, (int)half * 8, (int)half * 8, (int)half * 8);
  __m256i first = _mm256_srli_epi32(_mm256_sub_epi32(bit, base), 3); /* in its half */
  __m256i bytes = _mm256_add_epi32(_mm256_mullo_epi32(first, _mm256_set1_epi32(0x01010101)),
                                   _mm256_set1_epi32(0x03020100));
  __m256i shift = _mm256_and_si256(bit, _mm256_set1_epi32(7));
  __m256i mask = _mm256_set1_epi32((int)((1u << w) - 1));
  for (uint32_t g = 0; g < groups; g++, src += w, out += 8) {
    __m128i lo = _mm_loadu_si128((const __m128i *)(const void *)src);
    __m128i hi = _mm_loadu_si128((const __m128i *)(const void *)(src + half));
    __m256i x = _mm256_inserti128_si256(_mm256_castsi128_si256(lo), hi, 1);
    x = _mm256_and_si256(_mm256_srlv_epi32(_mm256_shuffle_epi8(x, bytes), shift), mask);
    _mm256_storeu_si256((__m256i *)(void *)out, x);
  }
}

/* The running sums start + in[0] + add, + in[1] + add, ... of in into out (which may be in)
 * modulo 2^32, eight at a time (a prefix sum within each half, the low half's total added to
 * the high half, the sum so far to both); returns the last. */
__attribute__((target("avx2"))) static uint32_t running_sums_avx2(const uint32_t *in, uint32_t *out,
                                                                  uint32_t n, uint32_t start,
                                                                  uint32_t add) {
  __m256i sum = _mm256_set1_epi32((int)start), plus = _mm256_set1_epi32((int)add);
  uint32_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m256i x = _mm256_loadu_si256((const __m256i *)(const void *)(in + i));
    x = _mm256_add_epi32(x, plus);
    x = _mm256_add_epi32(x, _mm256_slli_si256(x, 4));
    x = _mm256_add_epi32(x, _mm256_slli_si256(x, 8));
    __m256i low = _mm256_permutevar8x32_epi32(x, _mm256_set1_epi32(3));
    x = _mm256_add_epi32(x, _mm256_blend_epi32(_mm256_setzero_si256(), low, 0xf0));
    x = _mm256_add_epi32(x, sum);
    _mm256_storeu_si256((__m256i *)(void *)(out + i), x);
    sum = _mm256_permutevar8x32_epi32(x, _mm256_set1_epi32(7));
  }
  uint32_t acc = (uint32_t)_mm256_cvtsi256_si32(sum);
  for (; i < n; i++) out[i] = acc += in[i] + add;
  return acc;
}
#endif

/* Reads n (1 <= n <= SG_BLOCK_MAX) packed values; -1 when the bytes end early, the width is
 * over 32 or an exception is out of place. A routine per width unpacks them eight at a time;
 * the exceptions, read first, are patched in after. *wide (unless NULL) gets a bound on the
 * values: none has a bit it does not. */
static int unpack(reader *r, uint32_t *out, uint32_t n, uint32_t *wide) {
  const unsigned char *wp = read_bytes(r, 1);
  if (!wp || (*wp & ~(SG_PACK_EXCEPTIONS | 63)) || (*wp & 63) > 32) return -1;
  unsigned w = *wp & 63;
  if ((*wp & SG_PACK_EXCEPTIONS) && w == 32) return -1;
  const unsigned char *src = read_bytes(r, ((size_t)n * w + 7) / 8);
  if (!src) return -1;
  size_t avail = (size_t)(r->end - src);
  exceptions e;
  e.n = 0;
  if ((*wp & SG_PACK_EXCEPTIONS) && read_exceptions(r, n, w, &e)) return -1;
  uint32_t done = 0; /* values unpacked with AVX2 */
#ifdef SG_UNPACK_AVX2
  if (w >= 1 && w <= 24 && n >= 8 && __builtin_cpu_supports("avx2")) {
    size_t reach = w / 2 + 16, fit = avail >= reach ? (avail - reach) / w + 1 : 0;
    uint32_t groups = fit < n / 8 ? (uint32_t)fit : n / 8;
    unpack_groups_avx2(src, out, groups, w);
    done = groups * 8;
    src += (size_t)groups * w;
    avail -= (size_t)groups * w;
  }
#endif
  /* clang-format off */
  switch (w) {
  case 0: memset(out, 0, n * sizeof *out); break;
#define SG_WIDTH(k) case k: unpack_width(src, avail, out + done, n - done, k); break;
  SG_WIDTH(1) SG_WIDTH(2) SG_WIDTH(3) SG_WIDTH(4) SG_WIDTH(5) SG_WIDTH(6) SG_WIDTH(7) SG_WIDTH(8)
  SG_WIDTH(9) SG_WIDTH(10) SG_WIDTH(11) SG_WIDTH(12) SG_WIDTH(13) SG_WIDTH(14) SG_WIDTH(15)
  SG_WIDTH(16) SG_WIDTH(17) SG_WIDTH(18) SG_WIDTH(19) SG_WIDTH(20) SG_WIDTH(21) SG_WIDTH(22)
  SG_WIDTH(23) SG_WIDTH(24) SG_WIDTH(25) SG_WIDTH(26) SG_WIDTH(27) SG_WIDTH(28) SG_WIDTH(29)
  SG_WIDTH(30) SG_WIDTH(31) SG_WIDTH(32)
#undef SG_WIDTH
  }
  /* clang-format on */
  uint32_t bits = w == 32 ? 0xffffffffu : (1u << w) - 1;
  for (unsigned k = 0; k < e.n; k++) {
    out[e.at[k]] |= e.high[k];
    bits |= e.high[k];
  }
  if (wide) *wide = bits;
  return 0;
}

/* Reads the header shared by peek and decode. */
static int read_block_header(reader *r, uint32_t key_pid, sg_block_head *h, unsigned *flags,
                             seogo_error *err) {
  uint64_t n = read_small(r);
  uint64_t last_delta = read_small(r);
  uint64_t tf = read_small(r);
  uint64_t min_len = read_small(r);
  const unsigned char *f = read_bytes(r, 1);
  if (r->bad) return block_corrupt(err, "header is truncated");
  if (n == 0 || n > SG_BLOCK_MAX) return block_corrupt(err, "has a bad passage count");
  if (last_delta > (uint64_t)UINT32_MAX - key_pid || last_delta < n - 1)
    return block_corrupt(err, "has a bad last passage");
  if (tf == 0 || tf > SG_MAX_POSITIONS) return block_corrupt(err, "has a bad maximum tf");
  /* a flag that varies is carried by the positions: its header bit stays zero */
  unsigned fixed = (*f & SG_FLAGS_VARY_W ? 1u : 0) | (*f & SG_FLAGS_VARY_S ? 2u : 0);
  if (min_len > SG_MAX_POSITIONS || (*f & ~SG_FLAGS_MASK) || (*f & fixed))
    return block_corrupt(err, "has a bad header");
  h->count = (uint32_t)n;
  h->last_pid = key_pid + (uint32_t)last_delta;
  h->max_tf = (uint32_t)tf;
  h->min_len = (uint32_t)min_len;
  *flags = *f;
  return SEOGO_OK;
}

int sg_block_head_read(const void *data, size_t len, uint32_t key_pid, sg_block_head *h,
                       seogo_error *err) {
  reader r;
  reader_init(&r, data, len);
  unsigned flags = 0;
  return read_block_header(&r, key_pid, h, &flags, err);
}

int sg_block_peek(const void *data, size_t len, uint32_t key_pid, uint32_t *count,
                  uint32_t *last_pid, uint32_t *max_tf, seogo_error *err) {
  sg_block_head h = {0, 0, 0, 0};
  int rc = sg_block_head_read(data, len, key_pid, &h, err);
  if (rc) return rc;
  *count = h.count;
  *last_pid = h.last_pid;
  *max_tf = h.max_tf;
  return SEOGO_OK;
}

/* What the tfs pass finds (see decode_tfs): whether a stored value reaches 2^16, whether the
 * largest (then) differs from `top`, and their sum plus n (valid when none reaches 2^16). */
typedef struct tf_check {
  uint32_t wide, off, sum;
} tf_check;

/* Adds one to each stored tf, checking them on the way without branches: SSE2 has no unsigned
 * maximum, so the loop counts the values above and at `top` (signed comparisons, right for
 * values below 2^16), which vectorizes. */
static tf_check tf_pass_default(uint32_t *v, uint32_t n, int32_t top) {
  uint32_t any = 0, sum = n, above = 0, at = 0;
  for (uint32_t i = 0; i < n; i++) {
    any |= v[i];
    sum += v[i];
    above += (int32_t)v[i] > top;
    at += (int32_t)v[i] == top;
    v[i] += 1;
  }
  return (tf_check){any >> 16, above || !at, sum};
}

#ifdef SG_UNPACK_AVX2
/* tf_pass_default where AVX2 has the unsigned maximum. */
__attribute__((target("avx2"))) static tf_check tf_pass_avx2(uint32_t *v, uint32_t n, int32_t top) {
  uint32_t max = 0, sum = n;
  for (uint32_t i = 0; i < n; i++) {
    max = v[i] > max ? v[i] : max;
    sum += v[i];
    v[i] += 1;
  }
  return (tf_check){max >> 16, max != (uint32_t)top, sum};
}
#endif

/* The pids as a running sum of the gaps in 64 bits: at most SG_BLOCK_MAX gaps below 2^32
 * cannot wrap it, and as it only grows, a last pid below 2^32 means every pid is (one test
 * at the end, not one a step). Four at a time: the loop's own count costs as much as a
 * step. */
static int decode_pids(reader *r, uint32_t key_pid, sg_block *out, seogo_error *err) {
  uint32_t *v = out->pids, n = out->count, i = 1, wide;
  if (unpack(r, v, n, &wide)) return block_corrupt(err, "is truncated in its passage ids");
  uint64_t pid;
#ifdef SG_UNPACK_AVX2
  /* gaps below 2^24 add up to less than 2^31: the sum modulo 2^32 wraps at most once, and
   * then ends below where it started */
  if (!(wide >> 24) && __builtin_cpu_supports("avx2")) {
    uint32_t last = running_sums_avx2(v, v, n, key_pid - 1, 1);
    pid = last < key_pid ? (uint64_t)UINT32_MAX + 1 : last;
  } else
#endif
  {
    pid = (uint64_t)key_pid + v[0];
    v[0] = (uint32_t)pid;
    for (; i + 4 <= n; i += 4) {
      uint64_t a = pid + v[i] + 1, b = a + v[i + 1] + 1, c = b + v[i + 2] + 1;
      pid = c + v[i + 3] + 1;
      v[i] = (uint32_t)a, v[i + 1] = (uint32_t)b, v[i + 2] = (uint32_t)c, v[i + 3] = (uint32_t)pid;
    }
    for (; i < n; i++) v[i] = (uint32_t)(pid += (uint64_t)v[i] + 1);
  }
  if (pid > UINT32_MAX) return block_corrupt(err, "has a passage id out of range");
  if (pid != out->last_pid)
    return block_corrupt(err, "disagrees with its header on the last passage");
  return SEOGO_OK;
}

/* The tfs (stored minus one) in one pass without branches. The stored values are checked, not
 * the tfs, so that a stored 2^32 - 1 cannot pass as a tf of 0; the sum and the signed
 * comparisons hold once every value is below 2^16, which valid ones are (the largest equals
 * the header's max_tf - 1 <= SG_MAX_POSITIONS - 1). */
static int decode_tfs(reader *r, sg_block *out, uint64_t *total, seogo_error *err) {
  uint32_t *v = out->tfs, n = out->count;
  if (unpack(r, v, n, NULL)) return block_corrupt(err, "is truncated in its term frequencies");
  int32_t top = (int32_t)out->max_tf - 1;
  tf_check c;
#ifdef SG_UNPACK_AVX2
  if (__builtin_cpu_supports("avx2"))
    c = tf_pass_avx2(v, n, top);
  else
#endif
    c = tf_pass_default(v, n, top);
  if (c.wide) return block_corrupt(err, "has a bad term frequency");
  if (c.off) return block_corrupt(err, "disagrees with its header on max tf");
  /* every chunk of SG_BLOCK_MAX positions takes at least its width byte: this bounds the
   * allocation by the value's size */
  if ((c.sum + SG_BLOCK_MAX - 1) / SG_BLOCK_MAX > (uint64_t)(r->end - r->p))
    return block_corrupt(err, "is truncated in positions");
  *total = c.sum;
  return SEOGO_OK;
}

/* Turns the values v[from, to) of one passage (gaps carrying the flags that vary, as the
 * block's pos_shift, pos_up and pos_carried say) into positions; -1 when one passes
 * SG_MAX_POSITIONS. */
static inline int passage_from_gaps(const sg_block *b, uint32_t from, uint32_t to) {
  uint32_t *v = b->positions, shift = b->pos_shift, up = b->pos_up, carried = b->pos_carried;
  uint32_t constant = b->pos_flags & 3;
  uint64_t pos = 0; /* a value of up to 32 bits must not wrap it */
  for (uint32_t j = from; j < to; j++) {
    pos += v[j] >> shift;
    if (pos >= SG_MAX_POSITIONS) return -1;
    v[j] = (uint32_t)pos << 2 | constant | (v[j] & carried) << up;
  }
  return 0;
}

/* passage_from_gaps for every passage of the block, always inlined with a constant layout:
 * one loop for each (a whole block is worth it; a passage alone is not). */
static inline __attribute__((always_inline)) int block_from_gaps(sg_block *b, uint32_t shift,
                                                                 uint32_t up, uint32_t constant) {
  uint32_t *v = b->positions;
  for (uint32_t i = 0; i < b->count; i++) {
    uint64_t pos = 0;
    for (uint32_t j = b->pos_start[i]; j < b->pos_start[i + 1]; j++) {
      pos += v[j] >> shift;
      if (pos >= SG_MAX_POSITIONS) return -1;
      v[j] = (uint32_t)pos << 2 | constant | (v[j] & ((1u << shift) - 1)) << up;
    }
  }
  return 0;
}

/* Turns the unpacked stream into positions with their flags. */
static int positions_from_gaps(sg_block *b, seogo_error *err) {
  uint32_t c = b->pos_flags & 3;
  int rc = b->pos_shift == 0   ? block_from_gaps(b, 0, 0, c)
           : b->pos_shift == 2 ? block_from_gaps(b, 2, 0, 0)
           : b->pos_up         ? block_from_gaps(b, 1, 1, c)
                               : block_from_gaps(b, 1, 0, c);
  return rc ? block_corrupt(err, "has a position out of range") : SEOGO_OK;
}

/* Fills pos_start from the tfs; returns the block's number of positions. */
static uint32_t fill_starts(sg_block *b) {
  uint32_t n = b->count, *starts = b->pos_start;
  const uint32_t *tfs = b->tfs;
  starts[0] = 0;
#ifdef SG_UNPACK_AVX2
  if (__builtin_cpu_supports("avx2")) return running_sums_avx2(tfs, starts + 1, n, 0, 0);
#endif
  uint32_t at = 0;
  for (uint32_t i = 0; i < n; i++) starts[i + 1] = at += tfs[i];
  return at;
}

/* Decodes the positions of a block whose pos_start is filled. */
static int decode_positions(reader *r, sg_block *out, seogo_error *err) {
  uint32_t at = out->pos_start[out->count];
  for (uint32_t off = 0; off < at; off += SG_BLOCK_MAX) {
    uint32_t n = at - off < SG_BLOCK_MAX ? at - off : SG_BLOCK_MAX;
    if (unpack(r, out->positions + off, n, NULL))
      return block_corrupt(err, "is truncated in positions");
  }
  if (r->p != r->end) return block_corrupt(err, "has trailing bytes");
  return positions_from_gaps(out, err);
}

int sg_block_decode_head(const void *data, size_t len, uint32_t key_pid, sg_block *out,
                         seogo_error *err) {
  reader r;
  reader_init(&r, data, len);
  sg_block_head h = {0, 0, 0, 0};
  unsigned flags = 0;
  out->count = 0;
  out->pos_ready = 0;
  int rc = read_block_header(&r, key_pid, &h, &flags, err);
  if (rc) return rc;
  if (block_reserve(out, h.count, 0)) return sg_fail(err, SEOGO_ENOMEM, "out of memory");
  out->count = h.count;
  out->first_pid = key_pid;
  out->last_pid = h.last_pid;
  out->max_tf = h.max_tf;
  out->min_len = h.min_len;
  out->pos_flags = flags;
  unsigned w = (flags & SG_FLAGS_VARY_W) != 0, s = (flags & SG_FLAGS_VARY_S) != 0;
  out->pos_shift = w + s;
  out->pos_up = s && !w;
  out->pos_carried = (1u << out->pos_shift) - 1;
  uint64_t total;
  if ((rc = decode_pids(&r, key_pid, out, err)) || (rc = decode_tfs(&r, out, &total, err))) {
    out->count = 0;
    return rc;
  }
  out->pos_data = r.p;
  out->pos_len = (size_t)(r.end - r.p);
  out->starts_ready = 0;
  out->runs_read = 0;
  out->pos_one = out->count;
  out->alone = 0;
  return SEOGO_OK;
}

int sg_block_decode_positions(sg_block *b, seogo_error *err) {
  if (b->pos_ready) return SEOGO_OK;
  uint32_t total = b->starts_ready ? b->pos_start[b->count] : fill_starts(b);
  b->starts_ready = 1;
  if (block_reserve(b, b->count, total)) return sg_fail(err, SEOGO_ENOMEM, "out of memory");
  reader r;
  reader_init(&r, b->pos_data, b->pos_len);
  int rc = decode_positions(&r, b, err);
  if (rc) return rc;
  b->pos_ready = 1;
  return SEOGO_OK;
}

/* Checks position run k's head and exceptions, which sets where run k+1 starts; the run holds
 * the stream's values [k * SG_BLOCK_MAX, +n). */
static int read_run(sg_block *b, uint32_t k, uint32_t n) {
  reader r;
  reader_init(&r, b->pos_data + b->run_at[k], b->pos_len - b->run_at[k]);
  const unsigned char *wp = read_bytes(&r, 1);
  if (!wp || (*wp & ~(SG_PACK_EXCEPTIONS | 63)) || (*wp & 63) > 32) return -1;
  unsigned w = *wp & 63;
  if ((*wp & SG_PACK_EXCEPTIONS) && w == 32) return -1;
  if (!read_bytes(&r, ((size_t)n * w + 7) / 8)) return -1;
  exceptions e;
  if ((*wp & SG_PACK_EXCEPTIONS) && read_exceptions(&r, n, w, &e)) return -1;
  b->run_at[k + 1] = (uint32_t)(r.p - b->pos_data);
  return 0;
}

/* Makes runs 0 .. k readable (their offsets known, their heads and exceptions checked); once
 * the last run is read, the value must end there. */
static int reach_run(sg_block *b, uint32_t k, uint32_t total, seogo_error *err) {
  if (b->runs_read > k) return SEOGO_OK;
  uint32_t nruns = (total + SG_BLOCK_MAX - 1) / SG_BLOCK_MAX;
  if (b->run_cap < (size_t)nruns + 1) {
    uint32_t *at = realloc(b->run_at, ((size_t)nruns + 1) * sizeof *at);
    if (!at) return sg_fail(err, SEOGO_ENOMEM, "out of memory");
    b->run_at = at;
    b->run_cap = (size_t)nruns + 1;
  }
  if (b->runs_read == 0) b->run_at[0] = 0;
  for (; b->runs_read <= k; b->runs_read++) {
    uint32_t off = b->runs_read * SG_BLOCK_MAX;
    uint32_t n = total - off < SG_BLOCK_MAX ? total - off : SG_BLOCK_MAX;
    if (read_run(b, b->runs_read, n)) return block_corrupt(err, "is truncated in positions");
  }
  if (b->runs_read == nruns && b->run_at[nruns] != b->pos_len)
    return block_corrupt(err, "has trailing bytes");
  return SEOGO_OK;
}

/* Values [lo, hi) of run k (of n values, checked by read_run) into out, exceptions applied. */
static void run_values(const sg_block *b, uint32_t k, uint32_t n, uint32_t lo, uint32_t hi,
                       uint32_t *out) {
  const unsigned char *p = b->pos_data + b->run_at[k], *end = b->pos_data + b->run_at[k + 1];
  unsigned w = *p & 63;
  const unsigned char *src = p + 1, *exc = src + ((size_t)n * w + 7) / 8;
  uint64_t mask = w == 32 ? 0xffffffffu : ((uint64_t)1 << w) - 1;
  for (uint32_t j = lo; j < hi; j++) {
    size_t bit = (size_t)j * w;
    const unsigned char *at = src + (bit >> 3);
    uint64_t x = 0;
    if (end - at >= 8) {
      x = load_le64(at);
    } else { /* the run's last bytes: no load past them */
      for (ptrdiff_t i = 0; i < end - at; i++) x |= (uint64_t)at[i] << (8 * i);
    }
    out[j - lo] = w ? (uint32_t)((x >> (bit & 7)) & mask) : 0;
  }
  if (!(*p & SG_PACK_EXCEPTIONS)) return;
  reader r;
  reader_init(&r, exc, (size_t)(end - exc));
  unsigned nexc = *read_bytes(&r, 1);
  for (unsigned e = 0; e < nexc; e++) {
    unsigned idx = *read_bytes(&r, 1);
    uint64_t high = read_small(&r);
    if (idx >= hi) break;
    if (idx >= lo) out[idx - lo] |= (uint32_t)(high << w);
  }
}

int sg_block_passage_positions(sg_block *b, uint32_t i, seogo_error *err) {
  if (b->pos_ready || b->pos_one == i) return SEOGO_OK;
  if (!b->starts_ready) {
    uint32_t at = fill_starts(b);
    if (block_reserve(b, b->count, at)) return sg_fail(err, SEOGO_ENOMEM, "out of memory");
    b->starts_ready = 1;
  }
  uint32_t from = b->pos_start[i], to = b->pos_start[i + 1], total = b->pos_start[b->count];
  int rc = reach_run(b, (to - 1) / SG_BLOCK_MAX, total, err);
  if (rc) return rc;
  uint32_t *v = b->positions;
  for (uint32_t j = from; j < to;) { /* the raw values, run by run */
    uint32_t k = j / SG_BLOCK_MAX, off = k * SG_BLOCK_MAX;
    uint32_t n = total - off < SG_BLOCK_MAX ? total - off : SG_BLOCK_MAX;
    uint32_t hi = to - off < n ? to - off : n;
    run_values(b, k, n, j - off, hi, v + j);
    j = off + hi;
  }
  if (passage_from_gaps(b, from, to)) return block_corrupt(err, "has a position out of range");
  b->pos_one = i;
  b->alone++;
  return SEOGO_OK;
}

int sg_block_decode(const void *data, size_t len, uint32_t key_pid, sg_block *out,
                    seogo_error *err) {
  int rc = sg_block_decode_head(data, len, key_pid, out, err);
  if (!rc && (rc = sg_block_decode_positions(out, err))) out->count = 0;
  return rc;
}

/* Checks the postings handed to the encoder; their max tf and the header's flags: which flag
 * varies in the block, and the value of each that does not. */
static int check_postings(uint32_t key_pid, uint32_t count, const uint32_t *pids,
                          const uint32_t *pos_start, const uint32_t *positions, uint32_t *max_tf,
                          unsigned *flags) {
  if (count == 0 || count > SG_BLOCK_MAX || pids[0] < key_pid) return -1;
  *max_tf = 0;
  unsigned any = 0, all = 3;
  for (uint32_t i = 0; i < count; i++) {
    uint32_t tf = pos_start[i + 1] - pos_start[i];
    if (tf == 0 || tf > SG_MAX_POSITIONS || (i > 0 && pids[i] <= pids[i - 1])) return -1;
    if (tf > *max_tf) *max_tf = tf;
    uint32_t prev = 0;
    for (uint32_t j = pos_start[i]; j < pos_start[i + 1]; j++) {
      uint32_t pos = positions[j] >> 2;
      if (pos < prev || pos >= SG_MAX_POSITIONS) return -1;
      any |= positions[j] & 3;
      all &= positions[j] & 3;
      prev = pos;
    }
  }
  unsigned vary = any & ~all; /* the bits some positions have and others not */
  *flags = (vary & 1 ? SG_FLAGS_VARY_W : 0) | (vary & 2 ? SG_FLAGS_VARY_S : 0) | all;
  return 0;
}

/* Packs the position stream in chunks of SG_BLOCK_MAX: per passage the gaps (the first from
 * 0), shifted over the flags that vary in the block. */
static unsigned char *pack_positions(unsigned char *q, uint32_t count, const uint32_t *pos_start,
                                     const uint32_t *positions, unsigned flags) {
  uint32_t chunk[SG_BLOCK_MAX], n = 0;
  unsigned w = (flags & SG_FLAGS_VARY_W) != 0, s = (flags & SG_FLAGS_VARY_S) != 0;
  unsigned shift = w + s, up = s && !w, carried = (1u << shift) - 1;
  for (uint32_t i = 0; i < count; i++) {
    uint32_t prev = 0;
    for (uint32_t j = pos_start[i]; j < pos_start[i + 1]; j++) {
      uint32_t pos = positions[j] >> 2;
      chunk[n++] = (pos - prev) << shift | ((positions[j] & 3) >> up & carried);
      prev = pos;
      if (n == SG_BLOCK_MAX) {
        q = pack(q, chunk, n);
        n = 0;
      }
    }
  }
  return n ? pack(q, chunk, n) : q;
}

int sg_block_encode(sg_buf *out, uint32_t key_pid, uint32_t count, const uint32_t *pids,
                    const uint32_t *pos_start, const uint32_t *positions, uint32_t min_len) {
  sg_buf_clear(out);
  uint32_t max_tf;
  unsigned flags = 0;
  if (check_postings(key_pid, count, pids, pos_start, positions, &max_tf, &flags)) return -1;
  size_t npos = pos_start[count] - pos_start[0];
  /* header, then at most 4 bytes a value and a width byte per SG_BLOCK_MAX values */
  size_t chunks = (npos + SG_BLOCK_MAX - 1) / SG_BLOCK_MAX;
  if (sg_buf_reserve(out, 4 * SG_VARINT_MAX + 1 + 2 * (1 + 4 * (size_t)count) + chunks + 4 * npos))
    return -1;
  uint32_t v[SG_BLOCK_MAX];
  unsigned char *q = out->data;
  q += sg_varint_encode(q, count);
  q += sg_varint_encode(q, pids[count - 1] - key_pid);
  q += sg_varint_encode(q, max_tf);
  q += sg_varint_encode(q, min_len > SG_MAX_POSITIONS ? SG_MAX_POSITIONS : min_len);
  *q++ = (unsigned char)flags;
  for (uint32_t i = 0; i < count; i++) v[i] = i ? pids[i] - pids[i - 1] - 1 : pids[0] - key_pid;
  q = pack(q, v, count);
  for (uint32_t i = 0; i < count; i++) v[i] = pos_start[i + 1] - pos_start[i] - 1;
  q = pack(q, v, count);
  q = pack_positions(q, count, pos_start, positions, flags);
  out->len = (size_t)(q - out->data);
  return 0;
}
