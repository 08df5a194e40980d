/* alloc-count — a preload library that counts the allocation calls of a
 * whole process (malloc, calloc, realloc, aligned forms), every thread
 * together, and writes the count when the process exits: the measure behind
 * "no allocation per message in steady state" (bench/allocs-per-echo.sh).
 *
 *   LD_PRELOAD=build/bench/bench/libtofu-alloc-count.so prog ...
 *
 * The count goes to the file named by TOFU_ALLOC_COUNT_FILE, or to stderr.
 * glibc only: the real allocator is reached through its __libc_* entry
 * points, which need no dlsym (dlsym itself allocates). */
#define _GNU_SOURCE
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);

static atomic_ullong calls;

void *malloc(size_t n) {
  atomic_fetch_add_explicit(&calls, 1, memory_order_relaxed);
  return __libc_malloc(n);
}

void *calloc(size_t k, size_t n) {
  atomic_fetch_add_explicit(&calls, 1, memory_order_relaxed);
  return __libc_calloc(k, n);
}

void *realloc(void *p, size_t n) {
  atomic_fetch_add_explicit(&calls, 1, memory_order_relaxed);
  return __libc_realloc(p, n);
}

int posix_memalign(void **out, size_t align, size_t n) {
  atomic_fetch_add_explicit(&calls, 1, memory_order_relaxed);
  void *p = __libc_memalign(align, n);
  if (!p && n)
    return 12; /* ENOMEM */
  *out = p;
  return 0;
}

void *aligned_alloc(size_t align, size_t n) {
  atomic_fetch_add_explicit(&calls, 1, memory_order_relaxed);
  return __libc_memalign(align, n);
}

__attribute__((destructor)) static void report(void) {
  unsigned long long n = atomic_load(&calls);
  const char *path = getenv("TOFU_ALLOC_COUNT_FILE");
  FILE *f = path ? fopen(path, "w") : NULL;
  fprintf(f ? f : stderr, "allocs %llu\n", n);
  if (f)
    fclose(f);
}
