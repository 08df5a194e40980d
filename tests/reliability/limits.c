/* tofu — the reliability suite: what bounds an engine against peers that
 * hold it up. Read-ahead stays inside a fixed budget however many channels
 * pause (limits_half_frames), a frame begun must be finished in time
 * (limits_frame_deadline, limits_deadline_per_frame), and the operator's
 * limits max_channels and max_frame (limits_max_channels, limits_max_frame).
 *
 * A site is a server engine with the options under test, a listener and an
 * echo thread (rel_echo_main) that answers every hello and request and
 * counts the channel_closed notices by cause; the attackers are raw sockets.
 * The test thread waits on an idle group of the site, with deadlines. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "suite.h"
#include "wire.h"

typedef struct site {
  tofu_engine *es;
  tofu_group *gs, *idle;
  rel_echo_server srv;
  plat_thread thr;
  char bound[256];
  uint16_t port;
  size_t base_channels;
} site;

/* A site whose application is the case itself: no echo thread. */
static void site_open_bare(site *s, const tofu_options *o) {
  memset(s, 0, sizeof *s);
  ck_assert_int_eq(tofu_engine_create(o, &s->es), TOFU_OK);
  s->gs = et_group(s->es);
  s->idle = et_group(s->es);
  et_listen(s->es, s->gs, "tcp|127.0.0.1|0", s->bound, sizeof s->bound);
  s->port = rel_port_of(s->bound);
  tofu_engine_stats st = {.size = sizeof st};
  ck_assert_int_eq(tofu_engine_get_stats(s->es, &st), TOFU_OK);
  s->base_channels = st.channels;
}

static void site_open(site *s, const tofu_options *o) {
  site_open_bare(s, o);
  s->srv.e = s->es;
  s->srv.g = s->gs;
  ck_assert_int_eq(plat_thread_start(&s->thr, rel_echo_main, &s->srv), TOFU_OK);
}

static tofu_engine_stats site_stats(site *s) {
  tofu_engine_stats st = {.size = sizeof st};
  ck_assert_int_eq(tofu_engine_get_stats(s->es, &st), TOFU_OK);
  return st;
}

/* The options of the cases that fill the pool: 1 MiB of message memory,
 * frames bounded by frame_timeout_ms (-1: not at all). */
static tofu_options pool_1mib(int frame_timeout_ms) {
  tofu_options o;
  tofu_options_default(&o);
  o.max_memory = 1 << 20;
  o.frame_timeout_ms = frame_timeout_ms;
  return o;
}

/* Wait, in steps of 5 ms on the site's idle group, until cond holds; fail
 * with the message after ms. */
#define SITE_WAIT(s, ms, cond, ...)                                                                \
  do {                                                                                             \
    uint64_t until_ = mono_now_ms() + (uint64_t)(ms);                                              \
    while (!(cond)) {                                                                              \
      ck_assert_msg(mono_now_ms() < until_, __VA_ARGS__);                                          \
      ck_assert_ptr_null(tofu_wait_receive((s)->idle, 5));                                         \
    }                                                                                              \
  } while (0)

static void site_close(site *s) {
  SITE_WAIT(s, 4 * ET_DEADLINE_MS, site_stats(s).channels == s->base_channels,
            "%zu server channels at the end, expected %zu", site_stats(s).channels,
            s->base_channels);
  atomic_store(&s->srv.stop, 1);
  plat_thread_join(&s->thr);
  ck_assert_int_eq(atomic_load(&s->srv.errors), 0);
  tofu_group_destroy(s->gs);
  tofu_group_destroy(s->idle);
  et_assert_all_returned(s->es);
  tofu_engine_destroy(s->es);
  free(s->srv.seen);
}

/* The end of a site_open_bare site, once its peers are closed: their
 * channels end, the case puts the notices, everything is back. */
static void site_close_bare(site *s) {
  SITE_WAIT(s, ET_DEADLINE_MS, site_stats(s).channels == s->base_channels,
            "the peers' channels stay open");
  tofu_message *m;
  while ((m = tofu_wait_receive(s->gs, 0)) != NULL)
    tofu_put(s->es, &m); /* the channel_closed notices */
  tofu_group_destroy(s->gs);
  tofu_group_destroy(s->idle);
  et_assert_all_returned(s->es);
  tofu_engine_destroy(s->es);
}

static long closed_by(site *s, int cause) {
  return atomic_load(&s->srv.closed_by[cause]);
}

/* A raw peer's HelloRequest (the echo thread answers it; the peer never
 * reads the answer). */
static void raw_say_hello(tofu_socket s, uint64_t id) {
  static const char th[] = "who: raw\r\n";
  uint8_t f[16 + sizeof th - 1];
  rel_frame(f, TOFU_OP_HELLO_REQUEST, id, (uint16_t)(sizeof th - 1), 0);
  memcpy(f + 16, th, sizeof th - 1);
  ck_assert(rel_send_all(s, f, sizeof f));
}

/* A raw peer of a site_open_bare site says hello and the case, its
 * application, answers; *channel receives the peer's channel. */
static tofu_socket app_peer(site *s, uint64_t id, uint16_t *channel) {
  tofu_socket p = rel_raw_connect(s->port);
  (void)net_set_nodelay(p);
  raw_say_hello(p, id);
  tofu_message *m =
      et_expect(s->gs, TOFU_OP_HELLO_REQUEST, TOFU_ORIGIN_APPLICATION, TOFU_STATUS_SUCCESS);
  ck_assert(tofu_msg_header(m)->message_id == id);
  *channel = tofu_msg_header(m)->channel;
  tofu_msg_header(m)->opcode = TOFU_OP_HELLO_RESPONSE;
  et_post(s->gs, &m);
  return p;
}

/* A client of its own engine connects, says hello and has one request
 * echoed; returns the milliseconds that took. */
static uint64_t legit_served(site *s) {
  tofu_engine *ec = et_engine(0);
  tofu_group *gc = et_group(ec);
  uint64_t t0 = mono_now_ms();
  uint16_t ch = et_post_hello(ec, gc, s->bound).channel;
  tofu_message *m =
      et_expect(gc, TOFU_OP_HELLO_RESPONSE, TOFU_ORIGIN_APPLICATION, TOFU_STATUS_SUCCESS);
  tofu_put(ec, &m);
  m = et_msg(ec, TOFU_OP_REQUEST, ch, 300, 7);
  tofu_header h = et_post(gc, &m);
  m = et_expect(gc, TOFU_OP_RESPONSE, TOFU_ORIGIN_APPLICATION, TOFU_STATUS_SUCCESS);
  ck_assert(tofu_msg_header(m)->message_id == h.message_id);
  ck_assert(et_body_ok(m, 300, 7));
  tofu_put(ec, &m);
  uint64_t took = mono_now_ms() - t0;
  tofu_group_destroy(gc);
  et_assert_all_returned(ec);
  tofu_engine_destroy(ec);
  return took;
}

/* ---- read-ahead ---------------------------------------------------------- */

/* The attack of issue 16, scaled down: N peers say hello, send a header
 * claiming a maximal frame (65535 bytes of text headers and 65535 of body),
 * most of its payload, and stall. A small pool holds the frames of a few;
 * the others pause. Each paused channel used to keep up to 64 KiB read past
 * its header in memory of its own, outside the pool: N x 64 KiB. Now one
 * engine-wide buffer holds the read-ahead of one channel at most, so what
 * the engine allocates outside the pool during the attack stays small (the
 * Reactor's allocations are counted, on POSIX builds), and so does the
 * growth of the resident set (where it can be read). A client connecting
 * meanwhile is served. */
