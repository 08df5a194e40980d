/* tofu_assert — checks of the library's own invariants (a channel's state
 * machine, the Reactor's lists), never of input from the network or the
 * application, which gets an error value instead. Compiled out when NDEBUG
 * is defined (CMake's Release and RelWithDebInfo builds). */
#ifndef TOFU_ASSERT_H
#define TOFU_ASSERT_H

/* Print where an invariant broke, then abort. */
void tofu_assert_failed(const char *cond, const char *file, int line);

#ifdef NDEBUG
#define TOFU_ASSERT(cond) ((void)0)
#else
#define TOFU_ASSERT(cond) ((cond) ? (void)0 : tofu_assert_failed(#cond, __FILE__, __LINE__))
#endif

#endif /* TOFU_ASSERT_H */
