/* The POSIX poll() backend: Linux's default (docs/performance.md) and the
 * backend of every other POSIX system; epoll (Linux) and iocp_afd (Windows)
 * are the others.
 *
 * Only armed sockets are in the pollfd array, so poll() never scans a socket
 * nobody asked about. Slot 0 is the wakeup descriptor; slots 1..narmed are the
 * armed handles, and armed[i] is the handle that owns pfds[i]. Arming appends a
 * slot, a report or a disarm swap-removes it: every operation is O(1) and the
 * array is never rebuilt. A handle that is reported leaves the array, which is
 * exactly the contract's one-shot rule, and re-arming appends it at the end, so
 * a busy socket cannot starve the ones behind it when max is small.
 *
 * What it shares with the epoll backend is in ../posix/. fd_claims.h keeps
 * its handles by descriptor, which finds a second registration with this
 * poller (TOFU_EEXIST), and the process-wide set of claimed descriptors, which
 * refuses a socket that another poller holds (TOFU_EUNSERVABLE, as on every
 * backend); the set costs a mutex and a byte per descriptor, taken only by
 * register, deregister and close, never by arm or wait. wakeup.h is notify()'s
 * descriptor, readiness.h the contract's bits in poll()'s terms, deadline.h a
 * wait's time limit.
 */
#if defined(__linux__)
#define _GNU_SOURCE
#else
#define _POSIX_C_SOURCE 200809L
#endif

#include "tofu/poller.h"

#include "posix/deadline.h"
#include "posix/fd_claims.h"
#include "posix/readiness.h"
#include "posix/stats.h"
#include "posix/wakeup.h"

#include <errno.h>
#include <poll.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

struct tofu_poll_handle {
  int fd; /* first: fd_table reads it there (posix/fd_claims.h) */
  void *token;
  unsigned interest; /* what is armed; 0 when disarmed */
  int slot;          /* index in pfds/armed while armed, 0 when disarmed */
};
_Static_assert(offsetof(struct tofu_poll_handle, fd) == 0, "fd_table reads the descriptor first");

struct tofu_poller {
  struct pollfd *pfds;      /* [0] wakeup, [1..narmed] armed sockets */
  tofu_poll_handle **armed; /* armed[i] owns pfds[i]; armed[0] unused */
  int narmed;
  int cap;          /* capacity of pfds and armed, slot 0 included */
  fd_table handles; /* registered handles by descriptor (fd_claims.h) */
  wakeup wakeup;    /* notify()'s descriptor, in pfds[0] (posix/wakeup.h) */
};

/* --- lifecycle ----------------------------------------------------------- */

static int pp_open(tofu_poller **out) {
  if (out == NULL)
    return TOFU_EINVAL;
  tofu_poller *p = calloc(1, sizeof *p);
  if (p == NULL)
    return TOFU_ENOMEM;
  p->cap = 16;
  p->pfds = calloc((size_t)p->cap, sizeof *p->pfds);
  p->armed = calloc((size_t)p->cap, sizeof *p->armed);
  if (p->pfds == NULL || p->armed == NULL) {
    free(p->pfds);
    free(p->armed);
    free(p);
    return TOFU_ENOMEM;
  }
  if (wakeup_open(&p->wakeup) < 0) {
    free(p->pfds);
    free(p->armed);
    free(p);
    return TOFU_ESYSTEM;
  }
  p->pfds[0].fd = p->wakeup.read_fd;
  p->pfds[0].events = POLLIN;
  *out = p;
  return TOFU_OK;
}

static void pp_close(tofu_poller *p) {
  if (p == NULL)
    return;
  fd_table_fini(&p->handles);
  free(p->pfds);
  free(p->armed);
  wakeup_close(&p->wakeup);
  free(p);
}

/* --- registration -------------------------------------------------------- */

static int pp_register(tofu_poller *p, tofu_socket sock, void *token, tofu_poll_handle **out) {
  if (p == NULL || out == NULL)
    return TOFU_EINVAL;
  void *mem;
  int rc = fd_table_add(&p->handles, sock, sizeof(tofu_poll_handle), &mem);
  if (rc != TOFU_OK)
    return rc;
  tofu_poll_handle *h = mem;
  h->token = token;
  *out = h;
  return TOFU_OK;
}

/* Take a handle out of the armed array, moving the last slot into its place. */
static void unarm(tofu_poller *p, tofu_poll_handle *h) {
  if (h->slot == 0)
    return;
  int last = p->narmed;
  if (h->slot != last) {
    p->pfds[h->slot] = p->pfds[last];
    p->armed[h->slot] = p->armed[last];
    p->armed[h->slot]->slot = h->slot;
  }
  p->narmed--;
  h->slot = 0;
  h->interest = 0;
}

