/* tofu — the engine suite: large messages (tofu_options.max_message).
 *
 * A body larger than one frame's travels as frames of one id, `more` on all
 * but the last, each with at most TOFU_MAX_BODY bytes of it; a receiving
 * engine with max_message set joins the parts into one contiguous body.
 * Engines talk to engines both ways over TCP and UDS with small messages
 * between the large ones on the same channel; a raw peer written from the
 * wire format (a Zig tofu peer's frames) reads the parts this engine writes
 * and has its own joined; a peer that breaks the rules (too large, two
 * messages begun at once) closes its channel with the status tofu.h names. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rawwire.h"
#include "suite.h"

#define ONE_MB 1000000u
#define FOUR_MIB (4u << 20)

/* A byte of body i of a pattern: a hash of the position, so that a part
 * out of place or missing cannot pass. */
static uint8_t pat(size_t i, unsigned seed) {
  uint32_t x = (uint32_t)i * 2654435761u + seed * 40503u;
  return (uint8_t)(x >> 24);
}

static uint8_t *pat_buf(size_t len, unsigned seed) {
  uint8_t *b = malloc(len ? len : 1);
  ck_assert_ptr_nonnull(b);
  for (size_t i = 0; i < len; i++)
    b[i] = pat(i, seed);
  return b;
}

static tofu_message *pat_msg(tofu_engine *e, int opcode, uint16_t ch, size_t len, unsigned seed) {
  tofu_message *m = tofu_get(e, TOFU_ALWAYS);
  ck_assert_ptr_nonnull(m);
  tofu_msg_header(m)->opcode = (uint8_t)opcode;
  tofu_msg_header(m)->channel = ch;
  uint8_t *b = pat_buf(len, seed);
  int rc = tofu_msg_set_body(m, b, len);
  free(b);
  ck_assert_msg(rc == TOFU_OK, "set_body %zu: %s", len, tofu_strerror(rc));
  return m;
}

/* The first byte of b[0..len) that is not the pattern's, or len (check's
 * assertions are too slow for one per byte of megabytes). */
static size_t pat_differs(const uint8_t *b, size_t len, unsigned seed) {
  size_t i = 0;
  while (i < len && b[i] == pat(i, seed))
    i++;
  return i;
}

static void pat_check(const tofu_message *m, size_t len, unsigned seed) {
  size_t got;
  const uint8_t *b = tofu_msg_body(m, &got);
  ck_assert_uint_eq(got, len);
  size_t at = pat_differs(b, len, seed);
  ck_assert_msg(at == len, "byte %zu of %zu differs", at, len);
}

static tofu_engine *large_engine(size_t max_message, size_t max_memory) {
  tofu_options o;
  tofu_options_default(&o);
  o.max_message = max_message;
  if (max_memory)
    o.max_memory = max_memory;
  tofu_engine *e = NULL;
  ck_assert_int_eq(tofu_engine_create(&o, &e), TOFU_OK);
  return e;
}

static size_t requests_open(tofu_engine *e) {
  tofu_engine_stats st = {.size = sizeof st};
  ck_assert_int_eq(tofu_engine_get_stats(e, &st), TOFU_OK);
  return st.requests_open;
}

/* Wait until e counts n open requests: the Reactor keeps a request just
 * after its write returns, so a peer may read it a moment before. g's queue
 * must stay empty meanwhile. */
static void wait_requests_open(tofu_engine *e, tofu_group *g, size_t n) {
  uint64_t until = mono_now_ms() + ET_DEADLINE_MS;
  while (requests_open(e) != n) {
    ck_assert_msg(mono_now_ms() < until, "%zu requests open, not %zu", requests_open(e), n);
    ck_assert_ptr_null(tofu_wait_receive(g, 5));
  }
}

/* ---- engine to engine ---------------------------------------------------- */

/* The client posts, all at once, small Signals between Requests of 1,000,000
 * bytes and 4 MiB (with text headers); the server receives them in the
 * order posted, each large body whole, and answers each Request with a
 * Response of the same size (and a small Signal before it), which the client
 * receives in order too: each large Request stays one request until its
 * Response's last part. */
