/* port — the completion port: where AFD poll packets and wakeups arrive.
 *
 * Completion keys say only what kind of packet it is. A socket's key is fixed
 * the first time its handle is bound to the port and cannot follow the socket
 * through deregister and register again, so the per-socket state is named by
 * the ApcContext of each poll instead (see docs/windows/decision-log.md).
 *
 * A handle is bound to one port until it is closed, and binding it a second
 * time fails the same way (ERROR_INVALID_PARAMETER) whether the first binding
 * was this port's or another's. So the port remembers which handles it bound
 * itself: only those may be registered again after a failed bind.
 */
#ifndef TOFU_IOCP_PORT_H
#define TOFU_IOCP_PORT_H

#include <stdbool.h>
#include <stdint.h>

/* See sock.h: a full table fails the call instead of ending the process. */
#define HASH_NONFATAL_OOM 1
#include <uthash.h>

#include "nt.h"

#define PORT_KEY_SOCKET ((void *)(uintptr_t)1) /* an AFD poll; apc_context is its sock */
#define PORT_KEY_NOTIFY ((void *)(uintptr_t)2) /* a wakeup from port_notify */

/* One handle this port has bound (uthash set keyed by the handle). */
typedef struct port_bound {
  HANDLE base;
  UT_hash_handle hh;
} port_bound;

typedef struct port {
  HANDLE handle;
  port_bound *bound; /* the handles bound to this port by port_bind */
  /* 1 while a wakeup packet is queued and not yet taken: a burst of notifies
   * posts one packet. */
  volatile LONG notify_queued;
} port;

int port_open(port *p);
void port_close(port *p);

/* Make the packets of polls on socket `base` arrive at this port, with
 * PORT_KEY_SOCKET. A handle this port bound before (an earlier registration
 * of the same socket) is accepted as it is: its constant key is still right.
 * A handle bound to any other port (another poller's, or the application's)
 * can never complete here: TOFU_EUNSERVABLE, and nothing changes. Returns
 * TOFU_OK, TOFU_EUNSERVABLE, TOFU_ENOMEM or TOFU_ESYSTEM.
 *
 * Known limit: the port cannot see a socket closed after deregister. If its
 * handle number is then reused by a new socket that the application binds to
 * another port, and that new socket is registered here, it is taken for the
 * old one: accepted, and never reported. (A new socket that nobody bound is
 * bound here as usual.) The records live until the poller is closed; Windows
 * reuses handle numbers, so they are bounded by the most handles the process
 * ever had open at once. */
int port_bind(port *p, HANDLE base);

/* Queue one wakeup packet unless one is queued already. Any thread. */
int port_notify(port *p);

/* Called for a dequeued PORT_KEY_NOTIFY packet: re-enables port_notify. */
void port_take_notify(port *p);

/* Dequeue up to `count` packets, waiting at most timeout_100ns (relative,
 * 100 ns units; < 0 without limit; 0 not at all). *removed is 0 on timeout.
 * Returns TOFU_OK or TOFU_ESYSTEM. */
int port_dequeue(port *p, nt_completion *entries, ULONG count, int64_t timeout_100ns,
                 ULONG *removed);

/* A monotonic clock in 100 ns units, for deadlines. */
int64_t port_clock_100ns(void);

#endif /* TOFU_IOCP_PORT_H */
