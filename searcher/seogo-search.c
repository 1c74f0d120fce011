/* seogo-search.c - the search program: runs queries against an index through the public API
 * and prints ranked passages for people (snippets, bold matches on a terminal) or JSON Lines. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <utf8proc.h>

#include "../indexer/fault.h" /* the handler shared with seogo-index */
#include "seogo.h"

static const char USAGE[] =
    "usage: seogo-search [-d INDEX] [options] QUERY...\n"
    "       seogo-search [-d INDEX] [options] --queries FILE\n"
    "\n"
    "Searches a Seogo index and prints the best passages, best first.\n"
    "\n"
    "  -d, --index DIR     the index (default: $SEOGO_INDEX, else ./.seogo)\n"
    "  -n, --limit N       hits to show (default 10)\n"
    "      --offset N      skip the first N hits\n"
    "      --group         one hit per document (its best passage)\n"
    "      --count         print only the number of matching passages (documents with --group)\n"
    "      --json          JSON Lines: one object per hit\n"
    "      --explain       show the parsed query, df/idf per word and each hit's score parts\n"
    "                      (with --json: one {\"explain\": ...} line before the hits)\n"
    "      --k1 X, --b X   BM25 parameters (default 1.2 and 0.3)\n"
    "      --snippet-chars N  snippet length in characters (default 240)\n"
    "      --queries FILE  run one query per line of FILE ('-' for standard input)\n"
    "      --              end of options: a query may then begin with '-'\n"
    "  -h, --help          this help;  --version  the library version\n"
    "\n"
    "Query language: words (all must match), AND, OR, NOT or -word, ( ), \"exact phrase\",\n"
    "NEAR(a b, N) (within N words; default 10), prefix*, file:GLOB (document path).\n"
    "Korean words match inside longer words and across particles (반도체를 finds 반도체);\n"
    "a compound also matches written apart (데이터주권 finds 데이터 주권) unless quoted.\n"
    "\n"
    "Exit status: 0 when something matched, 1 when nothing did, 2 on an error, 3 when the\n"
    "program crashed reading a damaged index (rebuild it with seogo-index --rebuild).\n";

typedef struct config {
  const char *index_path;
  const char *queries_file;
  seogo_search_options opt;
  int json, count, explain, bold;
} config;

/* ---- output helpers ------------------------------------------------------------------------ */

static void json_string(FILE *out, const char *s, size_t n) {
  fputc('"', out);
  for (size_t i = 0; i < n;) {
    unsigned char c = (unsigned char)s[i];
    if (c == '"' || c == '\\') {
      fputc('\\', out);
      fputc(c, out);
      i++;
    } else if (c < 0x20 || c == 0x7F) {
      switch (c) {
      case '\n': fputs("\\n", out); break;
      case '\t': fputs("\\t", out); break;
      case '\r': fputs("\\r", out); break;
      default: fprintf(out, "\\u%04x", c);
      }
      i++;
    } else if (c < 0x80) {
      fputc(c, out);
      i++;
    } else {
      utf8proc_int32_t cp;
      utf8proc_ssize_t k = utf8proc_iterate((const utf8proc_uint8_t *)s + i,
                                            (utf8proc_ssize_t)(n - i), &cp);
      if (k < 0) {
        fputs("\\ufffd", out);
        i++;
      } else {
        fwrite(s + i, 1, (size_t)k, out);
        i += (size_t)k;
      }
    }
  }
  fputc('"', out);
}

static void print_hit_json(const config *c, const seogo_hit *h, long query_line) {
  fputs("{\"file\":", stdout);
  json_string(stdout, h->path, strlen(h->path));
  printf(",\"line_start\":%u,\"line_end\":%u,\"score\":%.6f", (unsigned)h->line_start,
         (unsigned)h->line_end, h->score);
  if (h->snippet) {
    fputs(",\"snippet\":", stdout);
    json_string(stdout, h->snippet, h->snippet_len);
    fputs(",\"highlights\":[", stdout);
    for (size_t i = 0; i < h->highlight_count; i++)
      printf("%s[%u,%u]", i ? "," : "", (unsigned)h->highlights[i].start,
             (unsigned)h->highlights[i].end);
    fputc(']', stdout);
  }
  printf(",\"passage_id\":%llu", (unsigned long long)h->passage_id);
  if (query_line > 0) printf(",\"query_line\":%ld", query_line);
  fputs("}\n", stdout);
}

