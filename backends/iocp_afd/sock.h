/* sock — the state of one registered socket, and its one AFD poll.
 *
 * A sock is the tofu_poll_handle the caller holds. It is one heap block that
 * never moves, because the kernel writes into its poll_info and iosb until the
 * poll's completion packet is dequeued. At most one poll is pending per
 * socket: it asks for every event the armed interest needs, so read and write
 * readiness can never race two polls on one socket.
 *
 * Lifetime: sock_new -> (sock_arm / sock_feed)* -> sock_deregister. When a
 * poll is still pending at deregister, the sock becomes a zombie: it is
 * cancelled, kept, and freed by sock_feed when its packet finally arrives
 * (or by the poller's close, which waits for that packet).
 *
 * Its poll goes through the states of sock_poll_state, and only along these
 * steps (sock.c asserts each one):
 *
 *   IDLE --issue--> POLL_PENDING --cancel accepted--> CANCEL_REQUESTED
 *     ^                  |                                 |
 *     +-----packet-------+------------packet---------------+
 *   IDLE --packet said LOCAL_CLOSE--> CLOSED (for good)
 *
 * A cancel that the kernel refused leaves POLL_PENDING, so that it is tried
 * again. Deregistering (`deleted`) is apart from this: a zombie is
 * POLL_PENDING or CANCEL_REQUESTED until its packet frees it.
 *
 * Every poll of a sock carries the sock's tag as its ApcContext, never the
 * sock's address: the poller finds the sock by looking the tag up in a table
 * of its own, so a packet it did not post (the application's own overlapped
 * I/O on the socket completes on the same port) is recognised without
 * reading anything through the pointer it carries (see iocp_afd.c).
 */
#ifndef TOFU_IOCP_SOCK_H
#define TOFU_IOCP_SOCK_H

#include <stdbool.h>
#include <stdint.h>

/* A full table must fail the registration (TOFU_ENOMEM), not end the process
 * (uthash's default, whose exit() would also leave code after it unreachable:
 * MSVC's C4702). */
#define HASH_NONFATAL_OOM 1
#include <uthash.h>

#include "afd.h"
#include "tofu/poller.h"

typedef struct tofu_poll_handle sock_state;

/* Where a sock's AFD poll stands. */
typedef enum sock_poll_state {
  SOCK_IDLE,             /* no poll issued (or its packet taken): the next arm issues one */
  SOCK_POLL_PENDING,     /* a poll was issued and its packet not yet dequeued */
  SOCK_CANCEL_REQUESTED, /* a cancel of that poll reached the kernel; its packet comes */
  SOCK_CLOSED            /* AFD reported LOCAL_CLOSE: nothing more to poll, ever */
} sock_poll_state;

struct tofu_poll_handle {
  /* Owned by the kernel while a packet is due (sock_packet_due): the
   * IO_STATUS_BLOCK and the AFD_POLL_INFO passed to NtDeviceIoControlFile. */
  nt_io_status_block iosb;
  afd_poll_info poll_info;

  SOCKET sock;
  HANDLE base;   /* the base socket handle: polls are issued on it and name it */
  uintptr_t tag; /* the ApcContext of its polls; unique in its poller, never reused */
  void *token;
  unsigned interest;     /* armed TOFU_POLL_* interest; 0 when disarmed */
  ULONG poll_events;     /* the AFD events the pending poll waits for */
  sock_poll_state state; /* changed only by sock.c, along the steps above */
  bool deleted;          /* deregistered: free when the packet arrives */

  UT_hash_handle hh;       /* in the poller's map, keyed by sock (while registered) */
  UT_hash_handle hh_tag;   /* in the poller's map, keyed by tag (until freed) */
  sock_state *zombie_prev; /* in the poller's list of deleted socks */
  sock_state *zombie_next;
};

/* Whether the kernel owes this sock the packet of its poll (POLL_PENDING or
 * CANCEL_REQUESTED): only then is a packet with its tag its own, and only
 * once it has come may the sock be freed. */
static inline bool sock_packet_due(const sock_state *s) {
  return s->state == SOCK_POLL_PENDING || s->state == SOCK_CANCEL_REQUESTED;
}

/* What sock_feed tells the poller to do with the sock after a packet. */
typedef enum sock_fate { SOCK_KEEP, SOCK_FREE } sock_fate;

sock_state *sock_new(SOCKET sock, HANDLE base, void *token, uintptr_t tag);
void sock_free(sock_state *s);

/* Replace the armed interest (0 disarms) and make the pending poll match it.
 * Returns TOFU_OK or TOFU_ESYSTEM. */
int sock_arm(sock_state *s, unsigned interest);

/* Take the completion packet of this sock's poll. Sets *report to the
 * TOFU_POLL_* bits to report (0: nothing) and returns whether the sock must
 * now be freed (it was deleted while its poll was pending). */
sock_fate sock_feed(sock_state *s, const nt_io_status_block *iosb, unsigned *report);

/* Stop polling: cancel a pending poll. Returns SOCK_FREE when the sock can be
 * freed at once, SOCK_KEEP when it must wait for its packet (a zombie). */
sock_fate sock_deregister(sock_state *s);

/* Cancel the pending poll unless a cancel has reached the kernel already
 * (for a zombie whose cancel failed at deregister). Returns TOFU_OK or
 * TOFU_ESYSTEM; a failed cancel can be tried again. */
int sock_cancel(sock_state *s);

#endif /* TOFU_IOCP_SOCK_H */
