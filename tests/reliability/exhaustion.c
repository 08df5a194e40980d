/* tofu — the reliability suite: exhaustion of memory and descriptors, and a
 * peer that stops reading. In each, the engine must stop the work it cannot
 * do without spinning (the CPU time it uses while stalled is measured), keep
 * serving everything else, and resume without loss. */
#ifndef _WIN32
#define _POSIX_C_SOURCE 200809L
#endif
#include <stdio.h>
#include <string.h>

#include "suite.h"

#ifndef _WIN32
#include <poll.h>
#include <sys/resource.h>
#include <unistd.h>
#endif

#ifndef _WIN32
/* Every descriptor the process may open taken: the soft limit set `room`
 * numbers above the highest open one (the limit is on numbers), and every
 * free number below it filled with a dup of 0 (there are gaps below the
 * highest). fds_give_one hands one back, fds_restore all of them and the
 * limit. */
typedef struct fd_fill {
  struct rlimit saved;
  int fds[4096];
  int n;
} fd_fill;

static void fds_take_all(fd_fill *f, int room) {
  ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &f->saved), 0);
  int high = rel_highest_fd();
  ck_assert_int_gt(high, 0);
  struct rlimit rl = f->saved;
  rl.rlim_cur = (rlim_t)(high + 1 + room);
  ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
  f->n = 0;
  while (f->n < 4096 && (f->fds[f->n] = dup(0)) >= 0)
    f->n++;
}

static void fds_give_one(fd_fill *f) {
  ck_assert_int_gt(f->n, 0);
  close(f->fds[--f->n]);
}

static void fds_restore(fd_fill *f) {
  ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &f->saved), 0);
  while (f->n > 0)
    close(f->fds[--f->n]);
}
#endif

/* CPU seconds the process may use while everything waits, per second. */
#define IDLE_CPU_PER_SECOND 0.05
#define STALL_MS 500

void case_exhaust_pool_cpu(void) {
  enum { N = 300, BODY = 4000 };
  tofu_engine *es = et_engine(64 * 4500);
  tofu_engine *ec = et_engine(0);
  tofu_group *gs = et_group(es), *gc = et_group(ec);
  char bound[256];
  et_listen(es, gs, "tcp|127.0.0.1|0", bound, sizeof bound);
  uint16_t cch, sch;
  et_connect(ec, gc, gs, es, bound, &cch, &sch);
  for (int i = 0; i < N; i++) {
    tofu_message *m = et_msg(ec, TOFU_OP_SIGNAL, cch, BODY, (unsigned)i);
    tofu_msg_header(m)->message_id = (uint64_t)i + 1;
    et_post(gc, &m);
  }
  static tofu_message *held[N];
  int nheld = 0;
  uint64_t next = 1;
  for (;;) {
    tofu_message *m = et_recv(gs);
    tofu_header *h = tofu_msg_header(m);
    if (h->origin == TOFU_ORIGIN_ENGINE) {
      ck_assert_uint_eq(h->status, TOFU_STATUS_POOL_EMPTY);
      tofu_put(es, &m);
      break;
    }
    ck_assert(h->message_id == next++);
    held[nheld++] = m;
  }
  /* Stalled: the server's pool is empty, the client's socket is full. */
  tofu_engine_stats s0 = {.size = sizeof s0}, s1 = {.size = sizeof s1};
  tofu_engine_get_stats(es, &s0);
  double cpu0 = rel_cpu_seconds();
  uint64_t t0 = mono_now_ms();
  ck_assert_ptr_null(tofu_wait_receive(gs, STALL_MS));
  double cpu = rel_cpu_seconds() - cpu0;
  double secs = (double)(mono_now_ms() - t0) / 1000.0;
  tofu_engine_get_stats(es, &s1);
  printf("stalled %.3f s: %.4f s of CPU, %llu Reactor passes\n", secs, cpu,
         (unsigned long long)(s1.reactor_loops - s0.reactor_loops));
  rel_figure("pool_stall_cpu_ms_per_s", cpu / secs * 1000.0);
  ck_assert_msg(cpu < IDLE_CPU_PER_SECOND * secs + 0.02, "%.4f s of CPU in %.3f s stalled", cpu,
                secs);
  ck_assert_uint_lt(s1.reactor_loops - s0.reactor_loops, 10);
  for (int i = 0; i < nheld; i++)
    tofu_put(es, &held[i]);
  while (next <= N) {
    tofu_message *m = et_recv(gs);
    tofu_header *h = tofu_msg_header(m);
    if (h->origin == TOFU_ORIGIN_APPLICATION) {
      ck_assert(h->message_id == next);
      ck_assert(et_body_ok(m, BODY, (unsigned)(next - 1)));
      next++;
    }
    tofu_put(es, &m);
  }
  tofu_group_destroy(gc);
  tofu_group_destroy(gs);
  et_assert_all_returned(es);
  et_assert_all_returned(ec);
  tofu_engine_destroy(ec);
  tofu_engine_destroy(es);
}

