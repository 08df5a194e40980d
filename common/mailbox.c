#define _POSIX_C_SOURCE 200809L
#include "mailbox.h"

#include <errno.h>

#include "clock.h"
#include "tofu/error.h"

int mailbox_init(mailbox *mb) {
  pthread_condattr_t attr;
  msgq_init(&mb->q);
  msgq_init(&mb->taken);
  mb->waiting = 0;
  if (pthread_mutex_init(&mb->mu, NULL) != 0)
    return TOFU_ESYSTEM;
  if (pthread_condattr_init(&attr) != 0) {
    pthread_mutex_destroy(&mb->mu);
    return TOFU_ESYSTEM;
  }
  /* A monotonic clock where the platform's condition variables take one;
   * otherwise the real-time clock (deadlines are then recomputed per wait). */
  mb->clk = CLOCK_MONOTONIC;
  if (pthread_condattr_setclock(&attr, CLOCK_MONOTONIC) != 0)
    mb->clk = CLOCK_REALTIME;
  int rc = pthread_cond_init(&mb->cv, &attr);
  pthread_condattr_destroy(&attr);
  if (rc != 0) {
    pthread_mutex_destroy(&mb->mu);
    return TOFU_ESYSTEM;
  }
  return TOFU_OK;
}

void mailbox_fini(mailbox *mb) {
  pthread_cond_destroy(&mb->cv);
  pthread_mutex_destroy(&mb->mu);
}

/* The signal is sent after the unlock, so that the woken receiver does not
 * block again at once on the mutex the producer still holds. A receiver that
 * timed out meanwhile only makes it a spurious wakeup, which it tolerates. */
void mailbox_put(mailbox *mb, tofu_message *m) {
  pthread_mutex_lock(&mb->mu);
  msgq_push(&mb->q, m);
  int wake = mb->waiting;
  pthread_mutex_unlock(&mb->mu);
  if (wake)
    pthread_cond_signal(&mb->cv);
}

void mailbox_put_all(mailbox *mb, msgq *q) {
  if (msgq_empty(q))
    return;
  pthread_mutex_lock(&mb->mu);
  msgq_take_all(&mb->q, q);
  int wake = mb->waiting;
  pthread_mutex_unlock(&mb->mu);
  if (wake)
    pthread_cond_signal(&mb->cv); /* one receiver at a time: one is enough */
}

tofu_message *mailbox_wait(mailbox *mb, int timeout_ms) {
  tofu_message *m = msgq_pop(&mb->taken);
  if (m)
    return m;
  pthread_mutex_lock(&mb->mu);
  if (timeout_ms < 0) {
    while (msgq_empty(&mb->q)) {
      mb->waiting++;
      pthread_cond_wait(&mb->cv, &mb->mu);
      mb->waiting--;
    }
  } else if (timeout_ms > 0 && msgq_empty(&mb->q)) {
    struct timespec dl = clock_deadline(mb->clk, timeout_ms);
    while (msgq_empty(&mb->q)) {
      mb->waiting++;
      int rc = pthread_cond_timedwait(&mb->cv, &mb->mu, &dl);
      mb->waiting--;
      if (rc == ETIMEDOUT)
        break;
    }
  }
  msgq_take_all(&mb->taken, &mb->q);
  pthread_mutex_unlock(&mb->mu);
  return msgq_pop(&mb->taken);
}

void mailbox_drain(mailbox *mb, msgq *out) {
  msgq_take_all(out, &mb->taken);
  pthread_mutex_lock(&mb->mu);
  msgq_take_all(out, &mb->q);
  pthread_mutex_unlock(&mb->mu);
}
