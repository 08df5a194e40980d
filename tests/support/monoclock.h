/* tofu tests — a monotonic clock and a plain sleep, portable.
 *
 * Tests measure time only with this clock (never the wall clock) and sleep
 * only to pace a helper thread, never to wait for an event. */
#ifndef TOFU_TEST_MONOCLOCK_H
#define TOFU_TEST_MONOCLOCK_H

#include <stdint.h>

/* Nanoseconds since an arbitrary fixed point; never goes back. */
uint64_t mono_now_ns(void);

/* Milliseconds since the same point. */
uint64_t mono_now_ms(void);

/* Sleep for at least ms milliseconds. */
void mono_sleep_ms(unsigned ms);

#endif /* TOFU_TEST_MONOCLOCK_H */
