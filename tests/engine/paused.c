/* tofu — the engine suite: a channel paused for memory still hears the end
 * of its connection. A reset closes it at once, while the application holds
 * the memory; an orderly close waits for the memory, behind every frame sent
 * before it. The peer is a plain socket that floods the engine's channel with
 * Signals while the application keeps every one it receives. */
#include <stdio.h>
#include <string.h>

#include "suite.h"
#include "wire.h"

/* About 16 messages of BODY bytes fit the engine's pool; the peer sends
 * until the engine says the pool is empty, then EXTRA frames more, which
 * wait in the socket (never more than MAX_FRAMES in all). */
enum { BODY = 4000, POOL = 16 * 4500, EXTRA = 5, MAX_FRAMES = 200 };

typedef struct paused_case {
  pair_listener l;
  tofu_engine *e;
  tofu_group *g;
  tofu_socket peer;
  uint16_t ch;
  tofu_message *held[MAX_FRAMES];
  int nheld;
  uint64_t sent;      /* frames the peer sent, ids 1..sent */
  uint64_t delivered; /* frames the group received, in order */
} paused_case;

/* Send all of buf from the peer's non-blocking socket. It never waits long:
 * the engine reads until its pool is full and the socket buffers hold the
 * rest; the short sleep only paces the retries while the engine catches up. */
static void peer_send_all(tofu_socket s, const uint8_t *buf, size_t len) {
  uint64_t deadline = mono_now_ms() + ET_DEADLINE_MS;
  size_t off = 0;
  while (off < len) {
    ptrdiff_t n = net_send(s, buf + off, len - off);
    if (n == NET_EWOULDBLOCK) {
      ck_assert_msg(mono_now_ms() < deadline, "the peer could not send for %d ms", ET_DEADLINE_MS);
      mono_sleep_ms(1);
      continue;
    }
    ck_assert_msg(n > 0, "peer send: %s", net_strerror((int)n));
    off += (size_t)n;
  }
}

static void peer_send_frame(paused_case *c, unsigned op, uint64_t id, size_t body_len) {
  static uint8_t buf[WIRE_HEADER_SIZE + BODY];
  ck_assert_uint_le(body_len, BODY);
  wire_header h = {77, wire_proto(op, 0, 0), 0, id, 0, (uint32_t)body_len};
  wire_encode_header(&h, buf);
  memset(buf + WIRE_HEADER_SIZE, (int)(id & 0xff), body_len);
  peer_send_all(c->peer, buf, WIRE_HEADER_SIZE + body_len);
}

/* Read exactly len bytes on the peer's blocking socket. */
static void peer_recv_exact(tofu_socket s, uint8_t *buf, size_t len) {
  size_t off = 0;
  while (off < len) {
    ptrdiff_t n = net_recv(s, buf + off, len - off);
    ck_assert_msg(n > 0, "peer recv: %s", n < 0 ? net_strerror((int)n) : "end of stream");
    off += (size_t)n;
  }
}

/* A Signal of the flood, which must be the next in order. */
static void check_flood_frame(paused_case *c, tofu_message *m) {
  const tofu_header *h = tofu_msg_header(m);
  ck_assert_uint_eq(h->opcode, TOFU_OP_SIGNAL);
  ck_assert_uint_eq(h->origin, TOFU_ORIGIN_APPLICATION);
  ck_assert_uint_eq(h->channel, c->ch);
  ck_assert_msg(h->message_id == c->delivered + 1, "frame %llu delivered, %llu expected",
                (unsigned long long)h->message_id, (unsigned long long)(c->delivered + 1));
  size_t len = 0;
  const uint8_t *body = tofu_msg_body(m, &len);
  ck_assert_uint_eq(len, BODY);
  for (size_t i = 0; i < len; i++)
    ck_assert_uint_eq(body[i], (unsigned)(h->message_id & 0xff));
  c->delivered++;
}

