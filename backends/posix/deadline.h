/* deadline — the time limit of one wait, as the contract has it
 * (tofu/poller.h): timeout_ms -1 waits without limit, 0 only collects what is
 * ready, > 0 never returns empty before that time has passed. A wait that
 * comes back early with nothing to report (interrupted, an edge nobody armed
 * for, or woken a little early by the clock's rounding) asks deadline_next_ms
 * how long to wait again. */
#ifndef TOFU_POSIX_DEADLINE_H
#define TOFU_POSIX_DEADLINE_H

#include <stdint.h>

typedef struct deadline {
  int timeout_ms; /* as given to wait */
  int64_t end_ns; /* on the monotonic clock, when timeout_ms > 0 */
} deadline;

/* Start the clock of a wait with timeout_ms (-1, 0 or more). Reads the clock
 * only for a positive timeout. */
deadline deadline_start(int timeout_ms);

/* How long the next wait may block: -1 (no limit), or what is left, in
 * milliseconds rounded up, so that a wait never ends before the deadline.
 * 0 means the time is up (at once for a zero timeout): return what there is. */
int deadline_next_ms(const deadline *d);

#endif /* TOFU_POSIX_DEADLINE_H */
