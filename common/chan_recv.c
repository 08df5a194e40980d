/* chan_recv — see chan_recv.h. */
#include "chan_recv.h"

#include <string.h>

#include "outbox.h"
#include "platform/cpu.h"
#include "platform/net.h"
#include "requests.h"
#include "tofu_assert.h"

/* Reads per readiness report before the channel yields to the others. */
#define READS_PER_EVENT 8

/* The first frame of an accepted connection is the peer's HelloRequest (or
 * its ByeSignal, if it gives up at once); a HelloRequest comes only first. A
 * connecting channel takes anything else that travels, as a Zig peer may send
 * a Signal or a ByeSignal before (or instead of) its HelloResponse. */
static int frame_allowed(const channel *ch, unsigned op) {
  if (ch->state == CH_ACCEPTED)
    return op == TOFU_OP_HELLO_REQUEST || op == TOFU_OP_BYE_SIGNAL;
  return op != TOFU_OP_HELLO_REQUEST;
}

/* The deadline of the frame (or joined message) in progress, unless it has
 * one: frame_timeout_ms from now. One TIMER_FRAME entry at most is in the
 * heap per channel; when it fires early (the deadline moved on to a later
 * frame) it is put back at the new deadline. */
static void deadline_start(channel *ch) {
  tofu_engine *e = ch->engine;
  if (ch->frame_due || ch->closed || e->opts.frame_timeout_ms < 0)
    return;
  ch->frame_due = e->reactor.now_ms + e->opts.frame_timeout_ms;
  if (ch->timer_at[CH_TIMER_FRAME] == TIMERS_NONE)
    (void)channel_add_timer_or_close(ch, ch->frame_due, TIMER_FRAME);
}

/* No memory for the frame whose header was just read: stop reading. The n
 * bytes read past the header (rest) go to the engine's stash, which no other
 * channel holds (see read_cap). */
static void pause_reading(channel *ch, const uint8_t *rest, size_t n) {
  tofu_engine *e = ch->engine;
  if (n) {
    TOFU_ASSERT(e->reactor.stash_owner == NULL);
    if (e->reactor.stash_owner) {
      channel_close(ch, TOFU_STATUS_ALLOCATION_FAILED, NULL);
      return;
    }
    memmove(e->reactor.stash, rest, n); /* rest may point into the stash itself */
    e->reactor.stash_len = n;
    e->reactor.stash_owner = ch;
  }
  /* The read block goes back too (rest may have been in it, and is copied
   * now), to be trimmed once nothing is bound to it: memory is what the
   * channels wait for. */
  if (e->reactor.block) {
    pool_block_release(&e->pool, e->reactor.block);
    e->reactor.block = NULL;
  }
  /* Waiting for memory is not the peer's time, unless the channel holds
   * memory while it waits: a message whose parts are being joined keeps its
   * deadline, so that peers who begin large messages cannot hold the pool
   * between them for ever. */
  if (!ch->joining)
    ch->frame_due = 0;
  channel_pause(ch);
  if (ch->joining)
    deadline_start(ch); /* it may have begun in this very report */
  atomic_fetch_add(&e->reads_paused, 1);
  /* Retry once at the end of this pass (a message may have come back since
   * the attempt); after that only a put wakes the retry. */
  atomic_store(&e->released, 1);
  tofu_group *g = ch->group;
  if (!g->reactor.pool_notice_out && ch->state != CH_ACCEPTED) {
    tofu_message *note = msg_signal_notice(&e->pool, ch->number, TOFU_STATUS_POOL_EMPTY);
    if (note) {
      outbox_deliver(e, g, note);
      g->reactor.pool_notice_out = 1;
    }
  }
}

/* max_frame: the status a frame is refused with, or 0 if it is taken. */
static int frame_refused(channel *ch, const wire_header *h) {
  size_t max = ch->engine->opts.max_frame;
  size_t hl = WIRE_HEADER_SIZE + (size_t)h->headers_len;
  if (hl + h->body_len <= max)
    return 0;
  atomic_fetch_add(&ch->engine->frames_refused, 1);
  return hl > max ? TOFU_STATUS_INVALID_HEADERS_LEN : TOFU_STATUS_INVALID_BODY_LEN;
}

