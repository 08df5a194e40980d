/* chan_io — a connection: connect (with the UDS backlog retry), gathered
 * writes, frame decoding, backpressure, the frame deadline and max_frame.
 * Reactor thread only. */
#ifndef TOFU_CHAN_IO_H
#define TOFU_CHAN_IO_H

#include "channel.h"

/* Start a connection for a posted HelloRequest (its channel number already
 * taken); failures are handed back to the group. */
void chan_io_connect(tofu_engine *e, tofu_message *hello);

/* CH_BACKLOG: try the connect again (its TIMER_RETRY fired). */
void chan_io_retry_connect(channel *ch);

/* The poller reported the connection's socket. */
void chan_io_event(channel *ch, unsigned events);

/* The application's ByeSignal: write it to the peer if the socket takes it
 * at once (a connected channel with no frame half written), then close the
 * channel with channel_closed; bye becomes the channel_closed notice. */
void chan_io_abort(channel *ch, tofu_message *bye);

/* Write what is queued, as far as the socket takes it. */
void chan_io_flush(channel *ch);

/* Retry a channel paused for memory; returns 1 if it resumed. A frame of
 * *too_big bytes or more is not tried (one that large did not fit a moment
 * ago); when this one does not fit, *too_big becomes its size. */
int chan_io_resume(channel *ch, size_t *too_big);

/* The channel's TIMER_FRAME entry fired: close it if the frame it was
 * reading is past its deadline (cause recv_failed). */
void chan_io_frame_timer(channel *ch);

#endif /* TOFU_CHAN_IO_H */
