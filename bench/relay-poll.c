/* relay-poll — the floor of tofu's threading model, written by hand.
 *
 * The BENCH.md workload with each side split the way tofu splits it: an I/O
 * thread (one non-blocking poll() loop, the Reactor's part) and an
 * application thread, and every byte read or written crosses between the two
 * through a locked queue. Everything else is as cheap as this shape allows,
 * so that what it costs over raw-poll (one thread per side) is what any
 * library of this shape pays at least:
 *   - what one read brings is handed over whole, as one batch, with no
 *     message objects and no copy: the I/O thread's read buffer itself
 *     travels to the application, is answered in place (the echo side turns
 *     each Request into its Response, the load side each checked echo into
 *     its next Request) and travels back to be written from;
 *   - one lock per hand-over of a pass's batches, in each direction;
 *   - the I/O thread is woken through an eventfd only when it is parked in
 *     poll(), the application thread through a condition variable only when
 *     it waits.
 * It is a baseline for docs/performance.md, not a library: no backpressure
 * beyond the workload's window, no hand-back, no limits.
 *
 * RELAY_KEEP_REQUESTS=1 (the line "relay-poll-keep") adds the one duty of
 * tofu's that costs memory in proportion to the requests in flight: every
 * request written stays kept until its answer comes. The load side's I/O
 * thread keeps each batch it wrote (instead of reusing its buffer at once)
 * and matches every echo it reads against the oldest request kept on that
 * connection, by id; a batch is reused once all of its requests are
 * answered. Nothing is copied for it: this is the least that keeping the
 * requests can cost. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "bench.h"
#include "bench_sock.h"

/* ---- Batches: one read's complete frames, or frames to write ------------- */

typedef struct batch {
  struct batch *next;
  int conn; /* index into the side's connection table */
  uint8_t *p;
  size_t len, cap;
} batch;

typedef struct bq {
  batch *head, *tail;
} bq;

static void bq_push(bq *q, batch *b) {
  b->next = NULL;
  if (q->tail)
    q->tail->next = b;
  else
    q->head = b;
  q->tail = b;
}

static void bq_append(bq *q, bq *more) {
  if (!more->head)
    return;
  if (q->tail)
    q->tail->next = more->head;
  else
    q->head = more->head;
  q->tail = more->tail;
  more->head = more->tail = NULL;
}

static batch *batch_new(size_t cap) {
  batch *b = calloc(1, sizeof *b);
  if (b && !(b->p = malloc(cap))) {
    free(b);
    return NULL;
  }
  if (b)
    b->cap = cap;
  return b;
}

static void batch_free(batch *b) {
  if (b) {
    free(b->p);
    free(b);
  }
}

/* ---- A side: its I/O thread, its application thread and the two queues -- */

typedef struct conn {
  int fd;
  batch *in;    /* what has been read and not handed over yet */
  uint8_t *out; /* bytes the socket refused */
  size_t out_len, out_cap;
  /* RELAY_KEEP_REQUESTS: the batches written, oldest first, and the offset
   * of the oldest unanswered request in the first. */
  batch *kept, *kept_tail;
  size_t kept_at;
} conn;

typedef struct side {
  int tcp, lfd; /* lfd: the listener (the echo side), or -1 */
  size_t in_cap;
  conn *conns;
  int n, cap;
  atomic_int stop;
  pthread_t io_thread;

  pthread_mutex_t in_mu; /* the application's inbox */
  pthread_cond_t in_cv;
  bq inbox;
  int app_waiting;
  atomic_int delivered; /* the inbox has something (read without the lock) */

  pthread_mutex_t out_mu; /* the I/O thread's outbox */
  bq outbox;
  int io_parked;
  int efd;
  atomic_int posted; /* the outbox has something (read without the lock) */

  batch *spare;         /* the I/O thread's free batches */
  int keep;             /* RELAY_KEEP_REQUESTS, on the load side */
  atomic_int unmatched; /* echoes that did not answer the oldest kept request */
} side;

/* How many times the I/O thread yields before it parks after a pass that
 * handed something to the application (as tofu's Reactor does), and the
 * application before it waits. The defaults are the best measured for each
 * scenario (docs/performance.md): 16 and 0 for stream, none for pingpong,
 * where the yields only bounce the one CPU between the threads.
 * RELAY_YIELDS and RELAY_APP_YIELDS override them. */
static int io_yields, app_yields;
static int keep_requests; /* RELAY_KEEP_REQUESTS */

static batch *spare_get(side *s) {
  batch *b = s->spare;
  if (b) {
    s->spare = b->next;
    b->len = 0;
    return b;
  }
  return batch_new(s->in_cap);
}