void case_limits_half_frames(void) {
  enum { LIMIT = 2 << 20, PAYLOAD = 65535 + 60000 };
  int n = (int)rel_env("TOFU_REL_HALF_FRAMES", 0);
  const char *why = "TOFU_REL_HALF_FRAMES";
  if (n <= 0) {
    n = 300;
    why = "the suite's scale; bench/half-frames.sh runs the issue's 2,000";
  }
  if (!runner_raise_fd_limit(2L * n + 200)) {
    n = 300;
    why = "what the descriptor limit allows";
  }
  printf("limits_half_frames: %d peers (%s)\n", n, why);
  tofu_options o;
  tofu_options_default(&o);
  o.max_memory = LIMIT;
  o.frame_timeout_ms = -1; /* the read-ahead alone; the deadline has its own cases */
  site s;
  site_open(&s, &o);

  /* Phase 1: every peer says hello; the echo thread answers. */
  tofu_engine_stats st = site_stats(&s);
  size_t used0 = st.memory_used;
  uint64_t alloc0 = faults_alloc_bytes();
  tofu_socket *peer = malloc((size_t)n * sizeof *peer);
  ck_assert_ptr_nonnull(peer);
  for (int i = 0; i < n; i++) {
    peer[i] = rel_raw_connect(s.port);
    raw_say_hello(peer[i], (uint64_t)i + 1);
  }
  SITE_WAIT(&s, 4 * ET_DEADLINE_MS, atomic_load(&s.srv.hellos) == n, "%ld of %d hellos answered",
            atomic_load(&s.srv.hellos), n);
  st = site_stats(&s);
  if (faults_nomem_supported()) {
    /* What one channel costs outside the pool, as asked of malloc. */
    double per = (double)(faults_alloc_bytes() - alloc0 - (st.memory_used - used0)) / n;
    printf("outside the pool: %.0f bytes per channel asked of malloc (bound %d)\n", per,
           TOFU_CHANNEL_OVERHEAD);
    rel_figure("channel_bytes_outside_pool", per);
    ck_assert_msg(per <= TOFU_CHANNEL_OVERHEAD, "%.0f bytes per channel outside the pool", per);
  }

  /* Phase 2: the half-frames. */
  static uint8_t frame[16 + PAYLOAD];
  rel_frame(frame, TOFU_OP_REQUEST, 1, 65535, 65535);
  memset(frame + 16, 'h', PAYLOAD);
  /* Frames this large are never read whole into a read block, and no body
   * is bound to one now: the messages' memory is memory_used less the
   * blocks (which the Reactor gives up when memory is short, and the pool
   * trims first). */
  st = site_stats(&s);
  used0 = st.memory_used - st.memory_blocks;
  size_t blocks0 = st.memory_blocks;
  uint64_t paused0 = st.reads_paused;
  alloc0 = faults_alloc_bytes();
  long rss0 = rel_rss_kib();
  size_t sent = 0;
  for (int i = 0; i < n; i++) {
    ck_assert_int_eq(net_set_nonblocking(peer[i]), NET_OK);
    sent += rel_send_some(peer[i], frame, sizeof frame);
  }
  /* Settled when every peer holds a frame's memory (131,070 bytes each, give or
   * take what trimming took back) or waits for some. */
#define MSG_MEMORY(st) ((st).memory_used - (st).memory_blocks)
#define HOLDERS(st) (MSG_MEMORY(st) > used0 ? (MSG_MEMORY(st) - used0 + 65535) / 131070 : 0)
  SITE_WAIT(&s, 4 * ET_DEADLINE_MS,
            (st = site_stats(&s), (st.reads_paused - paused0) + HOLDERS(st) >= (uint64_t)n),
            "%llu paused and %zu holding of %d peers",
            (unsigned long long)(st.reads_paused - paused0), (size_t)HOLDERS(st), n);
  st = site_stats(&s);
  long rss1 = rel_rss_kib();
  size_t holders = HOLDERS(st);
#undef HOLDERS
  printf("%zu bytes sent by %d peers; %zu hold a frame, %llu paused; pool %zu of %zu bytes\n", sent,
         n, holders, (unsigned long long)(st.reads_paused - paused0), st.memory_used,
         st.memory_limit);
  ck_assert_uint_le(st.memory_used, st.memory_limit);
  ck_assert_msg(holders < (size_t)n / 2, "the pool held %zu of %d frames: no peer paused", holders,
                n);
  if (faults_nomem_supported()) {
    /* What the pool asked of malloc: the messages' growth, and any block
     * made anew (a block trimmed gives nothing back to this count). */
    size_t pooled = MSG_MEMORY(st) > used0 ? MSG_MEMORY(st) - used0 : 0;
    if (st.memory_blocks > blocks0)
      pooled += st.memory_blocks - blocks0;
    uint64_t outside = faults_alloc_bytes() - alloc0 - pooled;
    printf("asked of malloc outside the pool during the attack: %llu bytes\n",
           (unsigned long long)outside);
    rel_figure("half_frames_bytes_outside_pool", (double)outside);
    ck_assert_msg(outside <= 256 * 1024,
                  "%llu bytes allocated outside the pool while %d peers held half-frames",
                  (unsigned long long)outside, n);
  } else {
    printf("allocations are counted by the POSIX link only (--wrap=malloc)\n");
  }
#undef MSG_MEMORY
  if (rel_env("TOFU_REL_NO_RSS_CHECK", REL_SANITIZED)) {
    printf("the resident set is not checked here: a sanitizer or valgrind owns part of it\n");
  } else if (rss0 > 0 && rss1 > 0) {
    long allowed = (long)(LIMIT - used0) / 1024 + n * TOFU_CHANNEL_OVERHEAD / 1024 + 2048;
    printf("resident set: %ld KiB before the half-frames, %ld KiB with them (%ld KiB allowed)\n",
           rss0, rss1, rss0 + allowed);
    rel_figure("half_frames_rss_growth_kib", (double)(rss1 - rss0));
    ck_assert_msg(rss1 - rss0 <= allowed, "the resident set grew by %ld KiB (allowed %ld)",
                  rss1 - rss0, allowed);
  } else {
    printf("the resident set cannot be read here\n");
  }

  /* A client connecting now is served. */
  uint64_t took = legit_served(&s);
  printf("a client connecting during the attack was served in %llu ms\n", (unsigned long long)took);
  rel_figure("half_frames_client_served_ms", (double)took);

  for (int i = 0; i < n; i++)
    net_close(peer[i]);
  free(peer);
  site_close(&s);
}

/* ---- the frame deadline -------------------------------------------------- */

/* Take everything the pool of the site's engine has left: messages with the
 * largest bodies that still fit (halving the step), then every message left
 * free, those in the Reactor's cache too (it gives them back at the end of
 * its pass). Returns the count. */
static int hold_rest(site *s, tofu_message **held, int max) {
  static uint8_t body[TOFU_MAX_BODY];
  int n = 0;
  uint64_t until = mono_now_ms() + ET_DEADLINE_MS;
  for (;;) {
    while (n < max && (held[n] = tofu_get(s->es, TOFU_ALWAYS)) != NULL) {
      size_t len = 0;
      for (size_t step = 32768; step > 0; step /= 2)
        if (len + step <= TOFU_MAX_BODY && tofu_msg_set_body(held[n], body, len + step) == TOFU_OK)
          len += step;
      n++;
    }
    ck_assert_int_lt(n, max);
    if (site_stats(s).messages_free == 0)
      break;
    ck_assert_msg(mono_now_ms() < until, "free messages stay out of reach");
    ck_assert_ptr_null(tofu_wait_receive(s->idle, 5));
  }
  ck_assert_int_gt(n, 0);
  return n;
}

