/* port — the completion port, its wakeup packet and its timed batch wait. */
#include "port.h"

#include <stdlib.h>

#include "tofu/error.h"

int port_open(port *p) {
  p->handle = NULL;
  p->bound = NULL;
  p->notify_queued = 0;
  /* Concurrency 1: one thread (the Reactor) ever waits on this port. */
  nt_status status = nt.create_io_completion(&p->handle, NT_IO_COMPLETION_ALL_ACCESS, NULL, 1);
  if (!NT_SUCCESS(status))
    return nt_fail(status);
  return TOFU_OK;
}

void port_close(port *p) {
  /* Called once no poll is pending any more. */
  port_bound *b, *tmp;
  HASH_ITER(hh, p->bound, b, tmp) {
    HASH_DEL(p->bound, b);
    free(b);
  }
  if (p->handle != NULL)
    nt.close(p->handle);
  p->handle = NULL;
}

static port_bound *port_find_bound(port *p, HANDLE base) {
  port_bound *b = NULL;
#ifdef _MSC_VER
  /* uthash 2.3.0's HASH_FIND tests `if ((1) != 0)` when HASH_BLOOM is off. */
#pragma warning(push)
#pragma warning(disable : 4127)
#endif
  HASH_FIND(hh, p->bound, &base, sizeof base, b);
#ifdef _MSC_VER
#pragma warning(pop)
#endif
  return b;
}

int port_bind(port *p, HANDLE base) {
  port_bound *known = port_find_bound(p, base);
  /* The record is made before binding, which cannot be undone: a handle
   * bound here must never be one the port does not know. */
  port_bound *fresh = NULL;
  if (known == NULL) {
    fresh = calloc(1, sizeof *fresh);
    if (fresh == NULL)
      return TOFU_ENOMEM;
    fresh->base = base;
    HASH_ADD(hh, p->bound, base, sizeof fresh->base, fresh);
    if (fresh->hh.tbl == NULL) { /* the table could not grow (HASH_NONFATAL_OOM) */
      free(fresh);
      return TOFU_ENOMEM;
    }
  }
  if (CreateIoCompletionPort(base, p->handle, (ULONG_PTR)PORT_KEY_SOCKET, 0) != NULL)
    return TOFU_OK;
  DWORD error = GetLastError();
  if (fresh != NULL) {
    HASH_DEL(p->bound, fresh);
    free(fresh);
  }
  if (error != ERROR_INVALID_PARAMETER)
    return TOFU_ESYSTEM;
  /* Bound already: by this port (an earlier registration) it is served, by
   * any other it never completes here. */
  SetLastError(error);
  WSASetLastError((int)error);
  return known != NULL ? TOFU_OK : TOFU_EUNSERVABLE;
}

int port_notify(port *p) {
  if (InterlockedExchange(&p->notify_queued, 1) != 0)
    return TOFU_OK; /* a wakeup is on its way already: coalesce */
  nt_status status = nt.set_io_completion(p->handle, PORT_KEY_NOTIFY, NULL, NT_STATUS_SUCCESS, 0);
  if (!NT_SUCCESS(status)) {
    InterlockedExchange(&p->notify_queued, 0);
    return nt_fail(status);
  }
  return TOFU_OK;
}

void port_take_notify(port *p) {
  /* Cleared when the packet is taken, not when the wait returns: a notify
   * that comes after this point must post a new packet, or it would be lost
   * until some unrelated packet woke the next wait. */
  InterlockedExchange(&p->notify_queued, 0);
}

int port_dequeue(port *p, nt_completion *entries, ULONG count, int64_t timeout_100ns,
                 ULONG *removed) {
  LARGE_INTEGER timeout;
  LARGE_INTEGER *ptimeout = NULL;
  if (timeout_100ns >= 0) {
    timeout.QuadPart = -timeout_100ns; /* negative: relative to now */
    ptimeout = &timeout;
  }
  *removed = 0;
  nt_status status =
      nt.remove_io_completion_ex(p->handle, entries, count, removed, ptimeout, FALSE);
  /* STATUS_TIMEOUT passes NT_SUCCESS, so it is tested first and by value. */
  if (status == NT_STATUS_TIMEOUT) {
    *removed = 0;
    return TOFU_OK;
  }
  if (!NT_SUCCESS(status))
    return nt_fail(status);
  return TOFU_OK;
}

int64_t port_clock_100ns(void) {
  static LARGE_INTEGER frequency; /* constant after boot; racing writers agree */
  if (frequency.QuadPart == 0)
    QueryPerformanceFrequency(&frequency);
  LARGE_INTEGER now;
  QueryPerformanceCounter(&now);
  /* Split to keep counter * 10^7 from overflowing on long uptimes. */
  int64_t seconds = now.QuadPart / frequency.QuadPart;
  int64_t rest = now.QuadPart % frequency.QuadPart;
  return seconds * 10000000 + rest * 10000000 / frequency.QuadPart;
}
