/* The Linux epoll backend.
 *
 * DECISION (measured, docs/performance.md, "History": issue 15, first round): sockets are
 * registered edge-triggered, once, and the contract's one-shot state lives
 * here, in user space; arming costs no system call in the steady state.
 *
 * The contract wants level state at arm time ("a socket that is already
 * ready when armed is reported by the next wait") and one report per arm.
 * EPOLLONESHOT gives exactly that from the kernel, but every arm is then an
 * epoll_ctl(EPOLL_CTL_MOD): one more system call per report, which poll does
 * not pay. An edge-triggered registration reports every change of state
 * without being asked again, but by itself it would miss what was already
 * there when the caller arms: data it left unread, or a send buffer that is
 * still free. So:
 *
 *   - register adds the socket to the epoll set with EPOLLET and no
 *     direction; kmask says which directions the kernel watches.
 *   - arm(interest) with interest == kmask touches no system call: the
 *     handle joins the check list. The next wait polls the whole check list
 *     at once with poll(..., 0) - one system call per wait, not one per arm -
 *     and reports those already ready. Whatever becomes ready after that
 *     check is an edge, which epoll_wait reports.
 *   - arm with another interest (R to R|W when a send blocks, and back) is an
 *     EPOLL_CTL_MOD, which checks the level itself: the kernel queues the
 *     socket if it is ready.
 *   - a report disarms the handle in user space only (kmask stays), because
 *     the caller normally re-arms the same interest at once. An edge that
 *     comes for a handle left disarmed for a whole wait is not reported; the
 *     kernel registration is quieted with one EPOLL_CTL_MOD so that it stops
 *     waking the wait.
 *   - arm(TOFU_POLL_HANGUP) alone (a channel paused by backpressure) names
 *     no direction: kmask is left as it is and the handle joins the check
 *     list, whose poll() reports a hang-up or an error already there. The
 *     kernel delivers EPOLLHUP and EPOLLERR to every registration, so a later
 *     one comes as an edge; an edge of data is filtered out and quiets the
 *     registration as for a disarmed handle, one EPOLL_CTL_MOD per pause.
 *
 * Measured (docs/performance.md, "History": issue 15, first round), system calls per echo,
 * stream TCP S=1024 C=100, perf's syscall tracepoints, both forms built:
 *
 *                      epoll_wait  poll (check)  epoll_ctl   CPU per echo
 *   edge + user space     0.015       0.012        0.000       1.68 us
 *   EPOLLONESHOT          0.013         -          0.128       1.82 us
 *
 * (strace -c -f agrees: 0.007 epoll_ctl per echo, registrations included,
 * against 0.148.) The edge form also used less CPU per echo on every
 * stream line but C = 1000 (equal), so it is the one kept. Pingpong pays one
 * call more per pass than poll() either way (the check, or the MOD).
 *
 * The cross-thread wakeup is the one the poll backend uses (posix/wakeup.h),
 * an eventfd here, in the epoll set level-triggered. Ownership across pollers
 * is the process-wide claim set shared with the poll backend
 * (posix/fd_claims.h). */
#define _GNU_SOURCE

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
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

/* What epoll reports is read with poll()'s bits (posix/readiness.h). */
_Static_assert(EPOLLIN == POLLIN && EPOLLOUT == POLLOUT && EPOLLHUP == POLLHUP &&
                   EPOLLERR == POLLERR,
               "epoll's event bits are poll()'s");

/* Events taken from the kernel per epoll_wait at most. */
#define HARVEST_MAX 256

struct tofu_poll_handle {
  int fd; /* first: fd_table reads it there (posix/fd_claims.h) */
  void *token;
  unsigned interest; /* armed; 0 when disarmed */
  unsigned kmask;    /* the directions the kernel registration watches */
  int check;         /* index + 1 in the check list, 0 when not in it */
  uint64_t reported; /* the wait (p->waits) that last reported it */
};
_Static_assert(offsetof(struct tofu_poll_handle, fd) == 0, "fd_table reads the descriptor first");

struct tofu_poller {
  int ep;
  wakeup wakeup;            /* notify()'s eventfd, in the epoll set (posix/wakeup.h) */
  fd_table handles;         /* registered handles by descriptor (fd_claims.h) */
  tofu_poll_handle **check; /* armed handles whose level the next wait checks */
  int ncheck, check_cap;
  struct pollfd *pfds; /* the check's poll() array: [0] the wakeup, then check[] */
  struct epoll_event harvest[HARVEST_MAX];
  uint64_t waits; /* wait calls so far */
};

