/* nng-bench — the BENCH.md workload on nng, for comparison.
 *
 * Echo and load run in this process. The echo side is one raw REP socket
 * served by one echo thread (receive, turn the frame's opcode into Response,
 * send the same nng_msg back: the raw REP header routes it). The load side
 * has C raw REQ sockets (one TCP or IPC connection each); one load thread
 * waits on their receive descriptors (NNG_OPT_RECVFD) with poll() and keeps
 * W requests in flight on each. nng's own worker threads do the socket I/O
 * on both sides. Each nng message body is one tofu frame (16-byte header +
 * body); nng adds its own framing and the 4-byte request id around it. */
#define _GNU_SOURCE
#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/protocol/reqrep0/req.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

typedef struct echo_side {
  nng_socket sock;
  atomic_int stop;
  char url[400];
} echo_side;

static void *echo_main(void *arg) {
  echo_side *s = arg;
  while (!atomic_load(&s->stop)) {
    nng_msg *m;
    if (nng_recvmsg(s->sock, &m, 0) != 0)
      continue; /* the receive timeout: look at stop */
    if (nng_msg_len(m) >= BENCH_HDR)
      bench_hdr_answer(nng_msg_body(m));
    if (nng_sendmsg(s->sock, m, 0) != 0)
      nng_msg_free(m);
  }
  return NULL;
}

static int echo_start(echo_side *s, const bench_case *c) {
  nng_listener l;
  if (nng_rep0_open_raw(&s->sock) != 0)
    return -1;
  nng_socket_set_ms(s->sock, NNG_OPT_RECVTIMEO, 50);
  if (c->transport == BENCH_TCP) {
    int port = 0;
    if (nng_listen(s->sock, "tcp://127.0.0.1:0", &l, 0) != 0 ||
        nng_listener_get_int(l, NNG_OPT_TCP_BOUND_PORT, &port) != 0)
      return -1;
    snprintf(s->url, sizeof s->url, "tcp://127.0.0.1:%d", port);
  } else {
    snprintf(s->url, sizeof s->url, "ipc://%s", c->uds_path);
    if (nng_listen(s->sock, s->url, &l, 0) != 0)
      return -1;
  }
  return 0;
}

typedef struct load_conn {
  nng_socket sock;
  int unsent; /* requests due that the socket would not take yet */
  bench_conn bc;
  uint8_t *frame;
} load_conn;

/* Send the due requests; stops at the first the socket refuses. */
static int send_due(load_conn *lc, const bench_case *c) {
  while (lc->unsent > 0) {
    nng_msg *m;
    uint64_t seq = lc->bc.sent;
    bench_put_header(lc->frame, BENCH_OP_REQUEST, seq + 1, 0, (uint16_t)c->size);
    bench_body_set_seq(lc->frame + BENCH_HDR, seq);
    if (nng_msg_alloc(&m, 0) != 0 ||
        nng_msg_header_append_u32(m, 0x80000000u | (uint32_t)(seq & 0x7fffffff)) != 0 ||
        nng_msg_append(m, lc->frame, BENCH_HDR + c->size) != 0)
      return -1;
    int rc = nng_sendmsg(lc->sock, m, NNG_FLAG_NONBLOCK);
    if (rc == NNG_EAGAIN) {
      nng_msg_free(m);
      return 0;
    }
    if (rc != 0) {
      nng_msg_free(m);
      return -1;
    }
    bench_conn_next(&lc->bc);
    lc->bc.sent_at = bench_now_ns();
    lc->unsent--;
  }
  return 0;
}

/* Take back what is still in flight before closing: nng_close can wait
 * without end on a socket whose pipes still move messages (seen with nng
 * 1.5.2 over IPC). */
static void drain(load_conn *lc, int n) {
  int64_t deadline = bench_now_ns() + 2000000000LL;
  for (int i = 0; i < n; i++) {
    lc[i].unsent = 0;
    while (lc[i].bc.out && bench_now_ns() < deadline) {
      nng_msg *m;
      if (nng_recvmsg(lc[i].sock, &m, NNG_FLAG_NONBLOCK) != 0) {
        struct pollfd p = {0, POLLIN, 0};
        int fd;
        if (nng_socket_get_int(lc[i].sock, NNG_OPT_RECVFD, &fd) != 0)
          break;
        p.fd = fd;
        poll(&p, 1, 10);
        continue;
      }
      if (nng_msg_len(m) >= BENCH_HDR + 8) {
        uint64_t seq = bench_body_seq((const uint8_t *)nng_msg_body(m) + BENCH_HDR);
        lc[i].bc.out &= ~(1ull << (seq & 63));
      }
      nng_msg_free(m);
    }
  }
}

