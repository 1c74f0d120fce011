/* analyzer_bench.c - analyzer throughput: the corpus repeated to ~50 MB in memory, each copy
 * analyzed as a document; ICU word break alone over the same bytes for comparison.
 *
 *   analyzer_bench [--corpus DIR] [--mb N] [--reps N]
 *   analyzer_bench --dump DIR [--chunk BYTES]
 *
 * DIR defaults to $SEOGO_SOURCE_DIR/corpus (or ./corpus). Prints MB of original text per
 * second of CPU time (single thread).
 *
 * --dump prints, for each .txt file of DIR, digests of what indexing takes from the analyzer:
 * the tokens and sentence ends of sg_analyze, and the passages, document record and grouped
 * postings of sg_prepared_analyze (with --chunk, analyzed in pieces of about BYTES), and of
 * each term's positions in the document whatever the passages. Two analyzer versions that
 * print the same lines index the corpus identically.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unicode/ubrk.h>
#include <unicode/utext.h>

#include "analyzer.h"
#include "batch.h"

typedef struct doc {
  char *text;
  size_t len;
  char name[256];
} doc;

/* CPU time of this process: the figure stays honest on a machine shared with other work. */
static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static char *read_all(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  char *buf = NULL;
  size_t cap = 0, n = 0, got;
  do {
    if (n == cap) {
      char *p = realloc(buf, cap = cap ? cap * 2 : 1 << 16);
      if (!p) break;
      buf = p;
    }
    got = fread(buf + n, 1, cap - n, f);
    n += got;
  } while (got > 0);
  fclose(f);
  *len = n;
  return buf;
}

static int is_text(const struct dirent *d) {
  size_t n = strlen(d->d_name);
  return n > 4 && strcmp(d->d_name + n - 4, ".txt") == 0;
}

/* Loads the corpus files and lays copies of them out one after another until `target` bytes. */
static size_t load_corpus(const char *dir, size_t target, doc **out, char **arena) {
  struct dirent **names;
  int nfiles = scandir(dir, &names, is_text, alphasort);
  if (nfiles <= 0) return 0;
  doc *files = calloc((size_t)nfiles, sizeof *files);
  size_t total = 0;
  for (int i = 0; i < nfiles; i++) {
    char path[4608];
    snprintf(path, sizeof path, "%s/%s", dir, names[i]->d_name);
    files[i].text = read_all(path, &files[i].len);
    snprintf(files[i].name, sizeof files[i].name, "%s", names[i]->d_name);
    free(names[i]);
    total += files[i].text ? files[i].len : 0;
  }
  size_t copies = total ? (target + total - 1) / total : 0, ndocs = copies * (size_t)nfiles;
  doc *docs = calloc(ndocs ? ndocs : 1, sizeof *docs);
  char *mem = malloc(copies * total + 1);
  size_t off = 0, k = 0;
  for (size_t c = 0; c < copies; c++)
    for (int i = 0; i < nfiles; i++) {
      if (!files[i].text) continue;
      memcpy(mem + off, files[i].text, files[i].len);
      docs[k] = files[i];
      docs[k++].text = mem + off;
      off += files[i].len;
    }
  for (int i = 0; i < nfiles; i++) free(files[i].text);
  free(files);
  free(names);
  *out = docs;
  *arena = mem;
  return k;
}

static double icu_words_only(doc *docs, size_t ndocs) {
  UErrorCode st = U_ZERO_ERROR;
  UBreakIterator *bi = ubrk_open(UBRK_WORD, "", NULL, 0, &st);
  UText *ut = NULL;
  long words = 0;
  double t0 = now();
  for (size_t i = 0; i < ndocs && U_SUCCESS(st); i++) {
    ut = utext_openUTF8(ut, docs[i].text, (int64_t)docs[i].len, &st);
    ubrk_setUText(bi, ut, &st);
    for (int32_t b = ubrk_first(bi); b != UBRK_DONE; b = ubrk_next(bi))
      words += ubrk_getRuleStatus(bi) >= UBRK_WORD_NUMBER;
  }
  double t = now() - t0;
  utext_close(ut);
  ubrk_close(bi);
  return words ? t : -1;
}

/* ---- --dump ------------------------------------------------------------------------------- */

