#include "mailbox.h"

#include "platform/clock.h"
#include "platform/cpu.h"
#include "tofu/error.h"

int mailbox_init(mailbox *mb) {
  msgq_init(&mb->q);
  msgq_init(&mb->taken);
  mb->waiting = 0;
  mb->cuts = 0;
  mb->wanted = NULL;
  mb->has_event = mb->event_set = 0;
  atomic_init(&mb->inside, 0);
  atomic_init(&mb->closed, 0);
  atomic_init(&mb->take_busy, 0);
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

/* The receivers' lock. It is held for a few instructions at a time (a pop,
 * a refill of taken under mu), never across a sleep, so a lone receiver
 * pays one exchange and one store for it, and a receiver that finds it held
 * yields until it is let go. Acquire and release order what it guards. */
static void take_lock(mailbox *mb) {
  while (atomic_exchange_explicit(&mb->take_busy, 1, memory_order_acquire))
    while (atomic_load_explicit(&mb->take_busy, memory_order_relaxed))
      plat_thread_yield();
}

static int take_trylock(mailbox *mb) {
  return !atomic_exchange_explicit(&mb->take_busy, 1, memory_order_acquire);
}

static void take_unlock(mailbox *mb) {
  atomic_store_explicit(&mb->take_busy, 0, memory_order_release);
}

/* Under mu, after a put: raise the flag if it is down. */
static void raise_flag(mailbox *mb) {
  if (mb->has_event && !mb->event_set) {
    plat_event_set(&mb->event);
    mb->event_set = 1;
  }
}

/* A receiver took a message (under the receivers' lock): lower the flag if nothing is
 * left. Locks mu only when the flag is in use and taken is empty. */
static void after_take(mailbox *mb) {
  if (!mb->has_event || !msgq_empty(&mb->taken))
    return;
  plat_mutex_lock(&mb->mu);
  if (mb->event_set && msgq_empty(&mb->q)) {
    plat_event_clear(&mb->event);
    mb->event_set = 0;
  }
  plat_mutex_unlock(&mb->mu);
}

/* The signal is sent after the unlock, so that the woken receiver does not
 * block again at once on the mutex the producer still holds. A receiver that
 * timed out meanwhile only makes it a spurious wakeup, which it tolerates
 * (and it looks at the queue once more before it leaves). */
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
  int many = q->head != q->tail;
  plat_mutex_lock(&mb->mu);
  msgq_take_all(&mb->q, q);
  raise_flag(mb);
  int wake = mb->waiting;
  plat_mutex_unlock(&mb->mu);
  if (wake > 1 && many)
    plat_cond_broadcast(&mb->cv); /* several messages, several receivers asleep */
  else if (wake)
    plat_cond_signal(&mb->cv);
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

void mailbox_close(mailbox *mb) {
  plat_mutex_lock(&mb->mu);
  atomic_store(&mb->closed, 1);
  plat_cond_broadcast(&mb->cv);
  plat_mutex_unlock(&mb->mu);
  /* Woken waiters leave within microseconds; one that was between its
   * checks sees closed at the next (it reads it under mu before it sleeps). */
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

/* Whether a wait for a match in progress accepts m. Under the receivers' lock. */
static int reserved(const tofu_message *m, void *arg) {
  for (const mailbox_want *w = ((const mailbox *)arg)->wanted; w; w = w->next)
    if (w->match(m, w->arg))
      return 1;
  return 0;
}

static int unreserved(const tofu_message *m, void *arg) {
  return !reserved(m, arg);
}

/* The next message for want (NULL: the oldest one no want reserves),
 * unlinked from taken. Under the receivers' lock. */
static tofu_message *pick(mailbox *mb, mailbox_want *want) {
  tofu_message *m, *last;
  if (!want) {
    if (!mb->wanted) {
      m = msgq_pop(&mb->taken); /* the lone receiver's path */
      if (m && mb->taken.head)
        plat_prefetch(&mb->taken.head->next); /* the next receive's, while this one is used */
    } else {
      m = unlink_match(&mb->taken, NULL, &last, unreserved, mb);
    }
  } else {
    /* Only what came after the last one seen can match, unless something
     * was unlinked since (last may be gone). */
    tofu_message *from = want->cuts == mb->cuts ? want->last : NULL;
    m = unlink_match(&mb->taken, from, &last, want->match, want->arg);
    want->last = last;
  }
  if (m)
    mb->cuts++;
  if (want)
    want->cuts = mb->cuts;
  return m;
}

/* Move from q to taken, q not empty (under both locks): all of it when no
 * other receiver sleeps. Else one message, which the caller takes if it is
 * for it (then a sleeper is woken for what is left in q); if it is not, each
 * sleeper is woken to look, since only they know whether it is theirs. */
static void refill(mailbox *mb, const mailbox_want *want) {
  if (mb->waiting == 0) {
    msgq_take_all(&mb->taken, &mb->q);
    return;
  }
  tofu_message *m = msgq_pop(&mb->q);
  msgq_push(&mb->taken, m);
  int mine = !mb->wanted || (want ? want->match(m, want->arg) : !reserved(m, mb));
  if (!mine)
    plat_cond_broadcast(&mb->cv);
  else if (!msgq_empty(&mb->q))
    plat_cond_signal(&mb->cv);
}

/* Milliseconds left of a wait of timeout_ms: -1 without limit, 0 when it
 * has passed (or timeout_ms is 0). The deadline (0 until then) is set from
 * the clock the first time the wait is about to sleep: a wait that finds a
 * message at once, the usual case under load, reads no clock. */
static int time_left(int timeout_ms, int64_t *deadline) {
  if (timeout_ms <= 0)
    return timeout_ms < 0 ? -1 : 0;
  int64_t now = clock_now_ms();
  if (*deadline == 0)
    *deadline = now + timeout_ms;
  return now < *deadline ? (int)(*deadline - now) : 0;
}

/* mailbox_wait (want NULL) and mailbox_wait_match. Entered and left under
 * the receivers' lock; sleeps on cv under mu alone. */
static tofu_message *take(mailbox *mb, mailbox_want *want, int timeout_ms) {
  int64_t deadline = 0; /* set by time_left */
  tofu_message *m = NULL;
  for (;;) {
    if (atomic_load(&mb->closed))
      return NULL;
    m = pick(mb, want);
    if (m)
      break;
    plat_mutex_lock(&mb->mu);
    if (!msgq_empty(&mb->q)) {
      refill(mb, want);
      plat_mutex_unlock(&mb->mu);
      continue;
    }
    int left = time_left(timeout_ms, &deadline);
    if (left == 0 || atomic_load_explicit(&mb->closed, memory_order_relaxed)) {
      plat_mutex_unlock(&mb->mu);
      return NULL;
    }
    /* Asleep only with nothing for it in taken or q, counted before the receivers' lock
     * is let go: a refill from now on sees it. */
    mb->waiting++;
    take_unlock(mb);
    if (left < 0)
      plat_cond_wait(&mb->cv, &mb->mu);
    else
      (void)plat_cond_wait_until(&mb->cv, &mb->mu, deadline);
    mb->waiting--;
    /* Woken, holding mu: when the receivers' lock is free (a lone receiver's case),
     * refill at once rather than let mu go and lock both again. */
    if (take_trylock(mb)) {
      if (!msgq_empty(&mb->q))
        refill(mb, want);
      plat_mutex_unlock(&mb->mu);
      continue;
    }
    plat_mutex_unlock(&mb->mu);
    take_lock(mb);
  }
  after_take(mb);
  return m;
}

tofu_message *mailbox_wait(mailbox *mb, int timeout_ms, int *why) {
  if (!enter(mb))
    return leave(mb, NULL, why);
  take_lock(mb);
  /* Most receives: the next message of a batch already taken. */
  tofu_message *m = mb->wanted ? NULL : msgq_pop(&mb->taken);
  if (m) { /* no cuts++: with no wait for a match, no one keeps a place in taken */
    if (mb->taken.head)
      plat_prefetch(&mb->taken.head->next); /* the next receive's, while this one is used */
    else
      after_take(mb);
  } else {
    m = take(mb, NULL, timeout_ms);
  }
  take_unlock(mb);
  return leave(mb, m, why);
}

size_t mailbox_wait_many(mailbox *mb, tofu_message **out, size_t max, int timeout_ms, int *why) {
  if (!enter(mb)) {
    (void)leave(mb, NULL, why);
    return 0;
  }
  take_lock(mb);
  size_t n = 0;
  tofu_message *m = take(mb, NULL, timeout_ms);
  while (m) {
    out[n++] = m;
    m = n < max ? take(mb, NULL, 0) : NULL;
  }
  take_unlock(mb);
  (void)leave(mb, n ? out[0] : NULL, why);
  return n;
}

tofu_message *mailbox_wait_match(mailbox *mb, int (*match)(const tofu_message *, void *), void *arg,
                                 int timeout_ms, int *why) {
  if (!enter(mb))
    return leave(mb, NULL, why);
  mailbox_want want = {match, arg, NULL, NULL, 0};
  take_lock(mb);
  want.next = mb->wanted;
  want.cuts = mb->cuts;
  mb->wanted = &want;
  tofu_message *m = take(mb, &want, timeout_ms);
  mailbox_want **pp = &mb->wanted;
  while (*pp != &want)
    pp = &(*pp)->next;
  *pp = want.next;
  /* What it left in taken is anyone's now: wake a sleeper for it. */
  int wake = !msgq_empty(&mb->taken);
  take_unlock(mb);
  if (wake) {
    plat_mutex_lock(&mb->mu);
    wake = mb->waiting;
    plat_mutex_unlock(&mb->mu);
    if (wake)
      plat_cond_broadcast(&mb->cv);
  }
  return leave(mb, m, why);
}

int mailbox_os_handle(mailbox *mb, intptr_t *out) {
  take_lock(mb);
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
  take_unlock(mb);
  return rc;
}

void mailbox_drain(mailbox *mb, msgq *out) {
  take_lock(mb);
  msgq_take_all(out, &mb->taken);
  plat_mutex_lock(&mb->mu);
  msgq_take_all(out, &mb->q);
  plat_mutex_unlock(&mb->mu);
  take_unlock(mb);
}

int mailbox_match_waits(mailbox *mb) {
  take_lock(mb);
  int n = 0;
  for (const mailbox_want *w = mb->wanted; w; w = w->next)
    n++;
  take_unlock(mb);
  return n;
}