/* The engine connects to the plain peer, which answers its HelloRequest and
 * then floods the channel until the group is told the pool is empty; the
 * application holds every frame. EXTRA more frames then wait in the socket
 * for the paused channel. With leave_unread the peer reads only the
 * HelloRequest's fixed header and leaves the rest in its socket: a Unix
 * domain socket has no abortive close, but one closed with bytes unread
 * resets its peer (and a TCP socket sends a RST then too). */
static void pause_channel(paused_case *c, pair_transport t, int leave_unread) {
  memset(c, 0, sizeof *c);
  ck_assert_int_eq(pair_listen(t, &c->l), NET_OK);
  c->e = et_engine(POOL);
  c->g = et_group(c->e);
  char addr[sizeof c->l.path + 8];
  if (t == PAIR_TCP)
    snprintf(addr, sizeof addr, "tcp|127.0.0.1|%u", (unsigned)c->l.port);
  else
    snprintf(addr, sizeof addr, "uds|%s", c->l.path);
  tofu_header hello = et_post_hello(c->e, c->g, addr);
  c->ch = hello.channel;
  ck_assert_int_eq(net_accept(c->l.sock, &c->peer), NET_OK);

  /* Read the HelloRequest (whole, unless asked not to: an unread byte turns
   * the peer's close into a reset), answer it. */
  ck_assert_int_eq(net_set_blocking(c->peer), NET_OK);
  uint8_t head[WIRE_HEADER_SIZE];
  peer_recv_exact(c->peer, head, sizeof head);
  wire_header h;
  wire_decode_header(head, &h);
  ck_assert_uint_eq(wire_opcode(h.proto), TOFU_OP_HELLO_REQUEST);
  ck_assert_uint_gt(h.headers_len, 0); /* its ~connect_to */
  static uint8_t rest[65536 * 2];
  if (!leave_unread)
    peer_recv_exact(c->peer, rest, (size_t)h.headers_len + h.body_len);
  ck_assert_int_eq(net_set_nonblocking(c->peer), NET_OK);
  peer_send_frame(c, TOFU_OP_HELLO_RESPONSE, h.message_id, 0);
  tofu_message *m = et_expect(c->g, TOFU_OP_HELLO_RESPONSE, TOFU_ORIGIN_APPLICATION, 0);
  tofu_put(c->e, &m);

  int empty = 0;
  while (!empty) {
    ck_assert_msg(c->sent < MAX_FRAMES - EXTRA, "%d frames sent and the pool never ran out",
                  MAX_FRAMES - EXTRA);
    peer_send_frame(c, TOFU_OP_SIGNAL, ++c->sent, BODY);
    /* Each frame is delivered (and kept), or the engine pauses and says
     * that the pool is empty, which ends the flood. */
    while (!empty && c->delivered < c->sent) {
      m = et_recv(c->g);
      if (tofu_msg_header(m)->origin == TOFU_ORIGIN_ENGINE) {
        ck_assert_uint_eq(tofu_msg_header(m)->status, TOFU_STATUS_POOL_EMPTY);
        ck_assert_uint_eq(tofu_msg_header(m)->channel, c->ch);
        tofu_put(c->e, &m);
        empty = 1;
      } else {
        check_flood_frame(c, m);
        c->held[c->nheld++] = m;
      }
    }
  }
  for (int i = 0; i < EXTRA; i++)
    peer_send_frame(c, TOFU_OP_SIGNAL, ++c->sent, BODY);
  ck_assert_uint_lt(c->delivered, c->sent);
}

static void finish(paused_case *c) {
  for (int i = 0; i < c->nheld; i++)
    tofu_put(c->e, &c->held[i]);
  c->nheld = 0;
  ck_assert_ptr_null(tofu_wait_receive(c->g, ET_QUIET_MS));
  tofu_group_destroy(c->g);
  et_assert_all_returned(c->e);
  tofu_engine_destroy(c->e);
  net_close(c->peer);
  pair_unlisten(&c->l);
}

