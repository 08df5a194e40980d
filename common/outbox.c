/* outbox — see outbox.h. */
#include "outbox.h"

void outbox_deliver(tofu_engine *e, tofu_group *g, tofu_message *m) {
  if (!g || g->reactor.dead) {
    pool_put(&e->pool, m);
    return;
  }
  msgq_push(&g->reactor.outbox, m);
  if (!g->reactor.in_outbox) {
    g->reactor.in_outbox = 1;
    g->reactor.next_outbox = e->reactor.outboxes;
    e->reactor.outboxes = g;
  }
}

void outbox_flush(tofu_engine *e) {
  while (e->reactor.outboxes) {
    tofu_group *g = e->reactor.outboxes;
    e->reactor.outboxes = g->reactor.next_outbox;
    g->reactor.next_outbox = NULL;
    g->reactor.in_outbox = 0;
    mailbox_put_all(&g->mb, &g->reactor.outbox);
  }
}

void outbox_hand_back(tofu_engine *e, tofu_group *g, tofu_message *m, int status) {
  msg_hand_back(m, status);
  outbox_deliver(e, g, m);
}
