/* tofu — poller suite: deregistering handles in every state, socket number
 * reuse, and registration churn. */
#include "suite.h"

#include <stdio.h>

void case_no_events_after_deregister(void) {
  tofu_socket a, b, c, d;
  pt_pair(PAIR_TCP, &a, &b);
  pt_pair(PAIR_TCP, &c, &d);
  tofu_poller *p = pt_open();
  tofu_poll_handle *hc = pt_register(p, c, PT_TOKEN(9)); /* a live neighbour */

  /* Armed while ready (a report may already be queued), then deregistered. */
  tofu_poll_handle *hb = pt_register(p, b, PT_TOKEN(1));
  pt_make_readable(p, hb, PT_TOKEN(1), a, "x", 1); /* b: readable and writable */
  pt_arm(p, hb, PT_R | PT_W);
  pt_deregister(p, hb);
  pt_arm(p, hc, PT_W);
  PT_ASSERT_BITS(pt_expect(p, PT_TOKEN(9), PT_DEADLINE_MS), PT_W); /* fails on token 1 */
  pt_expect_none(p, PT_QUIET_MS);

  /* Reported, re-armed while still ready, deregistered. */
  hb = pt_register(p, b, PT_TOKEN(2));
  pt_arm(p, hb, PT_R);
  PT_ASSERT_BITS(pt_expect(p, PT_TOKEN(2), PT_DEADLINE_MS), PT_R);
  pt_arm(p, hb, PT_R | PT_W);
  pt_deregister(p, hb);
  pt_expect_none(p, PT_QUIET_MS);

  /* Becoming ready only after deregister: still nothing, before or after the
   * socket is closed. */
  hb = pt_register(p, b, PT_TOKEN(3));
  pt_arm(p, hb, PT_R);
  pt_deregister(p, hb);
  pt_send(a, "more", 4);
  pt_expect_none(p, PT_QUIET_MS);
  pt_deregister(p, hc);
  pair_close(a, b);
  pt_expect_none(p, PT_QUIET_MS);

  PT_OPS->close(p);
  pair_close(c, d);
}

void case_deregister_close_reuse(void) {
  tofu_socket a, b;
  pt_pair(PAIR_TCP, &a, &b);
  pair_listener l;
  ck_assert_int_eq(pair_listen(PAIR_TCP, &l), NET_OK);
  tofu_poller *p = pt_open();

  /* b: armed and ready when it is deregistered and closed. */
  tofu_poll_handle *hb = pt_register(p, b, PT_TOKEN(1));
  pt_make_readable(p, hb, PT_TOKEN(1), a, "x", 1);
  pt_arm(p, hb, PT_R | PT_W);
  tofu_socket old = b;
  pt_deregister(p, hb);
  net_close(b);

  /* The next socket usually gets the same number (POSIX: the lowest free
   * descriptor; Windows may or may not reuse a handle value). */
  tofu_socket c, s;
  int rc = pair_connect(&l, 0, &c);
  ck_assert_int_eq(rc, NET_OK);
  ck_assert_int_eq(net_accept(l.sock, &s), NET_OK);
  ck_assert_int_eq(net_set_nonblocking(c), NET_OK);
#ifndef _WIN32
  ck_assert_msg(c == old, "POSIX reuses the lowest descriptor: expected %d, got %d", (int)old,
                (int)c);
#else
  printf("deregister_close_reuse: socket value %s\n", c == old ? "reused" : "not reused");
#endif

  tofu_poll_handle *hc = pt_register(p, c, PT_TOKEN(2));
  pt_arm(p, hc, PT_R);
  pt_expect_none(p, PT_QUIET_MS); /* not readable, and never the old token */
  pt_send(s, "y", 1);
  PT_ASSERT_BITS(pt_expect(p, PT_TOKEN(2), PT_DEADLINE_MS), PT_R);
  pt_arm(p, hc, PT_R | PT_W);
  PT_ASSERT_BITS(pt_expect(p, PT_TOKEN(2), PT_DEADLINE_MS), PT_R | PT_W);
  pt_expect_none(p, PT_QUIET_MS);

  pt_deregister(p, hc);
  PT_OPS->close(p);
  pair_close(c, s);
  net_close(a);
  pair_unlisten(&l);
}