/* A few peers take the whole pool with half-frames (the application holds
 * the last bytes, so that nothing is left for anyone). A client connecting
 * then waits for memory; the deadline closes the peers (recv_failed), their
 * memory comes back, and the client is served: no later than the deadline
 * frees it. A peer that stalls inside a header, holding no memory, and one
 * that stalls inside its HelloRequest (closed silently) are ended too. */
void case_limits_frame_deadline(void) {
  enum { TIMEOUT = 800, HOLDERS = 4, HELD_MAX = 4096 };
  tofu_options o = pool_1mib(TIMEOUT);
  site s;
  site_open(&s, &o);
  tofu_socket peer[HOLDERS + 2];
  for (int i = 0; i < HOLDERS + 1; i++) {
    peer[i] = rel_raw_connect(s.port);
    raw_say_hello(peer[i], (uint64_t)i + 1);
  }
  SITE_WAIT(&s, ET_DEADLINE_MS, atomic_load(&s.srv.hellos) == HOLDERS + 1, "%ld hellos answered",
            atomic_load(&s.srv.hellos));
  tofu_engine_stats st0 = site_stats(&s);
  size_t used0 = st0.memory_used - st0.memory_blocks_free; /* free blocks are trimmed first */
  static uint8_t f[16 + 1000];
  rel_frame(f, TOFU_OP_REQUEST, 9, 65535, 65535);
  memset(f + 16, 'd', 1000);
  uint64_t t_attack = mono_now_ms();
  for (int i = 0; i < HOLDERS; i++)
    ck_assert(rel_send_all(peer[i], f, sizeof f));
  ck_assert(rel_send_all(peer[HOLDERS], f, 10)); /* inside the header */
  peer[HOLDERS + 1] = rel_raw_connect(s.port);
  uint8_t hello[16];
  rel_frame(hello, TOFU_OP_HELLO_REQUEST, 99, 0, 0);
  ck_assert(rel_send_all(peer[HOLDERS + 1], hello, 7)); /* inside its HelloRequest */
  SITE_WAIT(&s, ET_DEADLINE_MS, site_stats(&s).memory_used >= used0 + HOLDERS * 131000u,
            "the half-frames hold %zu bytes", site_stats(&s).memory_used - used0);

  static tofu_message *held[HELD_MAX];
  int nheld = hold_rest(&s, held, HELD_MAX);
  tofu_engine_stats st = site_stats(&s);
  printf("pool %zu of %zu bytes; %d messages held by the application\n", st.memory_used,
         st.memory_limit, nheld);
  ck_assert_uint_eq(st.frame_timeouts, 0);

  uint64_t paused0 = st.reads_paused;
  uint64_t took = legit_served(&s);
  uint64_t served = mono_now_ms();
  st = site_stats(&s);
  printf("client served %llu ms after the half-frames began (deadline %d ms), in %llu ms\n",
         (unsigned long long)(served - t_attack), TIMEOUT, (unsigned long long)took);
  rel_figure("deadline_client_served_ms", (double)(served - t_attack));
  /* The scene is what it claims: the client had to wait for memory. */
  ck_assert_msg(st.reads_paused > paused0, "the client never waited for memory");
  ck_assert_msg(served - t_attack + 50 >= TIMEOUT, "served %llu ms after the attack began",
                (unsigned long long)(served - t_attack));
  /* Each holder's deadline runs from its own first byte: the first ones
   * closed may free enough for the client before the last ones fire. */
  SITE_WAIT(&s, ET_DEADLINE_MS, site_stats(&s).frame_timeouts >= HOLDERS,
            "%llu frame deadlines fired, expected %d",
            (unsigned long long)site_stats(&s).frame_timeouts, HOLDERS);

  for (int i = 0; i < HOLDERS + 2; i++) {
    ck_assert_msg(rel_closed_by_peer(peer[i]), "peer %d left open", i);
    net_close(peer[i]);
  }
  uint64_t t_closed = mono_now_ms();
  ck_assert_msg(t_closed - t_attack + 50 >= TIMEOUT, "closed %llu ms after the attack began",
                (unsigned long long)(t_closed - t_attack));
  SITE_WAIT(&s, ET_DEADLINE_MS, closed_by(&s, TOFU_STATUS_RECV_FAILED) == HOLDERS + 1,
            "%ld channels closed with recv_failed, expected %d",
            closed_by(&s, TOFU_STATUS_RECV_FAILED), HOLDERS + 1);
  st = site_stats(&s);
  ck_assert_uint_eq(st.frame_timeouts, HOLDERS + 2);
  /* The peer inside its hello was closed silently, the others with their
   * cause; the client's channel ended when it left (peer_disconnected), and
   * none for another reason. */
  SITE_WAIT(&s, ET_DEADLINE_MS, closed_by(&s, TOFU_STATUS_PEER_DISCONNECTED) == 1,
            "the client's channel did not close");
  for (int c = 0; c <= TOFU_STATUS_UNKNOWN_ERROR; c++)
    if (c != TOFU_STATUS_RECV_FAILED && c != TOFU_STATUS_PEER_DISCONNECTED)
      ck_assert_msg(closed_by(&s, c) == 0, "%ld channels closed with %s", closed_by(&s, c),
                    tofu_status_name(c));
  for (int i = 0; i < nheld; i++)
    tofu_put(s.es, &held[i]);
  site_close(&s);
}

/* Memory that comes back goes to every paused channel whose frame fits,
 * the oldest first: a newcomer's small HelloRequest paused behind a peer's
 * maximal frame is served as soon as there is room for it, not once there
 * is room for both. */
void case_limits_small_not_behind_large(void) {
  enum { HOLDERS = 4, HELD_MAX = 4096 };
  tofu_options o = pool_1mib(-1);
  site s;
  site_open(&s, &o);
  tofu_socket peer[HOLDERS + 1];
  for (int i = 0; i < HOLDERS + 1; i++) {
    peer[i] = rel_raw_connect(s.port);
    raw_say_hello(peer[i], (uint64_t)i + 1);
  }
  SITE_WAIT(&s, ET_DEADLINE_MS, atomic_load(&s.srv.hellos) == HOLDERS + 1, "%ld hellos answered",
            atomic_load(&s.srv.hellos));
  tofu_engine_stats st0 = site_stats(&s);
  size_t used0 = st0.memory_used - st0.memory_blocks_free; /* free blocks are trimmed first */
  static uint8_t f[16 + 1000];
  rel_frame(f, TOFU_OP_REQUEST, 9, 65535, 65535);
  memset(f + 16, 'l', 1000);
  for (int i = 0; i < HOLDERS; i++)
    ck_assert(rel_send_all(peer[i], f, sizeof f));
  SITE_WAIT(&s, ET_DEADLINE_MS, site_stats(&s).memory_used >= used0 + HOLDERS * 131000u,
            "the half-frames hold %zu bytes", site_stats(&s).memory_used - used0);
  static tofu_message *held[HELD_MAX];
  int nheld = hold_rest(&s, held, HELD_MAX);
  /* The large frame waits first, then the newcomer's hello. */
  uint64_t paused0 = site_stats(&s).reads_paused;
  ck_assert(rel_send_all(peer[HOLDERS], f, sizeof f));
  SITE_WAIT(&s, ET_DEADLINE_MS, site_stats(&s).reads_paused == paused0 + 1,
            "the large frame did not wait for memory");
  tofu_engine *ec = et_engine(0);
  tofu_group *gc = et_group(ec);
  uint16_t ch = et_post_hello(ec, gc, s.bound).channel;
  SITE_WAIT(&s, ET_DEADLINE_MS, site_stats(&s).reads_paused == paused0 + 2,
            "the hello did not wait for memory");
  /* Room for the hello (64 KiB), not for the large frame (128 KiB). */
  size_t len;
  tofu_msg_body(held[0], &len);
  ck_assert_uint_eq(len, TOFU_MAX_BODY);
  tofu_put(s.es, &held[0]);
  tofu_message *m =
      et_expect(gc, TOFU_OP_HELLO_RESPONSE, TOFU_ORIGIN_APPLICATION, TOFU_STATUS_SUCCESS);
  tofu_put(ec, &m);
  m = et_msg(ec, TOFU_OP_REQUEST, ch, 300, 3);
  et_post(gc, &m);
  m = et_expect(gc, TOFU_OP_RESPONSE, TOFU_ORIGIN_APPLICATION, TOFU_STATUS_SUCCESS);
  ck_assert(et_body_ok(m, 300, 3));
  tofu_put(ec, &m);
  tofu_group_destroy(gc);
  et_assert_all_returned(ec);
  tofu_engine_destroy(ec);
  for (int i = 1; i < nheld; i++)
    tofu_put(s.es, &held[i]);
  for (int i = 0; i < HOLDERS + 1; i++)
    net_close(peer[i]);
  site_close(&s);
}

