/* tofu — the engine conformance suite: every request ends, answered or
 * handed back with its id and a status, even when it was already written
 * (docs/engine.md, "A request's life").
 *
 * The peer of most cases is a plain socket written from the wire format
 * (raw_serve): it answers the HelloRequest and a given number of Requests,
 * reads everything else without answering, and can end the connection with
 * a reset. On POSIX it also runs in a forked process that the case kills or
 * freezes with a signal. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "suite.h"
#include "wire.h"

#ifndef _WIN32
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#endif

/* ---- A raw peer ---------------------------------------------------------- */

typedef struct raw_opts {
  int answer;      /* Requests answered (echoed as Responses), in order; -1: every one */
  int reset_after; /* after reading this many Requests, reset the connection (0: never) */
  /* With hold set, the peer answers nothing until raw_release (a thread peer). */
  plat_mutex mu;
  plat_cond cv;
  int hold;
} raw_opts;

static int send_all(tofu_socket s, const uint8_t *p, size_t n) {
  while (n > 0) {
    ptrdiff_t w = net_send(s, p, n);
    if (w <= 0)
      return -1;
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

static int send_frame(tofu_socket s, unsigned op, uint64_t id, const uint8_t *body, size_t len) {
  uint8_t hdr[WIRE_HEADER_SIZE];
  wire_header h = {1, wire_proto(op, TOFU_ORIGIN_APPLICATION, 0), 0, id, 0, (uint16_t)len};
  wire_encode_header(&h, hdr);
  return send_all(s, hdr, sizeof hdr) || (len && send_all(s, body, len)) ? -1 : 0;
}

static void wait_release(raw_opts *o) {
  plat_mutex_lock(&o->mu);
  while (o->hold)
    plat_cond_wait(&o->cv, &o->mu);
  plat_mutex_unlock(&o->mu);
}

static void raw_release(raw_opts *o) {
  plat_mutex_lock(&o->mu);
  o->hold = 0;
  plat_cond_broadcast(&o->cv);
  plat_mutex_unlock(&o->mu);
}

/* Serve one blocking connection until it ends (or reset_after). Uses no
 * check assertion: it also runs in a forked child. */
static void raw_serve(tofu_socket s, raw_opts *o) {
  static uint8_t buf[65536], th[65536], body[65536];
  wire_decoder d;
  wire_decoder_init(&d);
  int requests = 0, answered = 0;
  for (;;) {
    ptrdiff_t r = net_recv(s, buf, sizeof buf);
    if (r <= 0)
      return;
    size_t pos = 0;
    while (pos < (size_t)r || wire_decoder_wants_dest(&d)) {
      size_t used = 0;
      wire_event ev = wire_decoder_feed(&d, buf + pos, (size_t)r - pos, &used);
      pos += used;
      if (ev == WIRE_NEED_MORE)
        break;
      if (ev == WIRE_INVALID)
        return;
      if (ev == WIRE_HEADER) {
        wire_decoder_set_dest(&d, th, body);
        continue;
      }
      unsigned op = wire_opcode(d.header.proto);
      uint64_t id = d.header.message_id;
      if (op == TOFU_OP_HELLO_REQUEST && send_frame(s, TOFU_OP_HELLO_RESPONSE, id, NULL, 0))
        return;
      if (op != TOFU_OP_REQUEST)
        continue;
      requests++;
      if (o->answer < 0 || answered < o->answer) {
        wait_release(o);
        if (send_frame(s, TOFU_OP_RESPONSE, id, body, d.header.body_len))
          return;
        answered++;
      }
      if (o->reset_after > 0 && requests == o->reset_after) {
        net_set_linger_abort(s);
        return;
      }
    }
  }
}

static void raw_opts_init(raw_opts *o, int answer, int reset_after, int hold) {
  memset(o, 0, sizeof *o);
  o->answer = answer;
  o->reset_after = reset_after;
  o->hold = hold;
  ck_assert_int_eq(plat_mutex_init(&o->mu), TOFU_OK);
  ck_assert_int_eq(plat_cond_init(&o->cv), TOFU_OK);
}

static void raw_opts_fini(raw_opts *o) {
  plat_cond_fini(&o->cv);
  plat_mutex_fini(&o->mu);
}

/* A thread peer: accepts one connection on the listener and serves it. */
typedef struct raw_thread {
  pair_listener *l;
  raw_opts *o;
  plat_thread t;
} raw_thread;

static void raw_thread_main(void *arg) {
  raw_thread *rt = arg;
  tofu_socket s;
  if (net_accept(rt->l->sock, &s) != NET_OK)
    return;
  net_set_blocking(s);
  raw_serve(s, rt->o);
  net_close(s);
}

#ifndef _WIN32
/* A peer in a forked process: it serves one connection on l, then (stay)
 * waits to be killed, or exits. Returns its pid. */
static pid_t fork_peer(pair_listener *l, raw_opts *o, int stay) {
  pid_t pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid > 0)
    return pid;
  tofu_socket s;
  if (net_accept(l->sock, &s) == NET_OK) {
    net_set_blocking(s);
    raw_serve(s, o);
  }
  while (stay)
    pause();
  _exit(0);
}
#endif

static void peer_address(const pair_listener *l, char *addr, size_t n) {
  if (l->transport == PAIR_TCP)
    snprintf(addr, n, "tcp|127.0.0.1|%u", (unsigned)l->port);
  else
    snprintf(addr, n, "uds|%s", l->path);
}

/* Connect g to the peer behind l; the peer answers the hello. */
static tofu_header connect_peer(tofu_engine *e, tofu_group *g, const pair_listener *l) {
  char addr[NET_UDS_PATH_MAX + 16];
  peer_address(l, addr, sizeof addr);
  tofu_header hello = et_post_hello(e, g, addr);
  tofu_message *m = et_expect(g, TOFU_OP_HELLO_RESPONSE, TOFU_ORIGIN_APPLICATION, 0);
  ck_assert(tofu_msg_header(m)->message_id == hello.message_id);
  tofu_put(e, &m);
  return hello;
}

/* The end of a case with a raw peer: every message back in the pool, then
 * the engine, the peer's options and its listener go. */
static void peer_case_end(tofu_engine *e, raw_opts *o, pair_listener *l) {
  et_assert_all_returned(e);
  tofu_engine_destroy(e);
  raw_opts_fini(o);
  pair_unlisten(l);
}

static tofu_engine_stats stats_of(tofu_engine *e) {
  tofu_engine_stats st = {.size = sizeof st};
  ck_assert_int_eq(tofu_engine_get_stats(e, &st), TOFU_OK);
  return st;
}

#ifndef _WIN32
/* Wait (on g's queue, which must stay empty) until e has n open requests. */
static void wait_open(tofu_engine *e, tofu_group *g, size_t n) {
  uint64_t until = mono_now_ms() + ET_DEADLINE_MS;
  for (;;) {
    tofu_engine_stats st = stats_of(e);
    if (st.requests_open == n)
      return;
    ck_assert_msg(mono_now_ms() < until, "%zu requests open, not %zu", st.requests_open, n);
    ck_assert_ptr_null(tofu_wait_receive(g, 5));
  }
}
#endif

/* ---- Every request accounted for ----------------------------------------- */

typedef struct ledger {
  int n;
  size_t body;    /* each request's body length */
  uint64_t *ids;  /* posted, in order */
  uint8_t *ended; /* per request: 1 answered, 2 handed back */
  int answered, back;
  int closed; /* the channel_closed notice came */
  uint64_t last_ms;
} ledger;

static void post_requests(tofu_engine *e, tofu_group *g, uint16_t ch, ledger *lg, int n,
                          size_t body) {
  lg->n = n;
  lg->body = body;
  lg->ids = calloc((size_t)n, sizeof *lg->ids);
  lg->ended = calloc((size_t)n, 1);
  ck_assert(lg->ids && lg->ended);
  for (int i = 0; i < n; i++) {
    tofu_message *m = et_msg(e, TOFU_OP_REQUEST, ch, body, (unsigned)i);
    lg->ids[i] = et_post(g, &m).message_id;
  }
}

static int index_of(const ledger *lg, uint64_t id) {
  int lo = 0, hi = lg->n - 1; /* ids grow with each post */
  while (lo <= hi) {
    int mid = (lo + hi) / 2;
    if (lg->ids[mid] == id)
      return mid;
    if (lg->ids[mid] < id)
      lo = mid + 1;
    else
      hi = mid - 1;
  }
  return -1;
}

/* Take one message of g into the ledger: a Response ends its request as
 * answered, a Request handed back (with want_status) as handed back, each
 * exactly once. */
static void ledger_take(tofu_engine *e, tofu_group *g, ledger *lg, int want_status) {
  tofu_message *m = et_recv(g);
  tofu_header *h = tofu_msg_header(m);
  if (h->opcode == TOFU_OP_SIGNAL) {
    ck_assert_uint_eq(h->origin, TOFU_ORIGIN_ENGINE);
    ck_assert_uint_eq(h->status, TOFU_STATUS_CHANNEL_CLOSED);
    lg->closed = 1;
  } else {
    int i = index_of(lg, h->message_id);
    ck_assert_msg(i >= 0, "%s with an id never posted", tofu_opcode_name(h->opcode));
    ck_assert_msg(lg->ended[i] == 0, "request %d ended twice (%s, status %s)", i,
                  tofu_opcode_name(h->opcode), tofu_status_name(h->status));
    if (h->opcode == TOFU_OP_RESPONSE) {
      ck_assert_uint_eq(h->origin, TOFU_ORIGIN_APPLICATION);
      ck_assert(!lg->closed);
      lg->ended[i] = 1;
      lg->answered++;
    } else {
      ck_assert_uint_eq(h->opcode, TOFU_OP_REQUEST);
      ck_assert_uint_eq(h->origin, TOFU_ORIGIN_ENGINE);
      ck_assert_msg(h->status == want_status, "handed back with %s, not %s",
                    tofu_status_name(h->status), tofu_status_name(want_status));
      ck_assert(et_body_ok(m, lg->body, (unsigned)i)); /* with its body */
      lg->ended[i] = 2;
      lg->back++;
    }
    lg->last_ms = mono_now_ms();
  }
  tofu_put(e, &m);
}

static void ledger_free(ledger *lg) {
  free(lg->ids);
  free(lg->ended);
}

enum { N_REQUESTS = 4000, N_ANSWERED = 1000 };

/* The peer dies with N_REQUESTS - N_ANSWERED requests written to it and
 * unanswered: each comes back exactly once, within 1 s, with its body. */
static void peer_dies(pair_transport t, int by_signal) {
  pair_listener l;
  ck_assert_int_eq(pair_listen(t, &l), NET_OK);
  raw_opts o;
  raw_opts_init(&o, N_ANSWERED, by_signal ? 0 : N_REQUESTS, 0);
  raw_thread rt = {&l, &o, {0}};
#ifndef _WIN32
  pid_t pid = by_signal ? fork_peer(&l, &o, 1) : -1;
#endif
  if (!by_signal)
    ck_assert_int_eq(plat_thread_start(&rt.t, raw_thread_main, &rt), TOFU_OK);
  tofu_engine *e = et_engine(0);
  tofu_group *g = et_group(e);
  tofu_header hello = connect_peer(e, g, &l);
  ledger lg = {0};
  post_requests(e, g, hello.channel, &lg, N_REQUESTS, 100);
  while (lg.answered < N_ANSWERED)
    ledger_take(e, g, &lg, TOFU_STATUS_PEER_DISCONNECTED);
  uint64_t t_dead;
#ifndef _WIN32
  if (by_signal) {
    /* Every request is written (the peer reads on), the rest unanswered. */
    wait_open(e, g, N_REQUESTS - N_ANSWERED);
    ck_assert_int_eq(kill(pid, SIGKILL), 0);
    ck_assert_int_eq(waitpid(pid, NULL, 0), pid);
  }
#endif
  t_dead = mono_now_ms(); /* a thread peer resets once it has read everything */
  while (!lg.closed || lg.answered + lg.back < N_REQUESTS)
    ledger_take(e, g, &lg, TOFU_STATUS_PEER_DISCONNECTED);
  ck_assert_int_eq(lg.answered, N_ANSWERED);
  ck_assert_int_eq(lg.back, N_REQUESTS - N_ANSWERED);
  printf("%s peer %s: %d answered, %d handed back, the last %llu ms after its end\n", pair_name(t),
         by_signal ? "killed" : "reset", lg.answered, lg.back,
         (unsigned long long)(lg.last_ms - t_dead));
  if (by_signal)
    ck_assert_uint_le(lg.last_ms - t_dead, et_bound_ms(1000));
  ck_assert_uint_eq(stats_of(e).requests_open, 0);
  ck_assert_ptr_null(tofu_wait_receive(g, 0));
  if (!by_signal)
    plat_thread_join(&rt.t);
  ledger_free(&lg);
  tofu_group_destroy(g);
  peer_case_end(e, &o, &l);
}

void case_requests_peer_killed_tcp(void) {
  peer_dies(PAIR_TCP, 1);
}

void case_requests_peer_killed_uds(void) {
  peer_dies(PAIR_UDS, 1);
}

void case_requests_peer_reset_tcp(void) {
  peer_dies(PAIR_TCP, 0);
}

/* ---- Deadlines ------------------------------------------------------------ */

/* A frozen peer (SIGSTOP): every request comes back with status timeout
 * within 1 s of its deadline, whether written or still queued; after
 * SIGCONT the peer answers what it had read, and none of those late
 * Responses is delivered. */
void case_requests_peer_frozen(void) {
#ifdef _WIN32
  ck_abort_msg("POSIX signals");
#else
  /* 16 MB: more than the socket buffers take, so that some requests are
   * still queued at their deadline and some written. */
  enum { N = 4000, BODY = 4000, TIMEOUT_MS = 500 };
  pair_listener l;
  ck_assert_int_eq(pair_listen(PAIR_TCP, &l), NET_OK);
  raw_opts o;
  raw_opts_init(&o, -1, 0, 0);
  pid_t pid = fork_peer(&l, &o, 0);
  tofu_options opts;
  tofu_options_default(&opts);
  opts.request_timeout_ms = TIMEOUT_MS;
  tofu_engine *e = NULL;
  ck_assert_int_eq(tofu_engine_create(&opts, &e), TOFU_OK);
  tofu_group *g = et_group(e);
  tofu_header hello = connect_peer(e, g, &l);
  ck_assert_int_eq(kill(pid, SIGSTOP), 0);
  ledger lg = {0};
  uint64_t t_post = mono_now_ms();
  post_requests(e, g, hello.channel, &lg, N, BODY);
  uint64_t t_posted = mono_now_ms();
  uint64_t first = 0;
  while (lg.back < N) {
    ledger_take(e, g, &lg, TOFU_STATUS_TIMEOUT);
    if (!first)
      first = lg.last_ms;
  }
  ck_assert_int_eq(lg.answered, 0);
  ck_assert_uint_ge(first - t_post, TIMEOUT_MS - 2); /* the clocks round to ms */
  ck_assert_uint_le(lg.last_ms - t_posted, et_bound_ms(TIMEOUT_MS + 1000));
  tofu_engine_stats st = stats_of(e);
  ck_assert_uint_eq(st.requests_expired, N);
  ck_assert_uint_eq(st.requests_open, 0);
  printf("frozen peer: %d requests back with timeout %llu..%llu ms after their post\n", N,
         (unsigned long long)(first - t_post), (unsigned long long)(lg.last_ms - t_post));
  /* Thawed, the peer answers all it had read, then this request: by the
   * time its Response comes, every late one came before it. */
  ck_assert_int_eq(kill(pid, SIGCONT), 0);
  tofu_message *m = et_msg(e, TOFU_OP_REQUEST, hello.channel, 8, 1);
  ck_assert_int_eq(tofu_msg_set_timeout(m, -1), TOFU_OK);
  tofu_header last = et_post(g, &m);
  m = et_recv(g);
  ck_assert_msg(tofu_msg_header(m)->message_id == last.message_id,
                "a late Response was delivered (id %llu)",
                (unsigned long long)tofu_msg_header(m)->message_id);
  ck_assert_uint_eq(tofu_msg_header(m)->opcode, TOFU_OP_RESPONSE);
  tofu_put(e, &m);
  st = stats_of(e);
  printf("after SIGCONT: %llu late Responses dropped\n", (unsigned long long)st.responses_late);
  ck_assert_uint_gt(st.responses_late, 0); /* written ones */
  ck_assert_uint_lt(st.responses_late, N); /* and queued ones, never written */
  ck_assert_ptr_null(tofu_wait_receive(g, 0));
  kill(pid, SIGKILL);
  waitpid(pid, NULL, 0);
  ledger_free(&lg);
  tofu_group_destroy(g);
  peer_case_end(e, &o, &l);
#endif
}

/* One request with its own deadline, written and held by the peer: it comes
 * back with status timeout; the Response the peer sends afterwards is
 * dropped and counted; the channel stays open and serves the next one. */
void case_requests_late_response_dropped(void) {
  pair_listener l;
  ck_assert_int_eq(pair_listen(PAIR_TCP, &l), NET_OK);
  raw_opts o;
  raw_opts_init(&o, -1, 0, 1);
  raw_thread rt = {&l, &o, {0}};
  ck_assert_int_eq(plat_thread_start(&rt.t, raw_thread_main, &rt), TOFU_OK);
  tofu_engine *e = et_engine(0);
  tofu_group *g = et_group(e);
  tofu_header hello = connect_peer(e, g, &l);
  tofu_message *m = et_msg(e, TOFU_OP_REQUEST, hello.channel, 16, 7);
  ck_assert_int_eq(tofu_msg_set_timeout(m, 200), TOFU_OK);
  uint64_t t0 = mono_now_ms();
  tofu_header rq = et_post(g, &m);
  m = tofu_wait_reply(g, rq.message_id, ET_DEADLINE_MS);
  uint64_t took = mono_now_ms() - t0;
  ck_assert_ptr_nonnull(m);
  ck_assert_uint_eq(tofu_msg_header(m)->opcode, TOFU_OP_REQUEST);
  ck_assert_uint_eq(tofu_msg_header(m)->origin, TOFU_ORIGIN_ENGINE);
  ck_assert_uint_eq(tofu_msg_header(m)->status, TOFU_STATUS_TIMEOUT);
  ck_assert_str_eq(tofu_status_name(TOFU_STATUS_TIMEOUT), "timeout");
  ck_assert(et_body_ok(m, 16, 7));
  ck_assert_uint_ge(took, 200);
  ck_assert_uint_lt(took, 1200);
  tofu_put(e, &m);
  ck_assert_uint_eq(stats_of(e).requests_open, 0);
  /* The peer answers it now, then the next request. */
  raw_release(&o);
  m = et_msg(e, TOFU_OP_REQUEST, hello.channel, 16, 8);
  tofu_header next = et_post(g, &m);
  m = et_recv(g);
  ck_assert(tofu_msg_header(m)->message_id == next.message_id);
  ck_assert_uint_eq(tofu_msg_header(m)->opcode, TOFU_OP_RESPONSE);
  ck_assert(et_body_ok(m, 16, 8));
  tofu_put(e, &m);
  tofu_engine_stats st = stats_of(e);
  ck_assert_uint_eq(st.responses_late, 1);
  ck_assert_uint_eq(st.requests_expired, 1);
  ck_assert_ptr_null(tofu_wait_receive(g, 0));
  tofu_group_destroy(g); /* closes the channel: the peer's recv ends */
  plat_thread_join(&rt.t);
  peer_case_end(e, &o, &l);
}

/* ---- The hello, and waiting for one reply --------------------------------- */

/* A server application that takes the HelloRequest and never answers it: the
 * client's HelloRequest comes back with connect_failed once the connect
 * timeout has passed, then channel_closed. */
void case_requests_hello_unanswered(void) {
  enum { TIMEOUT_MS = 300 };
  tofu_engine *e = et_engine_connect_timeout(TIMEOUT_MS);
  tofu_group *gs = et_group(e), *gc = et_group(e);
  char bound[256];
  et_listen(e, gs, "tcp|127.0.0.1|0", bound, sizeof bound);
  uint64_t t0 = mono_now_ms();
  tofu_header hello = et_post_hello(e, gc, bound);
  tofu_message *m = et_expect(gs, TOFU_OP_HELLO_REQUEST, TOFU_ORIGIN_APPLICATION, 0);
  tofu_put(e, &m); /* taken, never answered */
  m = tofu_wait_reply(gc, hello.message_id, ET_DEADLINE_MS);
  uint64_t took = mono_now_ms() - t0;
  ck_assert_ptr_nonnull(m);
  ck_assert_uint_eq(tofu_msg_header(m)->opcode, TOFU_OP_HELLO_REQUEST);
  ck_assert_uint_eq(tofu_msg_header(m)->origin, TOFU_ORIGIN_ENGINE);
  ck_assert_uint_eq(tofu_msg_header(m)->status, TOFU_STATUS_CONNECT_FAILED);
  ck_assert_uint_ge(took, TIMEOUT_MS);
  ck_assert_uint_le(took, et_bound_ms(TIMEOUT_MS + 1000));
  tofu_put(e, &m);
  m = et_expect(gc, TOFU_OP_SIGNAL, TOFU_ORIGIN_ENGINE, TOFU_STATUS_CHANNEL_CLOSED);
  tofu_put(e, &m);
  m = et_expect(gs, TOFU_OP_SIGNAL, TOFU_ORIGIN_ENGINE, TOFU_STATUS_CHANNEL_CLOSED);
  tofu_put(e, &m);
  tofu_group_destroy(gc);
  tofu_group_destroy(gs);
  et_assert_all_returned(e);
  tofu_engine_destroy(e);
}

/* tofu_wait_reply for a request the server had read returns as soon as the
 * channel dies, with the request handed back. */
void case_requests_wait_reply_channel_dies(void) {
  tofu_engine *e = et_engine(0);
  tofu_group *gs = et_group(e), *gc = et_group(e);
  char bound[256];
  et_listen(e, gs, "tcp|127.0.0.1|0", bound, sizeof bound);
  uint16_t cch, sch;
  et_connect(e, gc, gs, e, bound, &cch, &sch);
  uint64_t id = 0;
  ck_assert_int_eq(tofu_send(gc, cch, TOFU_OP_REQUEST, "job", 3, &id), TOFU_OK);
  tofu_message *m = et_expect(gs, TOFU_OP_REQUEST, TOFU_ORIGIN_APPLICATION, 0);
  tofu_put(e, &m);
  uint64_t t0 = mono_now_ms();
  m = et_msg(e, TOFU_OP_BYE_SIGNAL, sch, 0, 0); /* the server drops the connection */
  et_post(gs, &m);
  m = tofu_wait_reply(gc, id, 30000);
  uint64_t took = mono_now_ms() - t0;
  ck_assert_ptr_nonnull(m);
  ck_assert_uint_eq(tofu_msg_header(m)->opcode, TOFU_OP_REQUEST);
  ck_assert_uint_eq(tofu_msg_header(m)->origin, TOFU_ORIGIN_ENGINE);
  /* The peer's ByeSignal closes the channel (or, had it not been written,
   * the connection's end). */
  ck_assert(tofu_msg_header(m)->status == TOFU_STATUS_CHANNEL_CLOSED ||
            tofu_msg_header(m)->status == TOFU_STATUS_PEER_DISCONNECTED);
  size_t len;
  ck_assert(memcmp(tofu_msg_body(m, &len), "job", 3) == 0 && len == 3);
  ck_assert_uint_lt(took, et_bound_ms(1000));
  tofu_put(e, &m);
  tofu_group_destroy(gc);
  tofu_group_destroy(gs);
  et_assert_all_returned(e);
  tofu_engine_destroy(e);
}
