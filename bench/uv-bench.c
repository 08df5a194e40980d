/* uv-bench — the BENCH.md workload on libuv, for comparison.
 *
 * Echo and load run in this process on two threads, each with its own
 * uv_loop. Same frames and same strategy as raw-poll: the echo side answers
 * the complete frames of a read in place and writes them back (uv_try_write,
 * copying only what the socket refuses into a uv_write); the load side keeps
 * W requests in flight per connection, written as header/sequence slots plus
 * a shared body template, and checks every echo. TCP_NODELAY on. */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "bench.h"

#define MAX_BATCH 32

typedef union stream {
  uv_handle_t h;
  uv_stream_t s;
  uv_tcp_t tcp;
  uv_pipe_t pipe;
} stream;

static size_t in_cap_for(size_t size) {
  size_t need = 2 * (BENCH_HDR + size);
  return need < 65536 ? 65536 : need;
}

typedef struct conn {
  stream st; /* first: the handle's address is the connection's */
  uint8_t *in;
  size_t in_len, in_cap;
  int hello;
  bench_conn bc;
  struct side *side;
} conn;

typedef struct side {
  uv_loop_t loop;
  stream server;
  uv_async_t stop;
  uv_timer_t tick;
  const bench_case *c;
  int tcp;
  /* load side */
  conn *conns;
  int connected;
  bench_clock k;
  bench_samples lat;
  bench_result *r;
  const uint8_t *tmpl;
  int failed;
} side;

static void on_close_free(uv_handle_t *h) {
  conn *cn = (conn *)h;
  free(cn->in);
  free(cn);
}

static void on_close_keep(uv_handle_t *h) {
  conn *cn = (conn *)h;
  free(cn->in);
  cn->in = NULL;
}

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b) {
  conn *cn = (conn *)h;
  (void)hint;
  *b = uv_buf_init((char *)cn->in + cn->in_len, (unsigned)(cn->in_cap - cn->in_len));
}

static void on_write_free(uv_write_t *req, int status) {
  (void)status;
  free(req); /* the copied bytes follow the request in the same block */
}

/* Write bufs: what the socket takes now is written, the rest is copied into
 * one block behind a uv_write. Returns 0 or a libuv error. */
static int write_bufs(uv_stream_t *s, uv_buf_t *bufs, unsigned n) {
  size_t total = 0;
  for (unsigned i = 0; i < n; i++)
    total += bufs[i].len;
  int w = uv_try_write(s, bufs, n);
  if (w < 0 && w != UV_EAGAIN)
    return w;
  size_t done = w < 0 ? 0 : (size_t)w;
  if (done == total)
    return 0;
  uv_write_t *req = malloc(sizeof *req + (total - done));
  if (!req)
    return UV_ENOMEM;
  char *p = (char *)(req + 1), *q = p;
  for (unsigned i = 0; i < n; i++) {
    size_t len = bufs[i].len;
    if (done >= len) {
      done -= len;
      continue;
    }
    memcpy(q, bufs[i].base + done, len - done);
    q += len - done;
    done = 0;
  }
  uv_buf_t rest = uv_buf_init(p, (unsigned)(q - p));
  return uv_write(req, s, &rest, 1, on_write_free);
}

/* ---- Echo ---------------------------------------------------------------- */

static void echo_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *b) {
  conn *cn = (conn *)s;
  (void)b;
  if (nread < 0) {
    uv_close(&cn->st.h, on_close_free);
    return;
  }
  cn->in_len += (size_t)nread;
  size_t p = 0;
  while (cn->in_len - p >= BENCH_HDR) {
    size_t fl = bench_frame_len(cn->in + p);
    if (cn->in_len - p < fl)
      break;
    bench_hdr_answer(cn->in + p);
    p += fl;
  }
  if (p) {
    uv_buf_t out = uv_buf_init((char *)cn->in, (unsigned)p);
    if (write_bufs(s, &out, 1) != 0) {
      uv_close(&cn->st.h, on_close_free);
      return;
    }
    memmove(cn->in, cn->in + p, cn->in_len - p);
    cn->in_len -= p;
  }
}

static void echo_accept(uv_stream_t *server, int status) {
  side *sd = server->data;
  if (status < 0)
    return;
  conn *cn = calloc(1, sizeof *cn);
  if (!cn)
    return;
  cn->in_cap = in_cap_for(sd->c->size);
  cn->in = malloc(cn->in_cap);
  if (sd->tcp)
    uv_tcp_init(&sd->loop, &cn->st.tcp);
  else
    uv_pipe_init(&sd->loop, &cn->st.pipe, 0);
  if (!cn->in || uv_accept(server, &cn->st.s) != 0) {
    uv_close(&cn->st.h, on_close_free);
    return;
  }
  if (sd->tcp)
    uv_tcp_nodelay(&cn->st.tcp, 1);
  uv_read_start(&cn->st.s, on_alloc, echo_read);
}

