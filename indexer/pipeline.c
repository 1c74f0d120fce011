/* pipeline.c - seogo_add_files: analysis threads prepare files a few ahead of the writing
 * thread, which adds them in file order and commits in batches. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base.h"

#define MAX_THREADS 8
/* Files prepared but not yet added, at most: enough that the analysis threads go on while the
 * writing thread commits (a second or so, in which they prepare tens of MB), which a bound of
 * 16 files had stalled. The bytes bound the memory: a waiting document holds its text and
 * postings, a few times its size (its analysis scratch goes back to a pool when it is done). */
#define LOOKAHEAD_FILES 4096
#define LOOKAHEAD_BYTES ((uint64_t)32 << 20)
#define DEFAULT_COMMIT_BYTES ((uint64_t)32 << 20)

typedef struct slot {
  seogo_prepared *doc;
  uint64_t size; /* of the file when the run began: bounds the look-ahead */
  int status, done;
  seogo_error err;
} slot;

typedef struct pipeline {
  seogo_index *index;
  const char *const *paths, *const *names;
  slot *slots;
  size_t n;
  size_t next;     /* next file for an analysis thread */
  size_t consumed; /* files the writing thread has taken */
  uint64_t ahead_bytes;
  int stop;
  pthread_mutex_t lock;
  pthread_cond_t ready, room;
} pipeline;

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int has_room(const pipeline *p) {
  return p->next - p->consumed < LOOKAHEAD_FILES &&
         (p->ahead_bytes < LOOKAHEAD_BYTES || p->next == p->consumed);
}

static void *prepare_ahead(void *arg) {
  pipeline *p = arg;
  pthread_mutex_lock(&p->lock);
  for (;;) {
    while (!p->stop && p->next < p->n && !has_room(p)) pthread_cond_wait(&p->room, &p->lock);
    if (p->stop || p->next >= p->n) break;
    size_t i = p->next++;
    slot *s = &p->slots[i];
    p->ahead_bytes += s->size;
    pthread_mutex_unlock(&p->lock);
    seogo_prepared *doc = NULL;
    const char *name = p->names ? p->names[i] : NULL;
    int status = seogo_prepare_file(p->index, p->paths[i], name, &doc, &s->err);
    pthread_mutex_lock(&p->lock);
    s->doc = doc;
    s->status = status;
    s->done = 1;
    pthread_cond_broadcast(&p->ready);
  }
  pthread_mutex_unlock(&p->lock);
  return NULL;
}

/* Waits for file i to be prepared and takes it. */
static slot *take(pipeline *p, size_t i) {
  pthread_mutex_lock(&p->lock);
  while (!p->slots[i].done) pthread_cond_wait(&p->ready, &p->lock);
  p->consumed = i + 1;
  p->ahead_bytes -= p->slots[i].size;
  pthread_cond_broadcast(&p->room);
  pthread_mutex_unlock(&p->lock);
  return &p->slots[i];
}

/* The file's own errors skip it; anything else is the index failing and stops the run. */
static int skips_file(int status) {
  return status == SEOGO_EIO || status == SEOGO_EBINARY || status == SEOGO_EEMPTY ||
         status == SEOGO_EENCODING || status == SEOGO_ELIMIT;
}

static int thread_count(int wanted) {
  if (wanted <= 0) {
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    wanted = cores < 1 ? 1 : (int)cores;
  }
  return wanted > MAX_THREADS ? MAX_THREADS : wanted;
}

/* Adds the files in order as they come ready, committing in batches. */
static int add_in_order(pipeline *p, const seogo_add_files_options *o, seogo_error *err) {
  uint64_t commit_bytes = o->commit_bytes ? o->commit_bytes : DEFAULT_COMMIT_BYTES;
  double last_commit = now_seconds();
  for (size_t i = 0; i < p->n; i++) {
    slot *s = take(p, i);
    seogo_add_info info;
    int status = s->status;
    if (status == SEOGO_OK) status = seogo_add_prepared(p->index, s->doc, &info, &s->err);
    s->doc = NULL; /* seogo_add_prepared freed it */
    if (status != SEOGO_OK && !skips_file(status)) {
      if (err) *err = s->err;
      return status;
    }
    seogo_file_report report = {i, p->paths[i], status, status ? NULL : &info,
                                status ? &s->err : NULL};
    if (o->on_file && o->on_file(o->ctx, &report)) return SEOGO_OK;
    if (seogo_pending_bytes(p->index) >= commit_bytes ||
        (o->commit_seconds > 0 && now_seconds() - last_commit >= o->commit_seconds)) {
      if ((status = seogo_commit(p->index, err))) return status;
      last_commit = now_seconds();
    }
  }
  return SEOGO_OK;
}

static void stop_threads(pipeline *p, pthread_t *threads, int started) {
  pthread_mutex_lock(&p->lock);
  p->stop = 1;
  pthread_cond_broadcast(&p->room);
  pthread_mutex_unlock(&p->lock);
  for (int k = 0; k < started; k++) pthread_join(threads[k], NULL);
  for (size_t k = 0; k < p->n; k++) seogo_prepared_free(p->slots[k].doc);
}

int seogo_add_files(seogo_index *index, const char *const *paths, const char *const *names,
                    size_t n, const seogo_add_files_options *options, seogo_error *err) {
  static const seogo_add_files_options defaults = {0};
  const seogo_add_files_options *o = options ? options : &defaults;
  if (!index || (n && !paths)) return sg_fail(err, SEOGO_EINVAL, "no index handle or no files");
  if (!n) return SEOGO_OK;
  pipeline p = {.index = index, .paths = paths, .names = names, .n = n};
  if (!(p.slots = calloc(n, sizeof *p.slots))) return sg_fail(err, SEOGO_ENOMEM, "out of memory");
  for (size_t i = 0; i < n; i++) {
    struct stat st;
    p.slots[i].size = stat(paths[i], &st) == 0 ? (uint64_t)st.st_size : 0;
  }
  pthread_mutex_init(&p.lock, NULL);
  pthread_cond_init(&p.ready, NULL);
  pthread_cond_init(&p.room, NULL);
  pthread_t threads[MAX_THREADS];
  int started = 0, wanted = thread_count(o->threads), status;
  while (started < wanted && pthread_create(&threads[started], NULL, prepare_ahead, &p) == 0)
    started++;
  if (started)
    status = add_in_order(&p, o, err);
  else
    status = sg_fail(err, SEOGO_ENOMEM, "cannot start an analysis thread");
  stop_threads(&p, threads, started);
  pthread_mutex_destroy(&p.lock);
  pthread_cond_destroy(&p.ready);
  pthread_cond_destroy(&p.room);
  free(p.slots);
  return status;
}
