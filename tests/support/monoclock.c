/* tofu tests — monotonic clock: clock_gettime(CLOCK_MONOTONIC) on POSIX,
 * QueryPerformanceCounter on Windows. */
#ifndef _WIN32
#define _POSIX_C_SOURCE 200809L
#endif

#include "monoclock.h"

#ifdef _WIN32
#include <windows.h>

uint64_t mono_now_ns(void) {
  static LARGE_INTEGER freq;
  LARGE_INTEGER now;
  if (freq.QuadPart == 0)
    QueryPerformanceFrequency(&freq);
  QueryPerformanceCounter(&now);
  /* Split to avoid overflowing 64 bits at high counter frequencies. */
  uint64_t f = (uint64_t)freq.QuadPart, t = (uint64_t)now.QuadPart;
  return t / f * 1000000000u + t % f * 1000000000u / f;
}

void mono_sleep_ms(unsigned ms) {
  Sleep(ms);
}

#else
#include <errno.h>
#include <time.h>

uint64_t mono_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void mono_sleep_ms(unsigned ms) {
  struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}
#endif

uint64_t mono_now_ms(void) {
  return mono_now_ns() / 1000000u;
}
