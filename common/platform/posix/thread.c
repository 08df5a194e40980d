/* platform/posix — platform/thread.h on pthreads. */
#define _POSIX_C_SOURCE 200809L
#include "platform/thread.h"

#include <errno.h>
#include <sched.h>
#include <time.h>

#include "platform/clock.h"
#include "tofu/error.h"

/* The thread reads its function from the plat_thread, which the caller keeps
 * until the join: no allocation, so starting cannot fail for memory. */
static void *thread_main(void *p) {
  plat_thread *t = p;
  t->fn(t->arg);
  return NULL;
}

int plat_thread_start(plat_thread *t, plat_thread_fn fn, void *arg) {
  t->fn = fn;
  t->arg = arg;
  return pthread_create(&t->id, NULL, thread_main, t) == 0 ? TOFU_OK : TOFU_ESYSTEM;
}

void plat_thread_join(plat_thread *t) {
  pthread_join(t->id, NULL);
}

int plat_mutex_init(plat_mutex *m) {
  return pthread_mutex_init(m, NULL) == 0 ? TOFU_OK : TOFU_ESYSTEM;
}

void plat_mutex_fini(plat_mutex *m) {
  pthread_mutex_destroy(m);
}

void plat_mutex_lock(plat_mutex *m) {
  pthread_mutex_lock(m);
}

void plat_mutex_unlock(plat_mutex *m) {
  pthread_mutex_unlock(m);
}

int plat_cond_init(plat_cond *c) {
#if defined(__APPLE__)
  /* macOS has no pthread_condattr_setclock: its condition variables wait on
   * the wall clock, and a deadline is turned into wall-clock time per wait. */
  c->monotonic = 0;
  return pthread_cond_init(&c->cv, NULL) == 0 ? TOFU_OK : TOFU_ESYSTEM;
#else
  pthread_condattr_t attr;
  if (pthread_condattr_init(&attr) != 0)
    return TOFU_ESYSTEM;
  c->monotonic = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC) == 0;
  int rc = pthread_cond_init(&c->cv, &attr);
  pthread_condattr_destroy(&attr);
  return rc == 0 ? TOFU_OK : TOFU_ESYSTEM;
#endif
}

void plat_cond_fini(plat_cond *c) {
  pthread_cond_destroy(&c->cv);
}

void plat_cond_wait(plat_cond *c, plat_mutex *m) {
  pthread_cond_wait(&c->cv, m);
}

int plat_cond_wait_until(plat_cond *c, plat_mutex *m, int64_t deadline_ms) {
  int64_t left = deadline_ms - clock_now_ms();
  if (left <= 0)
    return 0;
  struct timespec ts;
  if (c->monotonic) {
    /* clock_now_ms is CLOCK_MONOTONIC: the deadline is exact. */
    ts.tv_sec = (time_t)(deadline_ms / 1000);
    ts.tv_nsec = (long)(deadline_ms % 1000) * 1000000L;
  } else {
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += (time_t)(left / 1000);
    ts.tv_nsec += (long)(left % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
      ts.tv_sec++;
      ts.tv_nsec -= 1000000000L;
    }
  }
  return pthread_cond_timedwait(&c->cv, m, &ts) != ETIMEDOUT;
}

void plat_cond_signal(plat_cond *c) {
  pthread_cond_signal(&c->cv);
}

void plat_cond_broadcast(plat_cond *c) {
  pthread_cond_broadcast(&c->cv);
}

void plat_sleep_ms(int ms) {
  struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

void plat_thread_yield(void) {
  sched_yield();
}

void plat_once_run(plat_once *once, void (*fn)(void)) {
  pthread_once(once, fn);
}
