/* tofu — the reliability suite: peers that break the rules.
 *
 * Every case runs a server engine with one well-behaved connection (from a
 * client engine) and attacks the same listener with raw sockets. Each attack
 * must end only its own connection: the engine closes it (the raw socket
 * reads end of stream or a reset), the application hears of it through a
 * channel_closed notice with the cause if it had been told of the connection
 * (after its HelloRequest), and of nothing otherwise; the good connection
 * keeps working and every message is back in the pool. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "suite.h"
#include "wire.h"

typedef struct arena {
  tofu_engine *es, *ec;
  tofu_group *gs, *gc;
  char bound[256];
  uint16_t port, cch, sch;
  size_t base_channels;
} arena;

static void arena_open(arena *a) {
  memset(a, 0, sizeof *a);
  a->es = et_engine(0);
  a->ec = et_engine(0);
  a->gs = et_group(a->es);
  a->gc = et_group(a->ec);
  et_listen(a->es, a->gs, "tcp|127.0.0.1|0", a->bound, sizeof a->bound);
  a->port = rel_port_of(a->bound);
  et_connect(a->ec, a->gc, a->gs, a->es, a->bound, &a->cch, &a->sch);
  tofu_engine_stats st = {.size = sizeof st};
  tofu_engine_get_stats(a->es, &st);
  a->base_channels = st.channels;
}

/* The server is back to its listener and the good connection. */
static void arena_settled(arena *a) {
  uint64_t until = mono_now_ms() + ET_DEADLINE_MS;
  tofu_engine_stats st = {.size = sizeof st};
  for (;;) {
    tofu_engine_get_stats(a->es, &st);
    if (st.channels == a->base_channels)
      break;
    ck_assert_msg(mono_now_ms() < until, "%zu server channels, expected %zu", st.channels,
                  a->base_channels);
    tofu_message *m = tofu_wait_receive(a->gs, 10);
    ck_assert_msg(m == NULL, "the application was told of a connection it never saw");
  }
}

static void arena_close(arena *a) {
  static unsigned seed = 1;
  rel_echo_once(a->ec, a->gc, a->cch, a->es, a->gs, seed++);
  ck_assert_ptr_null(tofu_wait_receive(a->gs, 0));
  tofu_group_destroy(a->gc);
  tofu_group_destroy(a->gs);
  et_assert_all_returned(a->es);
  et_assert_all_returned(a->ec);
  tofu_engine_destroy(a->ec);
  tofu_engine_destroy(a->es);
}

/* Read one whole frame from a blocking raw socket. */
static void raw_read_frame(tofu_socket s, wire_header *h, uint8_t *payload, size_t cap) {
  uint8_t hb[WIRE_HEADER_SIZE];
  size_t got = 0;
  while (got < sizeof hb) {
    ptrdiff_t r = net_recv(s, hb + got, sizeof hb - got);
    ck_assert_int_gt((int)r, 0);
    got += (size_t)r;
  }
  wire_decode_header(hb, h);
  size_t want = (size_t)h->headers_len + h->body_len;
  ck_assert_uint_le(want, cap);
  got = 0;
  while (got < want) {
    ptrdiff_t r = net_recv(s, payload + got, want - got);
    ck_assert_int_gt((int)r, 0);
    got += (size_t)r;
  }
}

/* A raw connection that said hello; the server application answered. Returns
 * the server's channel number for it. */
static uint16_t raw_hello(arena *a, tofu_socket s, int trickle) {
  static const char th[] = "who: raw\r\n";
  uint8_t f[16 + sizeof th];
  rel_frame(f, TOFU_OP_HELLO_REQUEST, 77, (uint16_t)(sizeof th - 1), 0);
  memcpy(f + 16, th, sizeof th - 1);
  if (trickle) {
    (void)net_set_nodelay(s);
    for (size_t i = 0; i < sizeof f - 1; i++)
      ck_assert(rel_send_all(s, f + i, 1));
  } else {
    ck_assert(rel_send_all(s, f, sizeof f - 1));
  }
  tofu_message *m =
      et_expect(a->gs, TOFU_OP_HELLO_REQUEST, TOFU_ORIGIN_APPLICATION, TOFU_STATUS_SUCCESS);
  ck_assert(tofu_msg_header(m)->message_id == 77);
  ck_assert(tofu_msg_find_header(m, "who", NULL, NULL));
  uint16_t ch = tofu_msg_header(m)->channel;
  tofu_msg_header(m)->opcode = TOFU_OP_HELLO_RESPONSE;
  et_post(a->gs, &m);
  wire_header h;
  static uint8_t buf[TOFU_MAX_FRAME];
  raw_read_frame(s, &h, buf, sizeof buf);
  ck_assert_uint_eq(wire_opcode(h.proto), TOFU_OP_HELLO_RESPONSE);
  return ch;
}