static void both_ways(const char *listen_addr) {
  static const size_t sizes[] = {ONE_MB, FOUR_MIB, ONE_MB + 1};
  enum { N = sizeof sizes / sizeof sizes[0] };
  tofu_engine *ec = large_engine(FOUR_MIB + 1, 0), *es = large_engine(FOUR_MIB + 1, 0);
  tofu_group *gc = et_group(ec), *gs = et_group(es);
  char bound[256];
  et_listen(es, gs, listen_addr, bound, sizeof bound);
  uint16_t cch, sch;
  et_connect(ec, gc, gs, es, bound, &cch, &sch);
  uint64_t ids[N];
  for (int i = 0; i < N; i++) {
    tofu_message *m = et_msg(ec, TOFU_OP_SIGNAL, cch, 1024, (unsigned)i);
    et_post(gc, &m);
    m = pat_msg(ec, TOFU_OP_REQUEST, cch, sizes[i], (unsigned)i);
    ck_assert_int_eq(tofu_msg_add_header(m, "n", i == 0 ? "0" : "1"), TOFU_OK);
    ids[i] = et_post(gc, &m).message_id;
  }
  tofu_message *m = et_msg(ec, TOFU_OP_SIGNAL, cch, 1024, 99);
  et_post(gc, &m);
  for (int i = 0; i < N; i++) {
    m = et_expect(gs, TOFU_OP_SIGNAL, TOFU_ORIGIN_APPLICATION, TOFU_STATUS_SUCCESS);
    ck_assert(et_body_ok(m, 1024, (unsigned)i));
    tofu_put(es, &m);
    m = et_expect(gs, TOFU_OP_REQUEST, TOFU_ORIGIN_APPLICATION, TOFU_STATUS_SUCCESS);
    ck_assert(tofu_msg_header(m)->message_id == ids[i]);
    ck_assert_uint_eq(tofu_msg_header(m)->more, 0);
    ck_assert_uint_eq(tofu_msg_header(m)->channel, sch);
    pat_check(m, sizes[i], (unsigned)i);
    const char *v;
    size_t len;
    ck_assert(tofu_msg_find_header(m, "n", &v, &len) && len == 1);
    ck_assert_int_eq(v[0], i == 0 ? '0' : '1');
    tofu_message *s = et_msg(es, TOFU_OP_SIGNAL, sch, 100, (unsigned)(50 + i));
    et_post(gs, &s);
    /* The answer: the same size, another pattern. */
    uint8_t *b = pat_buf(sizes[i], 100u + (unsigned)i);
    ck_assert_int_eq(tofu_msg_set_body(m, b, sizes[i]), TOFU_OK);
    free(b);
    tofu_msg_header(m)->opcode = TOFU_OP_RESPONSE;
    et_post(gs, &m);
  }
  m = et_expect(gs, TOFU_OP_SIGNAL, TOFU_ORIGIN_APPLICATION, TOFU_STATUS_SUCCESS);
  ck_assert(et_body_ok(m, 1024, 99));
  tofu_put(es, &m);
  for (int i = 0; i < N; i++) {
    m = et_expect(gc, TOFU_OP_SIGNAL, TOFU_ORIGIN_APPLICATION, TOFU_STATUS_SUCCESS);
    ck_assert(et_body_ok(m, 100, (unsigned)(50 + i)));
    tofu_put(ec, &m);
    m = et_expect(gc, TOFU_OP_RESPONSE, TOFU_ORIGIN_APPLICATION, TOFU_STATUS_SUCCESS);
    ck_assert(tofu_msg_header(m)->message_id == ids[i]);
    pat_check(m, sizes[i], 100u + (unsigned)i);
    tofu_put(ec, &m);
  }
  ck_assert_uint_eq(requests_open(ec), 0);
  tofu_group_destroy(gc);
  tofu_group_destroy(gs);
  et_assert_all_returned(ec);
  et_assert_all_returned(es);
  tofu_engine_destroy(ec);
  tofu_engine_destroy(es);
}

void case_large_both_ways_tcp(void) {
  both_ways("tcp|127.0.0.1|0");
}

void case_large_both_ways_uds(void) {
  pair_listener hold;
  char addr[NET_UDS_PATH_MAX + 8];
  et_uds_path(&hold, addr, sizeof addr);
  both_ways(addr);
  et_uds_done(&hold);
}

