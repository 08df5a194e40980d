/* chan_connect — a connection being made: the connect for a posted
 * HelloRequest (each of its TCP addresses in turn, or its UDS path), the UDS
 * backlog retry, and the readiness report that ends a connect in progress.
 * Once connected, the channel is CH_HELLO_SENT and marked dirty: its
 * HelloRequest goes out with the pass's flush (chan_send.h). Reactor thread
 * only. */
#ifndef TOFU_CHAN_CONNECT_H
#define TOFU_CHAN_CONNECT_H

#include "channel.h"

/* Start a connection for a posted HelloRequest (its channel number already
 * taken); failures are handed back to the group. */
void chan_connect_start(tofu_engine *e, tofu_message *hello);

/* CH_BACKLOG: try the connect again (its TIMER_RETRY fired). */
void chan_connect_retry(channel *ch);

/* The poller reported a CH_CONNECTING channel's socket: the connect is done,
 * or it failed and the next address is tried (or the channel closes with
 * connect_failed). */
void chan_connect_event(channel *ch, unsigned events);

#endif /* TOFU_CHAN_CONNECT_H */
