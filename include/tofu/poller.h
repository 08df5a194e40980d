/* tofu — the backend contract: one-shot socket readiness behind a table of
 * functions.
 *
 * Everything in tofu above this header is backend-agnostic. A backend is one
 * table of the functions below; there are three: "poll" (POSIX poll(), the
 * default on Linux and other POSIX systems), "epoll" (Linux epoll,
 * edge-triggered with the one-shot state kept in user space) and "iocp_afd"
 * (Windows: an I/O completion port with one AFD_POLL per armed socket). The
 * build option TOFU_BACKEND picks which one is compiled in, and
 * tofu_poller_backend() returns it. docs/backend-contract.md states the same
 * contract with the test that checks each rule; the poller conformance suite
 * (tests/poller) runs unchanged against every backend.
 *
 * This header stands alone: it needs only the other public headers, so a
 * backend, or a program that uses a poller without the engine, builds
 * against include/tofu/ and nothing of tofu's internals.
 *
 * Model, in short:
 *   - register(socket, token) -> handle. The socket is not armed yet.
 *   - arm(handle, interest) asks for ONE report. Readiness is level state:
 *     a socket that is already ready when armed is reported by the next wait.
 *   - wait() reports each armed handle at most once, then that handle is
 *     disarmed until the caller arms it again (one-shot).
 *   - deregister(handle): no wait that starts afterwards reports the handle,
 *     even if the socket became ready before. The caller may close the socket
 *     right after deregister returns (never before).
 *   - notify() may be called from any thread; it makes a blocked wait return,
 *     or the next wait return at once, with one TOFU_POLL_WAKEUP event. Many
 *     notifies before that wait returns coalesce into one wakeup.
 *
 * Ownership: a socket is served by one poller. Registering a socket that is
 * registered with another poller fails with TOFU_EUNSERVABLE on every backend
 * (and on Windows so does a socket bound to any other completion port, or one
 * opened for synchronous I/O); the registration with the first poller stays
 * as it was. A socket never moves between pollers (docs/backend-contract.md).
 *
 * Threads: notify() is safe from any thread. Every other function of one
 * poller must be called from one thread at a time (the Reactor thread).
 */
#ifndef TOFU_POLLER_H
#define TOFU_POLLER_H

#include "tofu/api.h"

#include <stddef.h>
#include <stdint.h>

#include "tofu/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A socket as the platform names it: a file descriptor on POSIX, a SOCKET
 * (UINT_PTR) on Windows. */
#ifdef _WIN32
typedef uintptr_t tofu_socket;
#define TOFU_INVALID_SOCKET (~(uintptr_t)0)
#else
typedef int tofu_socket;
#define TOFU_INVALID_SOCKET (-1)
#endif

/* Interest (for arm) and readiness (in events). */
enum {
  TOFU_POLL_READABLE =
      1u << 0, /* recv/accept will not block (data, EOF, or a pending connection) */
  TOFU_POLL_WRITABLE =
      1u << 1,                /* send will not block; a connect has finished (success or failure) */
  TOFU_POLL_HANGUP = 1u << 2, /* the connection is finished (see the doc); as interest: only that */
  TOFU_POLL_ERROR = 1u << 3,  /* reported only: an error is pending on the socket (SO_ERROR) */
  TOFU_POLL_WAKEUP = 1u << 4  /* reported only: notify() was called; token is NULL */
};

/* The bits a caller may pass to arm(). TOFU_POLL_HANGUP armed alone asks
 * for a hang-up or an error only (a reset, a failed connect), without either
 * direction: what a caller wants from a socket it does not read for now. */
#define TOFU_POLL_INTEREST_MASK (TOFU_POLL_READABLE | TOFU_POLL_WRITABLE | TOFU_POLL_HANGUP)

typedef struct tofu_poll_event {
  void *token;     /* the token given at register; NULL for TOFU_POLL_WAKEUP */
  unsigned events; /* TOFU_POLL_* bits */
} tofu_poll_event;

/* What a poller has counted, for diagnosis (see stats below). Extensible
 * like tofu_engine_stats (tofu.h): the caller sets size
 * (tofu_poller_stats s = {sizeof s};); the backend fills the fields that fit
 * and sets size to the bytes it wrote. Fields are only added at the end. */