/* Register each a[i] again under tokens first_token + i, arm it WRITABLE and
 * check that each reports exactly WRITABLE; then release the handles, the
 * pairs and the poller. The end of the cases that churn handles. */
static void register_again_and_close(tofu_poller *p, tofu_socket *a, tofu_socket *b, int n,
                                     int first_token) {
  enum { MAX = 16 };
  void *tokens[MAX];
  unsigned bits[MAX];
  tofu_poll_handle *h[MAX];
  ck_assert_int_le(n, MAX);
  for (int i = 0; i < n; i++) {
    tokens[i] = PT_TOKEN(first_token + i);
    h[i] = pt_register(p, a[i], tokens[i]);
    pt_arm(p, h[i], PT_W);
  }
  ck_assert_int_eq(pt_gather(p, tokens, bits, n, PT_DEADLINE_MS), n);
  for (int i = 0; i < n; i++) {
    PT_ASSERT_BITS(bits[i], PT_W);
    pt_deregister(p, h[i]);
    pair_close(a[i], b[i]);
  }
  PT_OPS->close(p);
}

void case_deregister_states(void) {
  enum { N = 4 };
  tofu_socket a[N], b[N];
  tofu_poll_handle *h[N];
  tofu_poller *p = pt_open();
  for (int i = 0; i < N; i++) {
    pt_pair(PAIR_TCP, &a[i], &b[i]);
    h[i] = pt_register(p, a[i], PT_TOKEN(i + 1));
  }
  /* 0: registered, never armed. 1: armed, not ready. 2: armed and ready,
   * not yet waited for. 3: armed, reported by a wait. */
  pt_arm(p, h[1], PT_R);
  pt_arm(p, h[3], PT_W);
  PT_ASSERT_BITS(pt_expect(p, PT_TOKEN(4), PT_DEADLINE_MS), PT_W);
  pt_arm(p, h[2], PT_W);
  for (int i = 0; i < N; i++) {
    int rc = PT_OPS->deregister(p, h[i]);
    ck_assert_msg(rc == TOFU_OK, "deregister of handle in state %d: %s", i, tofu_strerror(rc));
  }
  pt_expect_none(p, PT_QUIET_MS);

  /* Every socket registers again and reports normally. */
  register_again_and_close(p, a, b, N, 100);
}

void case_register_churn(void) {
  enum { N = 16, ROUNDS = 500 };
  tofu_socket a[N], b[N];
  tofu_poll_handle *h[N];
  void *tokens[N];
  tofu_poller *p = pt_open();
  for (int i = 0; i < N; i++)
    pt_pair(PAIR_TCP, &a[i], &b[i]);

  for (int round = 0; round < ROUNDS; round++) {
    for (int i = 0; i < N; i++) {
      tokens[i] = PT_TOKEN(round * N + i + 1);
      h[i] = pt_register(p, a[i], tokens[i]);
      /* Mix the states a handle is deregistered in. */
      if ((i + round) % 4 != 0)
        pt_arm(p, h[i], (i + round) % 4 == 1 ? PT_R : PT_W);
    }
    if (round % 2 == 0) {
      /* Collect the ready reports first, so some handles go out reported. */
      int want = 0;
      for (int i = 0; i < N; i++)
        want += (i + round) % 4 >= 2;
      int seen = 0;
      uint64_t deadline = mono_now_ms() + PT_DEADLINE_MS;
      while (seen < want && mono_now_ms() < deadline) {
        tofu_poll_event ev[N];
        int n = pt_wait(p, ev, N, 100);
        for (int k = 0; k < n; k++) {
          uintptr_t id = (uintptr_t)ev[k].token;
          ck_assert_msg(id > (uintptr_t)round * N && id <= (uintptr_t)(round + 1) * N,
                        "round %d: event for a token of another round (%u)", round, (unsigned)id);
          PT_ASSERT_BITS(ev[k].events, PT_W);
          seen++;
        }
      }
      ck_assert_int_eq(seen, want);
    }
    /* Deregister in a varying order. */
    for (int k = 0; k < N; k++) {
      int i = (k * 7 + round) % N;
      pt_deregister(p, h[i]);
    }
  }
  pt_expect_none(p, PT_QUIET_MS);

  /* The poller still works exactly. */
  register_again_and_close(p, a, b, N, 1000000);
}
