/* platform/cpu — hints to the processor, no effect on what the code does.
 * A compiler without the builtin gets a no-op. */
#ifndef TOFU_PLATFORM_CPU_H
#define TOFU_PLATFORM_CPU_H

/* Start loading the cache line at address a, for reading: for a message the
 * caller will touch soon, while it works on another one. */
#if defined(__GNUC__) || defined(__clang__)
#define plat_prefetch(a) __builtin_prefetch(a)
#else
#define plat_prefetch(a) ((void)(a))
#endif

/* The cache line of the processors tofu meets most (x86-64, most ARM64).
 * Fields written by different threads are kept at least this far apart, so
 * that one thread's writes do not take the line from under the other. */
#define PLAT_CACHE_LINE 64

#endif /* TOFU_PLATFORM_CPU_H */
