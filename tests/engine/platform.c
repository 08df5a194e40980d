/* tofu — the engine suite: the platform layer (common/platform/) on its own:
 * once-initialisation under a race, condition-variable deadlines and wakeups,
 * the monotonic clock. The same cases judge the pthreads half (Linux) and
 * the native Win32 half (MinGW build under Wine, MSVC). */
#include <stdatomic.h>

#include "platform/clock.h"
#include "suite.h"

#define ONCE_THREADS 8

static plat_once once_flag = PLAT_ONCE_INIT;
static atomic_int once_runs;
static atomic_int once_go;

static void once_body(void) {
  /* Slow enough that the other threads arrive while it runs. */
  mono_sleep_ms(20);
  atomic_fetch_add(&once_runs, 1);
}

typedef struct once_job {
  int runs_seen; /* once_runs right after plat_once_run returned */
} once_job;

static void once_thread(void *arg) {
  once_job *job = arg;
  while (!atomic_load(&once_go)) {
  }
  plat_once_run(&once_flag, once_body);
  job->runs_seen = atomic_load(&once_runs);
}

void case_platform_once(void) {
  plat_thread t[ONCE_THREADS];
  once_job jobs[ONCE_THREADS];
  for (int i = 0; i < ONCE_THREADS; i++)
    ck_assert_int_eq(plat_thread_start(&t[i], once_thread, &jobs[i]), TOFU_OK);
  atomic_store(&once_go, 1);
  for (int i = 0; i < ONCE_THREADS; i++)
    plat_thread_join(&t[i]);
  int runs = atomic_load(&once_runs);
  ck_assert_int_eq(runs, 1);
  /* Every caller returned only after the body had run. */
  for (int i = 0; i < ONCE_THREADS; i++)
    ck_assert_int_eq(jobs[i].runs_seen, 1);
  plat_once_run(&once_flag, once_body);
  runs = atomic_load(&once_runs);
  ck_assert_int_eq(runs, 1);
}

typedef struct cond_job {
  plat_mutex mu;
  plat_cond cv;
  int flag; /* under mu */
} cond_job;

static void cond_signaller(void *arg) {
  cond_job *job = arg;
  plat_mutex_lock(&job->mu);
  job->flag = 1;
  plat_mutex_unlock(&job->mu);
  plat_cond_signal(&job->cv);
}

void case_platform_cond_deadline(void) {
  cond_job job;
  job.flag = 0;
  ck_assert_int_eq(plat_mutex_init(&job.mu), TOFU_OK);
  ck_assert_int_eq(plat_cond_init(&job.cv), TOFU_OK);

  /* A deadline already passed: 0 at once. */
  plat_mutex_lock(&job.mu);
  ck_assert_int_eq(plat_cond_wait_until(&job.cv, &job.mu, clock_now_ms() - 1), 0);

  /* Nobody signals: the wait ends at the deadline, never before it. */
  int64_t start = clock_now_ms(), deadline = start + 50;
  while (plat_cond_wait_until(&job.cv, &job.mu, deadline)) {
  }
  ck_assert_int_ge(clock_now_ms(), deadline);

  /* A signal ends the wait long before a far deadline. */
  plat_thread t;
  ck_assert_int_eq(plat_thread_start(&t, cond_signaller, &job), TOFU_OK);
  start = clock_now_ms();
  deadline = start + ET_DEADLINE_MS;
  while (!job.flag && plat_cond_wait_until(&job.cv, &job.mu, deadline)) {
  }
  ck_assert_int_eq(job.flag, 1);
  ck_assert_int_lt(clock_now_ms(), deadline);
  plat_mutex_unlock(&job.mu);
  plat_thread_join(&t);
  plat_cond_fini(&job.cv);
  plat_mutex_fini(&job.mu);
}

void case_platform_clock(void) {
  uint64_t t0 = mono_now_ns();
  int64_t prev = clock_now_ms(), first = prev;
  for (int i = 0; i < 100000; i++) {
    int64_t now = clock_now_ms();
    ck_assert_int_ge(now, prev);
    prev = now;
  }
  mono_sleep_ms(30);
  int64_t moved = clock_now_ms() - first;
  /* At least the 30 ms slept (less 1 for whole-millisecond rounding), and no
   * more than the test's own clock saw pass in the same time. */
  ck_assert_int_ge(moved, 29);
  ck_assert_int_le(moved, (int64_t)((mono_now_ns() - t0) / 1000000u) + 2);
}