static void close_any(uv_handle_t *h, void *arg) {
  (void)arg;
  if (uv_is_closing(h))
    return;
  /* Connections are conn blocks; the server, async and timer live in side. */
  side *sd = h->loop->data;
  int owned = h == &sd->server.h || h == (uv_handle_t *)&sd->stop || h == (uv_handle_t *)&sd->tick;
  if (owned)
    uv_close(h, NULL);
  else
    uv_close(h, sd->conns ? on_close_keep : on_close_free);
}

static void echo_stop(uv_async_t *a) {
  uv_walk(a->loop, close_any, NULL);
}

static void *echo_main(void *arg) {
  side *sd = arg;
  uv_run(&sd->loop, UV_RUN_DEFAULT);
  return NULL;
}

static int echo_listen(side *sd, const bench_case *c, struct sockaddr_storage *ss) {
  uv_loop_init(&sd->loop);
  sd->loop.data = sd;
  sd->c = c;
  sd->tcp = c->transport == BENCH_TCP;
  sd->server.h.data = sd;
  uv_async_init(&sd->loop, &sd->stop, echo_stop);
  int rc;
  if (sd->tcp) {
    struct sockaddr_in a;
    uv_ip4_addr("127.0.0.1", 0, &a);
    uv_tcp_init(&sd->loop, &sd->server.tcp);
    rc = uv_tcp_bind(&sd->server.tcp, (struct sockaddr *)&a, 0);
    int len = sizeof *ss;
    if (rc == 0)
      rc = uv_tcp_getsockname(&sd->server.tcp, (struct sockaddr *)ss, &len);
  } else {
    uv_pipe_init(&sd->loop, &sd->server.pipe, 0);
    rc = uv_pipe_bind(&sd->server.pipe, c->uds_path);
  }
  if (rc == 0)
    rc = uv_listen(&sd->server.s, 4096, echo_accept);
  return rc;
}

/* ---- Load ---------------------------------------------------------------- */

static int send_requests(conn *cn, int k, int hello) {
  side *sd = cn->side;
  const bench_case *c = sd->c;
  uint8_t slots[MAX_BATCH][BENCH_HDR + 8], hb[BENCH_HDR];
  uv_buf_t bufs[2 * MAX_BATCH + 1];
  while (k > 0 || hello) {
    unsigned n = 0;
    if (hello) {
      bench_put_header(hb, BENCH_OP_HELLO_REQUEST, 0, 0, 0);
      bufs[n++] = uv_buf_init((char *)hb, BENCH_HDR);
      hello = 0;
    }
    int f = k < MAX_BATCH ? k : MAX_BATCH;
    for (int j = 0; j < f; j++) {
      uint64_t seq = bench_conn_next(&cn->bc);
      bench_put_header(slots[j], BENCH_OP_REQUEST, seq + 1, 0, (uint16_t)c->size);
      bench_body_set_seq(slots[j] + BENCH_HDR, seq);
      bufs[n++] = uv_buf_init((char *)slots[j], BENCH_HDR + 8);
      bufs[n++] = uv_buf_init((char *)sd->tmpl + 8, (unsigned)(c->size - 8));
    }
    cn->bc.sent_at = bench_now_ns();
    if (write_bufs(&cn->st.s, bufs, n) != 0)
      return -1;
    k -= f;
  }
  return 0;
}

static void load_fail(side *sd) {
  sd->r->errors++;
  sd->failed = 1;
  uv_stop(&sd->loop);
}