typedef struct digest {
  uint64_t h;
} digest;

static void mix(digest *d, const void *p, size_t n) {
  d->h = sg_hash64(p, n) ^ (d->h * 0x9E3779B97F4A7C15ull + 1);
}

static void mix_u32(digest *d, uint32_t v) { mix(d, &v, sizeof v); }

static uint64_t tokens_digest(const sg_analysis *r) {
  digest d = {0};
  for (size_t i = 0; i < r->ntokens; i++) {
    const sg_token *t = &r->tokens[i];
    uint32_t f[7] = {t->term_len, t->flags, t->pos, t->start, t->end, t->line, t->line_end};
    mix(&d, f, sizeof f);
    mix(&d, sg_token_term(r, t), t->term_len);
  }
  return d.h;
}

static uint64_t sentences_digest(const sg_analysis *r) {
  digest d = {0};
  mix(&d, r->sentence_ends, r->nsentences * sizeof *r->sentence_ends);
  return d.h;
}

static uint64_t passages_digest(const seogo_prepared *p) {
  digest d = {0};
  for (size_t i = 0; i < p->spans.count; i++) {
    const sg_span *s = &p->spans.items[i];
    uint32_t f[6] = {s->start, s->end, s->line_start, s->line_end, s->pos_base, s->length};
    mix(&d, f, sizeof f);
    mix_u32(&d, s->tok_end - s->tok_start);
  }
  const sg_doc *rec = &p->rec;
  uint32_t f[5] = {rec->nlines, rec->pdf_like, rec->short_line, (uint32_t)rec->text_len,
                   rec->invalid};
  mix(&d, f, sizeof f);
  return d.h;
}

static uint64_t postings_digest(const seogo_prepared *p) {
  digest d = {0};
  for (size_t k = 0; k < p->terms.count; k++) {
    size_t len;
    const char *term = sg_strmap_key(&p->terms, k, &len);
    const sg_doc_term *dt = &p->dterms[k];
    mix(&d, term, len);
    uint32_t f[3] = {dt->first, dt->last, dt->count};
    mix(&d, f, sizeof f);
    mix(&d, (const char *)p->arena.data + dt->off, dt->bytes);
  }
  return d.h;
}

/* The next varint of an arena list; the prepared lists were just written, so a short one is a
 * bug worth a loud zero rather than a crash. */
static uint32_t next_varint(const unsigned char **p, const unsigned char *end) {
  uint64_t v = 0;
  return sg_varint_decode(p, end, &v) ? 0 : (uint32_t)v;
}

/* Each term with its occurrences (position in the document, flags), whatever the passages. */
static uint64_t terms_digest(const seogo_prepared *p) {
  digest d = {0};
  for (size_t k = 0; k < p->terms.count; k++) {
    size_t len;
    const char *term = sg_strmap_key(&p->terms, k, &len);
    const sg_doc_term *dt = &p->dterms[k];
    mix(&d, term, len);
    const unsigned char *q = p->arena.data + dt->off, *end = q + dt->bytes;
    uint32_t passage = dt->first;
    for (uint32_t i = 0; i < dt->count; i++) {
      if (i) passage += next_varint(&q, end);
      uint32_t tf = next_varint(&q, end), pos = p->spans.items[passage].pos_base;
      for (uint32_t j = 0; j < tf; j++) {
        uint32_t v = next_varint(&q, end);
        pos += v >> 2;
        uint32_t f[2] = {pos, v & 3};
        mix(&d, f, sizeof f);
      }
    }
  }
  return d.h;
}