/* Waiting for memory is not the peer's time: a frame begun, then paused
 * because the application holds the whole pool for longer than the
 * deadline, is delivered once memory comes back; nothing closes. */
void case_limits_pause_not_timed(void) {
  enum { TIMEOUT = 200, HELD_MAX = 4096 };
  tofu_options o = pool_1mib(TIMEOUT);
  site s;
  site_open(&s, &o);
  tofu_socket p = rel_raw_connect(s.port);
  (void)net_set_nodelay(p);
  raw_say_hello(p, 1);
  SITE_WAIT(&s, ET_DEADLINE_MS, atomic_load(&s.srv.hellos) == 1, "hello not answered");
  static tofu_message *held[HELD_MAX];
  int nheld = hold_rest(&s, held, HELD_MAX);
  uint64_t paused0 = site_stats(&s).reads_paused;
  /* The frame begins (its deadline runs), then its header completes and
   * finds no memory. */
  uint8_t f[16 + 100];
  rel_frame(f, TOFU_OP_REQUEST, 5, 0, 100);
  memset(f + 16, 'p', 100);
  ck_assert(rel_send_all(p, f, 8));
  plat_sleep_ms(50); /* the peer's pace: the first bytes arrive alone */
  ck_assert(rel_send_all(p, f + 8, sizeof f - 8));
  SITE_WAIT(&s, ET_DEADLINE_MS, site_stats(&s).reads_paused > paused0,
            "the frame did not wait for memory");
  /* Three deadlines long, nothing may close. */
  ck_assert_ptr_null(tofu_wait_receive(s.idle, 3 * TIMEOUT));
  tofu_engine_stats st = site_stats(&s);
  ck_assert_uint_eq(st.frame_timeouts, 0);
  ck_assert_uint_eq(st.channels, s.base_channels + 1);
  ck_assert_int_eq(atomic_load(&s.srv.requests), 0);
  for (int i = 0; i < nheld; i++)
    tofu_put(s.es, &held[i]);
  SITE_WAIT(&s, ET_DEADLINE_MS, atomic_load(&s.srv.requests) == 1,
            "the paused frame was not delivered once memory came back");
  ck_assert_uint_eq(site_stats(&s).frame_timeouts, 0);
  net_close(p);
  site_close(&s);
  ck_assert_int_eq(closed_by(&s, TOFU_STATUS_RECV_FAILED), 0);
}

/* The deadline is per frame: a peer whose frames each take a while, and
 * that waits between frames for longer than the deadline, is served for
 * longer than the deadline; the frame it leaves half-sent ends it. */
void case_limits_deadline_per_frame(void) {
  enum { TIMEOUT = 600, GAP = 120, IDLE = 800, FRAMES = 5, BODY = 200 };
  tofu_options o;
  tofu_options_default(&o);
  o.frame_timeout_ms = TIMEOUT;
  site s;
  site_open(&s, &o);
  tofu_socket p = rel_raw_connect(s.port);
  (void)net_set_nodelay(p);
  raw_say_hello(p, 1);
  uint8_t f[16 + BODY];
  uint64_t t0 = mono_now_ms();
  for (int k = 0; k < FRAMES; k++) {
    rel_frame(f, TOFU_OP_REQUEST, 100 + (uint64_t)k, 0, BODY);
    memset(f + 16, 'a' + k, BODY);
    /* Three parts, GAP ms apart: a frame takes 2 x GAP < TIMEOUT. */
    ck_assert(rel_send_all(p, f, 10));
    plat_sleep_ms(GAP);
    ck_assert(rel_send_all(p, f + 10, 100));
    plat_sleep_ms(GAP);
    ck_assert(rel_send_all(p, f + 110, sizeof f - 110));
    if (k == 1)
      plat_sleep_ms(IDLE); /* between frames: no deadline runs */
  }
  SITE_WAIT(&s, ET_DEADLINE_MS, atomic_load(&s.srv.requests) == FRAMES,
            "%ld of %d requests delivered", atomic_load(&s.srv.requests), FRAMES);
  uint64_t span = mono_now_ms() - t0;
  printf("%d frames over %llu ms, deadline %d ms per frame\n", FRAMES, (unsigned long long)span,
         TIMEOUT);
  ck_assert_uint_gt(span, TIMEOUT);
  ck_assert_uint_eq(site_stats(&s).frame_timeouts, 0);
  ck_assert_int_eq(closed_by(&s, TOFU_STATUS_RECV_FAILED), 0);
  /* Half a frame, then nothing. */
  rel_frame(f, TOFU_OP_REQUEST, 200, 0, BODY);
  uint64_t t_stall = mono_now_ms();
  ck_assert(rel_send_all(p, f, 16 + BODY / 2));
  ck_assert(rel_closed_by_peer(p));
  uint64_t waited = mono_now_ms() - t_stall;
  printf("the half-sent frame ended the channel after %llu ms\n", (unsigned long long)waited);
  ck_assert_msg(waited + 50 >= TIMEOUT, "closed after %llu ms", (unsigned long long)waited);
  net_close(p);
  SITE_WAIT(&s, ET_DEADLINE_MS, closed_by(&s, TOFU_STATUS_RECV_FAILED) == 1,
            "no channel_closed with recv_failed");
  ck_assert_uint_eq(site_stats(&s).frame_timeouts, 1);
  site_close(&s);
}

/* ---- max_channels -------------------------------------------------------- */

/* At max_channels, a connection is accepted and closed at once, counted,
 * and the listener goes on: once a channel closes, the next connection is
 * served. The engine's own connects are not refused. */
