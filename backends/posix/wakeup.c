#if defined(__linux__)
#define _GNU_SOURCE
#else
#define _POSIX_C_SOURCE 200809L
#endif

#include "wakeup.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <unistd.h>

#include "tofu/error.h"

#if defined(__linux__)
#include <sys/eventfd.h>

int wakeup_open(wakeup *w) {
  int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (fd < 0)
    return -1;
  w->read_fd = fd;
  w->write_fd = fd;
  atomic_init(&w->pending, 0);
  return 0;
}

void wakeup_close(wakeup *w) {
  close(w->read_fd);
  w->read_fd = w->write_fd = -1;
}

int wakeup_signal(wakeup *w) {
  uint64_t one = 1;
  for (;;) {
    if (write(w->write_fd, &one, sizeof one) == (ssize_t)sizeof one)
      return 0;
    if (errno == EINTR)
      continue;
    /* EAGAIN means the counter is saturated: the descriptor is readable
     * already, which is all a wakeup needs. */
    return errno == EAGAIN ? 0 : -1;
  }
}

void wakeup_drain(wakeup *w) {
  uint64_t count;
  /* One read resets an eventfd counter to zero. */
  while (read(w->read_fd, &count, sizeof count) < 0 && errno == EINTR) {
  }
}

#else /* a self-pipe where there is no eventfd */

static int set_flags(int fd) {
  int fl = fcntl(fd, F_GETFL);
  if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
    return -1;
  int fdfl = fcntl(fd, F_GETFD);
  if (fdfl < 0 || fcntl(fd, F_SETFD, fdfl | FD_CLOEXEC) < 0)
    return -1;
  return 0;
}

int wakeup_open(wakeup *w) {
  int fds[2];
  if (pipe(fds) < 0)
    return -1;
  if (set_flags(fds[0]) < 0 || set_flags(fds[1]) < 0) {
    int saved = errno;
    close(fds[0]);
    close(fds[1]);
    errno = saved;
    return -1;
  }
  w->read_fd = fds[0];
  w->write_fd = fds[1];
  atomic_init(&w->pending, 0);
  return 0;
}

void wakeup_close(wakeup *w) {
  close(w->read_fd);
  close(w->write_fd);
  w->read_fd = w->write_fd = -1;
}

int wakeup_signal(wakeup *w) {
  char byte = 1;
  for (;;) {
    if (write(w->write_fd, &byte, 1) == 1)
      return 0;
    if (errno == EINTR)
      continue;
    /* A full pipe is already readable. */
    return errno == EAGAIN ? 0 : -1;
  }
}

void wakeup_drain(wakeup *w) {
  char buf[64];
  for (;;) {
    ssize_t n = read(w->read_fd, buf, sizeof buf);
    if (n > 0)
      continue;
    if (n < 0 && errno == EINTR)
      continue;
    return;
  }
}

#endif

/* ---- Coalescing ----------------------------------------------------------- */

int wakeup_notify(wakeup *w) {
  if (atomic_exchange(&w->pending, 1) != 0)
    return TOFU_OK; /* a wakeup is already on its way */
  if (wakeup_signal(w) < 0) {
    atomic_store(&w->pending, 0);
    return TOFU_ESYSTEM;
  }
  return TOFU_OK;
}

void wakeup_take(wakeup *w, tofu_poll_event *ev) {
  /* Drain first, then clear the flag: a notify that lands in between is
   * coalesced into this wakeup, and one that lands after the clear writes
   * again. The other order could clear a flag whose write was drained. */
  wakeup_drain(w);
  atomic_store(&w->pending, 0);
  ev->token = NULL;
  ev->events = TOFU_POLL_WAKEUP;
}
