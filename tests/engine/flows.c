/* tofu — the engine suite: the message flows over TCP and UDS. */
#include <stdio.h>
#include <string.h>

#include "suite.h"
#include "wire.h"

void case_create_destroy(void) {
  for (int i = 0; i < 20; i++) {
    tofu_engine *e = et_engine(0);
    tofu_group *g = et_group(e);
    if (i % 2)
      tofu_group_destroy(g); /* otherwise the engine destroys it */
    tofu_engine_destroy(e);
  }
  tofu_engine_destroy(NULL);
  tofu_group_destroy(NULL);
  tofu_options o;
  tofu_options_default(&o);
  o.initial_messages = 1000000;
  o.max_memory = 4096;
  tofu_engine *e = NULL;
  ck_assert_int_eq(tofu_engine_create(&o, &e), TOFU_ELIMIT);
  ck_assert_ptr_null(e);
  ck_assert_int_eq(tofu_engine_create(NULL, NULL), TOFU_EINVAL);
}

/* Echo n requests over one connection, then close with Bye. */
static void echo_over(const char *listen_addr, int engines) {
  tofu_engine *es = et_engine(0);
  tofu_engine *ec = engines == 2 ? et_engine(0) : es;
  tofu_group *gs = et_group(es), *gc = et_group(ec);
  char bound[256];
  uint16_t lch = et_listen(es, gs, listen_addr, bound, sizeof bound);
  uint16_t cch, sch;
  et_connect(ec, gc, gs, es, bound, &cch, &sch);

  enum { N = 50 };
  uint64_t ids[N];
  for (int i = 0; i < N; i++) {
    tofu_message *m = et_msg(ec, TOFU_OP_REQUEST, cch, (size_t)i * 97, (unsigned)i);
    ck_assert_int_eq(tofu_msg_add_header(m, "seq", "x"), TOFU_OK);
    ids[i] = et_post(gc, &m).message_id;
  }
  for (int i = 0; i < N; i++) {
    tofu_message *m = et_expect(gs, TOFU_OP_REQUEST, TOFU_ORIGIN_APPLICATION, TOFU_STATUS_SUCCESS);
    tofu_header *h = tofu_msg_header(m);
    ck_assert_uint_eq(h->channel, sch);
    ck_assert(h->message_id == ids[i]);
    ck_assert(et_body_ok(m, (size_t)i * 97, (unsigned)i));
    h->opcode = TOFU_OP_RESPONSE; /* same id, headers and body */
    et_post(gs, &m);
  }
  for (int i = 0; i < N; i++) {
    tofu_message *m = et_expect(gc, TOFU_OP_RESPONSE, TOFU_ORIGIN_APPLICATION, TOFU_STATUS_SUCCESS);
    ck_assert(tofu_msg_header(m)->message_id == ids[i]);
    ck_assert(et_body_ok(m, (size_t)i * 97, (unsigned)i));
    ck_assert(tofu_msg_find_header(m, "seq", NULL, NULL));
    tofu_put(ec, &m);
  }
  /* A Signal, then Bye from the client. */
  tofu_message *m = et_msg(ec, TOFU_OP_SIGNAL, cch, 3, 9);
  et_post(gc, &m);
  m = et_expect(gs, TOFU_OP_SIGNAL, TOFU_ORIGIN_APPLICATION, TOFU_STATUS_SUCCESS);
  tofu_put(es, &m);
  m = et_msg(ec, TOFU_OP_BYE_REQUEST, cch, 0, 0);
  et_post(gc, &m);
  m = et_expect(gs, TOFU_OP_BYE_REQUEST, TOFU_ORIGIN_APPLICATION, TOFU_STATUS_SUCCESS);
  tofu_msg_header(m)->opcode = TOFU_OP_BYE_RESPONSE;
  et_post(gs, &m);
  m = et_expect(gs, TOFU_OP_SIGNAL, TOFU_ORIGIN_ENGINE, TOFU_STATUS_CHANNEL_CLOSED);
  ck_assert_uint_eq(tofu_msg_header(m)->channel, sch);
  tofu_put(es, &m);
  m = et_expect(gc, TOFU_OP_BYE_RESPONSE, TOFU_ORIGIN_APPLICATION, TOFU_STATUS_SUCCESS);
  tofu_put(ec, &m);
  m = et_expect(gc, TOFU_OP_SIGNAL, TOFU_ORIGIN_ENGINE, TOFU_STATUS_CHANNEL_CLOSED);
  ck_assert_uint_eq(tofu_msg_header(m)->channel, cch);
  tofu_put(ec, &m);
  /* Close the listener too. */
  m = et_msg(es, TOFU_OP_BYE_SIGNAL, lch, 0, 0);
  et_post(gs, &m);
  m = et_expect(gs, TOFU_OP_SIGNAL, TOFU_ORIGIN_ENGINE, TOFU_STATUS_CHANNEL_CLOSED);
  ck_assert_uint_eq(tofu_msg_header(m)->channel, lch);
  tofu_put(es, &m);
  ck_assert_ptr_null(tofu_wait_receive(gs, 0));
  ck_assert_ptr_null(tofu_wait_receive(gc, 0));
  et_assert_all_returned(es);
  et_assert_all_returned(ec);
  tofu_group_destroy(gc);
  tofu_group_destroy(gs);
  if (ec != es)
    tofu_engine_destroy(ec);
  tofu_engine_destroy(es);
}

