/* tofu — poller suite: opening and closing pollers, the backend's name,
 * argument checking, double registration. */
#include "suite.h"

#include <string.h>

void case_open_close_many(void) {
  /* One at a time, many times. */
  for (int i = 0; i < 1000; i++)
    PT_OPS->close(pt_open());
  /* Several alive at once, closed in another order than opened. */
  tofu_poller *ps[16];
  for (int i = 0; i < 16; i++)
    ps[i] = pt_open();
  for (int i = 0; i < 16; i += 2)
    PT_OPS->close(ps[i]);
  for (int i = 15; i > 0; i -= 2)
    PT_OPS->close(ps[i]);
  PT_OPS->close(NULL);
  /* A poller opened after all that still works. */
  tofu_poller *p = pt_open();
  PT_OPS->notify(p);
  tofu_poll_event ev[2];
  ck_assert_int_eq(pt_wait(p, ev, 2, PT_DEADLINE_MS), 1);
  ck_assert_uint_eq(ev[0].events, TOFU_POLL_WAKEUP);
  PT_OPS->close(p);
}

void case_close_with_registered(void) {
  tofu_socket a, b, c, d;
  pt_pair(PAIR_TCP, &a, &b);
  pt_pair(PAIR_TCP, &c, &d);
  tofu_poller *p = pt_open();
  tofu_poll_handle *ha = pt_register(p, a, PT_TOKEN(1));
  tofu_poll_handle *hb = pt_register(p, b, PT_TOKEN(2));
  pt_register(p, c, PT_TOKEN(3)); /* registered, never armed */
  pt_send(a, "x", 1);
  pt_arm(p, ha, PT_R | PT_W);
  pt_arm(p, hb, PT_R);
  void *const tokens[] = {PT_TOKEN(1), PT_TOKEN(2)};
  unsigned bits[2];
  ck_assert_int_eq(pt_gather(p, tokens, bits, 2, PT_DEADLINE_MS), 2);
  PT_ASSERT_BITS(bits[0], PT_W);
  PT_ASSERT_BITS(bits[1], PT_R);
  pt_arm(p, ha, PT_R); /* armed, not ready */
  pt_arm(p, hb, PT_R); /* armed and ready: a report is pending */
  PT_OPS->close(p);

  /* The sockets are still the caller's, open and connected. (They are not
   * registered with another poller: the contract does not promise that a
   * socket can move from one poller to another.) */
  char buf[8];
  ck_assert_int_eq((int)net_recv(b, buf, sizeof buf), 1); /* the "x" reported above */
  ck_assert_int_eq(buf[0], 'x');
  pt_send(b, "yz", 2);
  pt_send(a, "a", 1);
  pt_send(c, "w", 1);
  tofu_poller *q = pt_open();
  tofu_poll_handle *hd = pt_register(q, d, PT_TOKEN(4)); /* d was never in p */
  pt_arm(q, hd, PT_R);
  PT_ASSERT_BITS(pt_expect(q, PT_TOKEN(4), PT_DEADLINE_MS), PT_R);
  ck_assert_int_eq((int)net_recv(d, buf, sizeof buf), 1);
  ck_assert_int_eq(buf[0], 'w');
  pt_deregister(q, hd);
  PT_OPS->close(q);
  pair_close(a, b);
  pair_close(c, d);
}

void case_backend_name(void) {
  const tofu_poller_ops *ops = tofu_poller_backend();
  ck_assert_ptr_nonnull(ops);
  ck_assert_ptr_eq(ops, tofu_poller_backend());
  ck_assert_ptr_nonnull(ops->name);
  ck_assert_str_eq(ops->name, TOFU_EXPECTED_BACKEND);
  ck_assert_str_eq(tofu_backend_name(), TOFU_EXPECTED_BACKEND);
  ck_assert_msg(ops->open && ops->close && ops->register_socket && ops->deregister && ops->arm &&
                    ops->wait && ops->notify && ops->stats,
                "the backend table has a NULL function");
}

