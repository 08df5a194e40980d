/* zmq-bench — the BENCH.md workload on libzmq, for comparison.
 *
 * Echo and load run in this process with two zmq contexts (each its own I/O
 * thread), plus one echo thread and one load thread: the shape of tofu's two
 * engines. The echo side is one ROUTER socket that turns each frame's opcode
 * into Response and sends the same zmq message back; the load side has C
 * DEALER sockets (one TCP or IPC connection each), polled with zmq_poll,
 * keeping W requests in flight on each. Every zmq message carries one tofu
 * frame (16-byte header + body); zmq adds its own framing around it. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "bench.h"

typedef struct echo_side {
  void *ctx, *sock;
  atomic_int stop;
  char endpoint[400];
} echo_side;

static void *echo_main(void *arg) {
  echo_side *s = arg;
  zmq_msg_t id, frame;
  zmq_msg_init(&id);
  zmq_msg_init(&frame);
  while (!atomic_load(&s->stop)) {
    if (zmq_msg_recv(&id, s->sock, 0) < 0)
      continue; /* the receive timeout: look at stop */
    if (zmq_msg_recv(&frame, s->sock, 0) < 0)
      continue;
    if (zmq_msg_size(&frame) >= BENCH_HDR)
      bench_hdr_answer(zmq_msg_data(&frame));
    zmq_msg_send(&id, s->sock, ZMQ_SNDMORE);
    zmq_msg_send(&frame, s->sock, 0);
  }
  zmq_msg_close(&id);
  zmq_msg_close(&frame);
  return NULL;
}

static int echo_start(echo_side *s, const bench_case *c) {
  int timeout = 50, zero = 0;
  s->ctx = zmq_ctx_new();
  s->sock = s->ctx ? zmq_socket(s->ctx, ZMQ_ROUTER) : NULL;
  if (!s->sock)
    return -1;
  zmq_setsockopt(s->sock, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
  zmq_setsockopt(s->sock, ZMQ_LINGER, &zero, sizeof zero);
  char want[400];
  if (c->transport == BENCH_TCP)
    snprintf(want, sizeof want, "tcp://127.0.0.1:*");
  else
    snprintf(want, sizeof want, "ipc://%s", c->uds_path);
  size_t len = sizeof s->endpoint;
  if (zmq_bind(s->sock, want) != 0 ||
      zmq_getsockopt(s->sock, ZMQ_LAST_ENDPOINT, s->endpoint, &len) != 0)
    return -1;
  return 0;
}

typedef struct load_conn {
  void *sock;
  bench_conn bc;
  uint8_t *frame; /* the request being written: header, then the body */
} load_conn;

static int send_request(load_conn *lc, const bench_case *c) {
  uint64_t seq = bench_conn_next(&lc->bc);
  bench_put_header(lc->frame, BENCH_OP_REQUEST, seq + 1, 0, (uint16_t)c->size);
  bench_body_set_seq(lc->frame + BENCH_HDR, seq);
  lc->bc.sent_at = bench_now_ns();
  return zmq_send(lc->sock, lc->frame, BENCH_HDR + c->size, 0) < 0 ? -1 : 0;
}

static int load_run(const bench_case *c, const char *endpoint, bench_result *r) {
  void *ctx = zmq_ctx_new();
  if (!ctx)
    return -1;
  zmq_ctx_set(ctx, ZMQ_MAX_SOCKETS, c->conns + 64);
  const uint8_t *tmpl = bench_body_template(c->size);
  load_conn *lc = calloc((size_t)c->conns, sizeof *lc);
  zmq_pollitem_t *items = calloc((size_t)c->conns, sizeof *items);
  int rc = lc && items && tmpl ? 0 : -1, zero = 0;
  for (int i = 0; rc == 0 && i < c->conns; i++) {
    lc[i].sock = zmq_socket(ctx, ZMQ_DEALER);
    lc[i].frame = malloc(BENCH_HDR + c->size);
    if (!lc[i].sock || !lc[i].frame) {
      rc = -1;
      break;
    }
    memcpy(lc[i].frame + BENCH_HDR, tmpl, c->size);
    zmq_setsockopt(lc[i].sock, ZMQ_LINGER, &zero, sizeof zero);
    if (zmq_connect(lc[i].sock, endpoint) != 0)
      rc = -1;
    items[i].socket = lc[i].sock;
    items[i].events = ZMQ_POLLIN;
  }
  bench_clock k;
  bench_samples lat = {0};
  bench_clock_start(&k, c);
  for (int w = 0; rc == 0 && w < c->window; w++)
    for (int i = 0; rc == 0 && i < c->conns; i++)
      rc = send_request(&lc[i], c);
  zmq_msg_t msg;
  zmq_msg_init(&msg);
  while (rc == 0) {
    int n = zmq_poll(items, c->conns, 100);
    int64_t now = bench_now_ns();
    int phase = bench_phase(&k, now);
    if (phase == 2 || n < 0)
      break;
    for (int i = 0; n > 0 && i < c->conns && rc == 0; i++) {
      if (!(items[i].revents & ZMQ_POLLIN))
        continue;
      n--;
      while (zmq_msg_recv(&msg, lc[i].sock, ZMQ_DONTWAIT) >= 0) {
        const uint8_t *h = zmq_msg_data(&msg);
        size_t len = zmq_msg_size(&msg);
        if (len < BENCH_HDR || bench_hdr_opcode(h) != BENCH_OP_RESPONSE ||
            len != bench_frame_len(h) ||
            bench_conn_check(&lc[i].bc, c->size, bench_hdr_body_len(h),
                             h + BENCH_HDR + bench_hdr_th_len(h), bench_hdr_id(h)) != 0) {
          r->errors++;
          continue;
        }
        if (phase == 1) {
          r->echoes++;
          if (c->scenario == BENCH_PINGPONG)
            bench_samples_add(&lat, now - lc[i].bc.sent_at);
        }
        if (send_request(&lc[i], c) != 0) {
          r->errors++;
          rc = -1;
          break;
        }
      }
    }
  }
  zmq_msg_close(&msg);
  r->elapsed = c->seconds;
  bench_samples_finish(&lat, r);
  for (int i = 0; lc && i < c->conns; i++) {
    if (lc[i].sock)
      zmq_close(lc[i].sock);
    free(lc[i].frame);
  }
  free(lc);
  free(items);
  zmq_ctx_term(ctx);
  return rc;
}

static int run_case(const bench_case *c, bench_result *r) {
  echo_side es;
  pthread_t t;
  memset(&es, 0, sizeof es);
  atomic_init(&es.stop, 0);
  int rc = -1;
  if (echo_start(&es, c) == 0 && pthread_create(&t, NULL, echo_main, &es) == 0) {
    rc = load_run(c, es.endpoint, r);
    atomic_store(&es.stop, 1);
    pthread_join(t, NULL);
  }
  if (es.sock)
    zmq_close(es.sock);
  if (es.ctx)
    zmq_ctx_term(es.ctx);
  return rc;
}

int main(int argc, char **argv) {
  return bench_main(argc, argv, "libzmq",
                    "echo and load in one process: two zmq contexts (two I/O threads), "
                    "one echo thread (ROUTER), one load thread (C DEALER sockets)",
                    run_case);
}
