/* tofu — poller suite: a thousand connections armed at random. */
#include "suite.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SCALE_PAIRS 1024
#define SCALE_SOCKETS (2 * SCALE_PAIRS)
#define SCALE_ROUNDS 30

/* xorshift64*: small, seedable, the same everywhere. */
static uint64_t scale_rng;

static uint32_t scale_rand(uint32_t n) {
  scale_rng ^= scale_rng >> 12;
  scale_rng ^= scale_rng << 25;
  scale_rng ^= scale_rng >> 27;
  return (uint32_t)((scale_rng * 2685821657736338717ull) >> 32) % n;
}

typedef struct scale_sock {
  tofu_socket s;
  tofu_poll_handle *h;
  unsigned armed;    /* interest armed and not yet reported */
  unsigned pending;  /* bytes that arrived in an earlier round */
  unsigned inflight; /* bytes sent to it this round, maybe not arrived yet */
  unsigned expected; /* the bits this round's waits must report, 0 for none */
  int reported;
} scale_sock;

/* Socket i's peer is i ^ 1. */
static scale_sock *scale_open(tofu_poller *p) {
  scale_sock *ss = calloc(SCALE_SOCKETS, sizeof *ss);
  ck_assert_ptr_nonnull(ss);
  pair_listener l;
  int rc = pair_listen(PAIR_TCP, &l);
  ck_assert_msg(rc == NET_OK, "listen: %s", net_strerror(rc));
  for (int i = 0; i < SCALE_SOCKETS; i += 2) {
    rc = pair_connect(&l, 0, &ss[i].s);
    ck_assert_msg(rc == NET_OK, "connection %d: %s (os error %d)", i / 2, net_strerror(rc),
                  net_os_error());
    ck_assert_int_eq(net_accept(l.sock, &ss[i + 1].s), NET_OK);
    ck_assert_int_eq(net_set_nonblocking(ss[i].s), NET_OK);
    ck_assert_int_eq(net_set_nodelay(ss[i + 1].s), NET_OK);
  }
  pair_unlisten(&l);
  for (int i = 0; i < SCALE_SOCKETS; i++)
    ss[i].h = pt_register(p, ss[i].s, PT_TOKEN(i + 1));
  return ss;
}

static void scale_round(tofu_poller *p, scale_sock *ss, int round) {
  /* Last round's data has arrived (a whole collection lies between). Read
   * some sockets empty. */
  for (int i = 0; i < SCALE_SOCKETS; i++) {
    ss[i].pending += ss[i].inflight;
    ss[i].inflight = 0;
    if (ss[i].pending > 0 && scale_rand(4) == 0) {
      size_t got = pt_recv_available(ss[i].s, NULL);
      ck_assert_msg(got == ss[i].pending, "round %d: socket %d had %u bytes, read %u", round, i,
                    ss[i].pending, (unsigned)got);
      ss[i].pending = 0;
    }
  }
  /* Random writes, one byte each, arriving some time during this round. */
  for (int i = 0; i < SCALE_SOCKETS; i++) {
    if (scale_rand(8) == 0) {
      pt_send(ss[i ^ 1].s, "w", 1);
      ss[i].inflight++;
    }
  }
  /* Random arming. Both directions are never armed on a socket whose data
   * is still on the way: its WRITABLE could be reported before the data
   * lands, legitimately without READABLE. */
  for (int i = 0; i < SCALE_SOCKETS; i++) {
    if (scale_rand(3) != 0)
      continue;
    static const unsigned choices[] = {0, PT_R, PT_W, PT_R | PT_W};
    unsigned interest = choices[scale_rand(4)];
    if (interest == (PT_R | PT_W) && ss[i].inflight > 0)
      interest = PT_R;
    pt_arm(p, ss[i].h, interest);
    ss[i].armed = interest;
  }
  /* Exactly the armed and ready handles must be reported, once each. */
  int want = 0;
  for (int i = 0; i < SCALE_SOCKETS; i++) {
    unsigned a = ss[i].armed;
    ss[i].expected = (a & PT_W) | ((a & PT_R) && ss[i].pending + ss[i].inflight > 0 ? PT_R : 0);
    ss[i].reported = 0;
    want += ss[i].expected != 0;
  }
  int seen = 0;
  uint64_t deadline = mono_now_ms() + PT_DEADLINE_MS;
  while (seen < want) {
    uint64_t now = mono_now_ms();
    ck_assert_msg(now < deadline, "round %d: %d of %d expected events reported", round, seen, want);
    tofu_poll_event ev[256];
    int n = pt_wait(p, ev, 256, (int)(deadline - now));
    for (int k = 0; k < n; k++) {
      uintptr_t id = (uintptr_t)ev[k].token;
      ck_assert_msg(id >= 1 && id <= SCALE_SOCKETS, "round %d: unknown token %p (bits %s)", round,
                    ev[k].token, pt_bits(ev[k].events));
      scale_sock *s = &ss[id - 1];
      ck_assert_msg(s->expected != 0,
                    "round %d: socket %u reported (%s) but armed %s, %u bytes pending", round,
                    (unsigned)(id - 1), pt_bits(ev[k].events), pt_bits(s->armed),
                    s->pending + s->inflight);
      ck_assert_msg(!s->reported, "round %d: socket %u reported twice", round, (unsigned)(id - 1));
      ck_assert_msg(ev[k].events == s->expected, "round %d: socket %u: expected %s, got %s", round,
                    (unsigned)(id - 1), pt_bits(s->expected), pt_bits(ev[k].events));
      s->reported = 1;
      s->armed = 0; /* one-shot */
      seen++;
    }
  }
  pt_expect_none(p, PT_QUIET_MS / 2);
}

void case_many_sockets_random_arming(void) {
  const char *env = getenv("TOFU_SEED");
  uint64_t seed = env != NULL ? strtoull(env, NULL, 0) : (mono_now_ns() ^ 0x9e3779b97f4a7c15ull);
  if (seed == 0)
    seed = 1;
  scale_rng = seed;
  printf("many_sockets_random_arming: seed %" PRIu64 " (TOFU_SEED=%" PRIu64 " repeats it)\n", seed,
         seed);

  tofu_poller *p = pt_open();
  scale_sock *ss = scale_open(p);
  for (int round = 0; round < SCALE_ROUNDS; round++)
    scale_round(p, ss, round);
  for (int i = 0; i < SCALE_SOCKETS; i++)
    pt_deregister(p, ss[i].h);
  PT_OPS->close(p);
  for (int i = 0; i < SCALE_SOCKETS; i++)
    net_close(ss[i].s);
  free(ss);
}
