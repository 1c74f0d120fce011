/* index.h - the seogo_index handle shared by the reading and writing halves of the library. */
#ifndef SEOGO_INDEX_H
#define SEOGO_INDEX_H

#include <pthread.h>

#include "analyzer.h"
#include "format.h"

typedef struct sg_writer sg_writer;             /* writer.c */
typedef struct sg_prep_scratch sg_prep_scratch; /* batch.h */

#define SG_ANALYZER_POOL 16

struct seogo_index {
  sg_store *store;
  sg_writer *writer; /* NULL on a read-only handle */
  pthread_mutex_t pool_lock;
  sg_analyzer *pool[SG_ANALYZER_POOL]; /* idle analyzers, reused across searches */
  int pool_count;
  sg_prep_scratch *scratch[SG_ANALYZER_POOL]; /* idle analysis scratch, lent per document */
  int scratch_count;
};

/* Borrows an analyzer (ICU iterators are not thread-safe, so each concurrent caller needs its
 * own); returns it with sg_index_release_analyzer. */
int sg_index_borrow_analyzer(seogo_index *index, sg_analyzer **out, seogo_error *err);
void sg_index_release_analyzer(seogo_index *index, sg_analyzer *a);

/* Lends an analysis scratch for one document (NULL when memory runs out); return it with
 * sg_index_release_scratch. */
sg_prep_scratch *sg_index_borrow_scratch(seogo_index *index);
void sg_index_release_scratch(seogo_index *index, sg_prep_scratch *s);

#endif /* SEOGO_INDEX_H */