/* What the application may set and post. */
void case_large_limits(void) {
  tofu_options o;
  tofu_options_default(&o);
  ck_assert_uint_eq(o.max_message, TOFU_MAX_BODY);
  o.max_message = TOFU_MAX_MESSAGE_LIMIT + 1;
  tofu_engine *e = NULL;
  ck_assert_int_eq(tofu_engine_create(&o, &e), TOFU_EINVAL);
  ck_assert_ptr_null(e);
  /* The default: one frame, as before. */
  e = et_engine(0);
  tofu_group *g = et_group(e);
  uint8_t *big = pat_buf(200000, 1);
  tofu_message *m = tofu_get(e, TOFU_ALWAYS);
  ck_assert_int_eq(tofu_msg_set_body(m, big, TOFU_MAX_BODY + 1), TOFU_ELIMIT);
  ck_assert_int_eq(tofu_msg_set_body(m, big, TOFU_MAX_BODY), TOFU_OK);
  ck_assert_int_eq(tofu_msg_append_body(m, big, 1), TOFU_ELIMIT);
  tofu_put(e, &m);
  ck_assert_int_eq(tofu_send(g, 5, TOFU_OP_REQUEST, big, TOFU_MAX_BODY + 1, NULL), TOFU_ELIMIT);
  tofu_group_destroy(g);
  et_assert_all_returned(e);
  tofu_engine_destroy(e);
  /* max_message 150,000: bodies up to it on Request, Response, Signal. */
  e = large_engine(150000, 0);
  g = et_group(e);
  m = tofu_get(e, TOFU_ALWAYS);
  ck_assert_int_eq(tofu_msg_set_body(m, big, 150001), TOFU_ELIMIT);
  ck_assert_int_eq(tofu_msg_set_body(m, big, 150000), TOFU_OK);
  ck_assert_int_eq(tofu_msg_append_body(m, big, 1), TOFU_ELIMIT);
  static const int refused[] = {TOFU_OP_HELLO_REQUEST, TOFU_OP_HELLO_RESPONSE, TOFU_OP_BYE_REQUEST,
                                TOFU_OP_BYE_RESPONSE, TOFU_OP_BYE_SIGNAL};
  for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
    tofu_msg_header(m)->opcode = (uint8_t)refused[i];
    tofu_msg_header(m)->channel = 5;
    tofu_msg_header(m)->message_id = 7;
    if (refused[i] == TOFU_OP_HELLO_REQUEST) {
      tofu_msg_header(m)->channel = 0;
      ck_assert_int_eq(tofu_msg_add_header(m, TOFU_HDR_CONNECT_TO, "tcp|127.0.0.1|9"), TOFU_OK);
    }
    ck_assert_int_eq(tofu_post(g, &m, NULL), TOFU_EMESSAGE);
    ck_assert_uint_eq(tofu_msg_header(m)->status, TOFU_STATUS_INVALID_BODY_LEN);
    ck_assert_int_eq(tofu_msg_set_headers(m, NULL, 0), TOFU_OK);
  }
  tofu_put(e, &m);
  ck_assert_int_eq(tofu_send(g, 5, TOFU_OP_REQUEST, big, 150001, NULL), TOFU_ELIMIT);
  /* Accepted (channel 5 does not exist: it comes back, whole). */
  uint64_t id = 0;
  ck_assert_int_eq(tofu_send(g, 5, TOFU_OP_SIGNAL, big, 150000, &id), TOFU_OK);
  m = et_expect(g, TOFU_OP_SIGNAL, TOFU_ORIGIN_ENGINE, TOFU_STATUS_INVALID_CHANNEL_NUMBER);
  ck_assert(tofu_msg_header(m)->message_id == id);
  pat_check(m, 150000, 1);
  tofu_put(e, &m);
  free(big);
  tofu_group_destroy(g);
  et_assert_all_returned(e);
  tofu_engine_destroy(e);
}

/* ---- a raw peer ------------------------------------------------------------ */

/* A peer written from the wire format: a TCP listener whose accepted socket
 * reads and writes frames as a Zig tofu node does, and this engine's client
 * connected to it (hello answered). */
typedef struct raw_peer {
  tofu_engine *e;
  tofu_group *g;
  tofu_socket s;
  uint16_t ch;
} raw_peer;

typedef struct raw_frame {
  rw_header h;
  uint8_t *th, *body; /* malloc'd, h.th_len / h.body_len bytes */
} raw_frame;

static void raw_read(tofu_socket s, raw_frame *f) {
  uint8_t b[16];
  rw_read_header(s, b, &f->h);
  f->th = malloc(f->h.th_len + 1);
  f->body = malloc(f->h.body_len + 1);
  ck_assert(f->th && f->body);
  rw_read_exact(s, f->th, f->h.th_len);
  rw_read_exact(s, f->body, f->h.body_len);
}