static void print_hit_text(const config *c, const seogo_hit *h, int first) {
  if (!first) fputc('\n', stdout);
  printf("%s:%u-%u  %.3f\n", h->path, (unsigned)h->line_start, (unsigned)h->line_end, h->score);
  if (!h->snippet) return;
  fputs("    ", stdout);
  size_t at = 0;
  for (size_t i = 0; i < h->highlight_count; i++) {
    const seogo_range *r = &h->highlights[i];
    if (r->start < at || r->end > h->snippet_len || r->end <= r->start) continue;
    fwrite(h->snippet + at, 1, r->start - at, stdout);
    if (c->bold) fputs("\033[1m", stdout);
    fwrite(h->snippet + r->start, 1, r->end - r->start, stdout);
    if (c->bold) fputs("\033[0m", stdout);
    at = r->end;
  }
  fwrite(h->snippet + at, 1, h->snippet_len - at, stdout);
  fputc('\n', stdout);
}

/* ---- malformed queries: the query, a caret under the column, the message ---------------------- */

static int display_width(const char *s, size_t n) {
  int w = 0;
  for (size_t i = 0; i < n;) {
    utf8proc_int32_t cp;
    utf8proc_ssize_t k =
        utf8proc_iterate((const utf8proc_uint8_t *)s + i, (utf8proc_ssize_t)(n - i), &cp);
    if (k < 0) {
      w++;
      i++;
      continue;
    }
    int cw = utf8proc_charwidth(cp);
    w += cw > 0 ? cw : (cp < 0x20 ? 1 : 0);
    i += (size_t)k;
  }
  return w;
}

/* Byte offset of the 1-based character column `col` (clamped to the end). */
static size_t byte_of_column(const char *s, size_t n, int col) {
  size_t i = 0;
  for (int c = 1; c < col && i < n; c++) {
    utf8proc_int32_t cp;
    utf8proc_ssize_t k =
        utf8proc_iterate((const utf8proc_uint8_t *)s + i, (utf8proc_ssize_t)(n - i), &cp);
    i += k > 0 ? (size_t)k : 1;
  }
  return i;
}

/* Prints bytes for a terminal line: control characters as spaces, bad bytes as '?'. */
static void print_visible(const char *s, size_t n) {
  for (size_t i = 0; i < n;) {
    utf8proc_int32_t cp;
    utf8proc_ssize_t k =
        utf8proc_iterate((const utf8proc_uint8_t *)s + i, (utf8proc_ssize_t)(n - i), &cp);
    if (k < 0) {
      fputc('?', stderr);
      i++;
    } else {
      if (cp < 0x20 || cp == 0x7F) fputc(' ', stderr);
      else fwrite(s + i, 1, (size_t)k, stderr);
      i += (size_t)k;
    }
  }
}

#define EXCERPT_BEFORE 40
#define EXCERPT_AFTER 40

static void show_query_error(const char *q, size_t n, const seogo_error *err, long line) {
  if (line > 0) fprintf(stderr, "seogo-search: line %ld: %s\n", line, err->message);
  else fprintf(stderr, "seogo-search: %s\n", err->message);
  if (err->column <= 0) return;
  /* long queries are shown as an excerpt around the column */
  int from_col = err->column > EXCERPT_BEFORE ? err->column - EXCERPT_BEFORE : 1;
  size_t from = byte_of_column(q, n, from_col);
  size_t at = byte_of_column(q, n, err->column);
  size_t to = byte_of_column(q + at, n - at, EXCERPT_AFTER) + at;
  fputs("  ", stderr);
  if (from > 0) fputs("...", stderr);
  print_visible(q + from, to - from);
  if (to < n) fputs("...", stderr);
  fputc('\n', stderr);
  int pad = 2 + (from > 0 ? 3 : 0) + display_width(q + from, at - from);
  fprintf(stderr, "%*s^\n", pad, "");
}

/* ---- running queries ----------------------------------------------------------------------- */

