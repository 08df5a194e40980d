#include "mailbox.h"

#include "platform/clock.h"
#include "platform/cpu.h"
#include "tofu/error.h"

int mailbox_init(mailbox *mb) {
  msgq_init(&mb->q);
  msgq_init(&mb->taken);
  mb->waiting = 0;
  mb->has_event = mb->event_set = 0;
  atomic_init(&mb->inside, 0);
  atomic_init(&mb->closed, 0);
  if (plat_mutex_init(&mb->mu) != TOFU_OK)
    return TOFU_ESYSTEM;
  if (plat_cond_init(&mb->cv) != TOFU_OK) {
    plat_mutex_fini(&mb->mu);
    return TOFU_ESYSTEM;
  }
  return TOFU_OK;
}

void mailbox_fini(mailbox *mb) {
  if (mb->has_event)
    plat_event_close(&mb->event);
  plat_cond_fini(&mb->cv);
  plat_mutex_fini(&mb->mu);
}

/* The signal is sent after the unlock, so that the woken receiver does not
 * block again at once on the mutex the producer still holds. A receiver that
 * timed out meanwhile only makes it a spurious wakeup, which it tolerates. */
/* Under mu, after a put: raise the flag if it is down. */
static void raise_flag(mailbox *mb) {
  if (mb->has_event && !mb->event_set) {
    plat_event_set(&mb->event);
    mb->event_set = 1;
  }
}

/* The receiving thread took a message: lower the flag if nothing is left.
 * Locks only when the flag is in use and this thread's batch is empty. */
static void after_take(mailbox *mb) {
  if (!mb->has_event || !msgq_empty(&mb->taken))
    return; /* has_event changes only on the receiving thread */
  plat_mutex_lock(&mb->mu);
  if (mb->event_set && msgq_empty(&mb->q)) {
    plat_event_clear(&mb->event);
    mb->event_set = 0;
  }
  plat_mutex_unlock(&mb->mu);
}

void mailbox_put(mailbox *mb, tofu_message *m) {
  plat_mutex_lock(&mb->mu);
  msgq_push(&mb->q, m);
  raise_flag(mb);
  int wake = mb->waiting;
  plat_mutex_unlock(&mb->mu);
  if (wake)
    plat_cond_signal(&mb->cv);
}

void mailbox_put_all(mailbox *mb, msgq *q) {
  if (msgq_empty(q))
    return;
  plat_mutex_lock(&mb->mu);
  msgq_take_all(&mb->q, q);
  raise_flag(mb);
  int wake = mb->waiting;
  plat_mutex_unlock(&mb->mu);
  if (wake)
    plat_cond_signal(&mb->cv); /* one receiver at a time: one is enough */
}

/* Whether a waiter must stop waiting: something queued, or closed. Under mu. */
static int wait_over(const mailbox *mb) {
  return !msgq_empty(&mb->q) || atomic_load_explicit(&mb->closed, memory_order_relaxed);
}

/* Wait until q holds a message, the mailbox closes or timeout_ms passes
 * (-1: no limit, 0: do not wait), then move q to the end of taken. Under
 * mu. */
static void take_batch(mailbox *mb, int timeout_ms) {
  if (timeout_ms < 0) {
    while (!wait_over(mb)) {
      mb->waiting++;
      plat_cond_wait(&mb->cv, &mb->mu);
      mb->waiting--;
    }
  } else if (timeout_ms > 0 && !wait_over(mb)) {
    int64_t deadline = clock_now_ms() + timeout_ms;
    while (!wait_over(mb)) {
      mb->waiting++;
      int more = plat_cond_wait_until(&mb->cv, &mb->mu, deadline);
      mb->waiting--;
      if (!more)
        break;
    }
  }
  msgq_take_all(&mb->taken, &mb->q);
}

/* A wait starts: counted, so that mailbox_close knows when every waiter has
 * left; returns 0 if the mailbox is closed (the wait must not go on). The
 * increment and the load of closed are sequentially consistent, as the
 * store of closed and the load of inside in mailbox_close: one of the two
 * sees the other. */
static int enter(mailbox *mb) {
  atomic_fetch_add(&mb->inside, 1);
  return !atomic_load(&mb->closed);
}

