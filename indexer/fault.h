/* fault.h - the programs' handler for SIGSEGV and SIGBUS, which LMDB can raise when the pages
 * of a damaged index send it astray (LMDB 0.9 keeps no page checksums, so not every damage can
 * be seen before it is followed), and for SIGABRT, which its assertions raise when they notice
 * a page that is not what it should be. Included by seogo-index.c and seogo-search.c only; the
 * library itself never touches signals.
 *
 * Dying there is safe for the index, which is why the handler only says so and exits: the
 * store opens LMDB without MDB_WRITEMAP (indexer/store.c, env_open), so a write transaction's
 * pages reach data.mdb only inside mdb_txn_commit, and become what readers see only when the
 * meta page is written last. A process that dies while reading pages, as here, has changed
 * nothing since the last commit; its writer locks (flock on LOCK, LMDB's robust mutex) are
 * released by its death. The handler calls nothing but write(2) and _exit(2), which are
 * async-signal-safe: the message is prepared before the index is opened, and stdio buffers,
 * atexit handlers and a heap that may be damaged too are left alone. */
#ifndef SEOGO_FAULT_H
#define SEOGO_FAULT_H

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* The exit status of a program stopped by the handler (documented in each program's --help). */
#define FAULT_EXIT_STATUS 3

static char fault_message[1024];
static size_t fault_message_len;
static volatile sig_atomic_t fault_status = FAULT_EXIT_STATUS;

static void on_fault(int sig) {
  (void)sig;
  ssize_t written = write(STDERR_FILENO, fault_message, fault_message_len);
  (void)written; /* nothing more can be done about a failed write here */
  _exit(fault_status);
}

/* Prepares the handler's message: "PROGRAM: the index at INDEX is damaged (WHY); ...". */
static inline void fault_prepare(const char *program, const char *index_dir, const char *why) {
  int n = snprintf(fault_message, sizeof fault_message,
                   "%s: the index at %s is damaged (%s); nothing was changed since its last "
                   "commit; run seogo-index --rebuild PATH... to rebuild it\n",
                   program, index_dir, why);
  if (n < 0) return;
  fault_message_len = (size_t)n < sizeof fault_message ? (size_t)n : sizeof fault_message - 1;
  fault_message[fault_message_len - 1] = '\n';
}

/* The usual message and status: a crash while reading or updating the index. */
static inline void fault_reading(const char *program, const char *index_dir) {
  fault_prepare(program, index_dir, "crashed while reading it");
  fault_status = FAULT_EXIT_STATUS;
}

/* While seogo-index --check walks every page: a crash there is the check's finding (LMDB
 * followed a damaged page), reported with --check's status for a damaged index. */
static inline void fault_checking(const char *program, const char *index_dir, int status) {
  fault_prepare(program, index_dir, "LMDB crashed following its pages during the check");
  fault_status = status;
}

/* Installs the handler for `program` reading the index at `index_dir`. In the main thread the
 * handler runs on an alternate stack, so that it runs whatever state the thread's stack is in. */
static inline void fault_guard(const char *program, const char *index_dir) {
  static char stack[1 << 16];
  fault_reading(program, index_dir);
  stack_t ss;
  memset(&ss, 0, sizeof ss);
  ss.ss_sp = stack;
  ss.ss_size = sizeof stack;
  sigaltstack(&ss, NULL);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_fault;
  sa.sa_flags = SA_ONSTACK;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGSEGV, &sa, NULL);
  sigaction(SIGBUS, &sa, NULL);
  sigaction(SIGABRT, &sa, NULL); /* after LMDB's "Assertion ... failed" message */
}

#endif /* SEOGO_FAULT_H */
