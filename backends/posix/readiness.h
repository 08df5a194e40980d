/* readiness — the contract's interest and readiness bits (tofu/poller.h) in
 * poll()'s terms, and back. The epoll backend uses the same two: epoll's
 * EPOLLIN, EPOLLOUT, EPOLLHUP and EPOLLERR have poll()'s values on Linux.
 * Inline: the backends call them once per arm and once per report. */
#ifndef TOFU_POSIX_READINESS_H
#define TOFU_POSIX_READINESS_H

#include <poll.h>

#include "tofu/poller.h"

/* The directions of an interest: what poll() is asked to watch. HANGUP, the
 * third bit a caller may arm, needs no event of its own: poll() and epoll
 * always report POLLHUP and POLLERR. */
#define READINESS_DIRECTIONS (TOFU_POLL_READABLE | TOFU_POLL_WRITABLE)

/* The poll() events that watch for interest (TOFU_POLL_READABLE/WRITABLE;
 * none for an interest of TOFU_POLL_HANGUP alone). */
static inline short readiness_to_poll(unsigned interest) {
  short events = 0;
  if (interest & TOFU_POLL_READABLE)
    events |= POLLIN;
  if (interest & TOFU_POLL_WRITABLE)
    events |= POLLOUT;
  return events;
}

/* The contract's bits for what poll() (or epoll) said about a handle armed
 * for interest. */
static inline unsigned readiness_from_poll(unsigned revents, unsigned interest) {
  unsigned bits = 0;
  if (revents & POLLIN)
    bits |= TOFU_POLL_READABLE;
  if (revents & POLLOUT)
    bits |= TOFU_POLL_WRITABLE;
  if (revents & POLLHUP)
    bits |= TOFU_POLL_HANGUP;
  if (revents & (POLLERR | POLLNVAL))
    bits |= TOFU_POLL_ERROR;
  /* After a hang-up or an error, I/O in every armed direction returns at once
   * (with EOF or the error), so the caller is told to try each of them. A
   * handle armed for HANGUP alone hears only of those two: data or a free
   * send buffer is filtered out below. */
  if (bits & (TOFU_POLL_HANGUP | TOFU_POLL_ERROR))
    bits |= interest & READINESS_DIRECTIONS;
  return bits & (interest | TOFU_POLL_HANGUP | TOFU_POLL_ERROR);
}

#endif /* TOFU_POSIX_READINESS_H */
