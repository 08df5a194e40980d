/* chan_recv — a connection's reading: frame decoding into pooled messages,
 * backpressure (a channel pauses when the pool has no memory for its next
 * frame, and resumes when memory comes back), the frame deadline and
 * max_frame; with max_message set, the parts of a peer's message joined
 * into one. Reactor thread only. */
#ifndef TOFU_CHAN_RECV_H
#define TOFU_CHAN_RECV_H

#include "channel.h"

/* The poller reported the channel readable (or hung up, or in error): read
 * and deliver what the socket holds, as far as memory allows. A channel
 * paused for memory hears only of a hang-up or an error (it is armed for
 * TOFU_POLL_HANGUP): a reset closes it at once, an orderly close waits for
 * memory behind the frames before it. */
void chan_recv_event(channel *ch, unsigned events);

/* Retry a channel paused for memory; returns 1 if it resumed. A frame of
 * *too_big bytes or more is not tried (one that large did not fit a moment
 * ago); when this one does not fit, *too_big becomes its size (unless it is
 * a part of a message being joined, which asks for its body's growth). */
int chan_recv_resume(channel *ch, size_t *too_big);

/* The channel's TIMER_FRAME entry fired: close it if the frame it was
 * reading is past its deadline (cause recv_failed). */
void chan_recv_frame_timer(channel *ch);

#endif /* TOFU_CHAN_RECV_H */