void case_limits_max_channels(void) {
  enum { MAX = 4, EXTRA = 5 };
  tofu_options o;
  tofu_options_default(&o);
  o.max_channels = MAX;
  site s;
  site_open(&s, &o); /* the listener: one channel */
  ck_assert_uint_eq(s.base_channels, 1);
  tofu_socket held[MAX - 1];
  for (int i = 0; i < MAX - 1; i++) {
    held[i] = rel_raw_connect(s.port);
    raw_say_hello(held[i], (uint64_t)i + 1);
  }
  SITE_WAIT(&s, ET_DEADLINE_MS, site_stats(&s).channels == MAX, "%zu channels, expected %d",
            site_stats(&s).channels, MAX);
  SITE_WAIT(&s, ET_DEADLINE_MS, atomic_load(&s.srv.hellos) == MAX - 1, "%ld hellos answered",
            atomic_load(&s.srv.hellos));
  for (int i = 0; i < EXTRA; i++) {
    tofu_socket x = rel_raw_connect(s.port);
    uint8_t hello[16];
    rel_frame(hello, TOFU_OP_HELLO_REQUEST, 50 + (uint64_t)i, 0, 0);
    (void)rel_send_all(x, hello, sizeof hello); /* the engine may have closed it already */
    ck_assert_msg(rel_closed_by_peer(x), "connection %d beyond max_channels left open", i);
    net_close(x);
  }
  tofu_engine_stats st = site_stats(&s);
  ck_assert_uint_eq(st.channels_refused, EXTRA);
  ck_assert_uint_eq(st.channels, MAX);
  ck_assert_int_eq(atomic_load(&s.srv.hellos), MAX - 1); /* none of them was heard */

  /* The application's own connect, at the limit: not refused. */
  tofu_engine *ep = et_engine(0);
  tofu_group *gp = et_group(ep);
  char pbound[256];
  et_listen(ep, gp, "tcp|127.0.0.1|0", pbound, sizeof pbound);
  tofu_group *gout = et_group(s.es);
  uint16_t out = et_post_hello(s.es, gout, pbound).channel;
  tofu_message *m =
      et_expect(gp, TOFU_OP_HELLO_REQUEST, TOFU_ORIGIN_APPLICATION, TOFU_STATUS_SUCCESS);
  tofu_msg_header(m)->opcode = TOFU_OP_HELLO_RESPONSE;
  et_post(gp, &m);
  m = et_expect(gout, TOFU_OP_HELLO_RESPONSE, TOFU_ORIGIN_APPLICATION, TOFU_STATUS_SUCCESS);
  ck_assert_uint_eq(tofu_msg_header(m)->channel, out);
  tofu_put(s.es, &m);
  ck_assert_uint_eq(site_stats(&s).channels, MAX + 1);
  tofu_group_destroy(gout); /* back to MAX */
  tofu_group_destroy(gp);
  et_assert_all_returned(ep);
  tofu_engine_destroy(ep);

  /* Room again: the listener serves the next one. */
  net_close(held[0]);
  SITE_WAIT(&s, ET_DEADLINE_MS, site_stats(&s).channels == MAX - 1, "%zu channels",
            site_stats(&s).channels);
  uint64_t took = legit_served(&s);
  printf("after a channel closed, a client was served in %llu ms\n", (unsigned long long)took);
  ck_assert_uint_eq(site_stats(&s).channels_refused, EXTRA);
  for (int i = 1; i < MAX - 1; i++)
    net_close(held[i]);
  site_close(&s);
}

/* ---- max_frame ----------------------------------------------------------- */

/* A frame that claims more than max_frame is refused on its header alone
 * (the peer sends nothing more, and the channel closes all the same), with
 * invalid_headers_len when its text headers alone pass the limit, else
 * invalid_body_len; a frame of exactly max_frame is taken. */
void case_limits_max_frame(void) {
  enum { MAX = 16 + 1000 };
  tofu_options o;
  tofu_options_default(&o);
  o.max_frame = 5;
  tofu_engine *bad;
  ck_assert_int_eq(tofu_engine_create(&o, &bad), TOFU_EINVAL);
  o.max_frame = (size_t)TOFU_MAX_FRAME * 4; /* more than the wire carries: no limit */
  ck_assert_int_eq(tofu_engine_create(&o, &bad), TOFU_OK);
  tofu_engine_destroy(bad);
  o.max_frame = MAX;
  site s;
  site_open(&s, &o);

  static const struct {
    uint16_t hlen, blen;
    int cause; /* 0: taken */
  } tries[] = {
      {0, 1000, 0},
      {400, 600, 0},
      {1001, 0, TOFU_STATUS_INVALID_HEADERS_LEN},
      {65535, 65535, TOFU_STATUS_INVALID_HEADERS_LEN},
      {500, 501, TOFU_STATUS_INVALID_BODY_LEN},
      {0, 65535, TOFU_STATUS_INVALID_BODY_LEN},
  };
  tofu_socket p = TOFU_INVALID_SOCKET;
  long hellos = 0, taken = 0, by_cause[TOFU_STATUS_UNKNOWN_ERROR + 1] = {0};
  uint64_t refused = 0;
  for (size_t i = 0; i < sizeof tries / sizeof tries[0]; i++) {
    if (p == TOFU_INVALID_SOCKET) {
      p = rel_raw_connect(s.port);
      raw_say_hello(p, 1);
      hellos++;
      SITE_WAIT(&s, ET_DEADLINE_MS, atomic_load(&s.srv.hellos) == hellos, "hello not answered");
    }
    static uint8_t req[16 + 1000];
    rel_frame(req, TOFU_OP_REQUEST, 10 + i, tries[i].hlen, tries[i].blen);
    if (!tries[i].cause) {
      memset(req + 16, 'k', 1000);
      ck_assert(rel_send_all(p, req, sizeof req));
      taken++;
      SITE_WAIT(&s, ET_DEADLINE_MS, atomic_load(&s.srv.requests) == taken,
                "frame of %u + %u bytes at max_frame not delivered", tries[i].hlen, tries[i].blen);
      continue;
    }
    ck_assert(rel_send_all(p, req, 16)); /* the header alone */
    ck_assert_msg(rel_closed_by_peer(p), "frame of %u + %u bytes: channel left open", tries[i].hlen,
                  tries[i].blen);
    net_close(p);
    p = TOFU_INVALID_SOCKET;
    refused++;
    long want = ++by_cause[tries[i].cause];
    SITE_WAIT(&s, ET_DEADLINE_MS, closed_by(&s, tries[i].cause) == want,
              "no channel_closed with %s", tofu_status_name(tries[i].cause));
    ck_assert_uint_eq(site_stats(&s).frames_refused, refused);
  }
  ck_assert_int_eq(closed_by(&s, TOFU_STATUS_INVALID_HEADERS_LEN), 2);
  ck_assert_int_eq(closed_by(&s, TOFU_STATUS_INVALID_BODY_LEN), 2);

  /* A HelloRequest too large: closed unheard. */
  p = rel_raw_connect(s.port);
  uint8_t f[16];
  rel_frame(f, TOFU_OP_HELLO_REQUEST, 5, 2000, 0);
  ck_assert(rel_send_all(p, f, sizeof f));
  ck_assert(rel_closed_by_peer(p));
  net_close(p);
  ck_assert_uint_eq(site_stats(&s).frames_refused, refused + 1);
  ck_assert_int_eq(atomic_load(&s.srv.hellos), hellos);
  site_close(&s);
}

/* ---- short connections --------------------------------------------------- */

/* Read one frame from a blocking raw socket; its opcode, or -1. */
static int raw_read_frame(tofu_socket s) {
  uint8_t buf[512];
  size_t have = 0, need = 16;
  while (have < need) {
    ptrdiff_t r = net_recv(s, buf + have, need - have);
    if (r <= 0)
      return -1;
    have += (size_t)r;
    if (have == 16 && need == 16) {
      wire_header h;
      wire_decode_header(buf, &h);
      need += (size_t)h.headers_len + h.body_len;
      if (need > sizeof buf)
        return -1;
    }
  }
  wire_header h;
  wire_decode_header(buf, &h);
  return (int)wire_opcode(h.proto);
}

/* Connect, say hello, read the answer, close: k at once. Returns how many
 * were answered with a HelloResponse. */
static int short_connections(site *s, tofu_socket *peer, int k, uint64_t id) {
  int answered = 0;
  for (int i = 0; i < k; i++) {
    peer[i] = rel_raw_connect(s->port);
    raw_say_hello(peer[i], id + (uint64_t)i);
  }
  for (int i = 0; i < k; i++)
    answered += raw_read_frame(peer[i]) == TOFU_OP_HELLO_RESPONSE;
  for (int i = 0; i < k; i++)
    net_close(peer[i]);
  return answered;
}

