/* platform/thread — threads, mutexes, condition variables with timed waits,
 * and once-initialisation: everything the engine needs to share memory
 * between the Reactor and the application threads.
 *
 * One implementation per platform: posix/thread.c (pthreads) and
 * win32/thread.c (SRWLOCK, CONDITION_VARIABLE, _beginthreadex,
 * InitOnceExecuteOnce). The types are the platform's own, declared in the
 * plat_types.h of each platform folder (included below by its path), so that
 * a mutex lives inside the struct that it guards.
 *
 * Locking never fails once a lock is initialised; the calls that can fail
 * return TOFU_OK or TOFU_ESYSTEM. */
#ifndef TOFU_PLATFORM_THREAD_H
#define TOFU_PLATFORM_THREAD_H

#include <stdint.h>

#ifdef _WIN32
#include "win32/plat_types.h"
#else
#include "posix/plat_types.h"
#endif

typedef void (*plat_thread_fn)(void *arg);

/* Start fn(arg) on a new thread; *t must stay in place until the join.
 * TOFU_OK or TOFU_ESYSTEM. */
int plat_thread_start(plat_thread *t, plat_thread_fn fn, void *arg);
/* Wait for the thread to end and release it. */
void plat_thread_join(plat_thread *t);

int plat_mutex_init(plat_mutex *m);
void plat_mutex_fini(plat_mutex *m);
void plat_mutex_lock(plat_mutex *m);
void plat_mutex_unlock(plat_mutex *m);

/* A condition variable whose timed waits measure time on the monotonic clock
 * of platform/clock.h (clock_now_ms), so a change of the wall clock neither
 * shortens nor stretches them. */
int plat_cond_init(plat_cond *c);
void plat_cond_fini(plat_cond *c);
void plat_cond_wait(plat_cond *c, plat_mutex *m);
/* Wait until woken or until clock_now_ms() reaches deadline_ms. Returns 0
 * once the deadline has passed, 1 otherwise (woken, perhaps spuriously: the
 * caller checks its condition either way). */
int plat_cond_wait_until(plat_cond *c, plat_mutex *m, int64_t deadline_ms);
void plat_cond_signal(plat_cond *c);
void plat_cond_broadcast(plat_cond *c);

/* Sleep for at least ms milliseconds (ms > 0). */
void plat_sleep_ms(int ms);

/* Give the processor to another runnable thread, if there is one, and come
 * back as soon as the scheduler allows: a wait that stays runnable for a
 * moment instead of parking (POSIX sched_yield, Windows SwitchToThread).
 * Returns at once when nothing else wants the processor, so a loop of yields
 * must be bounded by its caller. */
void plat_thread_yield(void);

/* Run fn exactly once per plat_once, however many threads call at the same
 * time; every caller returns after fn has returned. Initialise a plat_once
 * with PLAT_ONCE_INIT. */
void plat_once_run(plat_once *once, void (*fn)(void));

#endif /* TOFU_PLATFORM_THREAD_H */