static void raw_free(raw_frame *f) {
  free(f->th);
  free(f->body);
}

/* One frame, as a Zig node writes it. */
static void raw_send(tofu_socket s, unsigned op, unsigned more, uint64_t id, const char *th,
                     const uint8_t *body, size_t bl) {
  uint8_t *b = malloc(16 + strlen(th) + bl);
  ck_assert_ptr_nonnull(b);
  rw_send_all(s, b, rw_encode(b, 0x7f01, op, more, id, th, body, bl));
  free(b);
}

static void raw_open_opts(raw_peer *p, const tofu_options *o) {
  ck_assert_int_eq(tofu_engine_create(o, &p->e), TOFU_OK);
  p->g = et_group(p->e);
  char addr[64];
  tofu_header hello;
  p->s = rw_accept_client(p->e, p->g, addr, sizeof addr, &hello);
  p->ch = hello.channel;
  raw_frame f;
  raw_read(p->s, &f);
  ck_assert_uint_eq(f.h.opcode, TOFU_OP_HELLO_REQUEST);
  raw_free(&f);
  raw_send(p->s, TOFU_OP_HELLO_RESPONSE, 0, hello.message_id, "", NULL, 0);
  tofu_message *m =
      et_expect(p->g, TOFU_OP_HELLO_RESPONSE, TOFU_ORIGIN_APPLICATION, TOFU_STATUS_SUCCESS);
  tofu_put(p->e, &m);
}

static void raw_open(raw_peer *p, size_t max_message) {
  tofu_options o;
  tofu_options_default(&o);
  o.max_message = max_message;
  raw_open_opts(p, &o);
}

static void raw_close(raw_peer *p) {
  net_close(p->s);
  tofu_group_destroy(p->g);
  et_assert_all_returned(p->e);
  tofu_engine_destroy(p->e);
}

/* The channel_closed notice, with this cause. */
static void expect_cause(raw_peer *p, int cause) {
  tofu_message *m = et_expect(p->g, TOFU_OP_SIGNAL, TOFU_ORIGIN_ENGINE, TOFU_STATUS_CHANNEL_CLOSED);
  const char *v;
  size_t len;
  ck_assert(tofu_msg_find_header(m, TOFU_HDR_CAUSE, &v, &len));
  const char *want = tofu_status_name(cause);
  ck_assert_msg(len == strlen(want) && memcmp(v, want, len) == 0, "cause %.*s, expected %s",
                (int)len, v, want);
  tofu_put(p->e, &m);
}

/* Read the parts of one message this engine wrote: frames of one id and
 * opcode, each body at most TOFU_MAX_BODY (all but the last exactly that),
 * `more` on all but the last, text headers in the first only. Returns the
 * body joined (malloc'd) and its parts' count. */
static uint8_t *raw_read_parts(tofu_socket s, unsigned op, uint64_t id, size_t len, const char *th,
                               size_t *parts) {
  uint8_t *all = malloc(len);
  ck_assert_ptr_nonnull(all);
  size_t got = 0;
  *parts = 0;
  for (;;) {
    raw_frame f;
    raw_read(s, &f);
    ck_assert_uint_eq(f.h.opcode, op);
    ck_assert(f.h.id == id);
    ck_assert_uint_le(f.h.body_len, TOFU_MAX_BODY);
    if (*parts == 0)
      ck_assert(f.h.th_len == strlen(th) && memcmp(f.th, th, f.h.th_len) == 0);
    else
      ck_assert_uint_eq(f.h.th_len, 0);
    ck_assert_uint_le(got + f.h.body_len, len);
    memcpy(all + got, f.body, f.h.body_len);
    got += f.h.body_len;
    (*parts)++;
    int last = !f.h.more;
    if (!last)
      ck_assert_uint_eq(f.h.body_len, TOFU_MAX_BODY);
    raw_free(&f);
    if (last)
      break;
  }
  ck_assert_uint_eq(got, len);
  return all;
}

/* The engine writes a Request of 1,000,000 bytes as 16 parts (15 of
 * 65,535 bytes and one of 16,975), then the small Signal posted after it;
 * the raw peer answers with a Response in three parts, each with a text
 * header, and a whole Signal of another id between its first two parts:
 * the engine delivers the Signal as it comes and the Response joined, its
 * body contiguous and its text headers those of every part, and the request
 * ends with it. */
