/* tofu — the engine suite: parity with tofu (Zig), github.com/g41797/tofu,
 * v0.0.10 and later.
 *
 * The golden frames below are the bytes a Zig node writes, worked out from
 * its sources (src/message.zig: BinaryHeader.toBytes, ProtoFields,
 * TextHeaders.append, Message.check_and_prepare; src/address.zig;
 * src/ampe/triggeredSkts.zig: MsgSender.prepare), not from this engine's
 * encoder: a 16-byte big-endian header whose proto byte is the packed struct
 * {opcode:4, origin:1, more:1, internal:2} from the low bit up, status 0 (a
 * post resets it), ids from a counter starting at 1, text headers written
 * "name:value\r\n". The channel numbers are the sender's own (Zig picks them
 * at random; these are arbitrary).
 *
 * The other way, frames this engine writes are read by zig_read, a model of
 * Zig's reader (MsgReceiver.recv, ProtoFields.fromByte, TextHeaderIterator),
 * and compared byte for byte with what Zig would write for the same message. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rawwire.h"
#include "suite.h"
#include "wire.h"

typedef struct golden {
  const char *what;
  const uint8_t *bytes;
  size_t len;
  /* What the frame says. */
  uint16_t channel;
  unsigned opcode, more;
  uint64_t id;
  const char *th, *body;
} golden;

/* The frames laid out as they are on the wire: the header on the first line
 * (channel, proto, status | message id | text-header length, body length),
 * then the text headers and the body. */
/* clang-format off */
/* A HelloRequest from Zig's TCPClientAddress.format + post (first id: 1). */
static const uint8_t hello_tcp[] = {
    0x1a, 0x2b, 0x03, 0x00,  0, 0, 0, 0, 0, 0, 0, 0x01,  0x00, 0x20, 0x00, 0x00,
    '~', 'c', 'o', 'n', 'n', 'e', 'c', 't', '_', 't', 'o', ':',
    't', 'c', 'p', '|', '1', '2', '7', '.', '0', '.', '0', '.', '1', '|', '7', '0', '9', '9',
    '\r', '\n'};
/* The same through UDSClientAddress. */
static const uint8_t hello_uds[] = {
    0x1a, 0x2b, 0x03, 0x00,  0, 0, 0, 0, 0, 0, 0, 0x01,  0x00, 0x20, 0x00, 0x00,
    '~', 'c', 'o', 'n', 'n', 'e', 'c', 't', '_', 't', 'o', ':',
    'u', 'd', 's', '|', '/', 't', 'm', 'p', '/', '7', '0', '9', '9', '.', 'p', 'o', 'r', 't',
    '\r', '\n'};
/* The server's HelloResponse: the HelloRequest with opcode 4, same id, no
 * headers (its own channel number). */
static const uint8_t hello_resp[] = {
    0x7f, 0x01, 0x04, 0x00,  0, 0, 0, 0, 0, 0, 0, 0x01,  0x00, 0x00, 0x00, 0x00};
/* A Request with one text header and a body (id 2). */
static const uint8_t request[] = {
    0x1a, 0x2b, 0x00, 0x00,  0, 0, 0, 0, 0, 0, 0, 0x02,  0x00, 0x0c, 0x00, 0x05,
    'n', 'a', 'm', 'e', ':', 'v', 'a', 'l', 'u', 'e', '\r', '\n',
    'h', 'e', 'l', 'l', 'o'};
/* The server's Response to it: same id, headers and body. */
static const uint8_t response[] = {
    0x7f, 0x01, 0x01, 0x00,  0, 0, 0, 0, 0, 0, 0, 0x02,  0x00, 0x0c, 0x00, 0x05,
    'n', 'a', 'm', 'e', ':', 'v', 'a', 'l', 'u', 'e', '\r', '\n',
    'h', 'e', 'l', 'l', 'o'};
/* A Request with `more` (bit 5), id 3, body "part". */
static const uint8_t request_more[] = {
    0x1a, 0x2b, 0x20, 0x00,  0, 0, 0, 0, 0, 0, 0, 0x03,  0x00, 0x00, 0x00, 0x04,
    'p', 'a', 'r', 't'};
