/* afd — issue and cancel IOCTL_AFD_POLL on a socket's base handle. */
#include "afd.h"

#include <stdint.h>

#include "tofu/poller.h"

static volatile LONG afd_fail_cancels;
static volatile LONG afd_warn_poll;

void afd_test_fail_cancels(int n) {
  InterlockedExchange(&afd_fail_cancels, n > 0 ? n : 0);
}

/* Whether this cancel is one the test hook makes fail (counting it down). */
static int afd_cancel_fails(void) {
  LONG left = InterlockedCompareExchange(&afd_fail_cancels, 0, 0);
  while (left > 0) {
    LONG seen = InterlockedCompareExchange(&afd_fail_cancels, left - 1, left);
    if (seen == left)
      return 1;
    left = seen;
  }
  return 0;
}

void afd_test_warn_poll(int on) {
  InterlockedExchange(&afd_warn_poll, on ? 1 : 0);
}

nt_status afd_poll(HANDLE on, HANDLE base, ULONG events, afd_poll_info *info,
                   nt_io_status_block *iosb, void *apc_context) {
  /* No deadline of its own: the port wait carries the reactor's timeout. */
  info->timeout.QuadPart = INT64_MAX;
  info->number_of_handles = 1;
  /* Not exclusive: an exclusive poll would cancel polls other code has on
   * the same socket. */
  info->exclusive = FALSE;
  info->handles[0].handle = base;
  info->handles[0].events = events;
  info->handles[0].status = 0;

  iosb->status = NT_STATUS_PENDING;
  /* A NULL ApcContext on a handle bound to a completion port means "queue no
   * packet", so apc_context must never be NULL. */
  nt_status status = nt.device_io_control_file(on, NULL, NULL, apc_context, iosb, IOCTL_AFD_POLL,
                                               info, sizeof *info, info, sizeof *info);
  if (!NT_ERROR(status) && InterlockedCompareExchange(&afd_warn_poll, 0, 0))
    return (nt_status)0x80000005L; /* STATUS_BUFFER_OVERFLOW, a warning */
  return status;
}

int afd_cancel_poll(HANDLE on, nt_io_status_block *iosb) {
  if (afd_cancel_fails())
    return nt_fail((nt_status)0xC0000022L); /* STATUS_ACCESS_DENIED */
  nt_io_status_block cancel_iosb;
  nt_status status = nt.cancel_io_file_ex(on, iosb, &cancel_iosb);
  /* NOT_FOUND: the poll completed before the cancel reached it; its packet is
   * queued already, which is all the caller waits for. */
  if (NT_SUCCESS(status) || status == NT_STATUS_NOT_FOUND)
    return TOFU_OK;
  return nt_fail(status);
}

/* Readable covers data (RECEIVE), a pending connection (ACCEPT) and an
 * orderly close by the peer (DISCONNECT, after which recv returns 0).
 * Writable is SEND only: AFD_POLL_CONNECT stays set for the whole life of a
 * connected socket and would make it writable forever, while SEND is reported
 * both when a connect succeeds and when send buffer space frees up. */
#define AFD_READ_EVENTS (AFD_POLL_RECEIVE | AFD_POLL_ACCEPT | AFD_POLL_DISCONNECT)
#define AFD_WRITE_EVENTS AFD_POLL_SEND
#define AFD_FAIL_EVENTS (AFD_POLL_ABORT | AFD_POLL_CONNECT_FAIL)

/* An interest of TOFU_POLL_HANGUP alone asks for AFD_FAIL_EVENTS only (and
 * LOCAL_CLOSE, which comes unasked). DISCONNECT stays out: it is the peer's
 * orderly close, which the contract reports as READABLE, and a caller that
 * does not read (a channel paused for memory) must not be woken by it over
 * and over; the bytes before it are still there to read later. */
ULONG afd_events_for_interest(unsigned interest) {
  ULONG events = AFD_FAIL_EVENTS | AFD_POLL_LOCAL_CLOSE;
  if (interest & TOFU_POLL_READABLE)
    events |= AFD_READ_EVENTS;
  if (interest & TOFU_POLL_WRITABLE)
    events |= AFD_WRITE_EVENTS;
  return events;
}

unsigned afd_events_to_tofu(ULONG afd_events, unsigned interest) {
  unsigned report = 0;
  if (afd_events & AFD_READ_EVENTS)
    report |= TOFU_POLL_READABLE;
  if (afd_events & AFD_WRITE_EVENTS)
    report |= TOFU_POLL_WRITABLE;
  /* A reset (ABORT) and a refused connect (CONNECT_FAIL) both finish the
   * connection with an error waiting in SO_ERROR or the next recv/send. */
  if (afd_events & AFD_FAIL_EVENTS)
    report |= TOFU_POLL_HANGUP | TOFU_POLL_ERROR;
  /* Once the connection is finished no I/O call blocks in any direction, so
   * every armed direction is reported with it, as poll() does. */
  if (report & (TOFU_POLL_HANGUP | TOFU_POLL_ERROR))
    report |= interest & (TOFU_POLL_READABLE | TOFU_POLL_WRITABLE);
  return report & (interest | TOFU_POLL_HANGUP | TOFU_POLL_ERROR);
}
