/* deadline — see deadline.h. */
#if defined(__linux__)
#define _GNU_SOURCE
#else
#define _POSIX_C_SOURCE 200809L
#endif

#include "deadline.h"

#include <time.h>

static int64_t deadline_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

deadline deadline_start(int timeout_ms) {
  deadline d;
  d.timeout_ms = timeout_ms;
  d.end_ns = timeout_ms > 0 ? deadline_now_ns() + (int64_t)timeout_ms * 1000000 : 0;
  return d;
}

int deadline_next_ms(const deadline *d) {
  if (d->timeout_ms <= 0)
    return d->timeout_ms;
  int64_t left = d->end_ns - deadline_now_ns();
  if (left <= 0)
    return 0;
  return (int)((left + 999999) / 1000000); /* round up */
}
