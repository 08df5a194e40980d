/* mailbox — a blocking FIFO of messages between threads: the receive queue of
 * a channel group. Any thread may put; one thread at a time waits. */
#ifndef TOFU_MAILBOX_H
#define TOFU_MAILBOX_H

#include <pthread.h>
#include <time.h>

#include "msgq.h"

typedef struct mailbox {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  clockid_t clk; /* the clock cv waits on */
  msgq q;
  int waiting; /* threads blocked in mailbox_wait */
} mailbox;

int mailbox_init(mailbox *mb);
void mailbox_fini(mailbox *mb);

void mailbox_put(mailbox *mb, tofu_message *m);

/* Put a whole queue at once (one wakeup). */
void mailbox_put_all(mailbox *mb, msgq *q);

/* The next message, or NULL after timeout_ms (-1: no limit, 0: no wait). */
tofu_message *mailbox_wait(mailbox *mb, int timeout_ms);

/* Take every queued message (for teardown). */
void mailbox_drain(mailbox *mb, msgq *out);

#endif /* TOFU_MAILBOX_H */