/* A frame is complete: give it to the group. Returns 0 if the channel
 * closed. */
static int frame_done(channel *ch) {
  tofu_engine *e = ch->engine;
  tofu_message *m = ch->rx;
  const wire_header *h = &ch->dec.header;
  ch->rx = NULL;
  if (ch->rx_part) { /* a part of the message being joined */
    ch->rx_part = 0;
    m->th_len += h->headers_len;
    m->body_len += h->body_len;
    if (wire_more(h->proto))
      return 1; /* its deadline runs on to its last part */
    ch->joining = NULL;
  } else {
    m->th_len = h->headers_len;
    m->body_len = h->body_len;
  }
  if (!ch->joining)
    ch->frame_due = 0; /* its deadline ends with it (a joined message's runs on) */
  m->hdr.channel = ch->number;
  m->hdr.opcode = (uint8_t)wire_opcode(h->proto);
  m->hdr.origin = TOFU_ORIGIN_APPLICATION;
  m->hdr.more = (uint8_t)wire_more(h->proto);
  m->hdr.status = h->status;
  m->hdr.message_id = h->message_id;
  unsigned op = m->hdr.opcode;
  if (ch->state == CH_ACCEPTED && op == TOFU_OP_BYE_SIGNAL) {
    /* The peer gave up before its hello: the group never knew the channel. */
    pool_put(&e->pool, m);
    channel_close(ch, TOFU_STATUS_CHANNEL_CLOSED, NULL);
    return 0;
  }
  int answered = ch->rx_answered; /* its request ended when its header came */
  ch->rx_answered = 0;
  if (!answered && ch->req_first && requests_answering(op) &&
      requests_answer(ch, m->hdr.message_id, m->hdr.more) == REQ_LATE) {
    pool_reactor_put(&e->pool, m); /* its request went back at its deadline */
    return 1;
  }
  if (op == TOFU_OP_BYE_SIGNAL)
    requests_refused(ch);
  if (ch->state == CH_ACCEPTED)
    ch->first_id = m->hdr.message_id;
  if (ch->state == CH_ACCEPTED || ch->state == CH_HELLO_SENT)
    channel_set_state(ch, CH_OPEN);
  outbox_deliver(e, ch->group, m);
  /* ByeResponse ends the bye; ByeSignal is the peer aborting the channel. */
  if (op == TOFU_OP_BYE_RESPONSE || op == TOFU_OP_BYE_SIGNAL) {
    channel_close(ch, TOFU_STATUS_CHANNEL_CLOSED, NULL);
    return 0;
  }
  return 1;
}

/* Whether the frame just headed is a part to join (1), a frame of its own
 * (0), or broke the rules and closed the channel (-1). With max_message set,
 * a Request, Response or Signal with `more` begins a message whose parts
 * are joined, and the frames of its id and opcode that follow are its parts
 * up to the one without `more`. Between them a peer may send frames of
 * other ids that are whole (no `more`): they are delivered as they come;
 * a second message begun before the first has ended closes the channel
 * (invalid_more_usage). A message that grows past max_message closes it
 * with invalid_body_len (or invalid_headers_len: text headers past
 * TOFU_MAX_TEXT_HEADERS), counted in frames_refused. */
static int join_rule(channel *ch, const wire_header *h) {
  const tofu_message *j = ch->joining;
  unsigned op = wire_opcode(h->proto);
  int more = (int)wire_more(h->proto);
  if (!j)
    return more && op <= TOFU_OP_SIGNAL && ch->engine->opts.max_message > TOFU_MAX_BODY;
  if (h->message_id != j->hdr.message_id || op != j->hdr.opcode) {
    if (!more)
      return 0;
    channel_close(ch, TOFU_STATUS_INVALID_MORE_USAGE, NULL);
    return -1;
  }
  int refused = 0;
  if ((size_t)j->body_len + h->body_len > ch->engine->opts.max_message)
    refused = TOFU_STATUS_INVALID_BODY_LEN;
  else if ((size_t)j->th_len + h->headers_len > TOFU_MAX_TEXT_HEADERS)
    refused = TOFU_STATUS_INVALID_HEADERS_LEN;
  if (!refused)
    return 1;
  atomic_fetch_add(&ch->engine->frames_refused, 1);
  channel_close(ch, refused, NULL);
  return -1;
}