/* The server application hears that channel ch closed, for this cause. */
static void expect_closed(arena *a, uint16_t ch, int cause) {
  tofu_message *m =
      et_expect(a->gs, TOFU_OP_SIGNAL, TOFU_ORIGIN_ENGINE, TOFU_STATUS_CHANNEL_CLOSED);
  ck_assert_uint_eq(tofu_msg_header(m)->channel, ch);
  const char *v;
  size_t len;
  ck_assert(tofu_msg_find_header(m, TOFU_HDR_CAUSE, &v, &len));
  const char *want = tofu_status_name(cause);
  ck_assert_msg(len == strlen(want) && memcmp(v, want, len) == 0, "cause %.*s, expected %s",
                (int)len, v, want);
  tofu_put(a->es, &m);
}

void case_hostile_garbage(void) {
  arena a;
  arena_open(&a);
  uint32_t x = 2463534242u;
  for (int round = 0; round < 32; round++) {
    tofu_socket s = rel_raw_connect(a.port);
    uint8_t junk[4096];
    size_t n = 1 + (size_t)round * 127 % sizeof junk;
    for (size_t i = 0; i < n; i++) {
      x ^= x << 13;
      x ^= x >> 17;
      x ^= x << 5;
      junk[i] = (uint8_t)x;
    }
    rel_send_all(s, junk, n); /* the engine may close it before all is sent */
    (void)net_shutdown_write(s);
    ck_assert_msg(rel_closed_by_peer(s), "garbage round %d: connection left open", round);
    net_close(s);
  }
  arena_settled(&a);
  arena_close(&a);
}

void case_hostile_unknown_opcodes(void) {
  arena a;
  arena_open(&a);
  /* Opcodes that never travel: local ones (7, 8, 9) and unassigned (10-15). */
  for (unsigned op = 7; op <= 15; op++) {
    tofu_socket s = rel_raw_connect(a.port);
    uint8_t f[16];
    rel_frame(f, op, 1, 0, 0);
    ck_assert(rel_send_all(s, f, sizeof f));
    ck_assert_msg(rel_closed_by_peer(s), "opcode %u: connection left open", op);
    net_close(s);
  }
  arena_settled(&a);
  arena_close(&a);
}

void case_hostile_first_frame(void) {
  arena a;
  arena_open(&a);
  static const unsigned ops[] = {TOFU_OP_REQUEST,        TOFU_OP_RESPONSE,    TOFU_OP_SIGNAL,
                                 TOFU_OP_HELLO_RESPONSE, TOFU_OP_BYE_REQUEST, TOFU_OP_BYE_RESPONSE};
  for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
    tofu_socket s = rel_raw_connect(a.port);
    uint8_t f[16 + 5];
    rel_frame(f, ops[i], 5, 0, 5);
    memcpy(f + 16, "hello", 5);
    ck_assert(rel_send_all(s, f, sizeof f));
    ck_assert_msg(rel_closed_by_peer(s), "first frame %s: connection left open",
                  tofu_opcode_name((int)ops[i]));
    net_close(s);
  }
  arena_settled(&a);
  arena_close(&a);
}

void case_hostile_truncated_close(void) {
  arena a;
  arena_open(&a);
  /* A header cut short, a payload cut short, then close; before and after
   * the hello. */
  for (int cut = 0; cut < 4; cut++) {
    tofu_socket s = rel_raw_connect(a.port);
    uint16_t ch = 0;
    if (cut >= 2)
      ch = raw_hello(&a, s, 0);
    uint8_t f[16 + 300];
    rel_frame(f, cut >= 2 ? TOFU_OP_REQUEST : TOFU_OP_HELLO_REQUEST, 9, 100, 200);
    memset(f + 16, 'q', 300);
    size_t n = cut % 2 == 0 ? 10 : 16 + 150;
    ck_assert(rel_send_all(s, f, n));
    net_close(s);
    if (ch)
      expect_closed(&a, ch, TOFU_STATUS_PEER_DISCONNECTED);
  }
  arena_settled(&a);
  arena_close(&a);
}

