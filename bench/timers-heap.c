/* timers-heap — what the Reactor's timer heap (common/timers.c) costs per
 * operation, at 10,000 and 100,000 entries:
 *   add:     N entries with random deadlines into an empty heap;
 *   pop:     all N out again, nearest first;
 *   churn:   a heap of N, one pop and one add per step (a deadline fires and
 *            another is set);
 *   cancel:  N entries removed by position in random order (what a channel's
 *            close does), the storage shrinking as the heap empties.
 * Each entry has a back-reference (an index kept up to date by the heap), as
 * a channel's entries do. Run it a few times; docs/engine.md ("Timers")
 * quotes it. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "timers.h"

static double now_ns(void) {
  struct timespec ts;
  timespec_get(&ts, TIME_UTC);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static uint64_t rng = 88172645463325252ull;
static uint32_t rnd(void) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return (uint32_t)rng;
}

static timer_entry entry(int64_t due, size_t *at) {
  timer_entry e = {.due_ms = due, .at = at, .kind = TIMER_CONNECT, .of.channel = {1, 1}};
  return e;
}

static void run(size_t n) {
  timers t;
  size_t *at = malloc(n * sizeof *at); /* the owners' back-references */
  size_t *order = malloc(n * sizeof *order);
  if (!at || !order)
    exit(1);
  for (size_t i = 0; i < n; i++)
    at[i] = TIMERS_NONE;
  timers_init(&t);

  double t0 = now_ns();
  for (size_t i = 0; i < n; i++) {
    timer_entry e = entry(rnd() % 600000, &at[i]);
    if (timers_add(&t, &e) != 0)
      exit(1);
  }
  double add = (now_ns() - t0) / (double)n;

  timer_entry out;
  t0 = now_ns();
  while (timers_pop_due(&t, INT64_MAX, &out))
    ;
  double pop = (now_ns() - t0) / (double)n;

  for (size_t i = 0; i < n; i++) {
    timer_entry e = entry(rnd() % 600000, &at[i]);
    (void)timers_add(&t, &e);
  }
  size_t steps = 1000000;
  int64_t clock = 0;
  t0 = now_ns();
  for (size_t s = 0; s < steps; s++) {
    clock = t.v[0].due_ms;
    (void)timers_pop_due(&t, clock, &out);
    timer_entry e = entry(clock + 1 + rnd() % 600000, out.at);
    (void)timers_add(&t, &e);
  }
  double churn = (now_ns() - t0) / (double)steps;

  for (size_t i = 0; i < n; i++)
    order[i] = i;
  for (size_t i = n; i > 1; i--) {
    size_t j = rnd() % i, x = order[i - 1];
    order[i - 1] = order[j];
    order[j] = x;
  }
  size_t cap_full = t.cap;
  t0 = now_ns();
  for (size_t i = 0; i < n; i++)
    timers_cancel(&t, &at[order[i]]);
  double cancel = (now_ns() - t0) / (double)n;
  printf("%7zu entries: add %5.1f ns, pop %5.1f ns, churn (pop+add) %5.1f ns, cancel %5.1f ns; "
         "capacity %zu full, %zu empty\n",
         n, add, pop, churn, cancel, cap_full, t.cap);
  timers_fini(&t);
  free(at);
  free(order);
}

int main(void) {
  run(10000);
  run(100000);
  return 0;
}
