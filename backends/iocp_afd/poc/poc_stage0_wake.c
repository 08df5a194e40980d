/* Stage 0: a completion port as the Reactor's clock and doorbell.
 * Shows that NtSetIoCompletion delivers key and information intact (a wakeup
 * needs nothing else), that NtRemoveIoCompletionEx takes several packets in
 * one call, and that its relative timeout ends with STATUS_TIMEOUT (a success
 * code) and not before the time has passed. */
#include "poc.h"

static HANDLE stage0_port;

static DWORD WINAPI stage0_late_wake(void *arg) {
  (void)arg;
  Sleep(100);
  nt.set_io_completion(stage0_port, (void *)(uintptr_t)7, NULL, 0, 99);
  return 0;
}

int main(void) {
  poc_init("stage 0: wake via NtSetIoCompletion, timeout via NtRemoveIoCompletionEx");
  HANDLE port = poc_port();
  stage0_port = port;
  nt_completion c[8];

  nt_status st = nt.set_io_completion(port, (void *)(uintptr_t)0x51, NULL, 0, 1234);
  poc_check(NT_SUCCESS(st), "NtSetIoCompletion posts a packet");
  ULONG n = poc_take(port, c, 8, 1000);
  poc_check(n == 1, "one packet dequeued (got %lu)", (unsigned long)n);
  poc_check(c[0].key == (void *)(uintptr_t)0x51, "key arrives intact");
  poc_check(c[0].iosb.information == 1234, "information arrives intact");
  poc_check(c[0].apc_context == NULL, "ApcContext is NULL for a posted packet");

  for (int i = 0; i < 3; i++)
    nt.set_io_completion(port, (void *)(uintptr_t)(0x60 + i), NULL, 0, (ULONG_PTR)i);
  n = poc_take(port, c, 8, 1000);
  poc_check(n == 3, "batch dequeue takes 3 packets in one call (got %lu)", (unsigned long)n);
  poc_check(c[0].key == (void *)(uintptr_t)0x60 && c[2].key == (void *)(uintptr_t)0x62,
            "in posting order");

  LARGE_INTEGER t;
  int64_t worst_early = 0;
  for (int ms = 10; ms <= 160; ms *= 2) {
    t.QuadPart = -(LONGLONG)ms * 10000;
    ULONG removed = 0;
    int64_t start = poc_now_ms();
    st = nt.remove_io_completion_ex(port, c, 8, &removed, &t, FALSE);
    int64_t took = poc_now_ms() - start;
    poc_check(st == NT_STATUS_TIMEOUT, "%d ms on an empty port -> STATUS_TIMEOUT 0x%lx", ms,
              (unsigned long)st);
    poc_check(NT_SUCCESS(st), "STATUS_TIMEOUT passes NT_SUCCESS: it must be tested by value");
    if (ms - took > worst_early)
      worst_early = ms - took;
    printf("     waited %lld ms for %d ms\n", (long long)took, ms);
  }
  printf("     earliest return: %lld ms before the timeout (the backend re-waits)\n",
         (long long)worst_early);

  t.QuadPart = 0;
  ULONG removed = 5;
  st = nt.remove_io_completion_ex(port, c, 8, &removed, &t, FALSE);
  poc_check(st == NT_STATUS_TIMEOUT, "zero timeout on an empty port -> STATUS_TIMEOUT");

  HANDLE th = CreateThread(NULL, 0, stage0_late_wake, NULL, 0, NULL);
  int64_t start = poc_now_ms();
  removed = 0;
  st = nt.remove_io_completion_ex(port, c, 8, &removed, NULL, FALSE);
  poc_check(st == 0 && removed == 1 && c[0].key == (void *)(uintptr_t)7,
            "a wait without limit is woken by another thread's packet after %lld ms",
            (long long)(poc_now_ms() - start));
  WaitForSingleObject(th, INFINITE);
  CloseHandle(th);
  nt.close(port);
  printf("# stage 0 passed\n");
  return 0;
}
