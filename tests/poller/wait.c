/* tofu — poller suite: wait timeouts, interrupted waits, event arrays smaller
 * than the ready set. */
#ifndef _WIN32
#define _POSIX_C_SOURCE 200809L
#endif

#include "suite.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#ifndef _WIN32
#include <pthread.h>
#include <signal.h>
#endif

/* Generous: a loaded machine (valgrind, Wine) may oversleep, never undersleep. */
#define WAIT_SLACK_MS 2000

/* One wait of timeout_ms that must report nothing and must not return early. */
static void wait_nothing_for(tofu_poller *p, int timeout_ms) {
  tofu_poll_event ev[4];
  memset(ev, 0, sizeof ev);
  uint64_t t0 = mono_now_ns();
  int n = pt_wait(p, ev, 4, timeout_ms);
  uint64_t elapsed = mono_now_ns() - t0;
  ck_assert_msg(n == 0, "wait(%d ms) reported %d events (first %s)", timeout_ms, n,
                pt_bits(ev[0].events));
  ck_assert_msg(elapsed >= (uint64_t)timeout_ms * 1000000u,
                "wait(%d ms) returned 0 after only %.3f ms", timeout_ms, (double)elapsed / 1e6);
  ck_assert_msg(elapsed < (uint64_t)(timeout_ms + WAIT_SLACK_MS) * 1000000u,
                "wait(%d ms) took %.3f ms", timeout_ms, (double)elapsed / 1e6);
}

void case_wait_timeout_empty(void) {
  tofu_poller *p = pt_open();
  const int timeouts[] = {1, 5, 20, 150};
  for (size_t i = 0; i < sizeof timeouts / sizeof timeouts[0]; i++)
    wait_nothing_for(p, timeouts[i]);
  PT_OPS->close(p);
}

void case_wait_timeout_unready(void) {
  pt_fixture f;
  pt_setup(&f, PAIR_TCP, PT_REG_A | PT_REG_B | PT_REG_C);
  /* Armed for reading, nothing to read. */
  pt_arm(f.p, f.ha, PT_R);
  /* Ready (data, writable), reported once, not armed again. */
  pt_make_readable(f.p, f.hc, PT_TOKEN(3), f.d, "x", 1);
  /* Armed, reported, not re-armed. */
  pt_arm(f.p, f.hb, PT_W);
  PT_ASSERT_BITS(pt_expect(f.p, PT_TOKEN(2), PT_DEADLINE_MS), PT_W);

  wait_nothing_for(f.p, 150);
  wait_nothing_for(f.p, 20);

  pt_teardown(&f);
}

/* wait(0) must come back at once: well under this. */
#define WAIT_AT_ONCE_MS 200

void case_wait_zero_timeout_empty(void) {
  pt_fixture f;
  pt_setup(&f, PAIR_TCP, 0);
  tofu_poll_event ev[4];
  for (int round = 0; round < 2; round++) {
    /* Round 0: nothing registered; round 1: a handle armed, not ready. */
    for (int i = 0; i < 100; i++) {
      uint64_t t0 = mono_now_ms();
      ck_assert_int_eq(pt_wait(f.p, ev, 4, 0), 0);
      ck_assert_msg(mono_now_ms() - t0 < WAIT_AT_ONCE_MS, "wait(0) took %u ms",
                    (unsigned)(mono_now_ms() - t0));
    }
    if (round == 0)
      pt_arm(f.p, pt_register(f.p, f.a, PT_TOKEN(1)), PT_R); /* not in f: left registered */
  }
  pt_teardown(&f); /* its close releases the handle still registered */
}

void case_wait_zero_timeout_ready(void) {
  pt_fixture f;
  pt_setup(&f, PAIR_TCP, PT_REG_A | PT_REG_B);
  pt_make_readable(f.p, f.hb, PT_TOKEN(2), f.a, "x", 1);
  pt_arm(f.p, f.ha, PT_W); /* an idle connected socket is writable */
  pt_arm(f.p, f.hb, PT_R); /* its data has arrived */

  tofu_poll_event ev[4];
  uint64_t t0 = mono_now_ms();
  int n = pt_wait(f.p, ev, 4, 0);
  ck_assert_msg(mono_now_ms() - t0 < WAIT_AT_ONCE_MS, "wait(0) took %u ms",
                (unsigned)(mono_now_ms() - t0));
  ck_assert_msg(n == 2, "wait(0) with two ready handles armed reported %d events", n);
  for (int i = 0; i < n; i++) {
    if (ev[i].token == PT_TOKEN(1))
      PT_ASSERT_BITS(ev[i].events, PT_W);
    else if (ev[i].token == PT_TOKEN(2))
      PT_ASSERT_BITS(ev[i].events, PT_R);
    else
      ck_abort_msg("event for an unknown token %p", ev[i].token);
  }
  ck_assert_ptr_ne(ev[0].token, ev[1].token);
  ck_assert_int_eq(pt_wait(f.p, ev, 4, 0), 0);

  pt_teardown(&f);
}

