/* The poll backend's cross-thread wakeup: an eventfd on Linux, a non-blocking
 * pipe elsewhere (the BSDs, macOS). Coalescing is the caller's job; this only
 * moves a "wake up" from any thread to the one blocked in poll(). */
#ifndef TOFU_POLL_WAKEUP_H
#define TOFU_POLL_WAKEUP_H

typedef struct poll_wakeup {
  int read_fd;  /* the descriptor poll() watches for POLLIN */
  int write_fd; /* the same descriptor as read_fd for an eventfd */
} poll_wakeup;

/* Create the wakeup descriptors. Returns 0 or -1 with errno set. */
int wakeup_open(poll_wakeup *w);

/* Close what wakeup_open created. */
void wakeup_close(poll_wakeup *w);

/* Make read_fd readable. Safe from any thread. Returns 0 or -1 with errno. */
int wakeup_signal(poll_wakeup *w);

/* Consume every pending signal so read_fd is no longer readable. */
void wakeup_drain(poll_wakeup *w);

#endif /* TOFU_POLL_WAKEUP_H */