void case_exhaust_emfile_accept(void) {
#ifdef _WIN32
  ck_abort_msg("POSIX only");
#else
  enum { K = 8 };
  tofu_engine *es = et_engine(0), *ec = et_engine(0);
  tofu_group *gs = et_group(es), *gc = et_group(ec);
  char bound[256];
  et_listen(es, gs, "tcp|127.0.0.1|0", bound, sizeof bound);
  uint16_t cch, sch;
  et_connect(ec, gc, gs, es, bound, &cch, &sch);
  tofu_engine_stats st = {.size = sizeof st};
  tofu_engine_get_stats(es, &st);
  size_t base = st.channels;
  /* No descriptor left once K clients are connected: accept fails (EMFILE)
   * while the kernel holds the connections in the backlog. */
  /* Every number taken, then just enough freed for the K clients. */
  static fd_fill fill;
  fds_take_all(&fill, K);
  ck_assert_int_ge(fill.n, K);
  for (int i = 0; i < K; i++)
    fds_give_one(&fill);
  /* Every socket first: the server could take a freed number as soon as the
   * first client connects. */
  tofu_socket c[K];
  for (int i = 0; i < K; i++)
    ck_assert_int_eq(net_tcp_socket(&c[i]), NET_OK);
  for (int i = 0; i < K; i++)
    ck_assert_int_eq(net_tcp_connect_loopback(c[i], rel_port_of(bound)), NET_OK);
  tofu_engine_get_stats(es, &st);
  uint64_t loops0 = st.reactor_loops;
  double cpu0 = rel_cpu_seconds();
  uint64_t t0 = mono_now_ms();
  /* Meanwhile the server keeps serving its connection. */
  rel_echo_once(ec, gc, cch, es, gs, 5);
  ck_assert_ptr_null(tofu_wait_receive(gs, STALL_MS));
  double cpu = rel_cpu_seconds() - cpu0;
  double secs = (double)(mono_now_ms() - t0) / 1000.0;
  tofu_engine_get_stats(es, &st);
  ck_assert_uint_eq(st.channels, base); /* none could be accepted */
  printf("EMFILE for %.3f s: %.4f s of CPU, %llu Reactor passes\n", secs, cpu,
         (unsigned long long)(st.reactor_loops - loops0));
  rel_figure("emfile_cpu_ms_per_s", cpu / secs * 1000.0);
  rel_figure("emfile_reactor_passes_per_s", (double)(st.reactor_loops - loops0) / secs);
  ck_assert_msg(cpu < IDLE_CPU_PER_SECOND * secs + 0.02, "%.4f s of CPU in %.3f s", cpu, secs);
  /* Retried about every 100 ms, not in a loop. */
  ck_assert_uint_lt(st.reactor_loops - loops0, 50);
  /* Descriptors again: every waiting connection is taken. */
  fds_restore(&fill);
  uint64_t until = mono_now_ms() + ET_DEADLINE_MS;
  for (;;) {
    tofu_engine_get_stats(es, &st);
    if (st.channels == base + K)
      break;
    ck_assert_msg(mono_now_ms() < until, "%zu of %d accepted after EMFILE", st.channels - base, K);
    ck_assert_ptr_null(tofu_wait_receive(gs, 10));
  }
  uint8_t f[16];
  rel_frame(f, TOFU_OP_HELLO_REQUEST, 42, 0, 0);
  ck_assert(rel_send_all(c[0], f, sizeof f));
  tofu_message *m =
      et_expect(gs, TOFU_OP_HELLO_REQUEST, TOFU_ORIGIN_APPLICATION, TOFU_STATUS_SUCCESS);
  tofu_put(es, &m);
  for (int i = 0; i < K; i++)
    net_close(c[i]);
  tofu_group_destroy(gc);
  tofu_group_destroy(gs);
  et_assert_all_returned(es);
  et_assert_all_returned(ec);
  tofu_engine_destroy(ec);
  tofu_engine_destroy(es);
#endif
}