void case_large_raw_peer(void) {
  raw_peer p;
  raw_open(&p, FOUR_MIB);
  tofu_message *m = pat_msg(p.e, TOFU_OP_REQUEST, p.ch, ONE_MB, 3);
  ck_assert_int_eq(tofu_msg_add_header(m, "name", "value"), TOFU_OK);
  uint64_t id = et_post(p.g, &m).message_id;
  m = et_msg(p.e, TOFU_OP_SIGNAL, p.ch, 10, 4);
  uint64_t sig = et_post(p.g, &m).message_id;
  size_t parts;
  uint8_t *all = raw_read_parts(p.s, TOFU_OP_REQUEST, id, ONE_MB, "name:value\r\n", &parts);
  ck_assert_uint_eq(parts, 16);
  ck_assert_uint_eq(pat_differs(all, ONE_MB, 3), ONE_MB);
  free(all);
  raw_frame f;
  raw_read(p.s, &f);
  ck_assert(f.h.opcode == TOFU_OP_SIGNAL && f.h.id == sig && !f.h.more && f.h.body_len == 10);
  raw_free(&f);
  wait_requests_open(p.e, p.g, 1);

  uint8_t *b = pat_buf(2 * 65535 + 1000, 5);
  raw_send(p.s, TOFU_OP_RESPONSE, 1, id, "a:1\r\n", b, 65535);
  raw_send(p.s, TOFU_OP_SIGNAL, 0, 777, "", (const uint8_t *)"between", 7);
  raw_send(p.s, TOFU_OP_RESPONSE, 1, id, "", b + 65535, 65535);
  raw_send(p.s, TOFU_OP_RESPONSE, 0, id, "b:2\r\n", b + 2 * 65535, 1000);
  free(b);
  m = et_expect(p.g, TOFU_OP_SIGNAL, TOFU_ORIGIN_APPLICATION, TOFU_STATUS_SUCCESS);
  ck_assert(tofu_msg_header(m)->message_id == 777);
  tofu_put(p.e, &m);
  m = tofu_wait_reply(p.g, id, ET_DEADLINE_MS);
  ck_assert_ptr_nonnull(m);
  ck_assert_uint_eq(tofu_msg_header(m)->opcode, TOFU_OP_RESPONSE);
  ck_assert_uint_eq(tofu_msg_header(m)->origin, TOFU_ORIGIN_APPLICATION);
  ck_assert_uint_eq(tofu_msg_header(m)->more, 0);
  pat_check(m, 2 * 65535 + 1000, 5);
  size_t hl;
  const char *th = tofu_msg_headers(m, &hl);
  ck_assert(hl == 10 && memcmp(th, "a:1\r\nb:2\r\n", 10) == 0);
  tofu_put(p.e, &m);
  ck_assert_uint_eq(requests_open(p.e), 0);
  ck_assert_ptr_null(tofu_wait_receive(p.g, 0));
  raw_close(&p);
}

/* With the default max_message, a peer's parts are delivered as they come
 * (as a Zig node delivers them), and the request they answer ends with the
 * last. */
void case_large_parts_default(void) {
  raw_peer p;
  raw_open(&p, 0);
  tofu_message *m = et_msg(p.e, TOFU_OP_REQUEST, p.ch, 10, 1);
  uint64_t id = et_post(p.g, &m).message_id;
  raw_frame f;
  raw_read(p.s, &f);
  ck_assert(f.h.id == id && !f.h.more);
  raw_free(&f);
  uint8_t *b = pat_buf(65535, 6);
  raw_send(p.s, TOFU_OP_RESPONSE, 1, id, "", b, 65535);
  m = et_expect(p.g, TOFU_OP_RESPONSE, TOFU_ORIGIN_APPLICATION, TOFU_STATUS_SUCCESS);
  ck_assert_uint_eq(tofu_msg_header(m)->more, 1);
  pat_check(m, 65535, 6);
  tofu_put(p.e, &m);
  ck_assert_uint_eq(requests_open(p.e), 1);
  raw_send(p.s, TOFU_OP_RESPONSE, 0, id, "", b, 100);
  m = et_expect(p.g, TOFU_OP_RESPONSE, TOFU_ORIGIN_APPLICATION, TOFU_STATUS_SUCCESS);
  ck_assert_uint_eq(tofu_msg_header(m)->more, 0);
  pat_check(m, 100, 6);
  tofu_put(p.e, &m);
  ck_assert_uint_eq(requests_open(p.e), 0);
  free(b);
  raw_close(&p);
}