/* What the engines hold in malloc'd blocks beyond their pools, since the
 * mark (live0, used0). */
static int64_t outside_pool_growth(site *s, int64_t live0, size_t used0) {
  tofu_engine_stats st = site_stats(s);
  return faults_live_bytes() - live0 - ((int64_t)st.memory_used - (int64_t)used0);
}

/* Issue 25: every accepted channel sets a connect-and-hello deadline (and a
 * frame deadline while a frame is half read); their entries stayed in the
 * Reactor's timer heap after the channel closed until they fired, and the
 * heap's array never shrank. With max_channels 64 and 600 s deadlines,
 * 100,000 short connections (connect, hello answered, close) grew it by
 * megabytes, past what tofu.h promises: memory outside max_memory bounded by
 * max_channels x TOFU_CHANNEL_OVERHEAD, plus the engine's fixed part (the
 * channel table's blocks, up to 512 KiB, fill in as channel numbers are
 * used). What the process holds in malloc'd blocks beyond the pool is
 * counted (POSIX builds) at 16 points during the churn and after it. The
 * suite runs 20,000 (the stale entries alone passed the bound at that count:
 * 1.7 MB); TOFU_REL_SHORT_CONNECTIONS sets another. */
void case_limits_short_connections(void) {
  enum { BATCH = 16, WARM = 512, MAX_CHANNELS = 64 };
  int n = (int)rel_env("TOFU_REL_SHORT_CONNECTIONS", 0);
  const char *why = "TOFU_REL_SHORT_CONNECTIONS";
  if (n <= 0) {
    n = runner_under_wine() ? 1000 : 20000;
    why = runner_under_wine()
              ? "the scale under Wine, whose sockets are slower; TOFU_REL_SHORT_CONNECTIONS=100000 "
                "for the issue's"
              : "the suite's scale, about 2 s; TOFU_REL_SHORT_CONNECTIONS=100000 for the issue's";
  }
  printf("limits_short_connections: %d connections, %d at a time (%s)\n", n, BATCH, why);
  tofu_options o;
  tofu_options_default(&o);
  o.max_channels = MAX_CHANNELS;
  o.connect_timeout_ms = 600000;
  o.frame_timeout_ms = 600000;
  site s;
  site_open(&s, &o);
  tofu_socket peer[BATCH];
  faults_live_ignore_thread(1);

  /* Warm up: the pool, the poller's arrays and the hash buckets reach the
   * size this load keeps them at. */
  long answered = 0;
  for (int done = 0; done < WARM; done += BATCH)
    answered += short_connections(&s, peer, BATCH, (uint64_t)done + 1);
  SITE_WAIT(&s, 4 * ET_DEADLINE_MS, site_stats(&s).channels == s.base_channels,
            "%zu server channels after the warm-up", site_stats(&s).channels);
  int64_t live0 = faults_live_bytes();
  tofu_engine_stats st0 = site_stats(&s);
  size_t used0 = st0.memory_used - st0.memory_blocks_free; /* free blocks are trimmed first */

  uint64_t t0 = mono_now_ms();
  int64_t worst = 0;
  int every = n / 16 > BATCH ? n / 16 : BATCH, next = every;
  for (int done = 0; done < n;) {
    int k = n - done < BATCH ? n - done : BATCH;
    answered += short_connections(&s, peer, k, (uint64_t)(WARM + done) + 1);
    done += k;
    if (done >= next || done == n) {
      next += every;
      int64_t g = outside_pool_growth(&s, live0, used0);
      worst = g > worst ? g : worst;
    }
  }
  uint64_t took = mono_now_ms() - t0;
  SITE_WAIT(&s, 4 * ET_DEADLINE_MS, site_stats(&s).channels == s.base_channels,
            "%zu server channels after the churn, expected %zu", site_stats(&s).channels,
            s.base_channels);
  int64_t after = outside_pool_growth(&s, live0, used0);
  worst = after > worst ? after : worst;
  printf("%d short connections in %llu ms (%.0f per second); %ld hellos answered\n", n,
         (unsigned long long)took, took ? 1000.0 * n / (double)took : 0.0, answered);
  ck_assert_int_eq(answered, (long)n + WARM);
  ck_assert_int_eq(atomic_load(&s.srv.hellos), (long)n + WARM);

  int64_t bound = (int64_t)MAX_CHANNELS * TOFU_CHANNEL_OVERHEAD + 512 * 1024;
  if (faults_nomem_supported()) {
    printf("held in malloc'd blocks beyond the pool, since the warm-up: at most %lld bytes during "
           "the churn, %lld after it (bound %lld)\n",
           (long long)worst, (long long)after, (long long)bound);
    rel_figure("short_connections_growth_bytes", (double)worst);
    ck_assert_msg(worst < bound,
                  "%d short connections grew what the engine holds outside the pool by %lld bytes "
                  "(bound %lld)",
                  n, (long long)worst, (long long)bound);
  } else {
    printf("allocations are counted by the POSIX link only (--wrap=malloc)\n");
  }
  faults_live_ignore_thread(0);
  site_close(&s);
}

/* ---- read-ahead ownership -------------------------------------------------
 *
 * Which channel holds the engine's one read-ahead buffer while several pause
 * and resume. Three raw peers each send five frames in one go, in turn, to a
 * server whose pool the application holds: the first pauses at its first
 * header with the rest of its frames read ahead (it holds the buffer); the
 * others, whose reads stop at their frame part while the buffer is held,
 * pause with nothing read ahead. Memory then comes back one message at a
 * time, so that channels resume, some only for a frame or two, and pause
 * again: the holder, too, while it is still draining its own read-ahead
 * from the buffer. Every frame must reach the application once, whole and
 * in its order, and no channel close: a wrong owner feeds one channel's
 * bytes to another (a corrupted stream) or closes the one that pauses again.
 * Then, with nothing paused, puts wake the Reactor once at most; and a
 * channel paused once more still hears its peer's reset. */
enum { RA_PEERS = 3, RA_FRAMES = 5, RA_BODY = 12000, RA_HELD_MAX = 4096 };

static uint8_t ra_byte(int peer, int frame, size_t j) {
  return (uint8_t)(peer * 31 + frame * 7 + (int)(j % 251));
}

