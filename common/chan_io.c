/* chan_io — see chan_io.h. */
#include "chan_io.h"

#include <stdlib.h>
#include <string.h>

#include "outbox.h"
#include "platform/clock.h"
#include "platform/net.h"
#include "tofu_assert.h"

/* Reads per readiness report before the channel yields to the others. */
#define READS_PER_EVENT 8

static int net_to_status(int err, int fallback) {
  return (err == NET_ECONNRESET || err == NET_EPIPE) ? TOFU_STATUS_PEER_DISCONNECTED : fallback;
}

static void on_connected(channel *ch) {
  channel_set_state(ch, CH_HELLO_SENT);
  if (ch->transport == ADDR_TCP)
    (void)net_set_nodelay(ch->sock);
  chan_io_flush(ch);
}

/* Linux refuses a non-blocking UDS connect with EAGAIN while the listener's
 * accept queue is full. Nothing will report when there is room (an
 * unconnected socket only reports a hang-up), so the connect is tried again
 * on a timer, backing off from 1 ms to 64 ms, until it goes through or the
 * connect timeout ends it. */
#define RETRY_MAX_MS 64

static void retry_later(channel *ch) {
  if (ch->state != CH_BACKLOG)
    channel_set_state(ch, CH_BACKLOG);
  if (timers_add(&ch->engine->reactor.timers, clock_now_ms() + ch->retry_ms, TIMER_RETRY,
                 (void *)(uintptr_t)ch->number, ch->serial) != TOFU_OK) {
    channel_close(ch, TOFU_STATUS_ALLOCATION_FAILED, NULL);
    return;
  }
  ch->retry_ms = ch->retry_ms * 2 > RETRY_MAX_MS ? RETRY_MAX_MS : ch->retry_ms * 2;
}

void chan_io_retry_connect(channel *ch) {
  address a;
  /* The HelloRequest heads the send queue until the connect is done. */
  int rc = address_from_message(ch->sendq.head, TOFU_HDR_CONNECT_TO, 1, &a) == TOFU_OK
               ? net_uds_connect(ch->sock, a.path)
               : NET_EOTHER;
  if (rc == NET_EWOULDBLOCK) {
    retry_later(ch);
    return;
  }
  if (rc != NET_OK && rc != NET_EINPROGRESS) {
    channel_close(ch, TOFU_STATUS_CONNECT_FAILED, NULL);
    return;
  }
  channel_set_state(ch, CH_CONNECTING);
  if (rc == NET_OK)
    on_connected(ch);
  if (!ch->closed)
    channel_rearm(ch);
}

/* Whether a connect result means the connect goes on (or is done). */
static int connect_started(const address *a, int rc) {
  return rc == NET_OK || rc == NET_EINPROGRESS || (a->kind == ADDR_UDS && rc == NET_EWOULDBLOCK);
}

/* Open, register and connect a socket to the HelloRequest's next TCP
 * address (ch->addr_next), or to its UDS path. Returns NET_OK (connected),
 * NET_EINPROGRESS, NET_EWOULDBLOCK (UDS backlog full) or a failure, after
 * which the channel holds no socket. */
static int connect_start(channel *ch, const address *a) {
  const tofu_message *hello = ch->sendq.head;
  int rc;
  if (a->kind == ADDR_TCP) {
    const net_addr *to = &hello->addrs[ch->addr_next++];
    rc = net_tcp_socket_for(to, &ch->sock);
    if (rc == NET_OK)
      rc = net_set_nonblocking(ch->sock);
    if (rc == NET_OK)
      rc = net_tcp_connect(ch->sock, to);
  } else {
    rc = net_uds_socket(&ch->sock);
    if (rc == NET_OK)
      rc = net_set_nonblocking(ch->sock);
    if (rc == NET_OK)
      rc = net_uds_connect(ch->sock, a->path);
  }
  if (connect_started(a, rc) && channel_register(ch) != TOFU_OK)
    rc = NET_EOTHER;
  if (!connect_started(a, rc)) {
    net_close(ch->sock);
    ch->sock = TOFU_INVALID_SOCKET;
  }
  return rc;
}