static void expect_closed(paused_case *c, tofu_message *m, const char *cause) {
  ck_assert_ptr_nonnull(m);
  const tofu_header *h = tofu_msg_header(m);
  ck_assert_uint_eq(h->opcode, TOFU_OP_SIGNAL);
  ck_assert_uint_eq(h->origin, TOFU_ORIGIN_ENGINE);
  ck_assert_uint_eq(h->status, TOFU_STATUS_CHANNEL_CLOSED);
  ck_assert_uint_eq(h->channel, c->ch);
  const char *v;
  size_t len;
  ck_assert(tofu_msg_find_header(m, TOFU_HDR_CAUSE, &v, &len));
  ck_assert_msg(len == strlen(cause) && memcmp(v, cause, len) == 0, "cause %.*s, expected %s",
                (int)len, v, cause);
}

/* The peer resets the connection of a paused channel: channel_closed
 * (peer_disconnected) comes within a second, while the application still
 * holds every message it got, and nothing else comes. */
static void paused_peer_reset(pair_transport t) {
  static paused_case c;
  pause_channel(&c, t, 1);
  ck_assert_int_eq(net_set_linger_abort(c.peer), NET_OK);
  net_close(c.peer);
  c.peer = TOFU_INVALID_SOCKET;
  uint64_t t0 = mono_now_ms();
  tofu_message *m = tofu_wait_receive(c.g, 1000);
  ck_assert_msg(m != NULL, "a paused channel did not close within 1 s of a reset");
  expect_closed(&c, m, "peer_disconnected");
  ck_assert_uint_lt(mono_now_ms() - t0, 1000);
  tofu_put(c.e, &m);
  /* Nothing of the frames that waited in the socket is delivered. */
  finish(&c);
}

void case_paused_peer_reset_tcp(void) {
  paused_peer_reset(PAIR_TCP);
}

void case_paused_peer_reset_uds(void) {
  paused_peer_reset(PAIR_UDS);
}

/* The peer of a paused channel closes in order: nothing is closed while the
 * application holds the memory (and the Reactor does not spin on the
 * hang-up a Unix domain socket reports); once the messages are back, every
 * frame is delivered in order, then channel_closed. */
static void paused_peer_fin(pair_transport t) {
  static paused_case c;
  pause_channel(&c, t, 0);
  net_close(c.peer);
  c.peer = TOFU_INVALID_SOCKET;

  tofu_engine_stats s0 = {.size = sizeof s0}, s1 = {.size = sizeof s1};
  tofu_engine_get_stats(c.e, &s0);
  ck_assert_ptr_null(tofu_wait_receive(c.g, ET_QUIET_MS));
  tofu_engine_get_stats(c.e, &s1);
  ck_assert_msg(s1.reactor_loops - s0.reactor_loops < 10, "Reactor ran %llu passes while paused",
                (unsigned long long)(s1.reactor_loops - s0.reactor_loops));

  for (int i = 0; i < c.nheld; i++)
    tofu_put(c.e, &c.held[i]);
  c.nheld = 0;
  for (;;) {
    tofu_message *m = et_recv(c.g);
    const tofu_header *h = tofu_msg_header(m);
    if (h->origin == TOFU_ORIGIN_ENGINE && h->status == TOFU_STATUS_POOL_EMPTY) {
      tofu_put(c.e, &m);
      continue;
    }
    if (h->origin == TOFU_ORIGIN_ENGINE) {
      ck_assert_msg(c.delivered == c.sent, "closed after %llu of %llu frames",
                    (unsigned long long)c.delivered, (unsigned long long)c.sent);
      expect_closed(&c, m, "peer_disconnected");
      tofu_put(c.e, &m);
      break;
    }
    check_flood_frame(&c, m);
    tofu_put(c.e, &m);
  }
  finish(&c);
}

void case_paused_peer_fin_tcp(void) {
  paused_peer_fin(PAIR_TCP);
}

void case_paused_peer_fin_uds(void) {
  paused_peer_fin(PAIR_UDS);
}
