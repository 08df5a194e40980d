/* platform/win32 — the thread types of platform/thread.h: the native
 * primitives of Windows Vista and later (slim reader/writer locks, condition
 * variables, one-time initialisation), no pthreads emulation. */
#ifndef TOFU_PLATFORM_WIN32_TYPES_H
#define TOFU_PLATFORM_WIN32_TYPES_H

#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <winsock2.h> /* before windows.h, which would pull in winsock 1 */
#include <windows.h>

typedef struct plat_thread {
  HANDLE handle;
  void (*fn)(void *arg);
  void *arg;
} plat_thread;

typedef SRWLOCK plat_mutex;
typedef CONDITION_VARIABLE plat_cond;
typedef INIT_ONCE plat_once;
#define PLAT_ONCE_INIT INIT_ONCE_STATIC_INIT

#endif /* TOFU_PLATFORM_WIN32_TYPES_H */