void case_several_engines(void) {
  echo_over("tcp|127.0.0.1|0", 2);
}

void case_echo_tcp(void) {
  echo_over("tcp|127.0.0.1|0", 1);
}

/* A host name in ~connect_to is looked up by tofu_post (on the posting
 * thread, never on the Reactor's) and the connect then goes to its address:
 * "localhost", with the listener on 127.0.0.1. */
static void connect_to_localhost(void) {
  tofu_engine *e = et_engine(0);
  tofu_group *gs = et_group(e), *gc = et_group(e);
  char bound[256], by_name[256];
  et_listen(e, gs, "tcp|127.0.0.1|0", bound, sizeof bound);
  const char *port = strrchr(bound, '|');
  ck_assert_ptr_nonnull(port);
  snprintf(by_name, sizeof by_name, "tcp|localhost%s", port);
  uint16_t cch, sch;
  et_connect(e, gc, gs, e, by_name, &cch, &sch);
  ck_assert_uint_ne(cch, 0);
  ck_assert_uint_ne(sch, 0);
  tofu_group_destroy(gc);
  tofu_group_destroy(gs);
  et_assert_all_returned(e);
  tofu_engine_destroy(e);
}

void case_connect_by_name_tcp(void) {
  connect_to_localhost();
}

/* The same over IPv6 loopback. */
void case_echo_tcp6(void) {
  echo_over("tcp|::1|0", 2);
}

/* "tcp|::|0" listens on every interface of both families (the engine makes
 * IPv6 listeners dual-stack on every platform): a client reaches it over
 * ::1 and over 127.0.0.1. */
void case_listen_any_both_families(void) {
  tofu_engine *e = et_engine(0);
  tofu_group *gs = et_group(e), *gc = et_group(e);
  char bound[256], to[256];
  et_listen(e, gs, "tcp|::|0", bound, sizeof bound);
  ck_assert_msg(strncmp(bound, "tcp|::|", 7) == 0, "bound %s", bound);
  const char *port = strrchr(bound, '|');
  const char *hosts[] = {"::1", "127.0.0.1"};
  for (int i = 0; i < 2; i++) {
    snprintf(to, sizeof to, "tcp|%s%s", hosts[i], port);
    uint16_t cch, sch;
    et_connect(e, gc, gs, e, to, &cch, &sch);
    tofu_message *m = et_msg(e, TOFU_OP_SIGNAL, cch, 64, (unsigned)i);
    et_post(gc, &m);
    m = et_expect(gs, TOFU_OP_SIGNAL, TOFU_ORIGIN_APPLICATION, TOFU_STATUS_SUCCESS);
    ck_assert(et_body_ok(m, 64, (unsigned)i));
    tofu_put(e, &m);
  }
  tofu_group_destroy(gc);
  tofu_group_destroy(gs);
  et_assert_all_returned(e);
  tofu_engine_destroy(e);
}

/* A name that resolves to both families is tried address by address, in the
 * order the system gives: where "localhost" gives ::1 first (nobody listens
 * there: refused) and 127.0.0.1 after it, the connect still reaches the
 * listener. */
void case_connect_by_name_both_families(void) {
  connect_to_localhost();
}

void case_echo_uds(void) {
  pair_listener hold;
  char addr[NET_UDS_PATH_MAX + 8];
  et_uds_path(&hold, addr, sizeof addr);
  echo_over(addr, 2);
  et_uds_done(&hold);
}

