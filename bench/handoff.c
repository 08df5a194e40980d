/* handoff — what it costs to pass control from one thread to another on
 * the same CPU, three ways (run it under `taskset -c 0`):
 *   futex:        the receiver sleeps in FUTEX_WAIT and is woken with
 *                 FUTEX_WAKE (what a condition variable does at best);
 *   poll+eventfd: the receiver is parked in poll() on an eventfd, as a
 *                 Reactor is, and is woken by a write to it;
 *   yield:        the receiver spins with sched_yield() on a flag, so the
 *                 hand-off is one scheduler switch and no wake-up.
 * Two threads pass a token back and forth N times; the line printed is the
 * round trip and its half, the cost of one hand-off. docs/performance.md
 * uses these to bound pinned pingpong for a shape with four threads on the
 * message path. */
#define _GNU_SOURCE
#include <linux/futex.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

enum { FUTEX, POLL_EVENTFD, YIELD };

static int mode, rounds = 200000;
static atomic_int turn; /* 0: the main thread's, 1: the other's */
static int efd[2];

static void futex_wait(int v) {
  syscall(SYS_futex, &turn, FUTEX_WAIT_PRIVATE, v, NULL, NULL, 0);
}
static void futex_wake(void) {
  syscall(SYS_futex, &turn, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

/* Give the token to `to` (0 or 1). */
static void give(int to) {
  if (mode == POLL_EVENTFD) {
    uint64_t one = 1;
    if (write(efd[to], &one, sizeof one) != (ssize_t)sizeof one)
      exit(1);
    return;
  }
  atomic_store(&turn, to);
  if (mode == FUTEX)
    futex_wake();
}

/* Wait until `me` holds the token. */
static void take(int me) {
  if (mode == POLL_EVENTFD) {
    struct pollfd p = {efd[me], POLLIN, 0};
    uint64_t v;
    if (poll(&p, 1, -1) != 1 || read(efd[me], &v, sizeof v) != (ssize_t)sizeof v)
      exit(1);
    return;
  }
  while (atomic_load(&turn) != me) {
    if (mode == FUTEX)
      futex_wait(!me);
    else
      sched_yield();
  }
}

static void *other(void *arg) {
  (void)arg;
  for (int i = 0; i < rounds; i++) {
    take(1);
    give(0);
  }
  return NULL;
}

static double run(void) {
  atomic_store(&turn, 0);
  pthread_t t;
  if (pthread_create(&t, NULL, other, NULL) != 0)
    exit(1);
  struct timespec s, e;
  clock_gettime(CLOCK_MONOTONIC, &s);
  for (int i = 0; i < rounds; i++) {
    give(1);
    take(0);
  }
  clock_gettime(CLOCK_MONOTONIC, &e);
  pthread_join(t, NULL);
  return ((double)(e.tv_sec - s.tv_sec) * 1e9 + (double)(e.tv_nsec - s.tv_nsec)) / 1e3 / rounds;
}

int main(int argc, char **argv) {
  if (argc > 1)
    rounds = atoi(argv[1]);
  if (rounds <= 0) {
    fprintf(stderr, "usage: %s [ROUNDS] (run it under taskset -c 0)\n", argv[0]);
    return 2;
  }
  efd[0] = eventfd(0, EFD_CLOEXEC);
  efd[1] = eventfd(0, EFD_CLOEXEC);
  if (efd[0] < 0 || efd[1] < 0)
    return 1;
  static const char *names[] = {"futex", "poll+eventfd", "yield"};
  for (mode = FUTEX; mode <= YIELD; mode++) {
    double rt = run();
    printf("%-13s round trip %.2f us, one hand-off %.2f us\n", names[mode], rt, rt / 2);
  }
  return 0;
}