/* Connect to the first address that does not fail at once. Returns as
 * connect_start; a failure means every address failed. */
static int connect_first(channel *ch, const address *a) {
  int rc;
  do {
    rc = connect_start(ch, a);
  } while (!connect_started(a, rc) && a->kind == ADDR_TCP &&
           ch->addr_next < ch->sendq.head->naddrs);
  return rc;
}

/* After a connect was started: a connected socket sends its HelloRequest, a
 * UDS backlog waits for the retry timer; then the channel is armed. */
static void connect_going(channel *ch, int rc) {
  if (rc == NET_OK) {
    on_connected(ch);
  } else if (rc == NET_EWOULDBLOCK) {
    ch->retry_ms = 1;
    retry_later(ch);
  }
  if (!ch->closed)
    channel_rearm(ch);
}

/* A started TCP connect failed: try the next address, if there is one. */
static void connect_failed(channel *ch) {
  address a;
  const tofu_message *hello = ch->sendq.head;
  if (ch->transport == ADDR_TCP && ch->addr_next < hello->naddrs &&
      address_from_message(hello, TOFU_HDR_CONNECT_TO, 1, &a) == TOFU_OK) {
    channel_drop_socket(ch);
    int rc = connect_first(ch, &a);
    if (rc == NET_OK || rc == NET_EINPROGRESS) {
      connect_going(ch, rc);
      return;
    }
  }
  channel_close(ch, TOFU_STATUS_CONNECT_FAILED, NULL);
}

void chan_io_connect(tofu_engine *e, tofu_message *hello) {
  address a;
  channel *ch = channel_new(e, hello->hdr.channel, CH_IO, hello->group);
  if (!ch) {
    chan_num_free(&e->nums, hello->hdr.channel);
    msg_hand_back(hello, TOFU_STATUS_ALLOCATION_FAILED);
    outbox_deliver(e, hello->group, hello);
    return;
  }
  ch->first_id = hello->hdr.message_id;
  channel_set_state(ch, CH_CONNECTING);
  msgq_push(&ch->sendq, hello);
  if (address_from_message(hello, TOFU_HDR_CONNECT_TO, 1, &a) != TOFU_OK) {
    channel_close(ch, TOFU_STATUS_WRONG_ADDRESS, NULL);
    return;
  }
  ch->transport = a.kind;
  if (a.kind == ADDR_TCP && hello->naddrs == 0) { /* the name did not resolve */
    channel_close(ch, TOFU_STATUS_INVALID_ADDRESS, NULL);
    return;
  }
  int rc = connect_first(ch, &a);
  if (!connect_started(&a, rc)) {
    channel_close(ch, TOFU_STATUS_CONNECT_FAILED, NULL);
    return;
  }
  if (rc != NET_OK && e->opts.connect_timeout_ms >= 0) {
    int64_t due = clock_now_ms() + e->opts.connect_timeout_ms;
    if (timers_add(&e->reactor.timers, due, TIMER_CONNECT, (void *)(uintptr_t)ch->number, ch->serial) !=
        TOFU_OK) {
      channel_close(ch, TOFU_STATUS_ALLOCATION_FAILED, NULL);
      return;
    }
  }
  connect_going(ch, rc);
}

/* ---- Writing ------------------------------------------------------------ */

static uint8_t frame_proto(const tofu_message *m) {
  return wire_proto(m->hdr.opcode, TOFU_ORIGIN_APPLICATION, m->hdr.more);
}

/* Describe up to NET_IOV_MAX buffers of the queued frames, starting `skip`
 * bytes into the first. */