/* Every combination of empty / largest text headers and body, both ways. */
static void sizes_over(const char *listen_addr) {
  tofu_engine *e = et_engine(0);
  tofu_group *gs = et_group(e), *gc = et_group(e);
  char bound[256];
  et_listen(e, gs, listen_addr, bound, sizeof bound);
  uint16_t cch, sch;
  et_connect(e, gc, gs, e, bound, &cch, &sch);
  static const size_t sz[] = {0, 1, 65535};
  static uint8_t th[65535];
  for (size_t i = 0; i < sizeof th; i++)
    th[i] = (uint8_t)('a' + i % 26);
  for (int a = 0; a < 3; a++) {
    for (int b = 0; b < 3; b++) {
      tofu_message *m = et_msg(e, TOFU_OP_REQUEST, cch, sz[b], (unsigned)(a * 3 + b));
      ck_assert_int_eq(tofu_msg_set_headers(m, th, sz[a]), TOFU_OK);
      et_post(gc, &m);
      m = et_expect(gs, TOFU_OP_REQUEST, TOFU_ORIGIN_APPLICATION, TOFU_STATUS_SUCCESS);
      size_t len;
      const char *raw = tofu_msg_headers(m, &len);
      ck_assert_uint_eq(len, sz[a]);
      ck_assert(len == 0 || memcmp(raw, th, len) == 0);
      ck_assert(et_body_ok(m, sz[b], (unsigned)(a * 3 + b)));
      tofu_msg_header(m)->opcode = TOFU_OP_RESPONSE;
      et_post(gs, &m);
      m = et_expect(gc, TOFU_OP_RESPONSE, TOFU_ORIGIN_APPLICATION, TOFU_STATUS_SUCCESS);
      raw = tofu_msg_headers(m, &len);
      ck_assert_uint_eq(len, sz[a]);
      ck_assert(et_body_ok(m, sz[b], (unsigned)(a * 3 + b)));
      tofu_put(e, &m);
    }
  }
  tofu_group_destroy(gc);
  tofu_group_destroy(gs);
  et_assert_all_returned(e);
  tofu_engine_destroy(e);
}

void case_sizes_tcp(void) {
  sizes_over("tcp|127.0.0.1|0");
}

void case_sizes_tcp6(void) {
  sizes_over("tcp|::1|0");
}

/* Windows AF_UNIX: as TCP. */
void case_sizes_uds(void) {
  pair_listener hold;
  char addr[NET_UDS_PATH_MAX + 8];
  et_uds_path(&hold, addr, sizeof addr);
  sizes_over(addr);
  et_uds_done(&hold);
}

void case_bye_signal_abort(void) {
  tofu_engine *e = et_engine(0);
  tofu_group *gs = et_group(e), *gc = et_group(e);
  char bound[256];
  et_listen(e, gs, "tcp|127.0.0.1|0", bound, sizeof bound);
  uint16_t cch, sch;
  et_connect(e, gc, gs, e, bound, &cch, &sch);
  /* The client aborts: its group gets the ByeSignal back as the
   * channel_closed notice. The ByeSignal also goes to the peer (as tofu
   * sends it), whose group receives it, body and all, and then the
   * channel_closed notice with cause channel_closed: an abort, not a
   * protocol violation. Both notices carry the id of the channel's first
   * message, the HelloRequest. */
  tofu_message *m = et_msg(e, TOFU_OP_BYE_SIGNAL, cch, 5, 7);
  tofu_header bye = et_post(gc, &m);
  m = et_expect(gc, TOFU_OP_SIGNAL, TOFU_ORIGIN_ENGINE, TOFU_STATUS_CHANNEL_CLOSED);
  ck_assert_uint_eq(tofu_msg_header(m)->channel, cch);
  uint64_t hello_id = tofu_msg_header(m)->message_id;
  ck_assert(hello_id != 0 && hello_id != bye.message_id);
  tofu_put(e, &m);
  m = et_expect(gs, TOFU_OP_BYE_SIGNAL, TOFU_ORIGIN_APPLICATION, TOFU_STATUS_SUCCESS);
  ck_assert_uint_eq(tofu_msg_header(m)->channel, sch);
  ck_assert(tofu_msg_header(m)->message_id == bye.message_id);
  ck_assert(et_body_ok(m, 5, 7));
  tofu_put(e, &m);
  m = et_expect(gs, TOFU_OP_SIGNAL, TOFU_ORIGIN_ENGINE, TOFU_STATUS_CHANNEL_CLOSED);
  ck_assert_uint_eq(tofu_msg_header(m)->channel, sch);
  ck_assert(tofu_msg_header(m)->message_id == hello_id);
  const char *v;
  size_t len;
  ck_assert(tofu_msg_find_header(m, TOFU_HDR_CAUSE, &v, &len));
  ck_assert(len == strlen("channel_closed") && memcmp(v, "channel_closed", len) == 0);
  tofu_put(e, &m);
  /* Posting to the closed channel: handed back. */
  m = et_msg(e, TOFU_OP_SIGNAL, cch, 1, 0);
  et_post(gc, &m);
  m = et_expect(gc, TOFU_OP_SIGNAL, TOFU_ORIGIN_ENGINE, TOFU_STATUS_INVALID_CHANNEL_NUMBER);
  tofu_put(e, &m);
  tofu_group_destroy(gc);
  tofu_group_destroy(gs);
  et_assert_all_returned(e);
  tofu_engine_destroy(e);
}

/* A peer written from the wire description alone: raw frames over a plain
 * socket against the engine's listener. */
