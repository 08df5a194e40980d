/* mailbox — a blocking FIFO of messages between threads: the receive queue of
 * a channel group. Any thread may put; one thread at a time waits.
 *
 * The receiver takes everything queued at once (one lock) into a list only it
 * touches, and pops from that list without locking until it is empty: one
 * lock and at most one wakeup move a whole batch. */
#ifndef TOFU_MAILBOX_H
#define TOFU_MAILBOX_H

#include "msgq.h"
#include "platform/thread.h"

typedef struct mailbox {
  plat_mutex mu;
  plat_cond cv;
  msgq q;      /* under mu: what the producers put */
  int waiting; /* under mu: threads blocked in mailbox_wait */
  msgq taken;  /* the receiving thread's: taken from q, not yet returned */
} mailbox;

int mailbox_init(mailbox *mb);
void mailbox_fini(mailbox *mb);

void mailbox_put(mailbox *mb, tofu_message *m);

/* Put a whole queue at once (one lock, at most one wakeup). */
void mailbox_put_all(mailbox *mb, msgq *q);

/* The next message, or NULL after timeout_ms (-1: no limit, 0: no wait).
 * One thread at a time. */
tofu_message *mailbox_wait(mailbox *mb, int timeout_ms);

/* Take every queued message (for teardown; no thread is waiting). */
void mailbox_drain(mailbox *mb, msgq *out);

#endif /* TOFU_MAILBOX_H */