static int load_run(const bench_case *c, const char *url, bench_result *r, load_conn **conns,
                    int *nconns) {
  const uint8_t *tmpl = bench_body_template(c->size);
  load_conn *lc = calloc((size_t)c->conns, sizeof *lc);
  struct pollfd *pf = calloc((size_t)c->conns * 2, sizeof *pf);
  int rc = lc && pf && tmpl ? 0 : -1, opened = 0;
  for (; rc == 0 && opened < c->conns; opened++) {
    load_conn *l = &lc[opened];
    int fd;
    l->frame = malloc(BENCH_HDR + c->size);
    if (!l->frame || nng_req0_open_raw(&l->sock) != 0) {
      rc = -1;
      break;
    }
    memcpy(l->frame + BENCH_HDR, tmpl, c->size);
    if (nng_dial(l->sock, url, NULL, 0) != 0 ||
        nng_socket_get_int(l->sock, NNG_OPT_RECVFD, &fd) != 0) {
      rc = -1;
      opened++; /* its socket is open: closed with the others */
      break;
    }
    pf[opened].fd = fd;
    pf[opened].events = POLLIN;
    if (nng_socket_get_int(l->sock, NNG_OPT_SENDFD, &fd) != 0) {
      rc = -1;
      opened++;
      break;
    }
    pf[c->conns + opened].fd = fd;
  }
  bench_clock k;
  bench_samples lat = {0};
  bench_clock_start(&k, c);
  for (int i = 0; rc == 0 && i < c->conns; i++) {
    lc[i].unsent = c->window;
    rc = send_due(&lc[i], c);
  }
  while (rc == 0) {
    for (int i = 0; i < c->conns; i++)
      pf[c->conns + i].events = lc[i].unsent ? POLLIN : 0; /* the send fd is readable when ready */
    int n = poll(pf, (nfds_t)c->conns * 2, 100);
    int64_t now = bench_now_ns();
    int phase = bench_phase(&k, now);
    if (phase == 2 || n < 0)
      break;
    for (int i = 0; i < c->conns && rc == 0; i++) {
      if (!pf[i].revents && !pf[c->conns + i].revents)
        continue;
      nng_msg *m;
      while (nng_recvmsg(lc[i].sock, &m, NNG_FLAG_NONBLOCK) == 0) {
        const uint8_t *h = nng_msg_body(m);
        size_t len = nng_msg_len(m);
        if (len < BENCH_HDR || bench_hdr_opcode(h) != BENCH_OP_RESPONSE ||
            len != bench_frame_len(h) ||
            bench_conn_check(&lc[i].bc, c->size, bench_hdr_body_len(h),
                             h + BENCH_HDR + bench_hdr_th_len(h), bench_hdr_id(h)) != 0) {
          r->errors++;
        } else {
          lc[i].unsent++;
          if (phase == 1) {
            r->echoes++;
            if (c->scenario == BENCH_PINGPONG)
              bench_samples_add(&lat, now - lc[i].bc.sent_at);
          }
        }
        nng_msg_free(m);
      }
      if (send_due(&lc[i], c) != 0) {
        r->errors++;
        rc = -1;
      }
    }
  }
  r->elapsed = c->seconds;
  bench_samples_finish(&lat, r);
  drain(lc, opened);
  for (int i = 0; lc && i < opened; i++)
    free(lc[i].frame);
  *conns = lc;
  *nconns = opened;
  free(pf);
  return rc;
}

typedef struct closer {
  nng_socket echo;
  load_conn *lc;
  int n;
  atomic_int done;
} closer;

static void *close_all(void *arg) {
  closer *k = arg;
  nng_close(k->echo);
  for (int i = 0; i < k->n; i++)
    nng_close(k->lc[i].sock);
  atomic_store(&k->done, 1);
  return NULL;
}

static int run_case(const bench_case *c, bench_result *r) {
  echo_side es;
  pthread_t t;
  memset(&es, 0, sizeof es);
  atomic_init(&es.stop, 0);
  int rc = -1;
  closer *k = calloc(1, sizeof *k);
  if (!k)
    return -1;
  atomic_init(&k->done, 0);
  if (echo_start(&es, c) == 0 && pthread_create(&t, NULL, echo_main, &es) == 0) {
    rc = load_run(c, es.url, r, &k->lc, &k->n);
    atomic_store(&es.stop, 1);
    pthread_join(t, NULL);
  }
  /* nng_close may not return (nng 1.5.2, IPC, many pipes): close from a
   * helper thread and give up after a few seconds, leaking the sockets. */
  k->echo = es.sock;
  if (pthread_create(&t, NULL, close_all, k) != 0)
    return -1;
  int64_t deadline = bench_now_ns() + 3000000000LL;
  while (!atomic_load(&k->done) && bench_now_ns() < deadline)
    poll(NULL, 0, 10);
  if (atomic_load(&k->done)) {
    pthread_join(t, NULL);
    free(k->lc);
    free(k);
  } else {
    pthread_detach(t);
    snprintf(r->note, sizeof r->note, "nng_close_hung=1");
  }
  return rc;
}

int main(int argc, char **argv) {
  return bench_main(argc, argv, "nng",
                    "echo and load in one process: nng's worker threads, one echo thread "
                    "(raw REP), one load thread (C raw REQ sockets, poll() on their "
                    "NNG_OPT_RECVFD)",
                    run_case);
}