#ifndef _WIN32
static volatile sig_atomic_t eintr_signals;

static void eintr_handler(int sig) {
  (void)sig;
  eintr_signals++;
}

typedef struct eintr_job {
  pthread_t target;
  atomic_int stop;
} eintr_job;

/* Signal the waiting thread a few times while its 300 ms wait runs. */
static void *eintr_signaller(void *arg) {
  eintr_job *job = arg;
  for (int i = 0; i < 4 && !atomic_load(&job->stop); i++) {
    mono_sleep_ms(50);
    pthread_kill(job->target, SIGUSR1);
  }
  return NULL;
}
#endif

void case_eintr_retried(void) {
#ifdef _WIN32
  ck_abort_msg("needs POSIX signals; the runner skips it on Windows");
#else
  struct sigaction sa, old;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = eintr_handler;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0; /* no SA_RESTART: the signal interrupts poll() with EINTR */
  ck_assert_int_eq(sigaction(SIGUSR1, &sa, &old), 0);

  tofu_poller *p = pt_open();
  eintr_signals = 0;
  eintr_job job;
  job.target = pthread_self();
  atomic_init(&job.stop, 0);
  pthread_t t;
  ck_assert_int_eq(pthread_create(&t, NULL, eintr_signaller, &job), 0);

  tofu_poll_event ev[4];
  uint64_t t0 = mono_now_ns();
  int n = PT_OPS->wait(p, ev, 4, 300);
  uint64_t elapsed = mono_now_ns() - t0;
  atomic_store(&job.stop, 1);
  pthread_join(t, NULL);
  sigaction(SIGUSR1, &old, NULL);
  PT_OPS->close(p);

  ck_assert_msg(eintr_signals > 0, "no signal was delivered during the wait");
  ck_assert_msg(n == 0, "wait interrupted by %d signals returned %d (%s)", (int)eintr_signals, n,
                n < 0 ? tofu_strerror(n) : "events");
  ck_assert_msg(elapsed >= 300u * 1000000u, "wait(300 ms) returned after %.3f ms",
                (double)elapsed / 1e6);
  ck_assert_msg(elapsed < (300u + WAIT_SLACK_MS) * 1000000u, "wait(300 ms) took %.3f ms",
                (double)elapsed / 1e6);
#endif
}

#define MAXEV_PAIRS 10
#define MAXEV_MAX 3

void case_max_events_smaller_than_ready(void) {
  tofu_socket a[MAXEV_PAIRS], b[MAXEV_PAIRS];
  tofu_poll_handle *h[MAXEV_PAIRS];
  int seen[MAXEV_PAIRS] = {0};
  tofu_poller *p = pt_open();
  for (int i = 0; i < MAXEV_PAIRS; i++) {
    pt_pair(PAIR_TCP, &a[i], &b[i]);
    h[i] = pt_register(p, a[i], PT_TOKEN(i + 1));
    pt_arm(p, h[i], PT_W);
  }

  int total = 0;
  uint64_t deadline = mono_now_ms() + PT_DEADLINE_MS;
  while (total < MAXEV_PAIRS && mono_now_ms() < deadline) {
    tofu_poll_event ev[MAXEV_MAX + 1];
    ev[MAXEV_MAX].token = PT_TOKEN(0xdead);
    ev[MAXEV_MAX].events = 0xdead;
    int n = pt_wait(p, ev, MAXEV_MAX, 100);
    ck_assert_msg(ev[MAXEV_MAX].token == PT_TOKEN(0xdead) && ev[MAXEV_MAX].events == 0xdead,
                  "wait wrote past max");
    for (int k = 0; k < n; k++) {
      uintptr_t id = (uintptr_t)ev[k].token;
      ck_assert_msg(id >= 1 && id <= MAXEV_PAIRS, "unknown token %p", ev[k].token);
      ck_assert_msg(!seen[id - 1], "handle %u reported twice for one arm", (unsigned)id);
      PT_ASSERT_BITS(ev[k].events, PT_W);
      seen[id - 1] = 1;
      total++;
    }
  }
  ck_assert_msg(total == MAXEV_PAIRS, "%d of %d ready handles reported", total, MAXEV_PAIRS);
  pt_expect_none(p, PT_QUIET_MS);

  for (int i = 0; i < MAXEV_PAIRS; i++) {
    pt_deregister(p, h[i]);
    pair_close(a[i], b[i]);
  }
  PT_OPS->close(p);
}