/* ByeRequest (id 4), ByeResponse (same id, from the server), ByeSignal (id
 * 5, the opcode set by the application: Zig sends that one). */
static const uint8_t bye_req[] = {
    0x1a, 0x2b, 0x05, 0x00,  0, 0, 0, 0, 0, 0, 0, 0x04,  0x00, 0x00, 0x00, 0x00};
static const uint8_t bye_resp[] = {
    0x7f, 0x01, 0x06, 0x00,  0, 0, 0, 0, 0, 0, 0, 0x04,  0x00, 0x00, 0x00, 0x00};
static const uint8_t bye_sig[] = {
    0x1a, 0x2b, 0x07, 0x00,  0, 0, 0, 0, 0, 0, 0, 0x05,  0x00, 0x00, 0x00, 0x00};
/* clang-format on */

#define G(name, ch, op, more, id, th, body)                                                        \
  { #name, name, sizeof name, ch, op, more, id, th, body }
static const golden goldens[] = {
    G(hello_tcp, 0x1a2b, TOFU_OP_HELLO_REQUEST, 0, 1, "~connect_to:tcp|127.0.0.1|7099\r\n", ""),
    G(hello_uds, 0x1a2b, TOFU_OP_HELLO_REQUEST, 0, 1, "~connect_to:uds|/tmp/7099.port\r\n", ""),
    G(hello_resp, 0x7f01, TOFU_OP_HELLO_RESPONSE, 0, 1, "", ""),
    G(request, 0x1a2b, TOFU_OP_REQUEST, 0, 2, "name:value\r\n", "hello"),
    G(response, 0x7f01, TOFU_OP_RESPONSE, 0, 2, "name:value\r\n", "hello"),
    G(request_more, 0x1a2b, TOFU_OP_REQUEST, 1, 3, "", "part"),
    G(bye_req, 0x1a2b, TOFU_OP_BYE_REQUEST, 0, 4, "", ""),
    G(bye_resp, 0x7f01, TOFU_OP_BYE_RESPONSE, 0, 4, "", ""),
    G(bye_sig, 0x1a2b, TOFU_OP_BYE_SIGNAL, 0, 5, "", ""),
};
#undef G
#define NGOLDEN (sizeof goldens / sizeof goldens[0])

/* A frame as wire.c decoded it. */
typedef struct decoded {
  wire_header h;
  uint8_t th[64], body[64];
} decoded;

/* Decode buf[0..len) with wire.c, fed in two pieces cut at `cut`, into out
 * (at most max frames); returns the frame count. Fails the case on a refused
 * frame. */
static size_t decode_split(const uint8_t *buf, size_t len, size_t cut, decoded *out, size_t max) {
  wire_decoder d;
  wire_decoder_init(&d);
  size_t piece[2] = {cut, len - cut}, off = 0, frames = 0;
  for (int p = 0; p < 2; p++) {
    size_t pos = 0;
    for (;;) {
      size_t used = 0;
      wire_event ev = wire_decoder_feed(&d, buf + off + pos, piece[p] - pos, &used);
      pos += used;
      ck_assert_msg(ev != WIRE_INVALID, "refused at cut %zu", cut);
      if (ev == WIRE_HEADER) {
        ck_assert(frames < max);
        ck_assert(d.header.headers_len <= sizeof out->th && d.header.body_len <= sizeof out->body);
        wire_decoder_set_dest(&d, out[frames].th, out[frames].body);
      } else if (ev == WIRE_FRAME) {
        out[frames++].h = d.header;
      } else {
        break; /* WIRE_NEED_MORE: every byte of the piece is used */
      }
    }
    off += piece[p];
  }
  return frames;
}

/* The frame says what g says. */
static void check_golden(const golden *g, const decoded *f, size_t cut) {
  const wire_header *h = &f->h;
  ck_assert_msg(h->channel == g->channel, "%s at cut %zu", g->what, cut);
  ck_assert_uint_eq(wire_opcode(h->proto), g->opcode);
  ck_assert_uint_eq(wire_origin(h->proto), TOFU_ORIGIN_APPLICATION);
  ck_assert_uint_eq(wire_more(h->proto), g->more);
  ck_assert_uint_eq(h->status, TOFU_STATUS_SUCCESS);
  ck_assert(h->message_id == g->id);
  ck_assert_uint_eq(h->headers_len, strlen(g->th));
  ck_assert_uint_eq(h->body_len, strlen(g->body));
  ck_assert(memcmp(f->th, g->th, h->headers_len) == 0);
  ck_assert(memcmp(f->body, g->body, h->body_len) == 0);
}

/* Every golden frame, whole and split at every byte; then all of them back
 * to back in one stream, split at every byte. */
void case_zig_golden_frames(void) {
  decoded f[NGOLDEN];
  for (size_t i = 0; i < NGOLDEN; i++)
    for (size_t cut = 0; cut <= goldens[i].len; cut++) {
      ck_assert_uint_eq(decode_split(goldens[i].bytes, goldens[i].len, cut, f, 1), 1);
      check_golden(&goldens[i], &f[0], cut);
    }
  size_t total = 0;
  for (size_t i = 0; i < NGOLDEN; i++)
    total += goldens[i].len;
  uint8_t *all = malloc(total);
  ck_assert_ptr_nonnull(all);
  size_t off = 0;
  for (size_t i = 0; i < NGOLDEN; i++) {
    memcpy(all + off, goldens[i].bytes, goldens[i].len);
    off += goldens[i].len;
  }
  for (size_t cut = 0; cut <= total; cut++) {
    ck_assert_uint_eq(decode_split(all, total, cut, f, NGOLDEN), NGOLDEN);
    for (size_t i = 0; i < NGOLDEN; i++)
      check_golden(&goldens[i], &f[i], cut);
  }
  free(all);
}

/* ---- A model of Zig's reader ----------------------------------------------- */

typedef struct zig_frame {
  rw_header h;
  uint8_t th[256];
  uint8_t body[256];
} zig_frame;

/* MsgReceiver.recv: 16 bytes, BinaryHeader.fromBytes (big-endian), then the
 * text headers and the body by the lengths it gives; ProtoFields.fromByte
 * refuses an opcode above 9. Keeps the raw bytes in *raw (n bytes). */
static void zig_read(tofu_socket s, zig_frame *f, uint8_t *raw, size_t *n) {
  rw_read_header(s, raw, &f->h);
  ck_assert_msg(f->h.opcode <= 9, "Zig refuses opcode %u", f->h.opcode);
  ck_assert(f->h.th_len <= sizeof f->th && f->h.body_len <= sizeof f->body);
  rw_read_exact(s, f->th, f->h.th_len);
  rw_read_exact(s, f->body, f->h.body_len);
  memcpy(raw + 16, f->th, f->h.th_len);
  memcpy(raw + 16 + f->h.th_len, f->body, f->h.body_len);
  *n = 16 + f->h.th_len + f->h.body_len;
}

/* TextHeaderIterator: lines split at CRLF (a last line may lack it), empty
 * lines skipped, the name up to the first ':', the value trimmed of spaces
 * and tabs; an empty name ends the iteration. Finds name's value. */
static int zig_header(const zig_frame *f, const char *name, char *value, size_t n) {
  size_t i = 0, len = f->h.th_len;
  const char *t = (const char *)f->th;
  while (i < len) {
    size_t end = i;
    while (end + 1 < len && !(t[end] == '\r' && t[end + 1] == '\n'))
      end++;
    if (end + 1 >= len)
      end = len; /* no CRLF at the end */
    if (end == i) {
      i += 2;
      continue;
    }
    size_t colon = i;
    while (colon < end && t[colon] != ':')
      colon++;
    if (colon == i)
      return 0;
    size_t v = colon < end ? colon + 1 : end, ve = end;
    while (v < ve && (t[v] == ' ' || t[v] == '\t'))
      v++;
    while (ve > v && (t[ve - 1] == ' ' || t[ve - 1] == '\t'))
      ve--;
    if (colon - i == strlen(name) && memcmp(t + i, name, colon - i) == 0) {
      size_t vl = ve - v < n - 1 ? ve - v : n - 1;
      memcpy(value, t + v, vl);
      value[vl] = '\0';
      return 1;
    }
    i = end + 2;
  }
  return 0;
}

/* What Zig would write for this message (MsgSender.prepare + toBytes), so
 * that this engine's frame can be compared byte for byte. */
static size_t zig_write(uint8_t *out, uint16_t ch, unsigned op, unsigned more, uint64_t id,
                        const char *th, const char *body) {
  return rw_encode(out, ch, op, more, id, th, (const uint8_t *)body, strlen(body));
}

/* Expect the engine's next frame on s to be byte for byte what Zig writes
 * for (opcode, more, id, th, body); returns the frame. */
static void expect_zig_bytes(tofu_socket s, zig_frame *f, unsigned op, unsigned more, uint64_t id,
                             const char *th, const char *body) {
  uint8_t raw[600], want[600];
  size_t n;
  zig_read(s, f, raw, &n);
  size_t wn = zig_write(want, f->h.channel, op, more, id, th, body);
  ck_assert_msg(n == wn && memcmp(raw, want, n) == 0,
                "frame %s id %llu differs from what Zig writes", tofu_opcode_name(op),
                (unsigned long long)id);
}

/* A raw listener on 127.0.0.1 and this engine's client connected to it:
 * the accepted socket (blocking) and the client's HelloRequest, read with the
 * Zig model and checked byte for byte. */
typedef struct zig_peer {
  tofu_engine *e;
  tofu_group *g;
  tofu_socket s;
  tofu_header hello;
  uint16_t ch; /* the client's channel */
} zig_peer;

static void zig_peer_open(zig_peer *p) {
  p->e = et_engine(0);
  p->g = et_group(p->e);
  char addr[64], th[96];
  p->s = rw_accept_client(p->e, p->g, addr, sizeof addr, &p->hello);
  p->ch = p->hello.channel;
  zig_frame f;
  snprintf(th, sizeof th, "~connect_to:%s\r\n", addr);
  expect_zig_bytes(p->s, &f, TOFU_OP_HELLO_REQUEST, 0, p->hello.message_id, th, "");
  ck_assert_uint_eq(f.h.channel, p->ch);
  char v[64];
  ck_assert(zig_header(&f, "~connect_to", v, sizeof v));
  ck_assert_str_eq(v, addr);
}

static void zig_peer_close(zig_peer *p) {
  net_close(p->s);
  tofu_group_destroy(p->g);
  et_assert_all_returned(p->e);
  tofu_engine_destroy(p->e);
}

/* The server side writes a frame as Zig does. */
static void zig_send(const zig_peer *p, unsigned op, uint64_t id, const char *th,
                     const char *body) {
  uint8_t b[600];
  rw_send_all(p->s, b, zig_write(b, 0x7f01, op, 0, id, th, body));
}

/* The client's channel_closed notice: a Signal with the HelloRequest's id
 * and cause channel_closed. */
static void expect_closed(zig_peer *p) {
  tofu_message *m = et_expect(p->g, TOFU_OP_SIGNAL, TOFU_ORIGIN_ENGINE, TOFU_STATUS_CHANNEL_CLOSED);
  ck_assert_uint_eq(tofu_msg_header(m)->channel, p->ch);
  ck_assert(tofu_msg_header(m)->message_id == p->hello.message_id);
  const char *v;
  size_t len;
  ck_assert(tofu_msg_find_header(m, TOFU_HDR_CAUSE, &v, &len));
  ck_assert(len == strlen("channel_closed") && memcmp(v, "channel_closed", len) == 0);
  tofu_put(p->e, &m);
}

/* A whole conversation with a Zig-style server. The client's frames are what
 * Zig writes, byte for byte; the server sends a Signal before its
 * HelloResponse (Zig checks nothing there), then answers, then the bye. */
void case_zig_server_flow(void) {
  zig_peer p;
  zig_peer_open(&p);
  zig_frame f;
  zig_send(&p, TOFU_OP_SIGNAL, 77, "", "early");
  tofu_message *m = et_expect(p.g, TOFU_OP_SIGNAL, TOFU_ORIGIN_APPLICATION, TOFU_STATUS_SUCCESS);
  ck_assert(tofu_msg_header(m)->message_id == 77);
  size_t len;
  ck_assert(memcmp(tofu_msg_body(m, &len), "early", 5) == 0 && len == 5);
  tofu_put(p.e, &m);
  zig_send(&p, TOFU_OP_HELLO_RESPONSE, p.hello.message_id, "", "");
  m = et_expect(p.g, TOFU_OP_HELLO_RESPONSE, TOFU_ORIGIN_APPLICATION, TOFU_STATUS_SUCCESS);
  tofu_put(p.e, &m);
  /* A Request with a header and a body, one with `more`. */
  m = tofu_get(p.e, TOFU_ALWAYS);
  tofu_msg_header(m)->channel = p.ch;
  ck_assert_int_eq(tofu_msg_add_header(m, "name", "value"), TOFU_OK);
  ck_assert_int_eq(tofu_msg_set_body(m, "hello", 5), TOFU_OK);
  tofu_header rq = et_post(p.g, &m);
  expect_zig_bytes(p.s, &f, TOFU_OP_REQUEST, 0, rq.message_id, "name:value\r\n", "hello");
  char v[32];
  ck_assert(zig_header(&f, "name", v, sizeof v));
  ck_assert_str_eq(v, "value");
  m = tofu_get(p.e, TOFU_ALWAYS);
  tofu_msg_header(m)->channel = p.ch;
  tofu_msg_header(m)->more = 1;
  ck_assert_int_eq(tofu_msg_set_body(m, "part", 4), TOFU_OK);
  tofu_header more = et_post(p.g, &m);
  expect_zig_bytes(p.s, &f, TOFU_OP_REQUEST, 1, more.message_id, "", "part");
  /* The server's Response, as Zig writes it. */
  zig_send(&p, TOFU_OP_RESPONSE, rq.message_id, "name:value\r\n", "hello");
  m = et_expect(p.g, TOFU_OP_RESPONSE, TOFU_ORIGIN_APPLICATION, TOFU_STATUS_SUCCESS);
  ck_assert(tofu_msg_header(m)->message_id == rq.message_id);
  const char *hv;
  ck_assert(tofu_msg_find_header(m, "name", &hv, &len) && len == 5 && memcmp(hv, "value", 5) == 0);
  tofu_put(p.e, &m);
  /* ByeRequest from the client, ByeResponse from the server. */
  m = et_msg(p.e, TOFU_OP_BYE_REQUEST, p.ch, 0, 0);
  tofu_header bye = et_post(p.g, &m);
  expect_zig_bytes(p.s, &f, TOFU_OP_BYE_REQUEST, 0, bye.message_id, "", "");
  zig_send(&p, TOFU_OP_BYE_RESPONSE, bye.message_id, "", "");
  m = et_expect(p.g, TOFU_OP_BYE_RESPONSE, TOFU_ORIGIN_APPLICATION, TOFU_STATUS_SUCCESS);
  tofu_put(p.e, &m);
  expect_closed(&p);
  uint8_t b;
  ck_assert_int_eq((int)net_recv(p.s, &b, 1), 0); /* the client closed */
  zig_peer_close(&p);
}

/* A Zig server refuses the connection the way its documentation shows: a
 * ByeSignal as its first frame. The client delivers it (origin application:
 * it came from the peer) and closes the channel with cause channel_closed,
 * not invalid_message. */
void case_zig_server_refuses(void) {
  zig_peer p;
  zig_peer_open(&p);
  zig_send(&p, TOFU_OP_BYE_SIGNAL, 5, "", "busy");
  tofu_message *m =
      et_expect(p.g, TOFU_OP_BYE_SIGNAL, TOFU_ORIGIN_APPLICATION, TOFU_STATUS_SUCCESS);
  ck_assert(tofu_msg_header(m)->message_id == 5);
  ck_assert_uint_eq(tofu_msg_header(m)->channel, p.ch);
  tofu_put(p.e, &m);
  expect_closed(&p);
  /* Posts to the channel now come back: nothing is lost. */
  m = et_msg(p.e, TOFU_OP_REQUEST, p.ch, 3, 1);
  et_post(p.g, &m);
  m = et_expect(p.g, TOFU_OP_REQUEST, TOFU_ORIGIN_ENGINE, TOFU_STATUS_INVALID_CHANNEL_NUMBER);
  tofu_put(p.e, &m);
  zig_peer_close(&p);
}

/* This engine's ByeSignal reaches a Zig peer as the frame Zig itself sends
 * for one (opcode 7), then the connection ends. */
void case_zig_client_aborts(void) {
  zig_peer p;
  zig_peer_open(&p);
  zig_send(&p, TOFU_OP_HELLO_RESPONSE, p.hello.message_id, "", "");
  tofu_message *m =
      et_expect(p.g, TOFU_OP_HELLO_RESPONSE, TOFU_ORIGIN_APPLICATION, TOFU_STATUS_SUCCESS);
  tofu_put(p.e, &m);
  m = et_msg(p.e, TOFU_OP_BYE_SIGNAL, p.ch, 0, 0);
  tofu_header bye = et_post(p.g, &m);
  zig_frame f;
  expect_zig_bytes(p.s, &f, TOFU_OP_BYE_SIGNAL, 0, bye.message_id, "", "");
  m = et_expect(p.g, TOFU_OP_SIGNAL, TOFU_ORIGIN_ENGINE, TOFU_STATUS_CHANNEL_CLOSED);
  ck_assert(tofu_msg_header(m)->message_id == p.hello.message_id);
  tofu_put(p.e, &m);
  uint8_t b;
  ck_assert_int_eq((int)net_recv(p.s, &b, 1), 0);
  zig_peer_close(&p);
}

/* A server application refuses a client with a ByeSignal in answer to its
 * HelloRequest, both sides this engine: the client learns it was refused
 * (the peer's ByeSignal), not merely that the peer went away. */
void case_refuse_with_bye_signal(void) {
  tofu_engine *e = et_engine(0);
  tofu_group *gs = et_group(e), *gc = et_group(e);
  char bound[256];
  et_listen(e, gs, "tcp|127.0.0.1|0", bound, sizeof bound);
  tofu_header hello = et_post_hello(e, gc, bound);
  tofu_message *m = et_expect(gs, TOFU_OP_HELLO_REQUEST, TOFU_ORIGIN_APPLICATION, 0);
  uint16_t sch = tofu_msg_header(m)->channel;
  tofu_msg_header(m)->opcode = TOFU_OP_BYE_SIGNAL;
  ck_assert_int_eq(tofu_msg_set_headers(m, NULL, 0), TOFU_OK);
  et_post(gs, &m);
  m = et_expect(gs, TOFU_OP_SIGNAL, TOFU_ORIGIN_ENGINE, TOFU_STATUS_CHANNEL_CLOSED);
  ck_assert_uint_eq(tofu_msg_header(m)->channel, sch);
  ck_assert(tofu_msg_header(m)->message_id == hello.message_id);
  tofu_put(e, &m);
  m = et_expect(gc, TOFU_OP_BYE_SIGNAL, TOFU_ORIGIN_APPLICATION, TOFU_STATUS_SUCCESS);
  ck_assert(tofu_msg_header(m)->message_id == hello.message_id);
  tofu_put(e, &m);
  m = et_expect(gc, TOFU_OP_SIGNAL, TOFU_ORIGIN_ENGINE, TOFU_STATUS_CHANNEL_CLOSED);
  ck_assert(tofu_msg_header(m)->message_id == hello.message_id);
  tofu_put(e, &m);
  tofu_group_destroy(gc);
  tofu_group_destroy(gs);
  et_assert_all_returned(e);
  tofu_engine_destroy(e);
}
