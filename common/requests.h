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
 * the message is charged to the pool already). Each channel lists its
 * records, oldest first: an answer that matches the oldest (answers mostly
 * come in order) needs nothing else. The others are found through the
 * engine's table, keyed by (channel, id), which a channel's records join
 * only once an answer on it came out of order. The table and the tombstones
 * are charged to the pool too (pool_charge); a table the pool will not let
 * grow keeps what does not fit on a list (slower, never refused). Only the last part of a
 * multi-part Request (sent with `more` on the parts before it) opens a request: the parts before it
 * travel as Signals do. Reactor thread only. */
#ifndef TOFU_REQUESTS_H
#define TOFU_REQUESTS_H

#include "channel.h"

/* The table starts small, inside the engine (no allocation); it grows,
 * charged to the pool, to stay at most half full, and goes back to the small
 * one when the last record leaves. */
void requests_init(req_index *ix);
/* Free what the index holds (teardown: every channel is closed already). */
void requests_fini(tofu_engine *e);

/* Whether a frame of m opens a request once written (on every frame
 * written: inline). */
static inline int requests_opens(const tofu_message *m) {
  unsigned op = m->hdr.opcode;
  return !m->hdr.more &&
         (op == TOFU_OP_REQUEST || op == TOFU_OP_HELLO_REQUEST || op == TOFU_OP_BYE_REQUEST);
}

/* m, a request (requests_opens), was written whole on ch: keep it open. If
 * its deadline has passed meanwhile, it goes back at once (timeout).
 * TOFU_OK, or TOFU_ENOMEM when its tombstone could not be charged: the
 * caller then closes the channel (so that no late Response can come). */
int requests_keep(channel *ch, tofu_message *m);

/* Whether frames with this opcode answer requests (Response, HelloResponse,
 * ByeResponse). */
static inline int requests_answering(unsigned op) {
  return op == TOFU_OP_RESPONSE || op == TOFU_OP_HELLO_RESPONSE || op == TOFU_OP_BYE_RESPONSE;
}

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

/* A frame that would answer a request (an answering opcode, this id, not
 * `more`) was just headed and its payload is in the read buffer whole: if
 * it answers ch's oldest record, an open request whose buffers hold the
 * frame's sizes, that request ends here and its message is returned to
 * receive the frame (no message is taken from the pool for the answer, and
 * none is put back for the request); NULL otherwise (requests_answer will
 * judge the frame when it is done). */
tofu_message *requests_take_answered(channel *ch, unsigned op, uint64_t id, size_t headers_len,
                                     size_t body_len);

/* The peer sent a ByeSignal: if ch's own HelloRequest is still open, that is
 * its answer (a refusal, the way a Zig server refuses), and it ends. */
void requests_refused(channel *ch);

/* Every written request of ch past its deadline goes back with status
 * timeout, a tombstone keeping its id; *next becomes the nearest deadline of
 * those left, if nearer. TOFU_OK or TOFU_ENOMEM (a tombstone could not be
 * charged: close the channel). The queued ones are chan_send_expire's. */
int requests_expire(channel *ch, int64_t now, int64_t *next);

/* A request whose frame is on its way to the peer went back at its deadline
 * before it was written whole: a tombstone keeps its id, as for a written
 * one. TOFU_OK or TOFU_ENOMEM. */
int requests_tombstone(channel *ch, uint64_t id);

/* The nearer of two deadlines (0: none). */
static inline int64_t deadline_min(int64_t a, int64_t b) {
  return b && (!a || b < a) ? b : a;
}

/* ch closes: every open request goes back to its group with cause, oldest
 * first; its tombstones are dropped. */
void requests_close(channel *ch, int cause);

#endif /* TOFU_REQUESTS_H */
