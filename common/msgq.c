#include "msgq.h"

void msgq_push(msgq *q, tofu_message *m) {
  m->next = NULL;
  if (q->tail)
    q->tail->next = m;
  else
    q->head = m;
  q->tail = m;
  q->count++;
}

void msgq_push_front(msgq *q, tofu_message *m) {
  m->next = q->head;
  q->head = m;
  if (!q->tail)
    q->tail = m;
  q->count++;
}

tofu_message *msgq_pop(msgq *q) {
  tofu_message *m = q->head;
  if (!m)
    return NULL;
  q->head = m->next;
  if (!q->head)
    q->tail = NULL;
  m->next = NULL;
  q->count--;
  return m;
}

void msgq_take_all(msgq *dst, msgq *src) {
  if (!src->head)
    return;
  if (dst->tail)
    dst->tail->next = src->head;
  else
    dst->head = src->head;
  dst->tail = src->tail;
  dst->count += src->count;
  msgq_init(src);
}