static int pp_deregister(tofu_poller *p, tofu_poll_handle *h) {
  if (p == NULL || !fd_table_owns(&p->handles, h))
    return TOFU_EINVAL;
  unarm(p, h);
  fd_table_remove(&p->handles, h->fd);
  return TOFU_OK;
}

/* --- arming -------------------------------------------------------------- */

static int reserve_slot(tofu_poller *p) {
  if (p->narmed + 1 < p->cap)
    return TOFU_OK;
  if (p->cap > INT32_MAX / 2)
    return TOFU_ELIMIT;
  int cap = p->cap * 2;
  struct pollfd *pfds = realloc(p->pfds, (size_t)cap * sizeof *pfds);
  if (pfds == NULL)
    return TOFU_ENOMEM;
  p->pfds = pfds;
  tofu_poll_handle **armed = realloc(p->armed, (size_t)cap * sizeof *armed);
  if (armed == NULL)
    return TOFU_ENOMEM;
  p->armed = armed;
  p->cap = cap;
  return TOFU_OK;
}

static int pp_arm(tofu_poller *p, tofu_poll_handle *h, unsigned interest) {
  if (p == NULL || !fd_table_owns(&p->handles, h) ||
      (interest & ~(unsigned)TOFU_POLL_INTEREST_MASK))
    return TOFU_EINVAL;
  if (interest == 0) {
    unarm(p, h);
    return TOFU_OK;
  }
  if (h->slot == 0) {
    int rc = reserve_slot(p);
    if (rc != TOFU_OK)
      return rc;
    h->slot = ++p->narmed;
    p->armed[h->slot] = h;
    p->pfds[h->slot].fd = h->fd;
  }
  h->interest = interest;
  /* HANGUP alone gives events == 0: the descriptor stays in the array, and
   * poll() reports POLLHUP and POLLERR, which it never needs asking for. */
  p->pfds[h->slot].events = readiness_to_poll(interest);
  p->pfds[h->slot].revents = 0;
  return TOFU_OK;
}

/* --- waiting ------------------------------------------------------------- */

static int collect(tofu_poller *p, tofu_poll_event *events, int max) {
  int n = 0;
  if (p->pfds[0].revents)
    wakeup_take(&p->wakeup, &events[n++]);
  int i = 1;
  while (i <= p->narmed && n < max) {
    short revents = p->pfds[i].revents;
    if (revents == 0) {
      i++;
      continue;
    }
    tofu_poll_handle *h = p->armed[i];
    events[n].token = h->token;
    events[n].events = readiness_from_poll((unsigned)revents, h->interest);
    n++;
    /* One-shot: the reported handle leaves the array; the last slot, whose
     * revents are from this same poll(), moves into slot i. */
    unarm(p, h);
  }
  return n;
}

static int pp_wait(tofu_poller *p, tofu_poll_event *events, int max, int timeout_ms) {
  if (p == NULL || events == NULL || max < 1 || timeout_ms < -1)
    return TOFU_EINVAL;
  deadline d = deadline_start(timeout_ms);
  int remaining = timeout_ms;
  for (;;) {
    int rc = poll(p->pfds, (nfds_t)p->narmed + 1, remaining);
    if (rc > 0)
      return collect(p, events, max);
    if (rc < 0 && errno != EINTR)
      return TOFU_ESYSTEM;
    /* Interrupted, or woke before the deadline by the clock's rounding:
     * wait out what is left so a timeout never ends early. */
    remaining = deadline_next_ms(&d);
    if (remaining == 0)
      return 0;
  }
}

/* --- notify -------------------------------------------------------------- */

static int pp_notify(tofu_poller *p) {
  if (p == NULL)
    return TOFU_EINVAL;
  return wakeup_notify(&p->wakeup);
}

static int pp_stats(tofu_poller *p, tofu_poller_stats *out) {
  static const tofu_poller_stats none; /* poll() has no packets to tell apart */
  if (p == NULL)
    return TOFU_EINVAL;
  return stats_copy(&none, out);
}

static const tofu_poller_ops poll_ops = {
    .name = "poll",
    .open = pp_open,
    .close = pp_close,
    .register_socket = pp_register,
    .deregister = pp_deregister,
    .arm = pp_arm,
    .wait = pp_wait,
    .notify = pp_notify,
    .stats = pp_stats,
};

const tofu_poller_ops *tofu_poller_backend(void) {
  return &poll_ops;
}
