/* platform/posix — the thread types of platform/thread.h: pthreads. Only the
 * types are needed here, and <pthread.h> declares them whatever feature
 * macros the including file chose. */
#ifndef TOFU_PLATFORM_POSIX_TYPES_H
#define TOFU_PLATFORM_POSIX_TYPES_H

#include <pthread.h>

typedef struct plat_thread {
  pthread_t id;
  void (*fn)(void *arg);
  void *arg;
} plat_thread;

typedef pthread_mutex_t plat_mutex;

typedef struct plat_cond {
  pthread_cond_t cv;
  int monotonic; /* cv waits on CLOCK_MONOTONIC (else on CLOCK_REALTIME) */
} plat_cond;

typedef pthread_once_t plat_once;
#define PLAT_ONCE_INIT PTHREAD_ONCE_INIT

#endif /* TOFU_PLATFORM_POSIX_TYPES_H */
