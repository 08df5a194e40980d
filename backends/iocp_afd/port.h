/* port — the completion port: where AFD poll packets and wakeups arrive.
 *
 * Completion keys say only what kind of packet it is. A socket's key is fixed
 * the first time its handle is bound to the port and cannot follow the socket
 * through deregister and register again, so the per-socket state travels in
 * the ApcContext of each poll instead (see docs/windows/decision-log.md).
 */
#ifndef TOFU_IOCP_PORT_H
#define TOFU_IOCP_PORT_H

#include <stdbool.h>
#include <stdint.h>

#include "nt.h"

#define PORT_KEY_SOCKET ((void *)(uintptr_t)1) /* an AFD poll; apc_context is its sock */
#define PORT_KEY_NOTIFY ((void *)(uintptr_t)2) /* a wakeup from port_notify */

typedef struct port {
  HANDLE handle;
  /* 1 while a wakeup packet is queued and not yet taken: a burst of notifies
   * posts one packet. */
  volatile LONG notify_queued;
} port;

int port_open(port *p);
void port_close(port *p);

/* Make the packets of polls on socket `base` arrive at this port, with
 * PORT_KEY_SOCKET. A handle can be bound to a port only once; one bound
 * already was bound here by an earlier registration, since the contract
 * keeps a socket with one poller for life, and its constant key is still
 * right. Returns TOFU_OK or TOFU_ESYSTEM. */
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
