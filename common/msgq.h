/* msgq — an intrusive FIFO of messages (through tofu_message.next). Not
 * thread-safe: the owner locks around it when it is shared. */
#ifndef TOFU_MSGQ_H
#define TOFU_MSGQ_H

#include <stddef.h>

#include "message.h"

typedef struct msgq {
  tofu_message *head, *tail;
  size_t count;
} msgq;

static inline void msgq_init(msgq *q) {
  q->head = q->tail = NULL;
  q->count = 0;
}

static inline int msgq_empty(const msgq *q) {
  return q->head == NULL;
}

void msgq_push(msgq *q, tofu_message *m);
void msgq_push_front(msgq *q, tofu_message *m);
tofu_message *msgq_pop(msgq *q);

/* Move every message of src to the end of dst; src becomes empty. */
void msgq_take_all(msgq *dst, msgq *src);

#endif /* TOFU_MSGQ_H */