static long long micros_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Runs one query and prints its output. Returns 0 with hits, 1 without, 2 on error. */
static int run_query(const config *c, seogo_index *index, const char *q, size_t n, long line) {
  seogo_search_options opt = c->opt;
  if (c->count) {
    opt.limit = 0;
    opt.exact_total = 1;
  }
  seogo_results *res = NULL;
  seogo_error err = {0};
  long long t0 = micros_now();
  int rc = seogo_search(index, q, n, &opt, &res, &err);
  long long micros = micros_now() - t0;
  if (rc) {
    if (rc == SEOGO_EQUERY || rc == SEOGO_ELIMIT) show_query_error(q, n, &err, line);
    else if (line > 0) fprintf(stderr, "seogo-search: line %ld: %s\n", line, err.message);
    else fprintf(stderr, "seogo-search: %s\n", err.message);
    return 2;
  }
  size_t count = seogo_results_count(res);
  uint64_t total = seogo_results_total(res);
  if (c->explain && seogo_results_explain(res)) {
    const char *e = seogo_results_explain(res);
    if (c->json) {
      fputs("{\"explain\":", stdout);
      json_string(stdout, e, strlen(e));
      if (line > 0) printf(",\"query_line\":%ld", line);
      fputs("}\n", stdout);
    } else {
      fputs(e, stdout);
      fputc('\n', stdout);
    }
  }
  if (c->count) {
    if (c->json) {
      printf("{\"count\":%llu", (unsigned long long)total);
      if (line > 0) printf(",\"query_line\":%ld", line);
      fputs("}\n", stdout);
    } else {
      printf("%llu\n", (unsigned long long)total);
    }
  }
  for (size_t i = 0; i < count && !c->count; i++) {
    if (c->json) print_hit_json(c, seogo_results_hit(res, i), line);
    else print_hit_text(c, seogo_results_hit(res, i), i == 0);
  }
  if (line > 0 && c->json) {
    fprintf(stdout, "{\"query_line\":%ld,\"query\":", line);
    json_string(stdout, q, n);
    /* without --count the total may be a lower bound ("N or more"): pruning skipped the rest */
    printf(",\"hits\":%zu,\"total\":%llu,\"total_exact\":%s,\"micros\":%lld}\n", count,
           (unsigned long long)total, seogo_results_total_is_exact(res) ? "true" : "false",
           micros);
  }
  seogo_results_free(res);
  return total > 0 ? 0 : 1;
}

#define HEADER_BYTES 200

static int run_queries_file(const config *c, seogo_index *index) {
  FILE *in = strcmp(c->queries_file, "-") == 0 ? stdin : fopen(c->queries_file, "r");
  if (!in) {
    fprintf(stderr, "seogo-search: %s: %s\n", c->queries_file, strerror(errno));
    return 2;
  }
  char *line = NULL;
  size_t cap = 0;
  ssize_t len;
  long number = 0;
  int any_hit = 0, any_error = 0;
  while ((len = getline(&line, &cap, in)) >= 0) {
    number++;
    while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) len--;
    size_t blank = 0;
    while (blank < (size_t)len && (line[blank] == ' ' || line[blank] == '\t')) blank++;
    if (blank == (size_t)len) continue;
    if (!c->json) {
      /* a header, not a copy: a huge query line is shown cut (at a character boundary) */
      size_t shown = (size_t)len;
      if (shown > HEADER_BYTES) {
        shown = HEADER_BYTES;
        while (shown > 0 && ((unsigned char)line[shown] & 0xC0) == 0x80) shown--;
      }
      if (number > 1) fputc('\n', stdout);
      printf("## %ld: %.*s%s\n", number, (int)shown, line, shown < (size_t)len ? "..." : "");
    }
    int st = run_query(c, index, line, (size_t)len, number);
    any_hit |= st == 0;
    any_error |= st == 2;
    fflush(stdout);
  }
  int read_error = ferror(in);
  free(line);
  if (in != stdin) fclose(in);
  if (read_error) {
    fprintf(stderr, "seogo-search: %s: read error\n", c->queries_file);
    return 2;
  }
  return any_error ? 2 : any_hit ? 0 : 1;
}

/* ---- arguments ------------------------------------------------------------------------------- */

static int parse_u32(const char *opt, const char *s, uint32_t *out) {
  char *end;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 10);
  if (!*s || *end || errno || v > UINT32_MAX || s[0] == '-') {
    fprintf(stderr, "seogo-search: %s needs a whole number, not '%s'\n", opt, s);
    return -1;
  }
  *out = (uint32_t)v;
  return 0;
}

static int parse_double(const char *opt, const char *s, double *out) {
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  if (!*s || *end || errno) {
    fprintf(stderr, "seogo-search: %s needs a number, not '%s'\n", opt, s);
    return -1;
  }
  *out = v;
  return 0;
}

static int is(const char *arg, const char *a, const char *b) {
  return strcmp(arg, a) == 0 || (b && strcmp(arg, b) == 0);
}

/* Appends a query word (words are joined by one space). */
static int add_word(char **query, size_t *len, const char *w) {
  size_t n = strlen(w);
  char *q = realloc(*query, *len + n + 2);
  if (!q) return -1;
  if (*len) q[(*len)++] = ' ';
  memcpy(q + *len, w, n);
  *len += n;
  q[*len] = '\0';
  *query = q;
  return 0;
}