static void raw_send(tofu_socket s, unsigned op, uint64_t id, const char *th, const char *body) {
  uint8_t buf[512];
  size_t tl = strlen(th), bl = strlen(body);
  wire_header h = {77, wire_proto(op, 0, 0), 0, id, (uint16_t)tl, (uint16_t)bl};
  wire_encode_header(&h, buf);
  memcpy(buf + 16, th, tl);
  memcpy(buf + 16 + tl, body, bl);
  size_t total = 16 + tl + bl, off = 0;
  while (off < total) {
    ptrdiff_t n = net_send(s, buf + off, total - off);
    ck_assert_int_gt(n, 0);
    off += (size_t)n;
  }
}

static void raw_recv_exact(tofu_socket s, uint8_t *buf, size_t len) {
  size_t off = 0;
  while (off < len) {
    ptrdiff_t n = net_recv(s, buf + off, len - off);
    ck_assert_int_gt(n, 0);
    off += (size_t)n;
  }
}

void case_raw_peer_interop(void) {
  tofu_engine *e = et_engine(0);
  tofu_group *gs = et_group(e);
  char bound[256];
  et_listen(e, gs, "tcp|127.0.0.1|0", bound, sizeof bound);
  unsigned port = 0;
  ck_assert_int_eq(sscanf(bound, "tcp|127.0.0.1|%u", &port), 1);
  tofu_socket s;
  ck_assert_int_eq(net_tcp_socket(&s), NET_OK);
  ck_assert_int_eq(net_tcp_connect_loopback(s, (uint16_t)port), NET_OK);
  raw_send(s, TOFU_OP_HELLO_REQUEST, 5, "~connect_to: tcp|127.0.0.1|1\r\n", "");
  tofu_message *m = et_expect(gs, TOFU_OP_HELLO_REQUEST, TOFU_ORIGIN_APPLICATION, 0);
  ck_assert(tofu_msg_header(m)->message_id == 5);
  uint16_t sch = tofu_msg_header(m)->channel;
  tofu_msg_header(m)->opcode = TOFU_OP_HELLO_RESPONSE;
  ck_assert_int_eq(tofu_msg_set_headers(m, NULL, 0), TOFU_OK);
  ck_assert_int_eq(tofu_msg_set_body(m, "hi", 2), TOFU_OK);
  et_post(gs, &m);
  uint8_t buf[64];
  raw_recv_exact(s, buf, 18);
  wire_header h;
  wire_decode_header(buf, &h);
  ck_assert_uint_eq(h.channel, sch); /* the sender's local number */
  ck_assert_uint_eq(h.proto, TOFU_OP_HELLO_RESPONSE);
  ck_assert(h.message_id == 5);
  ck_assert_uint_eq(h.headers_len, 0);
  ck_assert_uint_eq(h.body_len, 2);
  ck_assert(memcmp(buf + 16, "hi", 2) == 0);
  /* Request -> the application answers with a Response of the same id. */
  raw_send(s, TOFU_OP_REQUEST, 0x0102030405060708ull, "k: v\r\n", "body");
  m = et_expect(gs, TOFU_OP_REQUEST, TOFU_ORIGIN_APPLICATION, 0);
  ck_assert(tofu_msg_header(m)->message_id == 0x0102030405060708ull);
  tofu_msg_header(m)->opcode = TOFU_OP_RESPONSE;
  et_post(gs, &m);
  raw_recv_exact(s, buf, 16 + 6 + 4);
  wire_decode_header(buf, &h);
  ck_assert_uint_eq(h.proto, TOFU_OP_RESPONSE);
  ck_assert(h.message_id == 0x0102030405060708ull);
  ck_assert(memcmp(buf + 16, "k: v\r\nbody", 10) == 0);
  /* ByeRequest -> ByeResponse, then the engine closes. */
  raw_send(s, TOFU_OP_BYE_REQUEST, 9, "", "");
  m = et_expect(gs, TOFU_OP_BYE_REQUEST, TOFU_ORIGIN_APPLICATION, 0);
  tofu_msg_header(m)->opcode = TOFU_OP_BYE_RESPONSE;
  et_post(gs, &m);
  raw_recv_exact(s, buf, 16);
  wire_decode_header(buf, &h);
  ck_assert_uint_eq(h.proto, TOFU_OP_BYE_RESPONSE);
  ck_assert_int_eq((int)net_recv(s, buf, 1), 0); /* end of stream */
  m = et_expect(gs, TOFU_OP_SIGNAL, TOFU_ORIGIN_ENGINE, TOFU_STATUS_CHANNEL_CLOSED);
  tofu_put(e, &m);
  net_close(s);
  tofu_group_destroy(gs);
  et_assert_all_returned(e);
  tofu_engine_destroy(e);
}