/* The wait's last touch of mb: mailbox_close may free it right after. */
static tofu_message *leave(mailbox *mb, tofu_message *m, int *why) {
  int closed = !m && atomic_load(&mb->closed);
  if (why)
    *why = m ? TOFU_OK : closed ? TOFU_ECLOSED : TOFU_ETIMEDOUT;
  atomic_fetch_sub(&mb->inside, 1);
  return m;
}

tofu_message *mailbox_wait(mailbox *mb, int timeout_ms, int *why) {
  if (!enter(mb))
    return leave(mb, NULL, why);
  tofu_message *m = msgq_pop(&mb->taken);
  if (!m) {
    plat_mutex_lock(&mb->mu);
    take_batch(mb, timeout_ms);
    plat_mutex_unlock(&mb->mu);
    m = atomic_load(&mb->closed) ? NULL : msgq_pop(&mb->taken);
  }
  if (m) {
    if (mb->taken.head)
      plat_prefetch(&mb->taken.head->next); /* the next receive's, while this one is used */
    after_take(mb);
  }
  return leave(mb, m, why);
}

void mailbox_close(mailbox *mb) {
  plat_mutex_lock(&mb->mu);
  atomic_store(&mb->closed, 1);
  plat_cond_broadcast(&mb->cv);
  plat_mutex_unlock(&mb->mu);
  /* Woken waiters leave within microseconds; one that was between its
   * checks sees closed at the next (wait_over is read under mu). */
  while (atomic_load(&mb->inside) > 0)
    plat_thread_yield();
}

/* Unlink the first message after `from` (NULL: from the head) that match
 * accepts; NULL if none. *last gets the message before the one unlinked, or
 * the last one looked at. */
static tofu_message *unlink_match(msgq *q, tofu_message *from, tofu_message **last,
                                  int (*match)(const tofu_message *, void *), void *arg) {
  tofu_message *prev = from, *m = from ? from->next : q->head;
  for (; m; prev = m, m = m->next) {
    if (!match(m, arg))
      continue;
    if (prev)
      prev->next = m->next;
    else
      q->head = m->next;
    if (q->tail == m)
      q->tail = prev;
    q->count--;
    m->next = NULL;
    *last = prev;
    return m;
  }
  *last = prev;
  return NULL;
}

tofu_message *mailbox_wait_match(mailbox *mb, int (*match)(const tofu_message *, void *), void *arg,
                                 int timeout_ms, int *why) {
  if (!enter(mb))
    return leave(mb, NULL, why);
  tofu_message *last = NULL; /* the last message of taken already looked at */
  tofu_message *m = unlink_match(&mb->taken, NULL, &last, match, arg);
  int64_t deadline = timeout_ms > 0 ? clock_now_ms() + timeout_ms : 0;
  while (!m) {
    int left = timeout_ms < 0 ? -1 : 0;
    if (timeout_ms > 0) {
      int64_t now = clock_now_ms();
      left = now < deadline ? (int)(deadline - now) : 0;
    }
    plat_mutex_lock(&mb->mu);
    take_batch(mb, left);
    plat_mutex_unlock(&mb->mu);
    if (atomic_load(&mb->closed))
      break;
    /* Only what the batch added can match: look on from the last one seen. */
    m = unlink_match(&mb->taken, last, &last, match, arg);
    if (left == 0)
      break;
  }
  if (m)
    after_take(mb);
  return leave(mb, m, why);
}

int mailbox_os_handle(mailbox *mb, intptr_t *out) {
  plat_mutex_lock(&mb->mu);
  int rc = TOFU_OK;
  if (!mb->has_event) {
    rc = plat_event_open(&mb->event);
    if (rc == TOFU_OK) {
      mb->has_event = 1;
      if (!msgq_empty(&mb->q) || !msgq_empty(&mb->taken)) {
        plat_event_set(&mb->event);
        mb->event_set = 1;
      }
    }
  }
  if (rc == TOFU_OK)
    *out = mb->event.wait_handle;
  plat_mutex_unlock(&mb->mu);
  return rc;
}

void mailbox_drain(mailbox *mb, msgq *out) {
  msgq_take_all(out, &mb->taken);
  plat_mutex_lock(&mb->mu);
  msgq_take_all(out, &mb->q);
  plat_mutex_unlock(&mb->mu);
}