static void spare_put(side *s, batch *b) {
  b->next = s->spare;
  s->spare = b;
}

static int side_init(side *s, int tcp, int lfd, size_t in_cap) {
  memset(s, 0, sizeof *s);
  s->tcp = tcp;
  s->lfd = lfd;
  s->in_cap = in_cap;
  atomic_init(&s->stop, 0);
  atomic_init(&s->posted, 0);
  atomic_init(&s->delivered, 0);
  atomic_init(&s->unmatched, 0);
  pthread_mutex_init(&s->in_mu, NULL);
  pthread_cond_init(&s->in_cv, NULL);
  pthread_mutex_init(&s->out_mu, NULL);
  s->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  return s->efd >= 0 ? 0 : -1;
}

static void side_fini(side *s) {
  for (int i = 0; i < s->n; i++) {
    close(s->conns[i].fd);
    batch_free(s->conns[i].in);
    free(s->conns[i].out);
    for (batch *b = s->conns[i].kept, *nx; b; b = nx) {
      nx = b->next;
      batch_free(b);
    }
  }
  free(s->conns);
  for (batch *b = s->spare, *nx; b; b = nx) {
    nx = b->next;
    batch_free(b);
  }
  for (bq *q = &s->inbox; q; q = q == &s->inbox ? &s->outbox : NULL)
    for (batch *b = q->head, *nx; b; b = nx) {
      nx = b->next;
      batch_free(b);
    }
  close(s->efd);
  pthread_mutex_destroy(&s->in_mu);
  pthread_cond_destroy(&s->in_cv);
  pthread_mutex_destroy(&s->out_mu);
}

static int side_add_conn(side *s, int fd) {
  if (s->n == s->cap) {
    int cap = s->cap ? 2 * s->cap : 64;
    conn *nc = realloc(s->conns, (size_t)cap * sizeof *nc);
    if (!nc)
      return -1;
    s->conns = nc;
    s->cap = cap;
  }
  conn *c = &s->conns[s->n];
  memset(c, 0, sizeof *c);
  c->fd = fd;
  c->in = spare_get(s);
  if (!c->in)
    return -1;
  s->n++;
  return 0;
}

/* The application hands batches to the I/O thread: one lock, and one
 * eventfd write if the I/O thread is parked. */
static void side_post(side *s, bq *q) {
  if (!q->head)
    return;
  pthread_mutex_lock(&s->out_mu);
  bq_append(&s->outbox, q);
  atomic_store_explicit(&s->posted, 1, memory_order_relaxed);
  int wake = s->io_parked;
  s->io_parked = 0;
  pthread_mutex_unlock(&s->out_mu);
  if (wake) {
    uint64_t one = 1;
    if (write(s->efd, &one, sizeof one) < 0) {
      /* the counter is full: the I/O thread is being woken anyway */
    }
  }
}

/* The application takes everything delivered, waiting for it; NULL once
 * the side stops. */
static batch *side_receive(side *s) {
  for (int y = 0; y < app_yields && !atomic_load_explicit(&s->delivered, memory_order_relaxed); y++)
    sched_yield();
  pthread_mutex_lock(&s->in_mu);
  while (!s->inbox.head && !atomic_load_explicit(&s->stop, memory_order_relaxed)) {
    s->app_waiting = 1;
    pthread_cond_wait(&s->in_cv, &s->in_mu);
    s->app_waiting = 0;
  }
  batch *b = s->inbox.head;
  s->inbox.head = s->inbox.tail = NULL;
  atomic_store_explicit(&s->delivered, 0, memory_order_relaxed);
  pthread_mutex_unlock(&s->in_mu);
  return b;
}

static void side_stop(side *s) {
  atomic_store(&s->stop, 1);
  pthread_mutex_lock(&s->in_mu);
  pthread_cond_broadcast(&s->in_cv);
  pthread_mutex_unlock(&s->in_mu);
  uint64_t one = 1;
  if (write(s->efd, &one, sizeof one) < 0) {
    /* already signalled */
  }
}

/* Bytes for c: sent now if nothing is pending before them, the rest kept. */
static int conn_write(conn *c, const uint8_t *p, size_t len) {
  size_t done = 0;
  if (c->out_len == 0) {
    ssize_t w = send(c->fd, p, len, MSG_NOSIGNAL);
    if (w < 0 && errno != EAGAIN)
      return -1;
    done = w < 0 ? 0 : (size_t)w;
  }
  if (done < len) {
    size_t need = c->out_len + len - done;
    if (need > c->out_cap) {
      size_t cap = c->out_cap ? c->out_cap : 4096;
      while (cap < need)
        cap *= 2;
      uint8_t *np = realloc(c->out, cap);
      if (!np)
        return -1;
      c->out = np;
      c->out_cap = cap;
    }
    memcpy(c->out + c->out_len, p + done, len - done);
    c->out_len += len - done;
  }
  return 0;
}

