/* mailbox — a blocking FIFO of messages between threads: the receive queue of
 * a channel group. Any thread may put; any number of threads may wait at
 * once, and each message goes to exactly one of them.
 *
 * Two lists under two locks. Producers append to q under mu. Receivers take
 * from taken under take_busy (a lock of the receivers only, an atomic flag:
 * held for a few instructions, never across a sleep), and refill it from q (under both) only when
 * it holds nothing for them: a lone receiver moves the whole of q at once, so that one lock of mu
 * and at most one wakeup move a batch, and its next receives lock only take_busy, which no producer
 * touches. While other receivers sleep, a refill moves one message, so that the rest stay in q,
 * where a sleeper's wakeup can see them (a sleeper never sleeps beside a
 * message in taken that it could have). Messages are handed out in queue
 * order: taken holds the older ones.
 *
 * A wait for a match (mailbox_wait_match) reserves the messages it accepts
 * for as long as it lasts: mailbox_wait skips them, so a reply some thread
 * waits for goes to that thread, and everything else to any waiter.
 *
 * Closing (the group is being destroyed) wakes every waiter: its wait
 * returns NULL with TOFU_ECLOSED, and mailbox_close returns once no thread
 * is inside a wait any more. A thread must not start a wait after that.
 *
 * Lock order: take_busy, then mu. */
#ifndef TOFU_MAILBOX_H
#define TOFU_MAILBOX_H

#include <stdatomic.h>

#include "msgq.h"
#include "platform/cpu.h"
#include "platform/event.h"
#include "platform/thread.h"

/* One mailbox_wait_match in progress: what it accepts (on its stack, linked
 * under take_busy). */
typedef struct mailbox_want {
  int (*match)(const tofu_message *, void *);
  void *arg;
  struct mailbox_want *next;
  tofu_message *last; /* the last message of taken it looked at... */
  unsigned cuts;      /* ...valid while taken's cuts is still this */
} mailbox_want;

typedef struct mailbox {
  /* The producers' side (the Reactor's delivery) and the sleep. */
  plat_mutex mu;
  plat_cond cv;
  msgq q;      /* under mu: what the producers put */
  int waiting; /* under mu: threads blocked on cv */
  /* The pollable flag (mailbox_os_handle), set while q or taken holds a
   * message; made on first use. has_event is set under both locks (read
   * under either), event_set under mu. */
  int has_event, event_set;
  plat_event event;
  /* A receive takes the receivers' lock and counts itself in `inside`:
   * atomics on lines the Reactor does not write, so that they stay in the
   * receiving core's cache (the pads keep neighbours off those lines). */
  char pad_producers[PLAT_CACHE_LINE];
  atomic_int take_busy; /* the receivers' lock (take_lock in mailbox.c) */
  atomic_int inside;    /* threads inside mailbox_wait or mailbox_wait_match */
  atomic_int closed;    /* set once, by mailbox_close (under mu too) */
  unsigned cuts;        /* under take_busy: messages unlinked from taken so far */
  msgq taken;           /* under take_busy: taken from q, not yet handed out */
  mailbox_want *wanted; /* under take_busy: the waits for a match in progress */
  char pad_receivers[PLAT_CACHE_LINE];
} mailbox;

int mailbox_init(mailbox *mb);
void mailbox_fini(mailbox *mb);

void mailbox_put(mailbox *mb, tofu_message *m);

/* Put a whole queue at once (one lock, at most one wakeup per waiter). */
void mailbox_put_all(mailbox *mb, msgq *q);

/* The oldest message no wait for a match reserves, or NULL after timeout_ms
 * (-1: no limit, 0: no wait) or once the mailbox is closed. *why (may be
 * NULL) receives TOFU_OK, TOFU_ETIMEDOUT or TOFU_ECLOSED. Any thread, any
 * number at once. */
tofu_message *mailbox_wait(mailbox *mb, int timeout_ms, int *why);

/* Up to max messages (max >= 1) into out, oldest first, as mailbox_wait
 * would hand them out: the first waited for up to timeout_ms, the rest only
 * if queued already; returns how many (0 with *why as mailbox_wait's). */
size_t mailbox_wait_many(mailbox *mb, tofu_message **out, size_t max, int timeout_ms, int *why);

/* The oldest message that match(m, arg) accepts, unlinked from wherever it
 * is in the queue; the others keep their order. While it waits, mailbox_wait
 * in other threads leaves what match accepts alone. NULL after timeout_ms or
 * on close, as mailbox_wait. Any thread, any number at once. */
tofu_message *mailbox_wait_match(mailbox *mb, int (*match)(const tofu_message *, void *), void *arg,
                                 int timeout_ms, int *why);

/* Wake every waiter (their waits return NULL, TOFU_ECLOSED) and return once
 * none is inside a wait. Any thread but a waiter of this mailbox. */
void mailbox_close(mailbox *mb);

/* The flag's handle for the application's event loop (made on the first
 * call); -1 / 0 cast to intptr_t when it cannot be made: the return is
 * TOFU_OK or TOFU_ESYSTEM and *out the handle. Any thread. */
int mailbox_os_handle(mailbox *mb, intptr_t *out);

/* How many waits for a match are in progress (tests, diagnostics). */
int mailbox_match_waits(mailbox *mb);

/* Take every queued message (for teardown; no thread is waiting). */
void mailbox_drain(mailbox *mb, msgq *out);

#endif /* TOFU_MAILBOX_H */
