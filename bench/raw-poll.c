/* raw-poll — the baseline: the BENCH.md workload on hand-written,
 * non-blocking poll() loops, one thread each, as tight as we can make them.
 *
 * The echo thread reads into a per-connection buffer, turns every complete
 * frame into its answer in place and sends the run of complete frames back
 * straight from that buffer (one send for everything one read brought). The
 * load thread sends each batch of requests with one gathered write (the
 * 16-byte header and the sequence number from a small per-request slot, the
 * rest of the body from a shared template), reads into a per-connection
 * buffer and checks every echo. TCP_NODELAY on both ends. Only the bytes a
 * full socket buffer refuses are copied aside. The frames are tofu's, with
 * the HelloRequest/HelloResponse exchange first, so this client also runs
 * against a tofu echo server. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include "bench.h"
#include "bench_sock.h"

#define IOV_MAX_BATCH 64

typedef struct buf {
  uint8_t *p;
  size_t len, off, cap;
} buf;

static int buf_append(buf *b, const void *data, size_t n) {
  if (b->off && b->off == b->len)
    b->off = b->len = 0;
  if (b->len + n > b->cap) {
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + n)
      cap *= 2;
    uint8_t *p = realloc(b->p, cap);
    if (!p)
      return -1;
    b->p = p;
    b->cap = cap;
  }
  memcpy(b->p + b->len, data, n);
  b->len += n;
  return 0;
}

/* Send what is pending; returns 0 when drained, 1 when the socket is full,
 * -1 on error. */
static int buf_flush(buf *b, int fd) {
  while (b->off < b->len) {
    ssize_t w = send(fd, b->p + b->off, b->len - b->off, MSG_NOSIGNAL);
    if (w < 0)
      return errno == EAGAIN ? 1 : -1;
    b->off += (size_t)w;
  }
  b->off = b->len = 0;
  return 0;
}

static size_t in_cap_for(size_t size) {
  size_t need = 2 * (BENCH_HDR + size);
  return need < 65536 ? 65536 : need;
}

/* ---- The echo thread ----------------------------------------------------- */

typedef struct echo_conn {
  int fd;
  buf in, out;
} echo_conn;

typedef struct echo_side {
  int lfd, tcp;
  size_t in_cap;
  atomic_int stop;
  pthread_t thread;
} echo_side;

/* Read, answer every complete frame in place, send them back. Returns -1 if
 * the connection is finished. */
static int echo_serve(echo_conn *ec, size_t in_cap) {
  for (int round = 0; round < 8; round++) {
    buf *in = &ec->in;
    size_t space = in_cap - in->len;
    ssize_t r = recv(ec->fd, in->p + in->len, space, 0);
    if (r == 0)
      return -1;
    if (r < 0)
      return errno == EAGAIN ? 0 : -1;
    in->len += (size_t)r;
    size_t p = 0;
    while (in->len - p >= BENCH_HDR) {
      size_t fl = bench_frame_len(in->p + p);
      if (fl > in_cap)
        return -1; /* larger than the workload's frames */
      if (in->len - p < fl)
        break;
      bench_hdr_answer(in->p + p);
      p += fl;
    }
    if (p) {
      ssize_t w = send(ec->fd, in->p, p, MSG_NOSIGNAL);
      if (w < 0 && errno != EAGAIN)
        return -1;
      size_t done = w < 0 ? 0 : (size_t)w;
      if (done < p) {
        if (buf_append(&ec->out, in->p + done, p - done) != 0)
          return -1;
      }
      memmove(in->p, in->p + p, in->len - p);
      in->len -= p;
      if (done < p)
        return 0; /* wait until the socket drains */
    }
    if ((size_t)r < space)
      return 0; /* the socket is empty */
  }
  return 0;
}