static void load_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *b) {
  conn *cn = (conn *)s;
  side *sd = cn->side;
  (void)b;
  if (nread < 0) {
    load_fail(sd);
    return;
  }
  int64_t now = bench_now_ns();
  int phase = bench_phase(&sd->k, now);
  cn->in_len += (size_t)nread;
  size_t p = 0;
  int back = 0;
  while (cn->in_len - p >= BENCH_HDR) {
    const uint8_t *h = cn->in + p;
    size_t fl = bench_frame_len(h);
    if (fl > cn->in_cap) {
      load_fail(sd);
      return;
    }
    if (cn->in_len - p < fl)
      break;
    if (!cn->hello) {
      cn->hello = 1;
      if (bench_hdr_opcode(h) != BENCH_OP_HELLO_RESPONSE)
        sd->r->errors++;
    } else if (bench_hdr_opcode(h) != BENCH_OP_RESPONSE ||
               bench_conn_check(&cn->bc, sd->c->size, bench_hdr_body_len(h),
                                h + BENCH_HDR + bench_hdr_th_len(h), bench_hdr_id(h)) != 0) {
      sd->r->errors++;
    } else {
      back++;
      if (phase == 1) {
        sd->r->echoes++;
        if (sd->c->scenario == BENCH_PINGPONG)
          bench_samples_add(&sd->lat, now - cn->bc.sent_at);
      }
    }
    p += fl;
  }
  memmove(cn->in, cn->in + p, cn->in_len - p);
  cn->in_len -= p;
  if (phase == 2) {
    uv_stop(&sd->loop);
    return;
  }
  if (back && send_requests(cn, back, 0) != 0)
    load_fail(sd);
}

static void on_connect(uv_connect_t *req, int status) {
  conn *cn = req->data;
  side *sd = cn->side;
  free(req);
  if (status < 0) {
    load_fail(sd);
    return;
  }
  if (sd->tcp)
    uv_tcp_nodelay(&cn->st.tcp, 1);
  uv_read_start(&cn->st.s, on_alloc, load_read);
  if (++sd->connected == sd->c->conns) {
    bench_clock_start(&sd->k, sd->c);
    for (int i = 0; i < sd->c->conns; i++)
      if (send_requests(&sd->conns[i], sd->c->window, 1) != 0) {
        load_fail(sd);
        return;
      }
  }
}

static void on_tick(uv_timer_t *t) {
  side *sd = t->loop->data;
  if (sd->connected == sd->c->conns && bench_phase(&sd->k, bench_now_ns()) == 2)
    uv_stop(&sd->loop);
}

static int load_run(const bench_case *c, const struct sockaddr_storage *ss, bench_result *r) {
  side sd;
  memset(&sd, 0, sizeof sd);
  uv_loop_init(&sd.loop);
  sd.loop.data = &sd;
  sd.c = c;
  sd.r = r;
  sd.tcp = c->transport == BENCH_TCP;
  sd.tmpl = bench_body_template(c->size);
  sd.conns = calloc((size_t)c->conns, sizeof *sd.conns);
  if (!sd.conns || !sd.tmpl)
    return -1;
  uv_timer_init(&sd.loop, &sd.tick);
  uv_timer_start(&sd.tick, on_tick, 10, 10);
  for (int i = 0; i < c->conns; i++) {
    conn *cn = &sd.conns[i];
    cn->side = &sd;
    cn->in_cap = in_cap_for(c->size);
    cn->in = malloc(cn->in_cap);
    uv_connect_t *req = malloc(sizeof *req);
    if (!cn->in || !req)
      return -1;
    req->data = cn;
    if (sd.tcp) {
      uv_tcp_init(&sd.loop, &cn->st.tcp);
      uv_tcp_connect(req, &cn->st.tcp, (const struct sockaddr *)ss, on_connect);
    } else {
      uv_pipe_init(&sd.loop, &cn->st.pipe, 0);
      uv_pipe_connect(req, &cn->st.pipe, c->uds_path, on_connect);
    }
  }
  uv_run(&sd.loop, UV_RUN_DEFAULT);
  r->elapsed = c->seconds;
  bench_samples_finish(&sd.lat, r);
  uv_walk(&sd.loop, close_any, NULL);
  uv_run(&sd.loop, UV_RUN_DEFAULT);
  uv_loop_close(&sd.loop);
  free(sd.conns);
  return sd.failed ? -1 : 0;
}

static int run_case(const bench_case *c, bench_result *r) {
  side es;
  struct sockaddr_storage ss;
  pthread_t t;
  memset(&es, 0, sizeof es);
  memset(&ss, 0, sizeof ss);
  if (echo_listen(&es, c, &ss) != 0 || pthread_create(&t, NULL, echo_main, &es) != 0)
    return -1;
  int rc = load_run(c, &ss, r);
  uv_async_send(&es.stop);
  pthread_join(t, NULL);
  uv_loop_close(&es.loop);
  return rc;
}

int main(int argc, char **argv) {
  /* libuv writes without MSG_NOSIGNAL: a peer that closes first must not kill
   * the process (the usual setting for libuv programs). */
  signal(SIGPIPE, SIG_IGN);
  return bench_main(argc, argv, "libuv",
                    "echo and load in one process: two threads, each its own uv_loop", run_case);
}