static int gather(channel *ch, net_iov *iov, uint8_t (*hdrs)[WIRE_HEADER_SIZE], size_t *total) {
  int n = 0, f = 0;
  size_t skip = ch->sent;
  *total = 0;
  for (tofu_message *m = ch->sendq.head; m && n + 3 <= NET_IOV_MAX && f < NET_IOV_MAX / 3;
       m = m->next, f++) {
    wire_header h = {ch->number,        frame_proto(m),      m->hdr.status,
                     m->hdr.message_id, (uint16_t)m->th_len, (uint16_t)m->body_len};
    wire_encode_header(&h, hdrs[f]);
    const void *bases[3] = {hdrs[f], m->th, m->body};
    size_t lens[3] = {WIRE_HEADER_SIZE, m->th_len, m->body_len};
    for (int i = 0; i < 3; i++) {
      size_t len = lens[i];
      const uint8_t *base = bases[i];
      if (skip >= len) {
        skip -= len;
        continue;
      }
      iov[n].base = base + skip;
      iov[n].len = len - skip;
      *total += len - skip;
      skip = 0;
      n++;
    }
    if (m->hdr.opcode == TOFU_OP_BYE_RESPONSE)
      break; /* nothing goes out after it */
  }
  return n;
}

static size_t frame_size(const tofu_message *m) {
  return WIRE_HEADER_SIZE + m->th_len + m->body_len;
}

/* Drop the frames fully written; returns 1 if a ByeResponse went out. */
static int advance(channel *ch, size_t n) {
  tofu_engine *e = ch->engine;
  int bye_done = 0;
  ch->sent += n;
  while (ch->sendq.head && ch->sent >= frame_size(ch->sendq.head)) {
    tofu_message *m = msgq_pop(&ch->sendq);
    ch->sent -= frame_size(m);
    if (m->hdr.opcode == TOFU_OP_BYE_RESPONSE)
      bye_done = 1;
    pool_reactor_put(&e->pool, m);
    if (e->reactor.paused)
      atomic_store(&e->released, 1); /* retry the paused channels this pass */
    if (bye_done)
      break;
  }
  return bye_done;
}

/* After our ByeResponse: read what the peer still sent (so that closing does
 * not reset the connection under it), then close. */
static void close_after_bye(channel *ch) {
  uint8_t *buf = ch->engine->reactor.rbuf;
  for (int i = 0; i < READS_PER_EVENT; i++)
    if (net_recv(ch->sock, buf, ENGINE_READ_BUF) <= 0)
      break;
  channel_close(ch, TOFU_STATUS_CHANNEL_CLOSED, NULL);
}

void chan_io_flush(channel *ch) {
  net_iov iov[NET_IOV_MAX];
  uint8_t hdrs[NET_IOV_MAX / 3][WIRE_HEADER_SIZE];
  if (ch->closed || ch->state == CH_CONNECTING || ch->state == CH_BACKLOG)
    return;
  while (!msgq_empty(&ch->sendq)) {
    size_t total;
    int n = gather(ch, iov, hdrs, &total);
    ptrdiff_t w = net_sendv(ch->sock, iov, n);
    if (w == NET_EWOULDBLOCK)
      break;
    if (w < 0) {
      channel_close(ch, net_to_status((int)w, TOFU_STATUS_SEND_FAILED), NULL);
      return;
    }
    if (advance(ch, (size_t)w)) {
      close_after_bye(ch);
      return;
    }
    if ((size_t)w < total)
      break; /* the socket buffer is full */
  }
  channel_rearm(ch);
}

void chan_io_abort(channel *ch, tofu_message *bye) {
  /* Tell the peer, if that costs no wait: a connected socket, no frame half
   * written, and one write that the socket takes now (whatever it does not
   * take is lost with the connection, which closes anyway). */
  int connected = ch->state == CH_HELLO_SENT || ch->state == CH_OPEN;
  if (connected && ch->sent == 0) {
    uint8_t hdr[WIRE_HEADER_SIZE];
    wire_header h = {ch->number,          frame_proto(bye),      TOFU_STATUS_SUCCESS,
                     bye->hdr.message_id, (uint16_t)bye->th_len, (uint16_t)bye->body_len};
    wire_encode_header(&h, hdr);
    net_iov iov[3] = {{hdr, sizeof hdr}};
    int n = 1;
    if (bye->th_len)
      iov[n++] = (net_iov){bye->th, bye->th_len};
    if (bye->body_len)
      iov[n++] = (net_iov){bye->body, bye->body_len};
    (void)net_sendv(ch->sock, iov, n);
  }
  channel_close(ch, TOFU_STATUS_CHANNEL_CLOSED, bye);
}