/* The flags that take no value; 1 when `a` was one. */
static int parse_flag(const char *a, config *c) {
  if (is(a, "--json", NULL)) c->json = 1;
  else if (is(a, "--group", NULL)) c->opt.group = 1;
  else if (is(a, "--count", NULL)) c->count = 1;
  else if (is(a, "--explain", NULL)) c->explain = c->opt.explain = 1;
  else return 0;
  return 1;
}

/* The options that take a value: 1 when `a` was one (and its value was good), 0 when `a` is
 * no such option, -1 after printing why the value is missing or bad. */
static int parse_valued(const char *a, const char *value, config *c) {
  static const char *const names[][2] = {{"-d", "--index"}, {"-n", "--limit"},
                                         {"--offset", NULL},  {"--queries", NULL},
                                         {"--k1", NULL},      {"--b", NULL},
                                         {"--snippet-chars", NULL}};
  size_t k = 0, n = sizeof names / sizeof names[0];
  while (k < n && !is(a, names[k][0], names[k][1])) k++;
  if (k == n) return 0;
  if (!value) {
    fprintf(stderr, "seogo-search: %s needs a value\n", a);
    return -1;
  }
  int bad = 0;
  switch (k) {
  case 0: c->index_path = value; break;
  case 1: bad = parse_u32(a, value, &c->opt.limit); break;
  case 2: bad = parse_u32(a, value, &c->opt.offset); break;
  case 3: c->queries_file = value; break;
  case 4: bad = parse_double(a, value, &c->opt.k1); break;
  case 5: bad = parse_double(a, value, &c->opt.b); break;
  default: bad = parse_u32(a, value, &c->opt.snippet_chars); break;
  }
  return bad ? -1 : 1;
}

/* Options may stand anywhere before "--". After the first query word an unknown "-x" is a
 * query word (NOT x), so "seogo-search 반도체 -중국" works; "--x" is always an option. */
static int parse_args(int argc, char **argv, config *c, char **query, size_t *qlen) {
  int words = 0, rest = 0;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (rest || a[0] != '-' || a[1] == '\0') {
      if (add_word(query, qlen, a)) return 2;
      words++;
      continue;
    }
    if (is(a, "--", NULL)) {
      rest = 1;
      continue;
    }
    if (is(a, "-h", "--help")) {
      fputs(USAGE, stdout);
      exit(0);
    }
    if (is(a, "--version", NULL)) {
      printf("seogo-search %s\n", seogo_version());
      exit(0);
    }
    if (parse_flag(a, c)) continue;
    int taken = parse_valued(a, i + 1 < argc ? argv[i + 1] : NULL, c);
    if (taken < 0) return 2;
    if (taken) {
      i++;
      continue;
    }
    if (words > 0 && a[1] != '-') { /* "반도체 -중국": NOT 중국 */
      if (add_word(query, qlen, a)) return 2;
      continue;
    }
    fprintf(stderr,
            "seogo-search: unknown option '%s' (put '--' before a query that starts with '-'; "
            "see --help)\n", a);
    return 2;
  }
  return 0;
}

int main(int argc, char **argv) {
  config c = {0};
  seogo_search_options_init(&c.opt);
  char *query = NULL;
  size_t qlen = 0;
  int status = parse_args(argc, argv, &c, &query, &qlen);
  if (status) {
    free(query);
    return status;
  }
  if (!query && !c.queries_file) {
    fputs(USAGE, stderr);
    return 2;
  }
  if (query && c.queries_file) {
    fputs("seogo-search: give either a query or --queries, not both\n", stderr);
    free(query);
    return 2;
  }
  if (!c.index_path) c.index_path = getenv("SEOGO_INDEX");
  if (!c.index_path || !*c.index_path) c.index_path = ".seogo";
  c.bold = isatty(STDOUT_FILENO) && !c.json;
  fault_guard("seogo-search", c.index_path);
  seogo_index *index = NULL;
  seogo_error err = {0};
  if (seogo_open(c.index_path, SEOGO_OPEN_READ, &index, &err)) {
    fprintf(stderr, "seogo-search: %s\n", err.message);
    free(query);
    return 2;
  }
  status = c.queries_file ? run_queries_file(&c, index) : run_query(&c, index, query, qlen, 0);
  seogo_close(index);
  free(query);
  if (fflush(stdout) != 0 || ferror(stdout)) {
    fprintf(stderr, "seogo-search: cannot write the results: %s\n", strerror(errno));
    return 2;
  }
  return status;
}