/* --- small helpers -------------------------------------------------------- */

/* EPOLLHUP and EPOLLERR are not asked for: the kernel adds them to every
 * registration. A handle armed for TOFU_POLL_HANGUP alone relies on that. */
static uint32_t epoll_events_for(unsigned dirs) {
  uint32_t ev = EPOLLET;
  if (dirs & TOFU_POLL_READABLE)
    ev |= EPOLLIN;
  if (dirs & TOFU_POLL_WRITABLE)
    ev |= EPOLLOUT;
  return ev;
}

static int set_kmask(tofu_poller *p, tofu_poll_handle *h, unsigned dirs) {
  struct epoll_event ev;
  memset(&ev, 0, sizeof ev);
  ev.events = epoll_events_for(dirs);
  ev.data.ptr = h;
  if (epoll_ctl(p->ep, EPOLL_CTL_MOD, h->fd, &ev) < 0)
    return errno == ENOMEM ? TOFU_ENOMEM : TOFU_ESYSTEM;
  h->kmask = dirs;
  return TOFU_OK;
}

static void check_remove(tofu_poller *p, tofu_poll_handle *h) {
  if (h->check == 0)
    return;
  int i = h->check - 1, last = p->ncheck - 1;
  if (i != last) {
    p->check[i] = p->check[last];
    p->check[i]->check = i + 1;
  }
  p->ncheck--;
  h->check = 0;
}

static int check_add(tofu_poller *p, tofu_poll_handle *h) {
  if (h->check != 0)
    return TOFU_OK;
  if (p->ncheck == p->check_cap) {
    if (p->check_cap > INT32_MAX / 2)
      return TOFU_ELIMIT;
    int cap = p->check_cap * 2;
    tofu_poll_handle **check = realloc(p->check, (size_t)cap * sizeof *check);
    if (check == NULL)
      return TOFU_ENOMEM;
    p->check = check;
    struct pollfd *pfds = realloc(p->pfds, (size_t)(cap + 1) * sizeof *pfds);
    if (pfds == NULL)
      return TOFU_ENOMEM;
    p->pfds = pfds;
    p->check_cap = cap;
  }
  p->check[p->ncheck++] = h;
  h->check = p->ncheck;
  return TOFU_OK;
}

/* --- lifecycle ------------------------------------------------------------- */

static int ep_open(tofu_poller **out) {
  if (out == NULL)
    return TOFU_EINVAL;
  tofu_poller *p = calloc(1, sizeof *p);
  if (p == NULL)
    return TOFU_ENOMEM;
  p->ep = epoll_create1(EPOLL_CLOEXEC);
  int woke = wakeup_open(&p->wakeup);
  /* Room for a first batch of arms, so that the steady state allocates
   * nothing (the list grows by doubling when more are armed at once). */
  p->check_cap = 64;
  p->check = malloc((size_t)p->check_cap * sizeof *p->check);
  p->pfds = malloc((size_t)(p->check_cap + 1) * sizeof *p->pfds);
  struct epoll_event ev;
  memset(&ev, 0, sizeof ev);
  ev.events = EPOLLIN;
  ev.data.ptr = NULL; /* the wakeup */
  if (p->ep < 0 || woke < 0 || p->check == NULL || p->pfds == NULL ||
      epoll_ctl(p->ep, EPOLL_CTL_ADD, p->wakeup.read_fd, &ev) < 0) {
    int nomem = p->check == NULL || p->pfds == NULL;
    if (p->ep >= 0)
      close(p->ep);
    if (woke == 0)
      wakeup_close(&p->wakeup);
    free(p->check);
    free(p->pfds);
    free(p);
    return nomem ? TOFU_ENOMEM : TOFU_ESYSTEM;
  }
  *out = p;
  return TOFU_OK;
}

static void ep_close(tofu_poller *p) {
  if (p == NULL)
    return;
  /* Closing the epoll descriptor drops every registration with it. */
  fd_table_fini(&p->handles);
  free(p->check);
  free(p->pfds);
  close(p->ep);
  wakeup_close(&p->wakeup);
  free(p);
}

/* --- registration ---------------------------------------------------------- */

