/* wakeup — how notify() reaches a POSIX poller's waiting thread: an eventfd
 * on Linux, a non-blocking pipe elsewhere (the BSDs, macOS), whose read end
 * the poller watches for POLLIN (poll) or EPOLLIN (epoll), and the flag that
 * coalesces many notifies into one wakeup event.
 *
 * common/platform/posix/event.c is this file's twin on purpose: the same
 * eventfd-or-pipe, as a level flag an application waits on
 * (tofu_group_os_handle). Neither may call the other: a backend builds on the
 * public headers alone (include/tofu/poller.h stands alone), and common/
 * never includes a backend, whichever is compiled in (docs/layering.md). */
#ifndef TOFU_POSIX_WAKEUP_H
#define TOFU_POSIX_WAKEUP_H

#include <stdatomic.h>

#include "tofu/poller.h"

typedef struct wakeup {
  int read_fd;        /* the descriptor the poller watches for readable */
  int write_fd;       /* the same descriptor as read_fd for an eventfd */
  atomic_int pending; /* 1 from the first notify until the wakeup is taken */
} wakeup;

/* Create the wakeup descriptors, nothing pending. Returns 0 or -1 with errno
 * set. */
int wakeup_open(wakeup *w);

/* Close what wakeup_open created. */
void wakeup_close(wakeup *w);

/* The contract's notify(): make read_fd readable, unless a wakeup is on its
 * way already. Safe from any thread. TOFU_OK or TOFU_ESYSTEM. */
int wakeup_notify(wakeup *w);

/* The poller saw read_fd readable: consume the wakeup and write its
 * TOFU_POLL_WAKEUP event to *ev. The poller's thread only. */
void wakeup_take(wakeup *w, tofu_poll_event *ev);

/* The two halves under notify and take, without the coalescing: make read_fd
 * readable (any thread; 0 or -1 with errno), and consume every signal so that
 * it is readable no more. */
int wakeup_signal(wakeup *w);
void wakeup_drain(wakeup *w);

#endif /* TOFU_POSIX_WAKEUP_H */
