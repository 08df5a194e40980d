/* afd — one readiness request (IOCTL_AFD_POLL) on one socket's base handle.
 *
 * The request goes straight to the socket's own handle through
 * NtDeviceIoControlFile, so its completion is queued to the completion port
 * that handle is associated with, carrying the ApcContext given here. No
 * \Device\Afd helper handle is opened.
 */
#ifndef TOFU_IOCP_AFD_H
#define TOFU_IOCP_AFD_H

#include "nt.h"

#define AFD_POLL_RECEIVE 0x0001u
#define AFD_POLL_RECEIVE_EXPEDITED 0x0002u
#define AFD_POLL_SEND 0x0004u
#define AFD_POLL_DISCONNECT 0x0008u  /* the peer closed its sending side (FIN) */
#define AFD_POLL_ABORT 0x0010u       /* the connection was reset or aborted */
#define AFD_POLL_LOCAL_CLOSE 0x0020u /* the socket was closed here (always requested) */
#define AFD_POLL_CONNECT 0x0040u     /* never requested: stays set once connected */
#define AFD_POLL_ACCEPT 0x0080u
#define AFD_POLL_CONNECT_FAIL 0x0100u

#define IOCTL_AFD_POLL 0x00012024UL

typedef struct afd_poll_handle_info {
  HANDLE handle;
  ULONG events;
  nt_status status;
} afd_poll_handle_info;

/* The input and the output of IOCTL_AFD_POLL: the same buffer is passed as
 * both, and the kernel writes the result into it when the poll completes. */
typedef struct afd_poll_info {
  LARGE_INTEGER timeout;
  ULONG number_of_handles;
  ULONG exclusive;
  afd_poll_handle_info handles[1];
} afd_poll_info;

/* Start a poll for `events` of the socket `base`, issued on the handle `on`
 * (the backend always passes `base` itself; the proofs also poll one socket
 * through another). The packet goes to the completion port `on` is bound to. info and iosb must
 * stay valid and unmoved until the completion carrying apc_context is dequeued from the port.
 * Returns the NT status: NT_STATUS_PENDING normally; a success when the poll completed at once (its
 * packet is queued all the same); a failure when no packet will come. */
nt_status afd_poll(HANDLE on, HANDLE base, ULONG events, afd_poll_info *info,
                   nt_io_status_block *iosb, void *apc_context);

/* Ask the kernel to finish the poll using iosb early. Its completion still
 * arrives (with NT_STATUS_CANCELLED, or with events if it had completed
 * already). Returns TOFU_OK when the poll was cancelled or had already
 * finished, TOFU_ESYSTEM otherwise. */
int afd_cancel_poll(HANDLE on, nt_io_status_block *iosb);

/* The AFD events that stand for a tofu interest (TOFU_POLL_READABLE and/or
 * TOFU_POLL_WRITABLE). Failures (ABORT, CONNECT_FAIL) are always included,
 * because the contract reports HANGUP and ERROR whatever the interest; so is
 * LOCAL_CLOSE, which ends a poll whose socket is closed under it. Wine
 * reports it unasked (stage 4 of the proofs); asking costs nothing and does
 * not depend on that (wepoll and mio ask for it too). */
ULONG afd_events_for_interest(unsigned interest);

/* Internal test hooks, not part of the public API, for failures no test
 * machine produces on demand. afd_test_fail_cancels(n): the next n calls of
 * afd_cancel_poll fail (STATUS_ACCESS_DENIED) without cancelling anything
 * (0 ends it). While afd_test_warn_poll is on, an afd_poll that was accepted
 * (pending or done) returns a warning status instead
 * (STATUS_BUFFER_OVERFLOW), as a driver may: its packet still comes. */
void afd_test_fail_cancels(int n);
void afd_test_warn_poll(int on);

/* The tofu report for the AFD events a poll returned, limited to what the
 * interest allows: HANGUP and ERROR always pass and bring every armed
 * direction with them. Returns 0 when nothing is to be reported. */
unsigned afd_events_to_tofu(ULONG afd_events, unsigned interest);

#endif /* TOFU_IOCP_AFD_H */
