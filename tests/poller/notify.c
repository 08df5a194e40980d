/* tofu — poller suite: notify and the wakeups it produces. */
#include "suite.h"

#include <stdatomic.h>
#include <string.h>

/* Count the wakeups in ev[0..n) and check their shape. */
static int count_wakeups(const tofu_poll_event *ev, int n) {
  int w = 0;
  for (int i = 0; i < n; i++) {
    if (ev[i].events & TOFU_POLL_WAKEUP) {
      PT_ASSERT_BITS(ev[i].events, TOFU_POLL_WAKEUP);
      ck_assert_ptr_null(ev[i].token);
      w++;
    }
  }
  return w;
}

static void notify_ok(tofu_poller *p) {
  int rc = PT_OPS->notify(p);
  ck_assert_msg(rc == TOFU_OK, "notify: %s", tofu_strerror(rc));
}

void case_notify_before_wait(void) {
  tofu_poller *p = pt_open();
  tofu_poll_event ev[4];
  notify_ok(p);
  uint64_t t0 = mono_now_ms();
  int n = pt_wait(p, ev, 4, PT_DEADLINE_MS);
  ck_assert_msg(mono_now_ms() - t0 < 1000, "wait after notify took %u ms",
                (unsigned)(mono_now_ms() - t0));
  ck_assert_int_eq(n, 1);
  ck_assert_int_eq(count_wakeups(ev, n), 1);
  /* Consumed: the next wait times out. */
  pt_expect_none(p, PT_QUIET_MS);
  /* Also with a wait that would never time out. */
  notify_ok(p);
  ck_assert_int_eq(pt_wait(p, ev, 4, -1), 1);
  ck_assert_int_eq(count_wakeups(ev, 1), 1);
  PT_OPS->close(p);
}

void case_notify_coalesces(void) {
  tofu_poller *p = pt_open();
  tofu_poll_event ev[8];
  for (int round = 0; round < 3; round++) {
    for (int i = 0; i < 1000; i++)
      notify_ok(p);
    int n = pt_wait(p, ev, 8, PT_DEADLINE_MS);
    ck_assert_int_eq(n, 1);
    ck_assert_int_eq(count_wakeups(ev, n), 1);
    pt_expect_none(p, PT_QUIET_MS);
  }
  PT_OPS->close(p);
}

typedef struct notify_job {
  tofu_poller *p;
  unsigned pause_ms;
  atomic_int rc;
} notify_job;

static void notify_later(void *arg) {
  notify_job *job = arg;
  mono_sleep_ms(job->pause_ms); /* so that the waiter is likely blocked */
  atomic_store(&job->rc, PT_OPS->notify(job->p));
}

void case_notify_while_blocked(void) {
  pt_fixture f;
  pt_setup(&f, PAIR_TCP, PT_REG_A);
  pt_arm(f.p, f.ha, PT_R); /* armed, never ready: the wait truly blocks */
  for (int round = 0; round < 3; round++) {
    notify_job job;
    job.p = f.p;
    job.pause_ms = 20;
    atomic_init(&job.rc, 1);
    plat_thread t;
    ck_assert_int_eq(plat_thread_start(&t, notify_later, &job), TOFU_OK);
    tofu_poll_event ev[4];
    int n = pt_wait(f.p, ev, 4, -1);
    plat_thread_join(&t);
    ck_assert_int_eq(atomic_load(&job.rc), TOFU_OK);
    ck_assert_int_eq(n, 1);
    ck_assert_int_eq(count_wakeups(ev, n), 1);
  }
  pt_teardown(&f);
}

void case_notify_again_after_wakeup(void) {
  tofu_poller *p = pt_open();
  tofu_poll_event ev[4];
  for (int i = 0; i < 200; i++) {
    notify_ok(p);
    int n = pt_wait(p, ev, 4, PT_DEADLINE_MS);
    ck_assert_msg(n == 1 && count_wakeups(ev, n) == 1, "round %d: %d events instead of a wakeup", i,
                  n);
  }
  pt_expect_none(p, PT_QUIET_MS);
  PT_OPS->close(p);
}

#define NOTIFY_THREADS 8
#define NOTIFY_PER_THREAD 2000

typedef struct notify_storm {
  tofu_poller *p;
  atomic_int go;
  atomic_long counted; /* incremented just before each notify */
  atomic_int failures;
} notify_storm;