static int conn_flush(conn *c) {
  size_t off = 0;
  while (off < c->out_len) {
    ssize_t w = send(c->fd, c->out + off, c->out_len - off, MSG_NOSIGNAL);
    if (w < 0) {
      if (errno != EAGAIN)
        return -1;
      break;
    }
    off += (size_t)w;
  }
  memmove(c->out, c->out + off, c->out_len - off);
  c->out_len -= off;
  return 0;
}

/* A batch c wrote: kept until every request in it is answered. */
static void keep_written(conn *c, batch *b) {
  b->next = NULL;
  if (c->kept_tail)
    c->kept_tail->next = b;
  else
    c->kept = b;
  c->kept_tail = b;
}

/* The answer with header h came: it must answer c's oldest kept request,
 * which ends either way (its batch is reused once its last request ended),
 * so that a wrong answer costs an error and not memory. -1 when it does not
 * answer that request. */
static int answer_kept(side *s, conn *c, const uint8_t *h) {
  batch *k = c->kept;
  if (!k)
    return -1;
  int rc = bench_hdr_id(k->p + c->kept_at) == bench_hdr_id(h) ? 0 : -1;
  c->kept_at += bench_frame_len(k->p + c->kept_at);
  if (c->kept_at >= k->len) {
    c->kept = k->next;
    if (!c->kept)
      c->kept_tail = NULL;
    c->kept_at = 0;
    spare_put(s, k);
  }
  return rc;
}

/* Read what c has; the complete frames go to `ready` as one batch (the read
 * buffer itself), the partial one stays. Returns -1 when c is finished. */
static int conn_read(side *s, conn *c, int idx, bq *ready) {
  for (int round = 0; round < 8; round++) {
    batch *in = c->in;
    size_t space = in->cap - in->len;
    ssize_t r = recv(c->fd, in->p + in->len, space, 0);
    if (r == 0)
      return -1;
    if (r < 0)
      return errno == EAGAIN ? 0 : -1;
    in->len += (size_t)r;
    size_t p = 0;
    while (in->len - p >= BENCH_HDR) {
      size_t fl = bench_frame_len(in->p + p);
      if (fl > in->cap)
        return -1;
      if (in->len - p < fl)
        break;
      if (s->keep && answer_kept(s, c, in->p + p) != 0)
        atomic_fetch_add_explicit(&s->unmatched, 1, memory_order_relaxed);
      p += fl;
    }
    if (p) {
      batch *next = spare_get(s);
      if (!next)
        return -1;
      memcpy(next->p, in->p + p, in->len - p);
      next->len = in->len - p;
      in->len = p;
      in->conn = idx;
      bq_push(ready, in);
      c->in = next;
    }
    if ((size_t)r < space)
      return 0;
  }
  return 0;
}