static void *echo_main(void *arg) {
  echo_side *s = arg;
  int n = 0, cap = 64;
  struct pollfd *pf = malloc((size_t)(cap + 1) * sizeof *pf);
  echo_conn *ec = malloc((size_t)(cap + 1) * sizeof *ec);
  if (!pf || !ec)
    return NULL;
  pf[0].fd = s->lfd;
  pf[0].events = POLLIN;
  while (!atomic_load_explicit(&s->stop, memory_order_relaxed)) {
    int k = poll(pf, (nfds_t)n + 1, 50);
    if (k <= 0)
      continue;
    if (pf[0].revents & POLLIN) {
      int fd;
      while ((fd = accept4(s->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
        if (n == cap) {
          cap *= 2;
          struct pollfd *npf = realloc(pf, (size_t)(cap + 1) * sizeof *pf);
          echo_conn *nec = npf ? realloc(ec, (size_t)(cap + 1) * sizeof *ec) : NULL;
          if (!npf || !nec) {
            close(fd);
            break;
          }
          pf = npf;
          ec = nec;
        }
        bench_sock_setup(fd, s->tcp);
        n++;
        memset(&ec[n], 0, sizeof ec[n]);
        ec[n].fd = fd;
        ec[n].in.p = malloc(s->in_cap);
        pf[n].fd = fd;
        pf[n].events = POLLIN;
        pf[n].revents = 0;
      }
    }
    for (int i = 1; i <= n; i++) {
      short re = pf[i].revents;
      if (!re)
        continue;
      int dead = 0;
      if (re & POLLOUT)
        dead = buf_flush(&ec[i].out, ec[i].fd) < 0;
      if (!dead && ec[i].out.len == 0 && (re & (POLLIN | POLLHUP | POLLERR)))
        dead = echo_serve(&ec[i], s->in_cap) < 0;
      if (dead) {
        close(ec[i].fd);
        free(ec[i].in.p);
        free(ec[i].out.p);
        ec[i] = ec[n];
        pf[i] = pf[n];
        n--;
        i--;
        continue;
      }
      pf[i].events = ec[i].out.len > ec[i].out.off ? POLLOUT : POLLIN;
    }
  }
  for (int i = 1; i <= n; i++) {
    close(ec[i].fd);
    free(ec[i].in.p);
    free(ec[i].out.p);
  }
  free(pf);
  free(ec);
  return NULL;
}

/* ---- The load thread ----------------------------------------------------- */

typedef struct load_conn {
  int fd;
  int hello; /* the HelloResponse came */
  buf in, out;
  bench_conn bc;
  uint8_t (*slots)[BENCH_HDR + 8]; /* header + sequence number per request of a batch */
} load_conn;

/* Send k requests in gathered writes; what the socket refuses is copied to
 * out. Returns -1 on error. */
static int send_requests(load_conn *lc, const bench_case *c, int k, const uint8_t *tmpl,
                         int64_t now) {
  struct iovec iov[IOV_MAX_BATCH];
  while (k > 0) {
    int f = k < IOV_MAX_BATCH / 2 ? k : IOV_MAX_BATCH / 2;
    size_t total = 0;
    for (int j = 0; j < f; j++) {
      uint8_t *s = lc->slots[j];
      uint64_t seq = bench_conn_next(&lc->bc);
      bench_put_header(s, BENCH_OP_REQUEST, seq + 1, 0, (uint16_t)c->size);
      bench_body_set_seq(s + BENCH_HDR, seq);
      iov[2 * j].iov_base = s;
      iov[2 * j].iov_len = BENCH_HDR + 8;
      iov[2 * j + 1].iov_base = (void *)(tmpl + 8);
      iov[2 * j + 1].iov_len = c->size - 8;
      total += BENCH_HDR + c->size;
    }
    lc->bc.sent_at = now;
    size_t done = 0;
    if (lc->out.len == lc->out.off) {
      ssize_t w = writev(lc->fd, iov, 2 * f);
      if (w < 0 && errno != EAGAIN)
        return -1;
      done = w < 0 ? 0 : (size_t)w;
    }
    for (int i = 0; i < 2 * f && done < total; i++) {
      size_t len = iov[i].iov_len;
      if (done >= len) {
        done -= len;
        total -= len;
        continue;
      }
      if (buf_append(&lc->out, (uint8_t *)iov[i].iov_base + done, len - done) != 0)
        return -1;
      total -= len;
      done = 0;
    }
    k -= f;
  }
  return 0;
}

/* Read and check echoes; returns how many came back (to be replaced), or -1. */
static int load_read(load_conn *lc, const bench_case *c, size_t in_cap, int phase, int64_t now,
                     bench_result *r, bench_samples *lat) {
  int back = 0;
  for (int round = 0; round < 8; round++) {
    buf *in = &lc->in;
    size_t space = in_cap - in->len;
    ssize_t n = recv(lc->fd, in->p + in->len, space, 0);
    if (n == 0)
      return -1;
    if (n < 0)
      return errno == EAGAIN ? back : -1;
    in->len += (size_t)n;
    size_t p = 0;
    while (in->len - p >= BENCH_HDR) {
      const uint8_t *h = in->p + p;
      size_t fl = bench_frame_len(h);
      if (fl > in_cap)
        return -1;
      if (in->len - p < fl)
        break;
      if (!lc->hello) {
        lc->hello = 1;
        if (bench_hdr_opcode(h) != BENCH_OP_HELLO_RESPONSE)
          r->errors++;
      } else if (bench_hdr_opcode(h) != BENCH_OP_RESPONSE ||
                 bench_conn_check(&lc->bc, c->size, bench_hdr_body_len(h),
                                  h + BENCH_HDR + bench_hdr_th_len(h), bench_hdr_id(h)) != 0) {
        r->errors++;
      } else {
        back++;
        if (phase == 1) {
          r->echoes++;
          if (c->scenario == BENCH_PINGPONG)
            bench_samples_add(lat, now - lc->bc.sent_at);
        }
      }
      p += fl;
    }
    memmove(in->p, in->p + p, in->len - p);
    in->len -= p;
    if ((size_t)n < space)
      break; /* the socket is empty */
  }
  return back;
}

static int load_run(const bench_case *c, const struct sockaddr_storage *ss, socklen_t sl,
                    bench_result *r) {
  int tcp = c->transport == BENCH_TCP;
  size_t in_cap = in_cap_for(c->size);
  const uint8_t *tmpl = bench_body_template(c->size);
  load_conn *lc = calloc((size_t)c->conns, sizeof *lc);
  struct pollfd *pf = calloc((size_t)c->conns, sizeof *pf);
  int rc = lc && pf && tmpl ? 0 : -1;
  int opened = 0;
  for (; rc == 0 && opened < c->conns; opened++) {
    load_conn *l = &lc[opened];
    l->fd = bench_sock_connect(ss, sl, tcp);
    l->in.p = malloc(in_cap);
    l->slots = malloc((size_t)(IOV_MAX_BATCH / 2) * sizeof *l->slots);
    if (l->fd < 0 || !l->in.p || !l->slots) {
      rc = -1;
      opened++;
      break;
    }
    pf[opened].fd = l->fd;
  }
  bench_clock k;
  bench_samples lat = {0};
  bench_clock_start(&k, c);
  for (int i = 0; rc == 0 && i < c->conns; i++) {
    uint8_t hello[BENCH_HDR];
    bench_put_header(hello, BENCH_OP_HELLO_REQUEST, 0, 0, 0);
    if (buf_append(&lc[i].out, hello, sizeof hello) != 0 ||
        send_requests(&lc[i], c, c->window, tmpl, bench_now_ns()) != 0 ||
        buf_flush(&lc[i].out, lc[i].fd) < 0)
      rc = -1;
  }
  while (rc == 0) {
    for (int i = 0; i < c->conns; i++)
      pf[i].events = (short)(POLLIN | (lc[i].out.len > lc[i].out.off ? POLLOUT : 0));
    int n = poll(pf, (nfds_t)c->conns, 100);
    int64_t now = bench_now_ns();
    int phase = bench_phase(&k, now);
    if (phase == 2)
      break;
    for (int i = 0; n > 0 && i < c->conns; i++) {
      short re = pf[i].revents;
      if (!re)
        continue;
      n--;
      if ((re & POLLOUT) && buf_flush(&lc[i].out, lc[i].fd) < 0) {
        r->errors++;
        rc = -1;
        break;
      }
      if (re & (POLLIN | POLLHUP | POLLERR)) {
        int back = load_read(&lc[i], c, in_cap, phase, now, r, &lat);
        if (back < 0 || (back > 0 && send_requests(&lc[i], c, back, tmpl, bench_now_ns()) != 0)) {
          r->errors++;
          rc = -1;
          break;
        }
      }
    }
  }
  r->elapsed = c->seconds;
  bench_samples_finish(&lat, r);
  for (int i = 0; lc && i < opened; i++) {
    if (lc[i].fd >= 0)
      close(lc[i].fd);
    free(lc[i].in.p);
    free(lc[i].out.p);
    free(lc[i].slots);
  }
  free(lc);
  free(pf);
  return rc;
}

static int run_case(const bench_case *c, bench_result *r) {
  echo_side es;
  struct sockaddr_storage ss;
  socklen_t sl = sizeof ss;
  memset(&es, 0, sizeof es);
  es.tcp = c->transport == BENCH_TCP;
  es.in_cap = in_cap_for(c->size);
  es.lfd = bench_sock_listen(c, &ss, &sl);
  if (es.lfd < 0)
    return -1;
  atomic_init(&es.stop, 0);
  if (pthread_create(&es.thread, NULL, echo_main, &es) != 0) {
    close(es.lfd);
    return -1;
  }
  int rc = load_run(c, &ss, sl, r);
  atomic_store(&es.stop, 1);
  pthread_join(es.thread, NULL);
  close(es.lfd);
  return rc;
}

int main(int argc, char **argv) {
  return bench_main(argc, argv, "raw-poll",
                    "echo and load in one process: two threads, each one hand-written "
                    "poll() loop",
                    run_case);
}