/* ---- Reading ------------------------------------------------------------ */

/* The first frame of an accepted connection is the peer's HelloRequest (or
 * its ByeSignal, if it gives up at once); a HelloRequest comes only first. A
 * connecting channel takes anything else that travels, as a Zig peer may send
 * a Signal or a ByeSignal before (or instead of) its HelloResponse. */
static int frame_allowed(const channel *ch, unsigned op) {
  if (ch->state == CH_ACCEPTED)
    return op == TOFU_OP_HELLO_REQUEST || op == TOFU_OP_BYE_SIGNAL;
  return op != TOFU_OP_HELLO_REQUEST;
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
  ch->frame_due = 0; /* waiting for memory is not the peer's time */
  channel_pause(ch);
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
  ch->frame_due = 0; /* its deadline ends with it */
  m->hdr.channel = ch->number;
  m->hdr.opcode = (uint8_t)wire_opcode(h->proto);
  m->hdr.origin = TOFU_ORIGIN_APPLICATION;
  m->hdr.more = (uint8_t)wire_more(h->proto);
  m->hdr.status = h->status;
  m->hdr.message_id = h->message_id;
  m->th_len = h->headers_len;
  m->body_len = h->body_len;
  unsigned op = m->hdr.opcode;
  if (ch->state == CH_ACCEPTED && op == TOFU_OP_BYE_SIGNAL) {
    /* The peer gave up before its hello: the group never knew the channel. */
    pool_put(&e->pool, m);
    channel_close(ch, TOFU_STATUS_CHANNEL_CLOSED, NULL);
    return 0;
  }
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

/* Feed bytes to the decoder. Returns the bytes consumed; stops early when the
 * channel pauses or closes. */
static size_t feed(channel *ch, const uint8_t *buf, size_t n) {
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
      if (!frame_allowed(ch, wire_opcode(h->proto))) {
        channel_close(ch, TOFU_STATUS_INVALID_MESSAGE, NULL);
        return pos;
      }
      int refused = frame_refused(ch, h);
      if (refused) {
        channel_close(ch, refused, NULL);
        return pos;
      }
      tofu_message *m = pool_reactor_get_sized(&ch->engine->pool, h->headers_len, h->body_len);
      if (!m) {
        pause_reading(ch, buf + pos, n - pos);
        return n;
      }
      ch->rx = m;
      wire_decoder_set_dest(&ch->dec, m->th, m->body);
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
    channel_close(ch, net_to_status((int)r, TOFU_STATUS_RECV_FAILED), NULL);
    return 0;
  }
  return 1;
}

/* How much one recv into the read buffer may take. While a paused channel
 * holds the engine's stash, no further than the end of the current frame
 * part: a channel that then finds no memory for its next frame pauses with
 * nothing read ahead, so read-ahead never takes more than the one stash. */
static size_t read_cap(const channel *ch) {
  return ch->engine->reactor.stash_owner ? wire_decoder_part_rest(&ch->dec) : ENGINE_READ_BUF;
}

/* Read until the socket has no more (a read shorter than asked means the
 * socket's buffer is drained: no further recv only to learn EAGAIN), at most
 * READS_PER_EVENT times so that other channels get their turn. */
static void read_some(channel *ch) {
  uint8_t *buf = ch->engine->reactor.rbuf;
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
    size_t cap = read_cap(ch);
    if (cap == 0)
      return;
    ptrdiff_t r = net_recv(ch->sock, buf, cap);
    if (r == NET_EWOULDBLOCK || !recv_result(ch, r))
      return;
    feed(ch, buf, (size_t)r);
    if ((size_t)r < cap)
      return;
  }
}

