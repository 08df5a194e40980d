/* outbox — what the Reactor delivers to the groups during one pass. A
 * message waits in its group's outbox until outbox_flush, so that one lock
 * and at most one wakeup move everything a pass delivered to a group's
 * receive queue (mailbox.h). Reactor thread only. */
#ifndef TOFU_OUTBOX_H
#define TOFU_OUTBOX_H

#include "engine_state.h"

/* Hand a message to a group, or back to the pool when the group is gone or
 * being destroyed (g NULL or dead). */
void outbox_deliver(tofu_engine *e, tofu_group *g, tofu_message *m);

/* Hand a message back to a group with a status (msg_hand_back), as
 * outbox_deliver. */
void outbox_hand_back(tofu_engine *e, tofu_group *g, tofu_message *m, int status);

/* Move every outbox to its group's receive queue. */
void outbox_flush(tofu_engine *e);

#endif /* TOFU_OUTBOX_H */