enum { BEGIN_OK, BEGIN_NO_MEMORY, BEGIN_CLOSED };

/* Memory for the frame just headed, and the decoder pointed at it: a
 * message of its own, or the rest of the message being joined. `whole`:
 * its payload is in the read buffer already. `payload`: where that payload
 * is, when the buffer is the read block blk: a frame of its own is then
 * bound to the block, its body left where it was read (headroom: the bytes
 * before it that are the frame's too, pool_bind_body). */
static int frame_begin(channel *ch, int whole, pool_block *blk, uint8_t *payload, size_t headroom) {
  const wire_header *h = &ch->dec.header;
  int part = 0;
  if (ch->joining || wire_more(h->proto)) {
    part = join_rule(ch, h);
    if (part < 0)
      return BEGIN_CLOSED;
  }
  tofu_message *j = ch->joining;
  if (part && j) {
    if (!pool_reserve_joined(j, (size_t)j->th_len + h->headers_len,
                             (size_t)j->body_len + h->body_len))
      return BEGIN_NO_MEMORY;
    ch->rx = j;
    ch->rx_part = 1;
    wire_decoder_set_dest(&ch->dec, j->th ? j->th + j->th_len : NULL,
                          j->body ? j->body + j->body_len : NULL);
    return BEGIN_OK;
  }
  /* An answer to the channel's oldest request, whole in the buffer (so
   * that nothing can stop it between here and frame_done), is received
   * into that request's own message. */
  int bind = payload && !part && h->body_len > 0;
  size_t bl = bind ? 0 : h->body_len; /* the body buffer it needs of its own */
  tofu_message *m = NULL;
  if (ch->req_first && !wire_more(h->proto) && whole)
    m = requests_take_answered(ch, wire_opcode(h->proto), h->message_id, h->headers_len, bl);
  ch->rx_answered = m != NULL;
  if (!m)
    m = pool_reactor_get_sized(&ch->engine->pool, h->headers_len, bl);
  if (!m)
    return BEGIN_NO_MEMORY;
  if (bind)
    pool_bind_body(m, blk, payload + h->headers_len, h->body_len, headroom + h->headers_len);
  ch->rx = m;
  ch->rx_part = part;
  if (part) { /* the first part: its id and opcode name the parts to come */
    ch->joining = m;
    m->hdr.message_id = h->message_id;
    m->hdr.opcode = (uint8_t)wire_opcode(h->proto);
  }
  wire_decoder_set_dest(&ch->dec, m->th, m->body);
  return BEGIN_OK;
}

/* Feed bytes to the decoder. Returns the bytes consumed; stops early when the
 * channel pauses or closes. blk: the read block buf is in, or NULL. */
static size_t feed(channel *ch, uint8_t *buf, size_t n, pool_block *blk) {
  size_t pos = 0;
  for (;;) {
    size_t used = 0;
    wire_event ev = wire_decoder_feed(&ch->dec, buf + pos, n - pos, &used);
    pos += used;
    if (ev == WIRE_NEED_MORE)
      return pos;
    if (ev == WIRE_INVALID) {
      channel_close(ch, TOFU_STATUS_INVALID_MESSAGE, NULL);
      return pos;
    }
    if (ev == WIRE_HEADER) {
      const wire_header *h = &ch->dec.header;
      if (ch->req_first) /* the request this frame may answer, while the frame is read */
        plat_prefetch(ch->req_first);
      if (!frame_allowed(ch, wire_opcode(h->proto))) {
        channel_close(ch, TOFU_STATUS_INVALID_MESSAGE, NULL);
        return pos;
      }
      int refused = frame_refused(ch, h);
      if (refused) {
        channel_close(ch, refused, NULL);
        return pos;
      }
      int whole = n - pos >= (size_t)h->headers_len + h->body_len;
      /* A header taken whole in one step was decoded in place: its bytes
       * are just before the payload. */
      size_t room = used == WIRE_HEADER_SIZE ? WIRE_HEADER_SIZE : 0;
      int begun = frame_begin(ch, whole, blk, whole && blk ? buf + pos : NULL, room);
      if (begun == BEGIN_CLOSED)
        return pos;
      if (begun == BEGIN_NO_MEMORY) {
        pause_reading(ch, buf + pos, n - pos);
        return n;
      }
      continue;
    }
    /* WIRE_FRAME */
    if (!frame_done(ch))
      return pos;
  }
}