static int ep_register(tofu_poller *p, tofu_socket sock, void *token, tofu_poll_handle **out) {
  if (p == NULL || out == NULL)
    return TOFU_EINVAL;
  void *mem;
  int rc = fd_table_add(&p->handles, sock, sizeof(tofu_poll_handle), &mem);
  if (rc != TOFU_OK)
    return rc;
  tofu_poll_handle *h = mem;
  h->token = token;
  /* No direction yet: only a hang-up or an error would wake the wait, and
   * they are not reported to a disarmed handle (an edge, not a level: one
   * that comes while disarmed is gone, and the check at the next arm sees the
   * state instead). */
  struct epoll_event ev;
  memset(&ev, 0, sizeof ev);
  ev.events = epoll_events_for(0);
  ev.data.ptr = h;
  if (epoll_ctl(p->ep, EPOLL_CTL_ADD, sock, &ev) < 0) {
    int err = errno;
    fd_table_remove(&p->handles, sock);
    if (err == EBADF || err == EPERM)
      return TOFU_EINVAL; /* not an open descriptor, or one epoll cannot watch */
    errno = err;
    return err == ENOMEM ? TOFU_ENOMEM : TOFU_ESYSTEM;
  }
  *out = h;
  return TOFU_OK;
}

static int ep_deregister(tofu_poller *p, tofu_poll_handle *h) {
  if (p == NULL || !fd_table_owns(&p->handles, h))
    return TOFU_EINVAL;
  check_remove(p, h);
  /* Also takes the socket off the kernel's ready list: no later wait can
   * see it. */
  epoll_ctl(p->ep, EPOLL_CTL_DEL, h->fd, NULL);
  fd_table_remove(&p->handles, h->fd);
  return TOFU_OK;
}

/* --- arming ---------------------------------------------------------------- */

static int ep_arm(tofu_poller *p, tofu_poll_handle *h, unsigned interest) {
  if (p == NULL || !fd_table_owns(&p->handles, h) ||
      (interest & ~(unsigned)TOFU_POLL_INTEREST_MASK))
    return TOFU_EINVAL;
  if (interest == 0) {
    /* The kernel keeps watching until an unwanted edge says otherwise. */
    check_remove(p, h);
    h->interest = 0;
    return TOFU_OK;
  }
  unsigned dirs = interest & READINESS_DIRECTIONS;
  if (dirs != 0 && dirs != h->kmask) {
    /* A MOD re-checks the level itself: a ready socket is queued at once. */
    int rc = set_kmask(p, h, dirs);
    if (rc != TOFU_OK)
      return rc;
    check_remove(p, h);
    h->interest = interest;
    return TOFU_OK;
  }
  /* The same directions, or HANGUP alone: whatever kmask is, the kernel
   * delivers EPOLLHUP and EPOLLERR always, and an edge in a direction no
   * longer wanted quiets the registration (take_harvest). */
  if (check_add(p, h) != TOFU_OK) {
    /* No memory for a longer list: the kernel checks the level instead. */
    int rc = set_kmask(p, h, dirs);
    if (rc != TOFU_OK)
      return rc;
  }
  h->interest = interest;
  return TOFU_OK;
}

/* --- waiting --------------------------------------------------------------- */

/* Report h with bits: one-shot, so it is disarmed (in user space only). */
static void report(tofu_poller *p, tofu_poll_handle *h, unsigned bits, tofu_poll_event *ev) {
  ev->token = h->token;
  ev->events = bits;
  h->interest = 0;
  h->reported = p->waits;
  check_remove(p, h);
}

/* The level check of the handles armed since the last wait: one poll() of
 * the wakeup and every one of them, without waiting. Handles found ready are
 * reported (up to max); the others leave the list, and their next change of
 * state comes as an edge. Returns the events written, or a negative error. */
