/* mailbox — a blocking FIFO of messages between threads: the receive queue of
 * a channel group. Any thread may put; one thread at a time waits.
 *
 * The receiver takes everything queued at once (one lock) into a list only it
 * touches, and pops from that list without locking until it is empty: one
 * lock and at most one wakeup move a whole batch.
 *
 * Closing (the group is being destroyed) wakes every waiter: its wait
 * returns NULL with TOFU_ECLOSED, and mailbox_close returns once no thread
 * is inside a wait any more. A thread must not start a wait after that. */
#ifndef TOFU_MAILBOX_H
#define TOFU_MAILBOX_H

#include <stdatomic.h>

#include "msgq.h"
#include "platform/event.h"
#include "platform/thread.h"

typedef struct mailbox {
  plat_mutex mu;
  plat_cond cv;
  msgq q;      /* under mu: what the producers put */
  int waiting; /* under mu: threads blocked in mailbox_wait */
  msgq taken;  /* the receiving thread's: taken from q, not yet returned */
  /* The pollable flag (mailbox_os_handle), set while q or taken holds a
   * message; made on first use. Both under mu. */
  int has_event, event_set;
  plat_event event;
  atomic_int inside; /* threads inside mailbox_wait or mailbox_wait_match */
  atomic_int closed; /* set once, by mailbox_close (under mu too) */
} mailbox;

int mailbox_init(mailbox *mb);
void mailbox_fini(mailbox *mb);

void mailbox_put(mailbox *mb, tofu_message *m);

/* Put a whole queue at once (one lock, at most one wakeup). */
void mailbox_put_all(mailbox *mb, msgq *q);

/* The next message, or NULL after timeout_ms (-1: no limit, 0: no wait) or
 * once the mailbox is closed. *why (may be NULL) receives TOFU_OK,
 * TOFU_ETIMEDOUT or TOFU_ECLOSED. One thread at a time. */
tofu_message *mailbox_wait(mailbox *mb, int timeout_ms, int *why);

/* The next message that match(m, arg) accepts, unlinked from wherever it is
 * in the queue; the others keep their order. NULL after timeout_ms or on
 * close, as mailbox_wait. One thread at a time (the receiving thread). */
tofu_message *mailbox_wait_match(mailbox *mb, int (*match)(const tofu_message *, void *), void *arg,
                                 int timeout_ms, int *why);

/* Wake every waiter (their waits return NULL, TOFU_ECLOSED) and return once
 * none is inside a wait. Any thread but a waiter of this mailbox. */
void mailbox_close(mailbox *mb);

/* The flag's handle for the application's event loop (made on the first
 * call, by the receiving thread); -1 / 0 cast to intptr_t when it cannot be
 * made: the return is TOFU_OK or TOFU_ESYSTEM and *out the handle. */
int mailbox_os_handle(mailbox *mb, intptr_t *out);

/* Take every queued message (for teardown; no thread is waiting). */
void mailbox_drain(mailbox *mb, msgq *out);

#endif /* TOFU_MAILBOX_H */