void case_limits_readahead_owner(void) {
  tofu_options o = pool_1mib(-1); /* the read-ahead alone */
  site s;
  site_open_bare(&s, &o);

  /* The peers connect and say hello; the application answers. */
  tofu_socket p[RA_PEERS];
  uint16_t chan_of[RA_PEERS];
  for (int i = 0; i < RA_PEERS; i++)
    p[i] = app_peer(&s, 1000 + (uint64_t)i, &chan_of[i]);

  static tofu_message *held[RA_HELD_MAX];
  int nheld = hold_rest(&s, held, RA_HELD_MAX);

  /* Each peer's frames in one send; the next peer once this one paused. */
  static uint8_t burst[RA_FRAMES * (16 + RA_BODY)];
  for (int i = 0; i < RA_PEERS; i++) {
    uint64_t paused0 = site_stats(&s).reads_paused;
    for (int k = 0; k < RA_FRAMES; k++) {
      uint8_t *f = burst + (size_t)k * (16 + RA_BODY);
      rel_frame(f, TOFU_OP_REQUEST, (uint64_t)(i + 1) * 100 + (uint64_t)k, 0, RA_BODY);
      for (size_t j = 0; j < RA_BODY; j++)
        f[16 + j] = ra_byte(i, k, j);
    }
    ck_assert(rel_send_all(p[i], burst, sizeof burst));
    SITE_WAIT(&s, ET_DEADLINE_MS, site_stats(&s).reads_paused > paused0,
              "peer %d's first frame found memory", i);
  }

  /* Memory comes back a message at a time; the application keeps what it
   * gets, so that each message given back serves a frame or a few. */
  static tofu_message *got[RA_PEERS * RA_FRAMES];
  int ngot = 0, next[RA_PEERS] = {0};
  uint64_t until = mono_now_ms() + 4 * ET_DEADLINE_MS;
  while (ngot < RA_PEERS * RA_FRAMES) {
    ck_assert_msg(mono_now_ms() < until, "%d of %d frames delivered", ngot, RA_PEERS * RA_FRAMES);
    tofu_message *m = tofu_wait_receive(s.gs, 30);
    if (!m) {
      if (nheld > 0)
        tofu_put(s.es, &held[--nheld]);
      continue;
    }
    tofu_header *h = tofu_msg_header(m);
    if (h->origin == TOFU_ORIGIN_ENGINE && h->status == TOFU_STATUS_POOL_EMPTY) {
      tofu_put(s.es, &m); /* told that a channel waits for memory */
      continue;
    }
    ck_assert_msg(h->origin == TOFU_ORIGIN_APPLICATION, "the engine: %s %s on channel %u",
                  tofu_opcode_name(h->opcode), tofu_status_name(h->status), h->channel);
    ck_assert_int_eq(h->opcode, TOFU_OP_REQUEST);
    int i = 0;
    while (i < RA_PEERS && chan_of[i] != h->channel)
      i++;
    ck_assert_int_lt(i, RA_PEERS);
    ck_assert_msg(h->message_id == (uint64_t)(i + 1) * 100 + (uint64_t)next[i],
                  "peer %d: frame %llu where %d was due", i, (unsigned long long)h->message_id,
                  next[i]);
    size_t len;
    const uint8_t *b = tofu_msg_body(m, &len);
    ck_assert_uint_eq(len, RA_BODY);
    for (size_t j = 0; j < RA_BODY; j++)
      ck_assert_msg(b[j] == ra_byte(i, next[i], j), "peer %d frame %d: byte %zu corrupted", i,
                    next[i], j);
    next[i]++;
    got[ngot++] = m;
  }
  tofu_engine_stats st = site_stats(&s);
  printf("limits_readahead_owner: %d frames delivered, %llu pauses (%d peers), %d messages "
         "still held\n",
         ngot, (unsigned long long)st.reads_paused, RA_PEERS, nheld);
  ck_assert_uint_gt(st.reads_paused, RA_PEERS); /* some channel paused again */
  ck_assert_uint_eq(st.channels, 1 + RA_PEERS);
  /* Nothing waits for memory now: messages given back one by one, while the
   * Reactor sleeps, wake it once at most (the first put after the last
   * resume), not once each. */
  uint64_t notify0 = faults_notify_count();
  for (int i = 0; i < ngot; i++) {
    ck_assert_ptr_null(tofu_wait_receive(s.idle, 2)); /* the Reactor goes back to sleep */
    tofu_put(s.es, &got[i]);
  }
  ck_assert_ptr_null(tofu_wait_receive(s.idle, 2));
  uint64_t notifies = faults_notify_count() - notify0;
  ck_assert_msg(notifies <= 2, "%llu wakeups of the Reactor for %d puts with nothing paused",
                (unsigned long long)notifies, ngot);
  for (int i = 0; i < nheld; i++)
    tofu_put(s.es, &held[i]);

  /* A channel that paused and resumed before still hears a reset while it
   * waits for memory again. */
  nheld = hold_rest(&s, held, RA_HELD_MAX);
  uint64_t paused0 = site_stats(&s).reads_paused;
  rel_frame(burst, TOFU_OP_REQUEST, 999, 0, RA_BODY);
  ck_assert(rel_send_all(p[0], burst, 16 + RA_BODY));
  SITE_WAIT(&s, ET_DEADLINE_MS, site_stats(&s).reads_paused > paused0,
            "peer 0's last frame found memory");
  ck_assert_int_eq(net_set_linger_abort(p[0]), NET_OK);
  net_close(p[0]);
  p[0] = TOFU_INVALID_SOCKET;
  tofu_message *m;
  for (;;) {
    m = tofu_wait_receive(s.gs, 1000);
    ck_assert_msg(m != NULL, "a channel paused again did not close within 1 s of a reset");
    if (tofu_msg_header(m)->status == TOFU_STATUS_CHANNEL_CLOSED)
      break;
    tofu_put(s.es, &m); /* pool_empty */
  }
  ck_assert_uint_eq(tofu_msg_header(m)->channel, chan_of[0]);
  tofu_put(s.es, &m);
  for (int i = 0; i < nheld; i++)
    tofu_put(s.es, &held[i]);

  for (int i = 1; i < RA_PEERS; i++)
    net_close(p[i]);
  site_close_bare(&s);
}

/* A channel paused for memory holds the read-ahead stash; while it does,
 * every other channel reads no further than the end of its current frame
 * part. A part can be longer than the 64 KiB read buffer (the text headers
 * and body of a frame past 64 KiB): the read stops at the buffer's end. (It
 * once asked recv for the whole rest: a peer could make the Reactor write
 * past the buffer. ASan and valgrind report that at once; a plain build
 * may only crash later.) The long frame arrives whole, the paused channel's
 * frames after it, in order. */
void case_limits_stash_long_part(void) {
  enum { HL = 65535, BL = 60000, SMALL = 1000, HELD_MAX = 4096 };
  tofu_options o = pool_1mib(-1);
  site s;
  site_open_bare(&s, &o);
  tofu_socket p[2]; /* 0: the long frame, 1: the channel that pauses */
  uint16_t ch[2];
  for (int i = 0; i < 2; i++)
    p[i] = app_peer(&s, 500 + (uint64_t)i, &ch[i]);

  /* The long frame begins (its header and a few bytes) and gets its memory. */
  static uint8_t f[16 + HL + BL];
  rel_frame(f, TOFU_OP_REQUEST, 7, HL, BL);
  for (size_t j = 0; j < (size_t)HL + BL; j++)
    f[16 + j] = (uint8_t)('a' + j % 26);
  size_t used0 = site_stats(&s).memory_used;
  ck_assert(rel_send_all(p[0], f, 16 + 10));
  SITE_WAIT(&s, ET_DEADLINE_MS, site_stats(&s).memory_used >= used0 + HL + BL,
            "the long frame got no memory");
  static tofu_message *held[HELD_MAX];
  int nheld = hold_rest(&s, held, HELD_MAX);

  /* Two small frames in one send: no memory for the first, the rest is
   * read ahead into the stash. */
  static uint8_t g[2 * (16 + SMALL)];
  for (int k = 0; k < 2; k++) {
    rel_frame(g + k * (16 + SMALL), TOFU_OP_REQUEST, 20 + (uint64_t)k, 0, SMALL);
    memset(g + k * (16 + SMALL) + 16, 's' + k, SMALL);
  }
  uint64_t paused0 = site_stats(&s).reads_paused;
  ck_assert(rel_send_all(p[1], g, sizeof g));
  SITE_WAIT(&s, ET_DEADLINE_MS, site_stats(&s).reads_paused > paused0,
            "the small frame found memory");

  /* The rest of the long frame at once: over 64 KiB wait in its socket. */
  ck_assert(rel_send_all(p[0], f + 16 + 10, sizeof f - 16 - 10));
  tofu_message *m;
  while ((m = et_recv(s.gs)) != NULL && tofu_msg_header(m)->origin == TOFU_ORIGIN_ENGINE)
    tofu_put(s.es, &m); /* pool_empty */
  ck_assert_int_eq(tofu_msg_header(m)->opcode, TOFU_OP_REQUEST);
  ck_assert(tofu_msg_header(m)->message_id == 7);
  ck_assert_uint_eq(tofu_msg_header(m)->channel, ch[0]);
  size_t hl, bl;
  const char *th = tofu_msg_headers(m, &hl);
  const uint8_t *b = tofu_msg_body(m, &bl);
  ck_assert_uint_eq(hl, HL);
  ck_assert_uint_eq(bl, BL);
  ck_assert_mem_eq(th, f + 16, HL);
  ck_assert_mem_eq(b, f + 16 + HL, BL);
  tofu_put(s.es, &m);

  /* Memory back: the paused channel's two frames, in order. */
  while (nheld > 0)
    tofu_put(s.es, &held[--nheld]);
  for (int k = 0; k < 2; k++) {
    while ((m = et_recv(s.gs)) != NULL && tofu_msg_header(m)->origin == TOFU_ORIGIN_ENGINE)
      tofu_put(s.es, &m);
    ck_assert(tofu_msg_header(m)->message_id == 20 + (uint64_t)k);
    ck_assert_uint_eq(tofu_msg_header(m)->channel, ch[1]);
    b = tofu_msg_body(m, &bl);
    ck_assert_uint_eq(bl, SMALL);
    ck_assert_mem_eq(b, g + k * (16 + SMALL) + 16, SMALL);
    tofu_put(s.es, &m);
  }

  for (int i = 0; i < 2; i++)
    net_close(p[i]);
  site_close_bare(&s);
}

