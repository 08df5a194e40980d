/* requests — every request a channel wrote stays open until the frame that
 * answers it arrives: a Request until the last part of its Response (the
 * part without `more`), a HelloRequest until the HelloResponse (or the
 * peer's ByeSignal, its refusal), a ByeRequest until the ByeResponse. When
 * the channel closes, every open request goes back to its group with the
 * cause (requests_close). A request whose deadline passes goes back with
 * status timeout; if it was written, a tombstone keeps its id until its
 * Response comes (late: dropped and counted) or the channel closes.
 *
 * The open request's record is its own message (req_node inside it, and
 * the message is charged to the pool already); the index's buckets and the
 * tombstones are charged to the pool too (pool_charge). The index is one per
 * engine, keyed by (channel, id); each channel also lists its records,
 * oldest first. Only the last part of a multi-part Request (sent with
 * `more` on the parts before it) opens a request: the parts before it travel
 * as Signals do. Reactor thread only. */
#ifndef TOFU_REQUESTS_H
#define TOFU_REQUESTS_H

#include "channel.h"

/* The index starts on its own small table (no allocation); it grows, charged
 * to the pool, while it holds more than twice as many records as buckets,
 * and goes back to the small table when it empties. */
void requests_init(req_index *ix);
/* Free what the index holds (teardown: every channel is closed already). */
void requests_fini(tofu_engine *e);

/* Whether a frame of m opens a request once written. */
int requests_opens(const tofu_message *m);

/* m, a request (requests_opens), was written whole on ch: keep it open. If
 * its deadline has passed meanwhile, it goes back at once (timeout).
 * TOFU_OK, or TOFU_ENOMEM when its tombstone could not be charged: the
 * caller then closes the channel (so that no late Response can come). */
int requests_keep(channel *ch, tofu_message *m);

/* What to do with a frame that may answer a request (Response,
 * HelloResponse, ByeResponse) with this id and more flag. */
typedef enum req_answer {
  REQ_UNSOLICITED, /* no request of this channel has the id: deliver it as it is */
  REQ_ANSWERS,     /* it answers an open request (which ends if !more): deliver it */
  REQ_LATE         /* its request went back at its deadline: drop it (counted) */
} req_answer;
req_answer requests_answer(channel *ch, uint64_t id, int more);

/* Whether ch's own HelloRequest was written and is not answered yet. */
int requests_hello_open(channel *ch);

/* The peer sent a ByeSignal: if ch's own HelloRequest is still open, that is
 * its answer (a refusal, the way a Zig server refuses), and it ends. */
void requests_refused(channel *ch);

/* A posted request with a deadline (due_ms) joined ch's send queue: make sure
 * a TIMER_REQUEST fires for it. TOFU_OK or TOFU_ENOMEM (close the channel). */
int requests_watch(channel *ch, int64_t due_ms);

/* ch's TIMER_REQUEST due at due_ms fired: every request of ch past its
 * deadline, written or still queued (but the frame half written), goes back
 * with status timeout, and the timer is set for the next deadline. Stale
 * entries (a later one was set since) do nothing. TOFU_OK or TOFU_ENOMEM (a
 * tombstone or the timer could not be made: close the channel). */
int requests_deadline(channel *ch, int64_t due_ms);

/* ch closes: every open request goes back to its group with cause, oldest
 * first; its tombstones are dropped. */
void requests_close(channel *ch, int cause);

#endif /* TOFU_REQUESTS_H */
