/* tofu reliability suite — fault injection at two seams, test-only.
 *
 * The seams are link-time (GNU ld --wrap, see CMakeLists.txt), so the library
 * carries no test code and no #ifdef:
 *   - the backend: tofu_poller_backend() returns a wrapping table that
 *     forwards to the real backend's and, when a plan is active, makes wait
 *     return early (as an interrupted call would), adds spurious reports and
 *     holds reports back for a pass;
 *   - the socket shim: net_recv, net_sendv and net_accept fail with
 *     "would block" or "connection reset", or move fewer bytes (down to one);
 *   - allocation (POSIX builds): malloc, calloc and realloc return NULL;
 *   - the platform's primitives: plat_mutex_init, plat_cond_init,
 *     plat_event_open and plat_thread_start fail (TOFU_ESYSTEM) without
 *     making anything (the object is left zeroed); their fini, close
 *     and join are wrapped too, to count what is alive and to catch the
 *     release of an object whose making failed (a failure taken for
 *     success).
 *
 * Faults hit only threads that did not call faults_exempt_thread(): the
 * Reactor threads, never the test's own threads. Every choice is drawn from a
 * seeded generator, so a seed names a run. */
#ifndef TOFU_REL_FAULTS_H
#define TOFU_REL_FAULTS_H

#include <stdint.h>

/* Chances are in parts per thousand of the calls concerned. */
typedef struct fault_plan {
  uint64_t seed;
  unsigned wouldblock; /* recv / sendv / accept: "would block" */
  unsigned shortio;    /* recv / sendv: fewer bytes (half the time one byte) */
  unsigned reset;      /* recv / sendv: connection reset */
  unsigned nomem;      /* malloc / calloc / realloc: NULL */
  unsigned early;      /* wait: return 0 at once, as if interrupted */
  unsigned spurious;   /* wait: report an armed handle (or a wakeup) that is not ready */
  unsigned delay;      /* wait: hold a real report back until the next wait */
  unsigned waitfail;   /* wait: fail (TOFU_ESYSTEM), as a broken poller would */
  unsigned prim;       /* plat_mutex_init / cond_init / event_open / thread_start: fail */
  /* > 0: the schedule instead of chances for allocations and primitives:
   * fail exactly the fail_nth allocation or primitive made (counted from 1
   * since faults_start, over the threads faults can hit), and no other. */
  uint64_t fail_nth;
} fault_plan;

typedef struct fault_counts {
  uint64_t wouldblock, shortio, reset, nomem, early, spurious, delay, waitfail, prim;
} fault_counts;

void faults_start(const fault_plan *p);
void faults_stop(void);

/* The calling thread never sees a fault. */
void faults_exempt_thread(void);

/* On an exempt thread (the case's own): faults hit it too while on, so that
 * the calls it makes of the public API (tofu_engine_create, tofu_get, ...)
 * meet them. Turn it off before asserting: check allocates. */
void faults_subject_thread(int on);

/* Allocations and primitives made (or failed) since faults_start by the
 * threads faults can hit: what fail_nth counts. */
uint64_t faults_setup_calls(void);

/* Mutexes, condition variables, threads and events made and not yet
 * released, by every thread (counted whether or not a plan is active). */
int64_t faults_prims_live(void);

/* NULL, or the first misuse seen of a primitive whose making was failed on
 * purpose since faults_start (released, joined or closed as if made). */
const char *faults_prim_error(void);

/* Timed condition-variable waits (plat_cond_wait_until, wrapped) the
 * calling thread has made so far. */
uint64_t faults_timed_waits_here(void);

/* Faults injected since the last faults_start. */
void faults_counts(fault_counts *out);

/* notify calls made through the wrapping backend since the program started,
 * every engine together (counted whether or not a plan is active). */
uint64_t faults_notify_count(void);

/* Whether allocation failures can be injected in this build. */
int faults_nomem_supported(void);

/* Bytes asked of malloc, calloc and realloc (the new size) so far by the
 * threads that are not exempt (the Reactors), in builds where allocation is
 * wrapped (faults_nomem_supported()); 0 elsewhere. Frees are not counted:
 * the difference over a span is an upper bound on what was allocated in it. */
uint64_t faults_alloc_bytes(void);

/* Bytes held now in blocks from malloc, calloc and realloc (their usable
 * size; free is wrapped too), by every thread but those that asked to be
 * ignored, in the same builds; 0 elsewhere. */
int64_t faults_live_bytes(void);
/* Whether the calling thread's allocations and frees are left out of
 * faults_live_bytes: a case's own thread, whose check assertions allocate
 * inside the check library and free through the wrapper, asks for it while
 * it measures (and must keep no block an engine frees, nor free one of an
 * engine's). */
void faults_live_ignore_thread(int on);

/* Internal to the seams: 1 if a fault of this chance should hit now. */
int faults_roll(unsigned per_mille);
uint32_t faults_rand(void);
const fault_plan *faults_plan(void); /* NULL when no plan is active */
void faults_note_early(void);
void faults_note_spurious(void);
void faults_note_delay(void);
void faults_note_waitfail(void);

/* What reached the kernel, since the last faults_start (faults.c follows the
 * frames of every socket the engines write while a plan is active): 1 if a
 * frame of the Request with this message id was written, wholly or partly. */
int faults_request_written(uint64_t message_id);

/* NULL, or why the written set cannot be trusted (a table overflowed, or a
 * stream stopped making sense as frames). */
const char *faults_accounting_error(void);

#endif /* TOFU_REL_FAULTS_H */