/* ---- large messages ---------------------------------------------------- */

/* Peers that begin large messages and never finish them (max_message): 16
 * peers each send the first 2 MiB of a 4 MiB message, in parts, against a
 * pool of 8 MiB. A message being joined is charged from its first part, so
 * the pool holds what it can and the other channels pause; the message's
 * deadline runs while it waits (it holds memory), so the deadline closes
 * every peer (recv_failed) and gives their memory back, and a client
 * connecting meanwhile is served. The resident set stays under max_memory +
 * 16 MiB. */
void case_limits_large_messages(void) {
  enum { PEERS = 16, PARTS = 32, PART = 16 + 65535, TIMEOUT = 500 };
  const size_t limit = (size_t)8 << 20;
  tofu_options o;
  tofu_options_default(&o);
  o.max_memory = limit;
  o.max_message = (size_t)4 << 20;
  o.frame_timeout_ms = TIMEOUT;
  site s;
  site_open(&s, &o);
  tofu_socket peer[PEERS];
  for (int i = 0; i < PEERS; i++) {
    peer[i] = rel_raw_connect(s.port);
    raw_say_hello(peer[i], (uint64_t)i + 1);
  }
  SITE_WAIT(&s, ET_DEADLINE_MS, atomic_load(&s.srv.hellos) == PEERS, "%ld hellos answered",
            atomic_load(&s.srv.hellos));
  /* The first half of a 4 MiB Signal: 32 parts of 65,535 bytes, `more` on
   * every one (the peers send one part's bytes again and again). */
  static uint8_t part[PART]; /* every part is the same: sent again and again */
  rel_frame(part, TOFU_OP_SIGNAL, 500, 0, 65535);
  part[2] |= 0x20; /* more */
  memset(part + 16, 'L', 65535);
  tofu_engine_stats st = site_stats(&s);
  uint64_t paused0 = st.reads_paused;
  size_t sent[PEERS] = {0}, total = 0;
  for (int i = 0; i < PEERS; i++)
    ck_assert_int_eq(net_set_nonblocking(peer[i]), NET_OK);
  long rss_max = 0, rss0 = rel_rss_kib();
  uint64_t t_attack = mono_now_ms();
  /* Send until every peer has sent all or the engine stopped taking more. */
  for (int idle_rounds = 0; idle_rounds < 10 && mono_now_ms() < t_attack + TIMEOUT / 2;) {
    size_t progress = 0;
    for (int i = 0; i < PEERS; i++) {
      size_t w;
      while (sent[i] < (size_t)PARTS * PART &&
             (w = rel_send_some(peer[i], part + sent[i] % PART, PART - sent[i] % PART)) > 0) {
        sent[i] += w;
        progress += w;
      }
    }
    total += progress;
    idle_rounds = progress ? 0 : idle_rounds + 1;
    long rss = rel_rss_kib();
    rss_max = rss > rss_max ? rss : rss_max;
    ck_assert_ptr_null(tofu_wait_receive(s.idle, 5));
  }
  /* The kernel may have taken every byte before the engine read much of it:
   * wait until the engine has run out of memory for them. */
  SITE_WAIT(&s, ET_DEADLINE_MS,
            (rss_max = rel_rss_kib() > rss_max ? rel_rss_kib() : rss_max, st = site_stats(&s),
             st.reads_paused > paused0),
            "no channel waited for memory (pool %zu of %zu bytes)", st.memory_used,
            st.memory_limit);
  printf("%d peers sent %zu bytes of large messages; pool %zu of %zu bytes; %llu paused\n", PEERS,
         total, st.memory_used, st.memory_limit, (unsigned long long)(st.reads_paused - paused0));
  ck_assert_uint_le(st.memory_used, st.memory_limit);
  ck_assert_msg(total > limit, "the peers sent %zu bytes: the pool was never short", total);

  /* A client connecting now is served once the deadline has freed memory. */
  uint64_t took = legit_served(&s);
  printf("a client connecting during the attack was served in %llu ms (deadline %d ms)\n",
         (unsigned long long)took, TIMEOUT);
  rel_figure("large_messages_client_served_ms", (double)took);
  /* The peers whose first parts found no memory wait without a deadline
   * (they hold nothing); each pool-full of them begins when memory comes
   * back, and ends at its deadline: one deadline per pool-full. */
  SITE_WAIT(&s, 4 * ET_DEADLINE_MS, closed_by(&s, TOFU_STATUS_RECV_FAILED) == PEERS,
            "%ld channels closed with recv_failed, expected %d",
            closed_by(&s, TOFU_STATUS_RECV_FAILED), PEERS);
  printf("every peer closed %llu ms after the attack began\n",
         (unsigned long long)(mono_now_ms() - t_attack));
  for (int i = 0; i < PEERS; i++) {
    ck_assert_msg(rel_closed_by_peer(peer[i]), "peer %d left open", i);
    net_close(peer[i]);
  }
  st = site_stats(&s);
  ck_assert_uint_ge(st.frame_timeouts, PEERS);
  ck_assert_uint_le(st.memory_used, st.memory_limit);
  long rss = rel_rss_kib(), peak = rel_peak_rss_kib();
  rss_max = rss > rss_max ? rss : rss_max;
  rss_max = peak > rss_max ? peak : rss_max;
  if (rel_env("TOFU_REL_NO_RSS_CHECK", REL_SANITIZED)) {
    printf("the resident set is not checked here: a sanitizer or valgrind owns part of it\n");
  } else if (rss_max > 0) {
    long allowed = (long)(limit / 1024) + 16 * 1024;
    printf("resident set %ld KiB before the attack, at most %ld KiB (allowed %ld KiB: max_memory "
           "+ 16 MiB)\n",
           rss0, rss_max, allowed);
    rel_figure("large_messages_peak_rss_kib", (double)rss_max);
    ck_assert_msg(rss_max < allowed, "the resident set reached %ld KiB (allowed %ld)", rss_max,
                  allowed);
  } else {
    printf("the resident set cannot be read here\n");
  }
  site_close(&s);
}