typedef struct tofu_poller_stats {
  size_t size;
  /* Completion packets that reached the poller but that it had not asked
   * for, dropped without a report. On Windows every overlapped operation on a
   * registered socket completes on the poller's port, so this counts the
   * application's own WSARecv, WSASend, AcceptEx... on such sockets (their
   * OVERLAPPED is still completed; only the packet is not theirs to take).
   * Always 0 on backends without completion ports (poll, epoll). */
  uint64_t foreign_packets;
} tofu_poller_stats;

/* Opaque, defined by each backend. */
typedef struct tofu_poller tofu_poller;
typedef struct tofu_poll_handle tofu_poll_handle;

typedef struct tofu_poller_ops {
  /* The backend's name: "poll", "epoll" or "iocp_afd". */
  const char *name;

  /* Create a poller. On success *out is set and TOFU_OK returned. */
  int (*open)(tofu_poller **out);

  /* Destroy a poller. Handles still registered are released (their sockets
   * are not closed: sockets always belong to the caller). Blocks until the
   * operating system has let go of every resource of the poller. p may be
   * NULL. */
  void (*close)(tofu_poller *p);

  /* Register a non-blocking socket under an opaque token. The socket starts
   * disarmed. Errors: TOFU_EINVAL (invalid socket or arguments),
   * TOFU_EEXIST (already registered with this poller), TOFU_EUNSERVABLE
   * (registered with another poller; Windows: bound to another completion
   * port, or opened without WSA_FLAG_OVERLAPPED), TOFU_ENOMEM,
   * TOFU_ENOBASEHANDLE (Windows, see error.h), TOFU_ESYSTEM. A refused
   * socket is left exactly as it was. */
  int (*register_socket)(tofu_poller *p, tofu_socket sock, void *token, tofu_poll_handle **out);

  /* Forget a handle. No wait that starts after this call reports it. The
   * handle pointer is invalid afterwards. Returns TOFU_OK or TOFU_EINVAL. */
  int (*deregister)(tofu_poller *p, tofu_poll_handle *h);

  /* Ask for one report of the given interest (READABLE, WRITABLE or both),
   * replacing any interest armed before. A hang-up or an error is reported to
   * any armed handle; interest == TOFU_POLL_HANGUP arms for that alone (no
   * direction is reported then; an orderly close is READABLE and so is not
   * reported over TCP, see the doc). interest == 0 disarms completely: not
   * even a hang-up is reported. A socket that is already ready is reported
   * by the next wait. Errors: TOFU_EINVAL
   * (NULL handle or bits outside TOFU_POLL_INTEREST_MASK), TOFU_ENOMEM,
   * TOFU_ESYSTEM. */
  int (*arm)(tofu_poller *p, tofu_poll_handle *h, unsigned interest);

  /* Wait for reports. Fills at most max events and returns how many (0 on
   * timeout), or a negative tofu_error. timeout_ms: -1 waits without limit,
   * 0 only collects what is ready now, > 0 waits at most that long and never
   * returns 0 before it has passed. Interrupted system calls are retried with
   * the remaining time. Errors: TOFU_EINVAL (max < 1, timeout_ms < -1, NULL
   * events), TOFU_ESYSTEM. */
  int (*wait)(tofu_poller *p, tofu_poll_event *events, int max, int timeout_ms);

  /* Make a blocked wait return, or the next wait return at once, with one
   * TOFU_POLL_WAKEUP event. Safe from any thread; coalesces. */
  int (*notify)(tofu_poller *p);

  /* Copy the poller's counters into *out, as far as out->size allows.
   * Called like the functions above (from the thread that waits). Errors:
   * TOFU_EINVAL (NULL argument, or out->size smaller than the size field). */
  int (*stats)(tofu_poller *p, tofu_poller_stats *out);
} tofu_poller_ops;

/* The backend chosen at build time (-DTOFU_BACKEND=...); its name is
 * tofu_backend_name() in tofu.h. */
TOFU_API const tofu_poller_ops *tofu_poller_backend(void);

#ifdef __cplusplus
}
#endif

#endif /* TOFU_POLLER_H */
