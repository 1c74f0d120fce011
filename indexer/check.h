/* check.h - the contract between check.c (seogo_check) and pages.c (the walk of LMDB's own
 * page structure that runs before it). */
#ifndef SEOGO_CHECK_H
#define SEOGO_CHECK_H

#include <stdint.h>

#include "format.h"

/* Called for each damaged page: the table whose tree holds it ("" for LMDB's meta pages and
 * main tree), the page number and what is wrong. A nonzero return stops the walk. */
typedef int (*sg_page_problem_fn)(void *ctx, const char *table, uint64_t pgno,
                                  const char *message);

/* Reads the B-trees of the snapshot of `txn` from data.mdb with pread (never through LMDB's
 * map), checking every branch, leaf and overflow page that LMDB would follow: page numbers
 * within the file and matching the page, headers, node offsets and sizes within the page, the
 * same depth for every leaf, no page reached twice. LMDB keeps no checksums and trusts these,
 * so a cursor walk over a damaged page can crash; after this walk reports nothing, it cannot
 * (keys out of order only give wrong answers). *damaged is set when a page was reported.
 * Errors: SEOGO_EIO (data.mdb unreadable), SEOGO_ENOMEM; the damage itself is not an error. */
int sg_check_pages(sg_store *s, MDB_txn *txn, sg_page_problem_fn fn, void *ctx, int *damaged,
                   seogo_error *err);

#endif /* SEOGO_CHECK_H */
