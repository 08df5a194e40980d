/* platform/win32 — platform/thread.h on the native primitives: SRWLOCK,
 * CONDITION_VARIABLE, _beginthreadex and InitOnceExecuteOnce. */
#include "platform/thread.h"

#include <process.h>
#include <string.h>

#include "platform/clock.h"
#include "tofu/error.h"

/* _beginthreadex rather than CreateThread: the thread calls the C runtime
 * (malloc, memcpy), whose per-thread state this sets up and releases. */
static unsigned __stdcall thread_main(void *p) {
  plat_thread *t = p;
  t->fn(t->arg);
  return 0;
}

int plat_thread_start(plat_thread *t, plat_thread_fn fn, void *arg) {
  t->fn = fn;
  t->arg = arg;
  uintptr_t h = _beginthreadex(NULL, 0, thread_main, t, 0, NULL);
  if (h == 0)
    return TOFU_ESYSTEM;
  t->handle = (HANDLE)h;
  return TOFU_OK;
}

void plat_thread_join(plat_thread *t) {
  WaitForSingleObject(t->handle, INFINITE);
  CloseHandle(t->handle);
  t->handle = NULL;
}

int plat_mutex_init(plat_mutex *m) {
  InitializeSRWLock(m);
  return TOFU_OK;
}

void plat_mutex_fini(plat_mutex *m) {
  (void)m; /* an SRW lock holds no resource */
}

void plat_mutex_lock(plat_mutex *m) {
  AcquireSRWLockExclusive(m);
}

void plat_mutex_unlock(plat_mutex *m) {
  ReleaseSRWLockExclusive(m);
}

int plat_cond_init(plat_cond *c) {
  InitializeConditionVariable(c);
  return TOFU_OK;
}

void plat_cond_fini(plat_cond *c) {
  (void)c; /* nor does a condition variable */
}

void plat_cond_wait(plat_cond *c, plat_mutex *m) {
  SleepConditionVariableSRW(c, m, INFINITE, 0);
}

int plat_cond_wait_until(plat_cond *c, plat_mutex *m, int64_t deadline_ms) {
  int64_t left = deadline_ms - clock_now_ms();
  if (left <= 0)
    return 0;
  /* INFINITE is 0xFFFFFFFF: stay below it, and wait again if that was short. */
  DWORD ms = left >= (int64_t)INFINITE ? INFINITE - 1 : (DWORD)left;
  if (!SleepConditionVariableSRW(c, m, ms, 0) && GetLastError() == ERROR_TIMEOUT)
    return clock_now_ms() < deadline_ms;
  return 1;
}

void plat_cond_signal(plat_cond *c) {
  WakeConditionVariable(c);
}

void plat_cond_broadcast(plat_cond *c) {
  WakeAllConditionVariable(c);
}

void plat_sleep_ms(int ms) {
  Sleep((DWORD)ms);
}

void plat_thread_yield(void) {
  SwitchToThread();
}

static BOOL CALLBACK once_call(PINIT_ONCE once, PVOID fn, PVOID *context) {
  (void)once;
  (void)context;
  void (*f)(void);
  memcpy(&f, &fn, sizeof f);
  f();
  return TRUE;
}

void plat_once_run(plat_once *once, void (*fn)(void)) {
  void *param;
  memcpy(&param, &fn, sizeof param);
  InitOnceExecuteOnce(once, once_call, param, NULL);
}