void case_exhaust_peer_stops_reading(void) {
  /* The peer accepts and never reads. What the application posts is held in
   * the channel's send queue, inside the pool's hard limit: buffering is
   * bounded by max_memory, the channel waits (it does not spin), and the
   * application decides when to give up (here ByeSignal): everything still
   * queued comes back with channel_closed. */
  enum { LIMIT = 16 << 20, BODY = 60000 };
  pair_listener l;
  ck_assert_int_eq(pair_listen(PAIR_TCP, &l), NET_OK);
  /* A small receive window, so that the socket buffers hold little of it. */
  (void)net_set_rcvbuf(l.sock, 64 * 1024);
  tofu_engine *e = et_engine(LIMIT);
  tofu_group *g = et_group(e);
  char addr[64];
  snprintf(addr, sizeof addr, "tcp|127.0.0.1|%u", (unsigned)l.port);
  tofu_message *m;
  uint16_t ch = et_post_hello(e, g, addr).channel;
  tofu_socket peer;
  ck_assert_int_eq(net_accept(l.sock, &peer), NET_OK);
  static uint8_t body[BODY];
  int posted = 0;
  for (;;) {
    m = tofu_get(e, TOFU_ALWAYS);
    if (!m)
      break;
    tofu_msg_header(m)->opcode = TOFU_OP_REQUEST;
    tofu_msg_header(m)->channel = ch;
    if (tofu_msg_set_body(m, body, sizeof body) != TOFU_OK) {
      tofu_put(e, &m);
      break;
    }
    et_post(g, &m);
    posted++;
    ck_assert_int_lt(posted, 10000);
  }
  tofu_engine_stats st = {.size = sizeof st};
  tofu_engine_get_stats(e, &st);
  ck_assert_uint_le(st.memory_used, st.memory_limit);
  printf("peer not reading: %d messages of %d bytes posted before the %d-byte limit\n", posted,
         BODY, LIMIT);
  rel_figure("stalled_writer_messages_buffered", posted);
  uint64_t loops0 = st.reactor_loops;
  double cpu0 = rel_cpu_seconds();
  uint64_t t0 = mono_now_ms();
  ck_assert_ptr_null(tofu_wait_receive(g, STALL_MS));
  double cpu = rel_cpu_seconds() - cpu0;
  double secs = (double)(mono_now_ms() - t0) / 1000.0;
  tofu_engine_get_stats(e, &st);
  ck_assert_msg(cpu < IDLE_CPU_PER_SECOND * secs + 0.02, "%.4f s of CPU in %.3f s", cpu, secs);
  ck_assert_uint_lt(st.reactor_loops - loops0, 10);
  /* Give up on the channel. */
  m = et_msg(e, TOFU_OP_BYE_SIGNAL, ch, 0, 0);
  tofu_msg_set_body(m, NULL, 0);
  et_post(g, &m);
  /* Every request comes back, written or not, and the HelloRequest the peer
   * never answered. */
  int back = 0, hello = 0;
  for (;;) {
    m = et_recv(g);
    tofu_header *h = tofu_msg_header(m);
    ck_assert_uint_eq(h->origin, TOFU_ORIGIN_ENGINE);
    ck_assert_uint_eq(h->status, TOFU_STATUS_CHANNEL_CLOSED);
    int done = h->opcode == TOFU_OP_SIGNAL;
    if (h->opcode == TOFU_OP_HELLO_REQUEST)
      hello++;
    else if (!done)
      back++;
    tofu_put(e, &m);
    if (done)
      break;
  }
  ck_assert_int_eq(hello, 1);
  ck_assert_int_eq(back, posted);
  net_close(peer);
  pair_unlisten(&l);
  tofu_group_destroy(g);
  et_assert_all_returned(e);
  tofu_engine_destroy(e);
}

