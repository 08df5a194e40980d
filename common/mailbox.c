#include "mailbox.h"

#include "platform/clock.h"
#include "tofu/error.h"

int mailbox_init(mailbox *mb) {
  msgq_init(&mb->q);
  msgq_init(&mb->taken);
  mb->waiting = 0;
  if (plat_mutex_init(&mb->mu) != TOFU_OK)
    return TOFU_ESYSTEM;
  if (plat_cond_init(&mb->cv) != TOFU_OK) {
    plat_mutex_fini(&mb->mu);
    return TOFU_ESYSTEM;
  }
  return TOFU_OK;
}

void mailbox_fini(mailbox *mb) {
  plat_cond_fini(&mb->cv);
  plat_mutex_fini(&mb->mu);
}

/* The signal is sent after the unlock, so that the woken receiver does not
 * block again at once on the mutex the producer still holds. A receiver that
 * timed out meanwhile only makes it a spurious wakeup, which it tolerates. */
void mailbox_put(mailbox *mb, tofu_message *m) {
  plat_mutex_lock(&mb->mu);
  msgq_push(&mb->q, m);
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
  int wake = mb->waiting;
  plat_mutex_unlock(&mb->mu);
  if (wake)
    plat_cond_signal(&mb->cv); /* one receiver at a time: one is enough */
}

tofu_message *mailbox_wait(mailbox *mb, int timeout_ms) {
  tofu_message *m = msgq_pop(&mb->taken);
  if (m)
    return m;
  plat_mutex_lock(&mb->mu);
  if (timeout_ms < 0) {
    while (msgq_empty(&mb->q)) {
      mb->waiting++;
      plat_cond_wait(&mb->cv, &mb->mu);
      mb->waiting--;
    }
  } else if (timeout_ms > 0 && msgq_empty(&mb->q)) {
    int64_t deadline = clock_now_ms() + timeout_ms;
    while (msgq_empty(&mb->q)) {
      mb->waiting++;
      int more = plat_cond_wait_until(&mb->cv, &mb->mu, deadline);
      mb->waiting--;
      if (!more)
        break;
    }
  }
  msgq_take_all(&mb->taken, &mb->q);
  plat_mutex_unlock(&mb->mu);
  return msgq_pop(&mb->taken);
}

void mailbox_drain(mailbox *mb, msgq *out) {
  msgq_take_all(out, &mb->taken);
  plat_mutex_lock(&mb->mu);
  msgq_take_all(out, &mb->q);
  plat_mutex_unlock(&mb->mu);
}