static int run_check(tofu_poller *p, tofu_poll_event *events, int max, int *woken) {
  p->pfds[0].fd = p->wakeup.read_fd;
  p->pfds[0].events = POLLIN;
  p->pfds[0].revents = 0;
  for (int i = 0; i < p->ncheck; i++) {
    tofu_poll_handle *h = p->check[i];
    p->pfds[i + 1].fd = h->fd;
    p->pfds[i + 1].events = readiness_to_poll(h->interest);
    p->pfds[i + 1].revents = 0;
  }
  int rc;
  while ((rc = poll(p->pfds, (nfds_t)p->ncheck + 1, 0)) < 0 && errno == EINTR) {
  }
  if (rc < 0)
    return TOFU_ESYSTEM;
  int n = 0;
  if (p->pfds[0].revents) {
    wakeup_take(&p->wakeup, &events[n++]);
    *woken = 1;
  }
  /* Walk from the end: report() and check_remove() move the last entry into
   * the place they free, which has been looked at already. */
  for (int i = p->ncheck - 1; i >= 0; i--) {
    tofu_poll_handle *h = p->check[i];
    short revents = p->pfds[i + 1].revents;
    if (revents == 0) {
      check_remove(p, h);
    } else if (n < max) {
      report(p, h, readiness_from_poll((unsigned)revents, h->interest), &events[n++]);
    }
    /* Ready but no room: stays in the list, armed, for the next wait. */
  }
  return n;
}

/* Turn what epoll_wait returned into reports, appended from events[n]. */
static int take_harvest(tofu_poller *p, int got, tofu_poll_event *events, int n, int *woken) {
  for (int i = 0; i < got; i++) {
    tofu_poll_handle *h = p->harvest[i].data.ptr;
    if (h == NULL) {
      /* The eventfd is level-triggered: if this wait reported a wakeup
       * already, the next wait takes this one. */
      if (!*woken) {
        wakeup_take(&p->wakeup, &events[n++]);
        *woken = 1;
      }
      continue;
    }
    unsigned bits = h->interest ? readiness_from_poll(p->harvest[i].events, h->interest) : 0;
    if (bits != 0) {
      report(p, h, bits, &events[n++]);
      continue;
    }
    /* An edge nobody armed for. Right after a report it is the same state
     * seen twice; on a handle left disarmed since an earlier wait, or armed
     * for HANGUP alone (a direction is armed only as kmask, see ep_arm), the
     * registration is quieted so that the kernel stops waking us for it. It
     * still delivers a hang-up or an error then. */
    if ((h->interest & READINESS_DIRECTIONS) == 0 && h->kmask != 0 && h->reported != p->waits)
      set_kmask(p, h, 0);
  }
  return n;
}

static int ep_wait(tofu_poller *p, tofu_poll_event *events, int max, int timeout_ms) {
  if (p == NULL || events == NULL || max < 1 || timeout_ms < -1)
    return TOFU_EINVAL;
  p->waits++;
  int woken = 0, n = 0;
  if (p->ncheck > 0) {
    n = run_check(p, events, max, &woken);
    if (n < 0)
      return n;
  }
  deadline d = deadline_start(timeout_ms);
  int remaining = timeout_ms;
  while (n < max) {
    /* Block only when nothing is ready yet and nothing is left to check. */
    int t = (n > 0 || p->ncheck > 0) ? 0 : remaining;
    int room = max - n < HARVEST_MAX ? max - n : HARVEST_MAX;
    int got = epoll_wait(p->ep, p->harvest, room, t);
    if (got < 0 && errno != EINTR)
      return n > 0 ? n : TOFU_ESYSTEM;
    if (got > 0)
      n = take_harvest(p, got, events, n, &woken);
    if (n > 0 || t == 0)
      break;
    /* Interrupted, only unwanted edges, or woken before the deadline by the
     * clock's rounding: wait out what is left, never return 0 early. */
    remaining = deadline_next_ms(&d);
    if (remaining == 0)
      break;
  }
  return n;
}

/* --- notify and counters ------------------------------------------------- */

static int ep_notify(tofu_poller *p) {
  if (p == NULL)
    return TOFU_EINVAL;
  return wakeup_notify(&p->wakeup);
}

static int ep_stats(tofu_poller *p, tofu_poller_stats *out) {
  static const tofu_poller_stats none; /* no completion packets to tell apart */
  if (p == NULL)
    return TOFU_EINVAL;
  return stats_copy(&none, out);
}

static const tofu_poller_ops epoll_ops = {
    .name = "epoll",
    .open = ep_open,
    .close = ep_close,
    .register_socket = ep_register,
    .deregister = ep_deregister,
    .arm = ep_arm,
    .wait = ep_wait,
    .notify = ep_notify,
    .stats = ep_stats,
};

const tofu_poller_ops *tofu_poller_backend(void) {
  return &epoll_ops;
}
