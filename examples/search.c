/* search.c - an example program that embeds libseogo: opens an index, runs one query and
 * prints the ranked hits. It uses only the public header seogo.h.
 *
 * Build it against an installed Seogo with pkg-config:
 *     cc -o search search.c $(pkg-config --cflags --libs seogo)
 * or with CMake (see CMakeLists.txt beside this file): find_package(seogo) and seogo::seogo.
 *
 * Run it on an index made by seogo-index:
 *     seogo-index -d /tmp/idx corpus
 *     ./search /tmp/idx '반도체 수출'
 */
#include <seogo.h>

#include <stdio.h>
#include <string.h>

/* Prints bytes [from, to) of the snippet on one line (line breaks become spaces). */
static void print_text(const char *text, size_t from, size_t to) {
  for (size_t i = from; i < to; i++) {
    char c = text[i];
    putchar(c == '\n' || c == '\r' || c == '\t' ? ' ' : c);
  }
}

/* Prints the snippet with each highlighted match between [ and ]. */
static void print_snippet(const seogo_hit *hit) {
  size_t done = 0;
  for (size_t i = 0; i < hit->highlight_count; i++) {
    size_t start = hit->highlights[i].start, end = hit->highlights[i].end;
    if (start < done || end <= start || end > hit->snippet_len) continue;
    print_text(hit->snippet, done, start);
    putchar('[');
    print_text(hit->snippet, start, end);
    putchar(']');
    done = end;
  }
  print_text(hit->snippet, done, hit->snippet_len);
  putchar('\n');
}

static void print_hits(const seogo_results *results) {
  size_t count = seogo_results_count(results);
  /* a top-k search skips passages that cannot make the top without counting them */
  printf("%s%llu matching passages, showing %zu\n",
         seogo_results_total_is_exact(results) ? "" : "at least ",
         (unsigned long long)seogo_results_total(results), count);
  for (size_t i = 0; i < count; i++) {
    const seogo_hit *hit = seogo_results_hit(results, i);
    printf("%zu. %s:%u-%u  score %.3f\n   ", i + 1, hit->path, (unsigned)hit->line_start,
           (unsigned)hit->line_end, hit->score);
    if (hit->snippet) print_snippet(hit);
    else putchar('\n');
  }
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s INDEX QUERY\n", argv[0]);
    return 2;
  }
  seogo_error err = {0};
  seogo_index *index = NULL;
  if (seogo_open(argv[1], SEOGO_OPEN_READ, &index, &err) != SEOGO_OK) {
    fprintf(stderr, "%s: %s\n", argv[1], err.message);
    return 1;
  }

  seogo_search_options options;
  seogo_search_options_init(&options);
  options.limit = 5;

  seogo_results *results = NULL;
  int status = seogo_search(index, argv[2], strlen(argv[2]), &options, &results, &err);
  if (status == SEOGO_OK) {
    print_hits(results);
  } else if (err.column > 0) {
    fprintf(stderr, "query error at column %d: %s\n", err.column, err.message);
  } else {
    fprintf(stderr, "search failed (%s): %s\n", seogo_strerror((seogo_status)status),
            err.message);
  }
  seogo_results_free(results);
  seogo_close(index);
  return status == SEOGO_OK ? 0 : 1;
}