static tofu_engine_stats stats_of(tofu_engine *e) {
  tofu_engine_stats st = {.size = sizeof st};
  ck_assert_int_eq(tofu_engine_get_stats(e, &st), TOFU_OK);
  return st;
}

/* A peer whose message grows past max_message: its channel closes with
 * cause invalid_body_len when the part that passes it is headed (before its
 * payload is read), frames_refused counts it, the memory comes back. */
void case_large_over_limit(void) {
  raw_peer p;
  raw_open(&p, 100000);
  size_t used0 = stats_of(p.e).memory_used;
  uint8_t *b = pat_buf(65535, 7);
  raw_send(p.s, TOFU_OP_SIGNAL, 1, 42, "", b, 65535);
  raw_send(p.s, TOFU_OP_SIGNAL, 1, 42, "", b, 34465); /* 100,000: still inside */
  /* The parts joined so far are charged to the pool. */
  uint64_t until = mono_now_ms() + ET_DEADLINE_MS;
  while (stats_of(p.e).memory_used < used0 + 100000) {
    ck_assert_msg(mono_now_ms() < until, "the parts hold %zu bytes of the pool",
                  stats_of(p.e).memory_used - used0);
    ck_assert_ptr_null(tofu_wait_receive(p.g, 5));
  }
  raw_send(p.s, TOFU_OP_SIGNAL, 0, 42, "", b, 1); /* one byte past */
  free(b);
  expect_cause(&p, TOFU_STATUS_INVALID_BODY_LEN);
  ck_assert_uint_eq(stats_of(p.e).frames_refused, 1);
  ck_assert_ptr_null(tofu_wait_receive(p.g, 0));
  raw_close(&p);
}

/* A message being joined holds memory while it waits for more: its
 * deadline runs on while its channel is paused, even when it pauses in the
 * very readiness report its first part came in. The application holds all
 * the pool but one message of 65,535 bytes; the peer sends two parts at
 * once: the first fits, the second does not; the channel closes with
 * recv_failed at the deadline and the memory comes back. */
void case_large_paused_deadline(void) {
  enum { HELD_MAX = 64 };
  raw_peer p;
  tofu_options o;
  tofu_options_default(&o);
  o.max_message = FOUR_MIB;
  o.max_memory = 1u << 20;
  o.frame_timeout_ms = 300;
  raw_open_opts(&p, &o);
  static uint8_t body[65535];
  tofu_message *held[HELD_MAX];
  int n = 0;
  while (n < HELD_MAX && (held[n] = tofu_get(p.e, TOFU_ALWAYS)) != NULL) {
    if (tofu_msg_set_body(held[n], body, sizeof body) != TOFU_OK) {
      tofu_put(p.e, &held[n]);
      break;
    }
    n++;
  }
  ck_assert_int_lt(n, HELD_MAX);
  tofu_put(p.e, &held[--n]); /* room for one part */
  uint8_t *b = pat_buf(65535, 9);
  raw_send(p.s, TOFU_OP_SIGNAL, 1, 42, "", b, 65535);
  raw_send(p.s, TOFU_OP_SIGNAL, 1, 42, "", b, 65535);
  free(b);
  uint64_t t0 = mono_now_ms();
  tofu_message *m = et_expect(p.g, TOFU_OP_SIGNAL, TOFU_ORIGIN_ENGINE, TOFU_STATUS_POOL_EMPTY);
  tofu_put(p.e, &m);
  expect_cause(&p, TOFU_STATUS_RECV_FAILED);
  uint64_t took = mono_now_ms() - t0;
  ck_assert_msg(took + 50 >= 300, "closed %llu ms after the parts, before the deadline",
                (unsigned long long)took);
  ck_assert_uint_eq(stats_of(p.e).frame_timeouts, 1);
  for (int i = 0; i < n; i++)
    tofu_put(p.e, &held[i]);
  raw_close(&p);
}

/* A peer that begins a second message with `more` before the first has
 * ended: the channel closes with invalid_more_usage; nothing of either is
 * delivered. */