/* A body part at least this long is read straight into the message instead
 * of through the read buffer (one copy fewer); shorter ones come with the
 * frames around them in one recv. */
#define DIRECT_READ_MIN 4096

/* Returns 0 if the channel closed. */
static int recv_result(channel *ch, ptrdiff_t r) {
  if (r == 0) {
    channel_close(ch, TOFU_STATUS_PEER_DISCONNECTED, NULL);
    return 0;
  }
  if (r < 0) {
    channel_close(ch, channel_status_of_net((int)r, TOFU_STATUS_RECV_FAILED), NULL);
    return 0;
  }
  return 1;
}

/* How much one recv into the read buffer may take. While a paused channel
 * holds the engine's stash, no further than the end of the current frame
 * part: a channel that then finds no memory for its next frame pauses with
 * nothing read ahead, so read-ahead never takes more than the one stash. */
static size_t read_cap(const channel *ch) {
  size_t rest = wire_decoder_part_rest(&ch->dec);
  /* The rest of a part may be longer than the buffer (text headers and body
   * of a frame past 64 KiB): never more than the buffer holds. */
  return ch->engine->reactor.stash_owner && rest < ENGINE_READ_BUF ? rest : ENGINE_READ_BUF;
}

/* Where the next recv goes, and how much it may take: the Reactor's read
 * block, so that whole frames are bound there and not copied, or the
 * engine's read buffer when no block can be had (the pool's limit) or while
 * a paused channel holds the stash (reads then stop at frame boundaries,
 * read_cap). *blk: the block, or NULL for rbuf. */
static uint8_t *read_space(channel *ch, size_t *cap, pool_block **blk) {
  tofu_engine *e = ch->engine;
  pool_block *b = e->reactor.block;
  *cap = read_cap(ch);
  *blk = NULL;
  if (e->reactor.stash_owner)
    return e->reactor.rbuf;
  /* Nothing bound to it: it starts again at its beginning, where it is warm. */
  if (b && b->used && atomic_load_explicit(&b->refs, memory_order_acquire) == 1)
    b->used = 0;
  if (b && POOL_BLOCK_SIZE - b->used < POOL_BLOCK_MIN_ROOM) {
    pool_block_release(&e->pool, b);
    b = e->reactor.block = NULL;
  }
  if (!b && !e->reactor.no_block) {
    b = e->reactor.block = pool_block_get(&e->pool);
    e->reactor.no_block = b == NULL; /* once per pass: a lock per read would be wasted */
  }
  if (!b)
    return e->reactor.rbuf;
  if (*cap > POOL_BLOCK_SIZE - b->used)
    *cap = POOL_BLOCK_SIZE - b->used;
  *blk = b;
  return pool_block_data(b) + b->used;
}

/* Read until the socket has no more (a read shorter than asked means the
 * socket's buffer is drained: no further recv only to learn EAGAIN), at most
 * READS_PER_EVENT times so that other channels get their turn. */
static void read_some(channel *ch) {
  for (int i = 0; i < READS_PER_EVENT && !ch->closed && !ch->paused; i++) {
    uint8_t *dst;
    size_t want = wire_decoder_body_span(&ch->dec, &dst);
    if (want >= DIRECT_READ_MIN) {
      ptrdiff_t r = net_recv(ch->sock, dst, want);
      if (r == NET_EWOULDBLOCK || !recv_result(ch, r))
        return;
      if (wire_decoder_body_filled(&ch->dec, (size_t)r) == WIRE_FRAME && !frame_done(ch))
        return;
      if ((size_t)r < want)
        return;
      continue;
    }
    size_t cap;
    pool_block *blk;
    uint8_t *buf = read_space(ch, &cap, &blk);
    if (cap == 0)
      return;
    ptrdiff_t r = net_recv(ch->sock, buf, cap);
    if (r == NET_EWOULDBLOCK || !recv_result(ch, r))
      return;
    if (blk) /* every byte is taken: bound, copied, stashed or dropped with a close */
      blk->used += (size_t)r;
    feed(ch, buf, (size_t)r, blk);
    if ((size_t)r < cap)
      return;
  }
}