/* A frame begun and not finished has a deadline (frame_timeout_ms), set here
 * once per readiness report, not per byte: a frame that ends within the
 * report costs nothing, frame_done clears it. One TIMER_FRAME entry at most
 * is in the heap per channel; when it fires early (the deadline moved on to
 * a later frame) it is put back at the new deadline. */
static void watch_frame(channel *ch) {
  if (ch->frame_due || ch->closed || ch->paused || wire_decoder_idle(&ch->dec))
    return;
  tofu_engine *e = ch->engine;
  if (e->opts.frame_timeout_ms < 0)
    return;
  ch->frame_due = e->reactor.now_ms + e->opts.frame_timeout_ms;
  if (ch->frame_timer)
    return;
  if (timers_add(&e->reactor.timers, ch->frame_due, TIMER_FRAME, (void *)(uintptr_t)ch->number,
                 ch->serial) != TOFU_OK) {
    channel_close(ch, TOFU_STATUS_ALLOCATION_FAILED, NULL);
    return;
  }
  ch->frame_timer = 1;
}

void chan_io_frame_timer(channel *ch) {
  tofu_engine *e = ch->engine;
  ch->frame_timer = 0;
  if (!ch->frame_due)
    return; /* the frame was finished, or the channel waits for memory */
  if (ch->frame_due > e->reactor.now_ms) {
    if (timers_add(&e->reactor.timers, ch->frame_due, TIMER_FRAME, (void *)(uintptr_t)ch->number,
                   ch->serial) != TOFU_OK) {
      channel_close(ch, TOFU_STATUS_ALLOCATION_FAILED, NULL);
      return;
    }
    ch->frame_timer = 1;
    return;
  }
  atomic_fetch_add(&e->frame_timeouts, 1);
  channel_close(ch, TOFU_STATUS_RECV_FAILED, NULL);
}

int chan_io_resume(channel *ch, size_t *too_big) {
  tofu_engine *e = ch->engine;
  const wire_header *h = &ch->dec.header;
  size_t need = (size_t)h->headers_len + h->body_len;
  if (need >= *too_big)
    return 0; /* a frame this large did not fit a moment ago */
  tofu_message *m = pool_reactor_get_sized(&e->pool, h->headers_len, h->body_len);
  if (!m) {
    *too_big = need;
    return 0;
  }
  /* The bytes it read ahead, if any, are fed first; feed() may pause it again
   * and keep the rest in the stash once more. */
  size_t len = e->reactor.stash_owner == ch ? e->reactor.stash_len : 0;
  channel_unpause(ch);
  ch->group->reactor.pool_notice_out = 0;
  ch->rx = m;
  wire_decoder_set_dest(&ch->dec, m->th, m->body);
  if (len)
    e->reactor.stash_len = 0;
  feed(ch, e->reactor.stash, len);
  if (!ch->closed && !ch->paused)
    read_some(ch);
  watch_frame(ch);
  if (!ch->closed) {
    channel_rearm(ch);
    channel_mark_dirty(ch);
  }
  return 1;
}

void chan_io_event(channel *ch, unsigned events) {
  ch->armed = 0;
  if (ch->state == CH_CONNECTING) {
    int err = net_pending_error(ch->sock);
    if (err != NET_OK || (events & TOFU_POLL_ERROR)) {
      connect_failed(ch);
      return;
    }
    on_connected(ch);
    return;
  }
  if (events & (TOFU_POLL_READABLE | TOFU_POLL_HANGUP | TOFU_POLL_ERROR)) {
    read_some(ch);
    watch_frame(ch);
  }
  if (!ch->closed && (events & TOFU_POLL_WRITABLE))
    chan_io_flush(ch);
  if (!ch->closed)
    channel_rearm(ch);
}
