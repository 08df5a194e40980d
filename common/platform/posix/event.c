/* platform/posix/event — see platform/event.h.
 *
 * backends/posix/wakeup.c is this file's twin on purpose: the same
 * eventfd-or-pipe, there as the coalesced wakeup of a POSIX poller. Neither
 * may call the other: common/ never includes a backend (the Windows build has
 * no backends/posix at all), and a backend builds on the public headers alone
 * (include/tofu/poller.h stands alone, docs/layering.md). A fix to the
 * descriptors' flags or to the Linux-or-not choice belongs in both. */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include "platform/event.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <unistd.h>

#include "tofu/error.h"

#ifdef __linux__
#include <sys/eventfd.h>
#endif

#ifndef __linux__
static int set_flags(int fd) {
  int fl = fcntl(fd, F_GETFL);
  int fd_fl = fcntl(fd, F_GETFD);
  return fl >= 0 && fd_fl >= 0 && fcntl(fd, F_SETFL, fl | O_NONBLOCK) == 0 &&
         fcntl(fd, F_SETFD, fd_fl | FD_CLOEXEC) == 0;
}
#endif

int plat_event_open(plat_event *ev) {
#ifdef __linux__
  int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (fd < 0)
    return TOFU_ESYSTEM;
  ev->wait_handle = ev->write_end = fd;
  return TOFU_OK;
#else
  int p[2];
  if (pipe(p) != 0)
    return TOFU_ESYSTEM;
  if (!set_flags(p[0]) || !set_flags(p[1])) {
    close(p[0]);
    close(p[1]);
    return TOFU_ESYSTEM;
  }
  ev->wait_handle = p[0];
  ev->write_end = p[1];
  return TOFU_OK;
#endif
}

void plat_event_close(plat_event *ev) {
  if (ev->write_end != ev->wait_handle)
    close((int)ev->write_end);
  close((int)ev->wait_handle);
  ev->wait_handle = ev->write_end = -1;
}

void plat_event_set(plat_event *ev) {
#ifdef __linux__
  uint64_t one = 1;
  while (write((int)ev->write_end, &one, sizeof one) < 0 && errno == EINTR)
    ;
#else
  char one = 1;
  while (write((int)ev->write_end, &one, 1) < 0 && errno == EINTR)
    ;
#endif
}

void plat_event_clear(plat_event *ev) {
  uint64_t buf[8];
  for (;;) { /* read until empty: an eventfd in one read, a pipe in a few */
    ssize_t n = read((int)ev->wait_handle, buf, sizeof buf);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < (ssize_t)sizeof buf)
      break;
  }
}