void case_hostile_trickle(void) {
  arena a;
  arena_open(&a);
  tofu_socket s = rel_raw_connect(a.port);
  uint16_t ch = raw_hello(&a, s, 1);
  /* A Request with text headers and a body, one byte per send. */
  enum { BODY = 300 };
  static const char th[] = "k: v\r\n";
  uint8_t f[16 + sizeof th - 1 + BODY];
  rel_frame(f, TOFU_OP_REQUEST, 1234, (uint16_t)(sizeof th - 1), BODY);
  memcpy(f + 16, th, sizeof th - 1);
  for (int i = 0; i < BODY; i++)
    f[16 + sizeof th - 1 + i] = (uint8_t)(i * 7);
  for (size_t i = 0; i < sizeof f; i++)
    ck_assert(rel_send_all(s, f + i, 1));
  tofu_message *m = et_expect(a.gs, TOFU_OP_REQUEST, TOFU_ORIGIN_APPLICATION, TOFU_STATUS_SUCCESS);
  ck_assert_uint_eq(tofu_msg_header(m)->channel, ch);
  ck_assert(tofu_msg_header(m)->message_id == 1234);
  size_t len;
  const uint8_t *b = tofu_msg_body(m, &len);
  ck_assert_uint_eq(len, BODY);
  for (int i = 0; i < BODY; i++)
    ck_assert_uint_eq(b[i], (uint8_t)(i * 7));
  tofu_put(a.es, &m);
  net_close(s);
  expect_closed(&a, ch, TOFU_STATUS_PEER_DISCONNECTED);
  arena_settled(&a);
  arena_close(&a);
}

void case_hostile_reset_mid_frame(void) {
  arena a;
  arena_open(&a);
  for (int round = 0; round < 2; round++) {
    tofu_socket s = rel_raw_connect(a.port);
    uint16_t ch = round ? raw_hello(&a, s, 0) : 0;
    uint8_t f[16 + 1000];
    rel_frame(f, round ? TOFU_OP_REQUEST : TOFU_OP_HELLO_REQUEST, 3, 0, 1000);
    memset(f + 16, 'r', 1000);
    ck_assert(rel_send_all(s, f, 16 + 400));
    net_set_linger_abort(s);
    net_close(s);
    if (ch)
      expect_closed(&a, ch, TOFU_STATUS_PEER_DISCONNECTED);
  }
  arena_settled(&a);
  arena_close(&a);
}

void case_hostile_after_hello(void) {
  arena a;
  arena_open(&a);
  /* A HelloRequest again, a local opcode, then plain garbage: each after a
   * good hello; the application is told, with cause invalid_message. */
  static const unsigned ops[] = {TOFU_OP_HELLO_REQUEST, TOFU_OP_WELCOME_REQUEST, 13};
  for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
    tofu_socket s = rel_raw_connect(a.port);
    uint16_t ch = raw_hello(&a, s, 0);
    uint8_t f[16];
    rel_frame(f, ops[i], 2, 0, 0);
    ck_assert(rel_send_all(s, f, sizeof f));
    expect_closed(&a, ch, TOFU_STATUS_INVALID_MESSAGE);
    ck_assert(rel_closed_by_peer(s));
    net_close(s);
  }
  arena_settled(&a);
  arena_close(&a);
}

void case_hostile_silent_connects(void) {
  arena a;
  arena_open(&a);
  const char *why = "the full scale";
  int n = (int)rel_env("TOFU_REL_SILENT", 0);
  if (n > 0)
    why = "TOFU_REL_SILENT";
  else if (runner_under_wine()) {
    n = 300;
    why = "scaled down from 2000 under Wine, whose socket emulation is slow";
  } else {
    n = 2000;
  }
  /* Both ends of every connection are in this process. */
  if (!runner_raise_fd_limit(2L * n + 200)) {
    n = 1000;
    why = "scaled down to what the descriptor limit allows";
  }
  printf("hostile_silent_connects: %d silent connections (%s)\n", n, why);
  tofu_socket *s = malloc((size_t)n * sizeof *s);
  for (int i = 0; i < n; i++)
    s[i] = rel_raw_connect(a.port);
  /* The engine holds them all (accepted, waiting for a hello) and still
   * serves the good connection. */
  uint64_t until = mono_now_ms() + 4 * ET_DEADLINE_MS;
  tofu_engine_stats st = {.size = sizeof st};
  for (;;) {
    tofu_engine_get_stats(a.es, &st);
    if (st.channels == a.base_channels + (size_t)n)
      break;
    ck_assert_msg(mono_now_ms() < until, "%zu of %d silent connections accepted",
                  st.channels - a.base_channels, n);
    ck_assert_ptr_null(tofu_wait_receive(a.gs, 10));
  }
  rel_echo_once(a.ec, a.gc, a.cch, a.es, a.gs, 99);
  rel_figure("silent_connections_held", n);
  for (int i = 0; i < n; i++)
    net_close(s[i]);
  free(s);
  arena_settled(&a);
  arena_close(&a);
}