static int dump(const char *dir, size_t chunk) {
  struct dirent **names;
  int nfiles = scandir(dir, &names, is_text, alphasort);
  if (nfiles < 0) return 1;
  sg_analyzer *a;
  seogo_error err;
  if (sg_analyzer_new(&a, &err)) return 1;
  sg_analysis r;
  sg_analysis_init(&r);
  seogo_prepared p;
  sg_prepared_init(&p);
  int rc = 0;
  for (int i = 0; i < nfiles && !rc; i++) {
    char path[4608];
    size_t len = 0;
    snprintf(path, sizeof path, "%s/%s", dir, names[i]->d_name);
    char *text = read_all(path, &len);
    if (!text) rc = 1;
    if (!rc && sg_analyze(a, text, len, SG_ANALYZE_DOCUMENT, &r, &err)) rc = 1;
    if (!rc) printf("%s tokens %zu %016llx sentences %zu %016llx", names[i]->d_name,
                    r.ntokens, (unsigned long long)tokens_digest(&r), r.nsentences,
                    (unsigned long long)sentences_digest(&r));
    if (!rc && sg_prepared_begin(&p, names[i]->d_name, NULL, &err)) rc = 1;
    if (!rc) {
      sg_prepared_borrow(&p, text, len, 0);
      if (chunk) sg_analyzer_set_chunk_bytes(a, chunk);
      int arc = sg_prepared_analyze(&p, a, &err);
      if (arc) printf(" error %d\n", arc);
      else printf(" passages %zu %016llx postings %zu %016llx terms %016llx\n", p.spans.count,
                  (unsigned long long)passages_digest(&p), p.terms.count,
                  (unsigned long long)postings_digest(&p), (unsigned long long)terms_digest(&p));
    }
    if (rc) fprintf(stderr, "analyzer_bench: %s: %s\n", path, err.message);
    sg_prepared_clear(&p);
    free(text);
    free(names[i]);
  }
  free(names);
  sg_prepared_destroy(&p);
  sg_analysis_free(&r);
  sg_analyzer_free(a);
  return rc;
}

int main(int argc, char **argv) {
  const char *dir = NULL;
  size_t chunk = 0;
  for (int i = 1; i + 1 < argc; i += 2)
    if (strcmp(argv[i], "--chunk") == 0) chunk = (size_t)atol(argv[i + 1]);
  for (int i = 1; i + 1 < argc; i += 2)
    if (strcmp(argv[i], "--dump") == 0) return dump(argv[i + 1], chunk);
  double mb = 50;
  int reps = 3;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (strcmp(argv[i], "--corpus") == 0) dir = argv[i + 1];
    else if (strcmp(argv[i], "--mb") == 0) mb = atof(argv[i + 1]);
    else if (strcmp(argv[i], "--reps") == 0) reps = atoi(argv[i + 1]);
  }
  char dirbuf[4096];
  if (!dir) {
    const char *root = getenv("SEOGO_SOURCE_DIR");
    snprintf(dirbuf, sizeof dirbuf, "%s/corpus", root ? root : ".");
    dir = dirbuf;
  }
  doc *docs;
  char *arena;
  size_t ndocs = load_corpus(dir, (size_t)(mb * 1e6), &docs, &arena);
  if (!ndocs) {
    fprintf(stderr, "analyzer_bench: no .txt files in %s\n", dir);
    return 1;
  }
  size_t bytes = 0;
  for (size_t i = 0; i < ndocs; i++) bytes += docs[i].len;

  sg_analyzer *a;
  seogo_error err;
  if (sg_analyzer_new(&a, &err)) {
    fprintf(stderr, "analyzer_bench: %s\n", err.message);
    return 1;
  }
  sg_analysis r;
  sg_analysis_init(&r);
  double best = 0;
  size_t tokens = 0;
  for (int rep = 0; rep < reps; rep++) {
    tokens = 0;
    double t0 = now();
    for (size_t i = 0; i < ndocs; i++) {
      if (sg_analyze(a, docs[i].text, docs[i].len, SG_ANALYZE_DOCUMENT, &r, &err)) {
        fprintf(stderr, "analyzer_bench: %s: %s\n", docs[i].name, err.message);
        return 1;
      }
      tokens += r.ntokens;
    }
    double t = now() - t0, rate = (double)bytes / t / 1e6;
    if (rate > best) best = rate;
  }
  double icu = icu_words_only(docs, ndocs);
  printf("corpus: %s, %zu documents, %.1f MB in memory\n", dir, ndocs, (double)bytes / 1e6);
  printf("analyzer (DOCUMENT mode, best of %d): %.1f MB/s, %.1f M terms/s\n", reps, best,
         best * (double)tokens / (double)bytes);
  if (icu > 0) printf("ICU word break alone over the same text: %.1f MB/s\n", (double)bytes / icu / 1e6);
  sg_analysis_free(&r);
  sg_analyzer_free(a);
  free(docs);
  free(arena);
  return 0;
}
