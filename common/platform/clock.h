/* platform/clock — the monotonic clock every deadline of the engine is
 * measured on (timers, connect timeouts, receive timeouts).
 * posix/clock.c: clock_gettime(CLOCK_MONOTONIC); win32/clock.c:
 * QueryPerformanceCounter. */
#ifndef TOFU_PLATFORM_CLOCK_H
#define TOFU_PLATFORM_CLOCK_H

#include <stdint.h>

/* Milliseconds since an arbitrary fixed point; never goes back. */
int64_t clock_now_ms(void);

#endif /* TOFU_PLATFORM_CLOCK_H */