/* No descriptor left for a new engine's poller: tofu_engine_create fails
 * with TOFU_ESYSTEM and takes none, or, with enough of them, makes an
 * engine that works (a timer posted to it wakes its Reactor and comes
 * back). Descriptors are given back one at a time until it works. */
void case_exhaust_fds_engine_create(void) {
#ifdef _WIN32
  ck_abort_msg("POSIX only");
#else
  static fd_fill fill;
  fds_take_all(&fill, 8);
  int refused = 0, made = 0;
  for (int free_fds = 0; free_fds <= 4 && !made; free_fds++) {
    if (free_fds > 0)
      fds_give_one(&fill);
    int before = rel_open_fds();
    tofu_engine *e = (tofu_engine *)&fill; /* must be set */
    int rc = tofu_engine_create(NULL, &e);
    if (rc != TOFU_OK) {
      ck_assert_msg(rc == TOFU_ESYSTEM, "%d free descriptors: tofu_engine_create gave %d", free_fds,
                    rc);
      ck_assert_ptr_null(e);
      ck_assert_int_eq(rel_open_fds(), before);
      refused++;
      continue;
    }
    tofu_group *g = et_group(e);
    tofu_message *m = tofu_get(e, TOFU_ALWAYS);
    tofu_msg_header(m)->message_id = 42;
    ck_assert_int_eq(tofu_post_timer(g, &m, 0), TOFU_OK);
    m = tofu_wait_receive(g, ET_DEADLINE_MS);
    ck_assert_msg(m != NULL, "an engine made with %d free descriptors never woke", free_fds);
    ck_assert(tofu_msg_header(m)->message_id == 42);
    tofu_put(e, &m);
    tofu_group_destroy(g);
    tofu_engine_destroy(e);
    ck_assert_int_eq(rel_open_fds(), before);
    made = 1;
  }
  fds_restore(&fill);
  printf("exhaust_fds_engine_create: refused %d times, then made\n", refused);
  ck_assert_int_gt(refused, 0);
  ck_assert_int_eq(made, 1);
#endif
}

/* tofu_group_os_handle with no descriptor left: TOFU_INVALID_OS_HANDLE, and
 * nothing half made; once one is free again, the next call makes the handle,
 * which follows the queue as it should. */
void case_exhaust_fds_os_handle(void) {
#ifdef _WIN32
  ck_abort_msg("POSIX only");
#else
  tofu_engine *e = et_engine(0);
  tofu_group *g = et_group(e);
  static fd_fill fill;
  fds_take_all(&fill, 8);
  int before = rel_open_fds();
  ck_assert(tofu_group_os_handle(g) == TOFU_INVALID_OS_HANDLE);
  ck_assert_int_eq(rel_open_fds(), before);
  fds_give_one(&fill);
  tofu_os_handle h = tofu_group_os_handle(g);
  fds_restore(&fill);
  ck_assert_msg(h != TOFU_INVALID_OS_HANDLE, "no handle once a descriptor was free again");
  ck_assert_int_ge(h, 0);
  tofu_message *m = tofu_get(e, TOFU_ALWAYS);
  ck_assert_int_eq(tofu_update_receiver(g, &m), TOFU_OK);
  struct pollfd p = {h, POLLIN, 0};
  ck_assert_int_eq(poll(&p, 1, ET_DEADLINE_MS), 1);
  m = tofu_wait_receive(g, 0);
  ck_assert_ptr_nonnull(m);
  tofu_put(e, &m);
  tofu_engine_destroy(e);
#endif
}