static void notify_storm_thread(void *arg) {
  notify_storm *st = arg;
  while (!atomic_load(&st->go)) {
  }
  for (int i = 0; i < NOTIFY_PER_THREAD; i++) {
    atomic_fetch_add(&st->counted, 1);
    if (PT_OPS->notify(st->p) != TOFU_OK)
      atomic_fetch_add(&st->failures, 1);
  }
}

void case_notify_many_threads(void) {
  const long total = (long)NOTIFY_THREADS * NOTIFY_PER_THREAD;
  notify_storm st;
  st.p = pt_open();
  atomic_init(&st.go, 0);
  atomic_init(&st.counted, 0);
  atomic_init(&st.failures, 0);
  plat_thread t[NOTIFY_THREADS];
  for (int i = 0; i < NOTIFY_THREADS; i++)
    ck_assert_int_eq(plat_thread_start(&t[i], notify_storm_thread, &st), TOFU_OK);
  atomic_store(&st.go, 1);

  /* covered: every notify counted before the last wakeup's return was read.
   * A notify counted after that read was made after that wait returned, so
   * it must bring another wakeup: else it was lost. */
  long covered = 0;
  long wakeups = 0;
  int lost = 0;
  /* Done when every notify was counted before a wakeup's return was read.
   * (Waiting for the threads to finish as well would wait, after the last
   * wakeup, for one that nobody owes, and report it lost.) */
  while (covered != total) {
    tofu_poll_event ev[8];
    int n = pt_wait(st.p, ev, 8, PT_DEADLINE_MS);
    if (n == 0) {
      lost = 1;
      break;
    }
    ck_assert_int_eq(count_wakeups(ev, n), 1); /* coalesced: one per wait */
    ck_assert_int_eq(n, 1);
    covered = atomic_load(&st.counted);
    wakeups++;
  }
  for (int i = 0; i < NOTIFY_THREADS; i++)
    plat_thread_join(&t[i]);
  ck_assert_int_eq(atomic_load(&st.failures), 0);
  ck_assert_msg(!lost,
                "wakeup lost: %ld of %ld notifies covered by a wakeup, none came in %d ms "
                "(%ld wakeups)",
                covered, total, PT_DEADLINE_MS, wakeups);

  /* Notifies counted before the last read may still owe one wakeup (their
   * notify call came after the wait returned); never more than one. */
  tofu_poll_event ev[8];
  int n = pt_wait(st.p, ev, 8, PT_QUIET_MS);
  ck_assert_int_eq(count_wakeups(ev, n), n);
  ck_assert_int_le(n, 1);
  pt_expect_none(st.p, PT_QUIET_MS); /* never stale */
  /* And it still works. */
  notify_ok(st.p);
  ck_assert_int_eq(pt_wait(st.p, ev, 8, PT_DEADLINE_MS), 1);
  ck_assert_int_eq(count_wakeups(ev, 1), 1);
  PT_OPS->close(st.p);
}

void case_notify_with_events(void) {
  pt_fixture f;
  pt_setup(&f, PAIR_TCP, PT_REG_A);
  tofu_poller *p = f.p;
  tofu_poll_handle *h = f.ha;
  tofu_poll_event ev[8];

  /* A ready handle and a notify: the next wait reports both. */
  pt_arm(p, h, PT_W);
  notify_ok(p);
  int n = pt_wait(p, ev, 8, PT_DEADLINE_MS);
  ck_assert_msg(n == 2, "expected a wakeup and a socket event in one wait, got %d events", n);
  ck_assert_int_eq(count_wakeups(ev, n), 1);
  for (int i = 0; i < n; i++)
    if (!(ev[i].events & TOFU_POLL_WAKEUP)) {
      ck_assert_ptr_eq(ev[i].token, PT_TOKEN(1));
      PT_ASSERT_BITS(ev[i].events, PT_W);
    }

  /* With room for one event only, neither is lost: the other comes next. */
  pt_arm(p, h, PT_W);
  notify_ok(p);
  int wakeups = 0, socket_events = 0;
  for (int i = 0; i < 2; i++) {
    n = pt_wait(p, ev, 1, PT_DEADLINE_MS);
    ck_assert_int_eq(n, 1);
    if (ev[0].events & TOFU_POLL_WAKEUP) {
      wakeups += count_wakeups(ev, 1);
    } else {
      ck_assert_ptr_eq(ev[0].token, PT_TOKEN(1));
      PT_ASSERT_BITS(ev[0].events, PT_W);
      socket_events++;
    }
  }
  ck_assert_int_eq(wakeups, 1);
  ck_assert_int_eq(socket_events, 1);
  pt_expect_none(p, PT_QUIET_MS);

  pt_teardown(&f);
}
