/* chan_send — a connection's writing: the queued frames gathered into as
 * few writes as the socket takes, the ByeResponse that ends a channel, and
 * the ByeSignal written on the way out. Reactor thread only. */
#ifndef TOFU_CHAN_SEND_H
#define TOFU_CHAN_SEND_H

#include "channel.h"

/* Write what is queued, as far as the socket takes it, then arm the channel
 * for what it needs next. Nothing is written while it connects. */
void chan_send_flush(channel *ch);

/* The application's ByeSignal: write it to the peer if the socket takes it
 * at once (a connected channel with no frame half written), then close the
 * channel with channel_closed; bye becomes the channel_closed notice. */
void chan_send_abort(channel *ch, tofu_message *bye);

/* Hand back the queued requests of ch past their deadline (status timeout),
 * a frame already half written too: the rest of its bytes stay queued on
 * their own. *next becomes the nearest deadline of those left, if nearer.
 * TOFU_OK, or TOFU_ENOMEM when no memory was left for such a rest (close the
 * channel). */
int chan_send_expire(channel *ch, int64_t now, int64_t *next);

#endif /* TOFU_CHAN_SEND_H */