void case_large_second_begun(void) {
  raw_peer p;
  raw_open(&p, FOUR_MIB);
  raw_send(p.s, TOFU_OP_SIGNAL, 1, 42, "", (const uint8_t *)"one", 3);
  raw_send(p.s, TOFU_OP_SIGNAL, 1, 43, "", (const uint8_t *)"two", 3);
  expect_cause(&p, TOFU_STATUS_INVALID_MORE_USAGE);
  ck_assert_ptr_null(tofu_wait_receive(p.g, 0));
  raw_close(&p);
}

/* A large Request half written when its deadline passes comes back with
 * status timeout; the parts still to write go out as they are, so that the
 * peer reads every part, intact, and the stream stays framed: a Signal
 * posted after it arrives whole. */
void case_large_deadline_mid_write(void) {
  raw_peer p;
  raw_open(&p, FOUR_MIB);
  tofu_message *m = pat_msg(p.e, TOFU_OP_REQUEST, p.ch, FOUR_MIB, 8);
  ck_assert_int_eq(tofu_msg_set_timeout(m, 100), TOFU_OK);
  uint64_t id = et_post(p.g, &m).message_id;
  m = et_expect(p.g, TOFU_OP_REQUEST, TOFU_ORIGIN_ENGINE, TOFU_STATUS_TIMEOUT);
  ck_assert(tofu_msg_header(m)->message_id == id);
  pat_check(m, FOUR_MIB, 8);
  tofu_put(p.e, &m);
  m = et_msg(p.e, TOFU_OP_SIGNAL, p.ch, 10, 9);
  uint64_t sig = et_post(p.g, &m).message_id;
  size_t parts;
  uint8_t *all = raw_read_parts(p.s, TOFU_OP_REQUEST, id, FOUR_MIB, "", &parts);
  ck_assert_uint_eq(parts, (FOUR_MIB + 65534) / 65535);
  ck_assert_uint_eq(pat_differs(all, FOUR_MIB, 8), FOUR_MIB);
  free(all);
  raw_frame f;
  raw_read(p.s, &f);
  ck_assert(f.h.opcode == TOFU_OP_SIGNAL && f.h.id == sig && f.h.body_len == 10);
  raw_free(&f);
  raw_close(&p);
}

/* The default max_message: a Request frame of 131,070 bytes (65,535 of
 * text headers and of body) half written at its deadline is cut, and the
 * rest of its bytes (more than one body's worth, often) goes out on its
 * own: every request comes back with status timeout, the channel stays
 * open, and the peer reads whole frames, then a Signal posted after. (The
 * rest of a cut frame used to be limited to 65,535 bytes: a larger one
 * closed the channel with allocation_failed.) */
void case_large_cut_default(void) {
  enum { N = 40 };
  raw_peer p;
  raw_open(&p, 0);
  static char th[65536];
  memset(th, 'h', 65533);
  memcpy(th, "a:", 2);
  th[65533] = '\r';
  th[65534] = '\n';
  for (int i = 0; i < N; i++) {
    tofu_message *m = pat_msg(p.e, TOFU_OP_REQUEST, p.ch, 65535, 10);
    ck_assert_int_eq(tofu_msg_set_headers(m, th, 65535), TOFU_OK);
    ck_assert_int_eq(tofu_msg_set_timeout(m, 100), TOFU_OK);
    et_post(p.g, &m);
  }
  for (int i = 0; i < N; i++) {
    tofu_message *m = et_expect(p.g, TOFU_OP_REQUEST, TOFU_ORIGIN_ENGINE, TOFU_STATUS_TIMEOUT);
    pat_check(m, 65535, 10);
    tofu_put(p.e, &m);
  }
  tofu_message *m = et_msg(p.e, TOFU_OP_SIGNAL, p.ch, 10, 11);
  uint64_t sig = et_post(p.g, &m).message_id;
  int frames = 0;
  for (;;) {
    raw_frame f;
    raw_read(p.s, &f);
    int last = f.h.opcode == TOFU_OP_SIGNAL;
    if (last)
      ck_assert(f.h.id == sig && f.h.body_len == 10);
    else
      ck_assert(f.h.opcode == TOFU_OP_REQUEST && f.h.th_len == 65535 &&
                pat_differs(f.body, f.h.body_len, 10) == 65535);
    raw_free(&f);
    if (last)
      break;
    frames++;
  }
  ck_assert_int_gt(frames, 0);
  ck_assert_int_lt(frames, N);
  ck_assert_ptr_null(tofu_wait_receive(p.g, 0));
  raw_close(&p);
}