static void *io_main(void *arg) {
  side *s = arg;
  struct pollfd *pf = NULL;
  int pf_cap = 0;
  int failed = 0, delivered = 0;
  while (!atomic_load_explicit(&s->stop, memory_order_relaxed) && !failed) {
    /* What the application handed over: write it. */
    pthread_mutex_lock(&s->out_mu);
    batch *todo = s->outbox.head;
    s->outbox.head = s->outbox.tail = NULL;
    atomic_store_explicit(&s->posted, 0, memory_order_relaxed);
    pthread_mutex_unlock(&s->out_mu);
    for (batch *b = todo, *nx; b; b = nx) {
      nx = b->next;
      if (conn_write(&s->conns[b->conn], b->p, b->len) != 0)
        failed = 1;
      if (s->keep)
        keep_written(&s->conns[b->conn], b);
      else
        spare_put(s, b);
    }
    int fixed = s->lfd >= 0 ? 2 : 1;
    if (s->n + fixed > pf_cap) {
      pf_cap = 2 * (s->n + fixed);
      struct pollfd *np = realloc(pf, (size_t)pf_cap * sizeof *pf);
      if (!np)
        break;
      pf = np;
    }
    pf[0].fd = s->efd;
    pf[0].events = POLLIN;
    if (s->lfd >= 0) {
      pf[1].fd = s->lfd;
      pf[1].events = POLLIN;
    }
    for (int i = 0; i < s->n; i++) {
      pf[fixed + i].fd = s->conns[i].fd;
      pf[fixed + i].events = (short)(POLLIN | (s->conns[i].out_len ? POLLOUT : 0));
    }
    /* Before parking, give the core to the application for a few turns:
     * its answer then finds this thread awake (tofu's Reactor does the same
     * after a pass that delivered). */
    if (delivered)
      for (int y = 0; y < io_yields && !atomic_load_explicit(&s->posted, memory_order_relaxed); y++)
        sched_yield();
    delivered = 0;
    /* Park only with an empty outbox; a post after this wakes the eventfd. */
    pthread_mutex_lock(&s->out_mu);
    int timeout = s->outbox.head ? 0 : -1;
    s->io_parked = timeout != 0;
    pthread_mutex_unlock(&s->out_mu);
    int polled = s->n; /* accepts below add connections after these */
    int k = poll(pf, (nfds_t)(polled + fixed), timeout);
    if (timeout) {
      pthread_mutex_lock(&s->out_mu);
      s->io_parked = 0;
      pthread_mutex_unlock(&s->out_mu);
    }
    if (k <= 0)
      continue;
    if (pf[0].revents & POLLIN) {
      uint64_t v;
      if (read(s->efd, &v, sizeof v) < 0) {
        /* spurious */
      }
    }
    if (s->lfd >= 0 && (pf[1].revents & POLLIN)) {
      int fd;
      while ((fd = accept4(s->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
        bench_sock_setup(fd, s->tcp);
        if (side_add_conn(s, fd) != 0) {
          close(fd);
          break;
        }
      }
    }
    bq ready = {0};
    for (int i = 0; i < polled; i++) {
      short re = pf[fixed + i].revents;
      if (!re)
        continue;
      conn *c = &s->conns[i];
      if ((re & POLLOUT) && conn_flush(c) != 0)
        failed = 1;
      if ((re & (POLLIN | POLLHUP | POLLERR)) && conn_read(s, c, i, &ready) != 0)
        failed = 1;
    }
    delivered = ready.head != NULL;
    if (ready.head) {
      pthread_mutex_lock(&s->in_mu);
      bq_append(&s->inbox, &ready);
      atomic_store_explicit(&s->delivered, 1, memory_order_relaxed);
      int wake = s->app_waiting;
      pthread_mutex_unlock(&s->in_mu);
      if (wake)
        pthread_cond_signal(&s->in_cv);
    }
  }
  free(pf);
  return NULL;
}

/* ---- The echo side's application: answer every frame in place ----------- */

static void *echo_app(void *arg) {
  side *s = arg;
  batch *b;
  while ((b = side_receive(s)) != NULL) {
    bq back = {0};
    for (batch *nx; b; b = nx) {
      nx = b->next;
      for (size_t p = 0; p < b->len; p += bench_frame_len(b->p + p))
        bench_hdr_answer(b->p + p);
      bq_push(&back, b);
    }
    side_post(s, &back);
  }
  return NULL;
}

/* ---- The load side's application ----------------------------------------- */

typedef struct load_state {
  bench_conn *bc;
  int *hello;
} load_state;

/* Requests written at p: header and sequence number; the rest of the body is
 * already the template (a fresh buffer gets it copied, an echo carries it). */
static void put_request(uint8_t *p, bench_conn *bc, size_t size, int fresh, const uint8_t *tmpl) {
  uint64_t seq = bench_conn_next(bc);
  bench_put_header(p, BENCH_OP_REQUEST, seq + 1, 0, (uint16_t)size);
  if (fresh)
    memcpy(p + BENCH_HDR, tmpl, size);
  bench_body_set_seq(p + BENCH_HDR, seq);
}

static int load_app(const bench_case *c, side *s, bench_result *r) {
  const uint8_t *tmpl = bench_body_template(c->size);
  size_t fl = BENCH_HDR + c->size;
  bench_conn *bc = calloc((size_t)c->conns, sizeof *bc);
  int *hello = calloc((size_t)c->conns, sizeof *hello);
  if (!bc || !hello || !tmpl) {
    free(bc);
    free(hello);
    return -1;
  }
  bench_clock k;
  bench_samples lat = {0};
  bench_clock_start(&k, c);
  bq first = {0};
  int rc = 0;
  for (int i = 0; i < c->conns; i++) {
    size_t need = BENCH_HDR + (size_t)c->window * fl;
    batch *b = batch_new(need > s->in_cap ? need : s->in_cap);
    if (!b) {
      rc = -1;
      break;
    }
    b->conn = i;
    bench_put_header(b->p, BENCH_OP_HELLO_REQUEST, 0, 0, 0);
    b->len = BENCH_HDR;
    int64_t now = bench_now_ns();
    for (int j = 0; j < c->window; j++, b->len += fl)
      put_request(b->p + b->len, &bc[i], c->size, 1, tmpl);
    bc[i].sent_at = now;
    bq_push(&first, b);
  }
  side_post(s, &first);
  while (rc == 0) {
    batch *b = side_receive(s);
    int64_t now = bench_now_ns();
    int phase = bench_phase(&k, now);
    if (phase == 2) {
      for (batch *nx; b; b = nx) {
        nx = b->next;
        batch_free(b);
      }
      break;
    }
    bq next = {0};
    for (batch *nx; b; b = nx) {
      nx = b->next;
      int i = b->conn;
      size_t w = 0;
      for (size_t p = 0; p < b->len;) {
        uint8_t *h = b->p + p;
        size_t len = bench_frame_len(h);
        if (!hello[i]) {
          hello[i] = 1;
          if (bench_hdr_opcode(h) != BENCH_OP_HELLO_RESPONSE)
            r->errors++;
        } else if (bench_hdr_opcode(h) != BENCH_OP_RESPONSE ||
                   bench_conn_check(&bc[i], c->size, bench_hdr_body_len(h),
                                    h + BENCH_HDR + bench_hdr_th_len(h), bench_hdr_id(h)) != 0) {
          r->errors++;
        } else {
          if (phase == 1) {
            r->echoes++;
            if (c->scenario == BENCH_PINGPONG)
              bench_samples_add(&lat, now - bc[i].sent_at);
          }
          /* The echo becomes the next request, in place. */
          if (w != p)
            memmove(b->p + w, h, len);
          put_request(b->p + w, &bc[i], c->size, 0, tmpl);
          w += len;
        }
        p += len;
      }
      b->len = w;
      if (w) {
        bc[i].sent_at = bench_now_ns();
        bq_push(&next, b);
      } else {
        batch_free(b);
      }
    }
    side_post(s, &next);
  }
  r->elapsed = c->seconds;
  bench_samples_finish(&lat, r);
  free(bc);
  free(hello);
  return rc;
}

/* ---- One case -------------------------------------------------------------- */

static int run_case(const bench_case *c, bench_result *r) {
  const char *y = getenv("RELAY_YIELDS"), *ay = getenv("RELAY_APP_YIELDS");
  io_yields = y ? atoi(y) : c->scenario == BENCH_STREAM ? 16 : 0;
  app_yields = ay ? atoi(ay) : 0;
  int tcp = c->transport == BENCH_TCP;
  size_t need = 2 * (BENCH_HDR + c->size);
  size_t in_cap = need < 65536 ? 65536 : need;
  struct sockaddr_storage ss;
  socklen_t sl = sizeof ss;
  int lfd = bench_sock_listen(c, &ss, &sl);
  if (lfd < 0)
    return -1;
  side echo, load;
  if (side_init(&echo, tcp, lfd, in_cap) != 0 || side_init(&load, tcp, -1, in_cap) != 0) {
    close(lfd);
    return -1;
  }
  load.keep = keep_requests;
  int rc = 0;
  for (int i = 0; rc == 0 && i < c->conns; i++) {
    int fd = bench_sock_connect(&ss, sl, tcp);
    if (fd < 0) {
      rc = -1;
      break;
    }
    if (side_add_conn(&load, fd) != 0) {
      close(fd);
      rc = -1;
    }
  }
  pthread_t echo_app_thread;
  int started = 0;
  if (rc == 0 && pthread_create(&echo.io_thread, NULL, io_main, &echo) == 0) {
    started |= 1;
    if (pthread_create(&echo_app_thread, NULL, echo_app, &echo) == 0)
      started |= 2;
    if (pthread_create(&load.io_thread, NULL, io_main, &load) == 0)
      started |= 4;
  }
  if (started == 7)
    rc = load_app(c, &load, r);
  else
    rc = -1;
  side_stop(&load);
  side_stop(&echo);
  if (started & 4)
    pthread_join(load.io_thread, NULL);
  if (started & 2)
    pthread_join(echo_app_thread, NULL);
  if (started & 1)
    pthread_join(echo.io_thread, NULL);
  r->errors += (uint64_t)atomic_load(&load.unmatched);
  side_fini(&load);
  side_fini(&echo);
  close(lfd);
  return rc;
}

int main(int argc, char **argv) {
  const char *k = getenv("RELAY_KEEP_REQUESTS");
  keep_requests = k && atoi(k) != 0;
  return bench_main(argc, argv, keep_requests ? "relay-poll-keep" : "relay-poll",
                    "echo and load in one process: per side an I/O thread (a poll() loop) and "
                    "an application thread, every read handed over whole through locked queues",
                    run_case);
}