void case_invalid_arguments(void) {
  tofu_socket a, b;
  pt_pair(PAIR_TCP, &a, &b);
  tofu_poller *p = pt_open();
  tofu_poll_handle *h = NULL;
  tofu_poll_event ev[4];

  ck_assert_int_eq(PT_OPS->open(NULL), TOFU_EINVAL);

  /* register_socket */
  ck_assert_int_eq(PT_OPS->register_socket(p, TOFU_INVALID_SOCKET, PT_TOKEN(1), &h), TOFU_EINVAL);
  ck_assert_int_eq(PT_OPS->register_socket(p, a, PT_TOKEN(1), NULL), TOFU_EINVAL);
  ck_assert_int_eq(PT_OPS->register_socket(NULL, a, PT_TOKEN(1), &h), TOFU_EINVAL);
  /* None of those registered a: it can be registered now. */
  h = pt_register(p, a, PT_TOKEN(1));

  /* arm */
  ck_assert_int_eq(PT_OPS->arm(p, NULL, PT_W), TOFU_EINVAL);
  ck_assert_int_eq(PT_OPS->arm(NULL, h, PT_W), TOFU_EINVAL);
  const unsigned bad[] = {TOFU_POLL_HANGUP, TOFU_POLL_ERROR, TOFU_POLL_WAKEUP,
                          PT_W | PT_H,      PT_R | 0x100u,   0x80000000u};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    ck_assert_msg(PT_OPS->arm(p, h, bad[i]) == TOFU_EINVAL, "arm(%s) did not return TOFU_EINVAL",
                  pt_bits(bad[i]));
  /* The rejected arms armed nothing: a is writable, yet nothing is reported. */
  pt_expect_none(p, PT_QUIET_MS);

  /* wait */
  ck_assert_int_eq(PT_OPS->wait(p, ev, 0, 0), TOFU_EINVAL);
  ck_assert_int_eq(PT_OPS->wait(p, ev, -1, 0), TOFU_EINVAL);
  ck_assert_int_eq(PT_OPS->wait(p, ev, 4, -2), TOFU_EINVAL);
  ck_assert_int_eq(PT_OPS->wait(p, NULL, 4, 0), TOFU_EINVAL);
  ck_assert_int_eq(PT_OPS->wait(NULL, ev, 4, 0), TOFU_EINVAL);

  /* A valid arm, then rejected calls: the arm stands and its report is kept. */
  pt_arm(p, h, PT_W);
  ck_assert_int_eq(PT_OPS->arm(p, h, PT_R | 0x40u), TOFU_EINVAL);
  ck_assert_int_eq(PT_OPS->wait(p, ev, 0, 100), TOFU_EINVAL);
  ck_assert_int_eq(PT_OPS->wait(p, NULL, 1, 100), TOFU_EINVAL);
  PT_ASSERT_BITS(pt_expect(p, PT_TOKEN(1), PT_DEADLINE_MS), PT_W);

  /* deregister */
  ck_assert_int_eq(PT_OPS->deregister(p, NULL), TOFU_EINVAL);
  ck_assert_int_eq(PT_OPS->deregister(NULL, h), TOFU_EINVAL);
  pt_deregister(p, h);

  /* stats: a poller that only did the above has counted nothing */
  tofu_poller_stats st = {sizeof st, 0};
  ck_assert_int_eq(PT_OPS->stats(NULL, &st), TOFU_EINVAL);
  ck_assert_int_eq(PT_OPS->stats(p, NULL), TOFU_EINVAL);
  st.size = 0; /* a zeroed struct: its size was not set */
  ck_assert_int_eq(PT_OPS->stats(p, &st), TOFU_EINVAL);
  memset(&st, 0xff, sizeof st);
  st.size = sizeof st;
  ck_assert_int_eq(PT_OPS->stats(p, &st), TOFU_OK);
  ck_assert_uint_eq(st.size, sizeof st);
  ck_assert_uint_eq(st.foreign_packets, 0);
  /* A caller built against an older, shorter struct gets only what fits. */
  memset(&st, 0xff, sizeof st);
  st.size = sizeof st.size;
  ck_assert_int_eq(PT_OPS->stats(p, &st), TOFU_OK);
  ck_assert_uint_eq(st.size, sizeof st.size);
  ck_assert_msg(st.foreign_packets == UINT64_MAX, "stats wrote past the caller's size");

  PT_OPS->close(p);
  pair_close(a, b);
}

void case_register_twice(void) {
  tofu_socket a, b;
  pt_pair(PAIR_TCP, &a, &b);
  tofu_poller *p = pt_open();
  tofu_poll_handle *h = pt_register(p, a, PT_TOKEN(1));
  tofu_poll_handle *h2 = NULL;
  ck_assert_int_eq(PT_OPS->register_socket(p, a, PT_TOKEN(2), &h2), TOFU_EEXIST);
  /* The first registration is intact. */
  pt_arm(p, h, PT_W);
  PT_ASSERT_BITS(pt_expect(p, PT_TOKEN(1), PT_DEADLINE_MS), PT_W);
  pt_deregister(p, h);
  /* After deregister the socket registers again, under its new token. */
  h = pt_register(p, a, PT_TOKEN(3));
  pt_arm(p, h, PT_W);
  PT_ASSERT_BITS(pt_expect(p, PT_TOKEN(3), PT_DEADLINE_MS), PT_W);
  pt_deregister(p, h);
  PT_OPS->close(p);
  pair_close(a, b);
}
