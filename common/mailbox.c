#define _POSIX_C_SOURCE 200809L
#include "mailbox.h"

#include <errno.h>

#include "clock.h"
#include "tofu/error.h"

int mailbox_init(mailbox *mb) {
  pthread_condattr_t attr;
  msgq_init(&mb->q);
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

void mailbox_put(mailbox *mb, tofu_message *m) {
  pthread_mutex_lock(&mb->mu);
  msgq_push(&mb->q, m);
  if (mb->waiting)
    pthread_cond_signal(&mb->cv);
  pthread_mutex_unlock(&mb->mu);
}

void mailbox_put_all(mailbox *mb, msgq *q) {
  if (msgq_empty(q))
    return;
  pthread_mutex_lock(&mb->mu);
  msgq_take_all(&mb->q, q);
  if (mb->waiting)
    pthread_cond_broadcast(&mb->cv);
  pthread_mutex_unlock(&mb->mu);
}

tofu_message *mailbox_wait(mailbox *mb, int timeout_ms) {
  tofu_message *m;
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
  m = msgq_pop(&mb->q);
  pthread_mutex_unlock(&mb->mu);
  return m;
}

void mailbox_drain(mailbox *mb, msgq *out) {
  pthread_mutex_lock(&mb->mu);
  msgq_take_all(out, &mb->q);
  pthread_mutex_unlock(&mb->mu);
}
