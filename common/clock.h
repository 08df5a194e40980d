/* clock — monotonic milliseconds, and absolute deadlines for condition
 * waits. */
#ifndef TOFU_CLOCK_H
#define TOFU_CLOCK_H

#include <stdint.h>
#include <time.h>

/* Milliseconds of a monotonic clock. */
int64_t clock_now_ms(void);

/* The absolute time timeout_ms from now on the given clock, for
 * pthread_cond_timedwait. */
struct timespec clock_deadline(clockid_t clk, int timeout_ms);

#endif /* TOFU_CLOCK_H */