/* A frame begun and not finished has a deadline (frame_timeout_ms), set here
 * once per readiness report, not per byte: a frame that ends within the
 * report costs nothing, frame_done clears it. A message being joined keeps
 * one deadline from its first part to its last. */
static void watch_frame(channel *ch) {
  if (ch->frame_due || ch->closed || ch->paused || (wire_decoder_idle(&ch->dec) && !ch->joining))
    return;
  deadline_start(ch);
}

void chan_recv_frame_timer(channel *ch) {
  tofu_engine *e = ch->engine;
  if (!ch->frame_due)
    return; /* the frame was finished, or the channel waits for memory */
  if (ch->frame_due > e->reactor.now_ms) {
    (void)channel_add_timer_or_close(ch, ch->frame_due, TIMER_FRAME);
    return;
  }
  atomic_fetch_add(&e->frame_timeouts, 1);
  channel_close(ch, TOFU_STATUS_RECV_FAILED, NULL);
}

int chan_recv_resume(channel *ch, size_t *too_big) {
  tofu_engine *e = ch->engine;
  const wire_header *h = &ch->dec.header;
  size_t need = (size_t)h->headers_len + h->body_len;
  /* A frame this large did not fit a moment ago. (A joined message's part
   * asks for more than its size, its body's growth: it sets no bar.) */
  if (need >= *too_big)
    return 0;
  if (frame_begin(ch, 0, NULL, NULL, 0) != BEGIN_OK) {
    if (!ch->joining)
      *too_big = need;
    return 0;
  }
  /* The bytes it read ahead, if any, are fed first; feed() may pause it again
   * and keep the rest in the stash once more. */
  size_t len = e->reactor.stash_owner == ch ? e->reactor.stash_len : 0;
  channel_unpause(ch);
  ch->group->reactor.pool_notice_out = 0;
  if (len)
    e->reactor.stash_len = 0;
  feed(ch, e->reactor.stash, len, NULL);
  if (!ch->closed && !ch->paused)
    read_some(ch);
  watch_frame(ch);
  if (!ch->closed) {
    channel_rearm(ch);
    channel_mark_dirty(ch);
  }
  return 1;
}

/* A paused channel is armed for a hang-up or an error only (channel.c,
 * wanted_interest): it cannot read without memory, but it must not miss the
 * end of its connection until memory comes back. A reset (or any error)
 * closes it now, handing back its requests and queued messages as every
 * close does; by the time memory came back the kernel may have dropped what
 * was unread, and the group would wait for a channel already gone. A hang-up
 * without an error is an orderly close (a Unix domain peer's, which poll and
 * epoll report as HANGUP): the frames before it are delivered first, once
 * memory comes back, and the end of stream after them. Until then the
 * channel stops asking, since the hang-up stays and would be reported again
 * at once. */
static void paused_hangup(channel *ch, unsigned events) {
  int err = net_pending_error(ch->sock);
  /* A reset reported with ERROR need not be in SO_ERROR: iocp_afd reports
   * AFD's ABORT, and under Wine SO_ERROR then reads 0 (paused_peer_reset_tcp
   * fails there without this line). */
  if (err == NET_OK && (events & TOFU_POLL_ERROR))
    err = NET_ECONNRESET;
  if (err != NET_OK) {
    channel_close(ch, channel_status_of_net(err, TOFU_STATUS_RECV_FAILED), NULL);
    return;
  }
  ch->hangup_heard = 1;
}

void chan_recv_event(channel *ch, unsigned events) {
  if (ch->paused) {
    if (events & (TOFU_POLL_HANGUP | TOFU_POLL_ERROR))
      paused_hangup(ch, events);
    return;
  }
  read_some(ch);
  watch_frame(ch);
}
