/* outbox — see outbox.h. */
#include "outbox.h"

void outbox_deliver(tofu_engine *e, tofu_group *g, tofu_message *m) {
  if (!g || g->dead) {
    pool_put(&e->pool, m);
    return;
  }
  msgq_push(&g->outbox, m);
  if (!g->in_outbox) {
    g->in_outbox = 1;
    g->next_outbox = e->outboxes;
    e->outboxes = g;
  }
}

void outbox_flush(tofu_engine *e) {
  while (e->outboxes) {
    tofu_group *g = e->outboxes;
    e->outboxes = g->next_outbox;
    g->next_outbox = NULL;
    g->in_outbox = 0;
    mailbox_put_all(&g->mb, &g->outbox);
  }
}
