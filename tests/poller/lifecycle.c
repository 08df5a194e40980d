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
  pt_fixture f;
  pt_setup(&f, PAIR_TCP, PT_REG_A | PT_REG_B | PT_REG_C); /* c: registered, never armed */
  pt_send(f.a, "x", 1);
  pt_arm(f.p, f.ha, PT_R | PT_W);
  pt_arm(f.p, f.hb, PT_R);
  pt_expect_ab(&f, PT_W, PT_R);
  pt_arm(f.p, f.ha, PT_R); /* armed, not ready */
  pt_arm(f.p, f.hb, PT_R); /* armed and ready: a report is pending */
  PT_OPS->close(f.p);      /* with all three registered: their handles go with it */
  f.ha = f.hb = f.hc = NULL;

  /* The sockets are still the caller's, open and connected. (They are not
   * registered with another poller: the contract does not promise that a
   * socket can move from one poller to another.) */
  char buf[8];
  ck_assert_int_eq((int)net_recv(f.b, buf, sizeof buf), 1); /* the "x" reported above */
  ck_assert_int_eq(buf[0], 'x');
  pt_send(f.b, "yz", 2);
  pt_send(f.a, "a", 1);
  pt_send(f.c, "w", 1);
  f.p = pt_open(); /* a second poller, for d, which was never in the first */
  f.hd = pt_register(f.p, f.d, PT_TOKEN(4));
  pt_arm(f.p, f.hd, PT_R);
  PT_ASSERT_BITS(pt_expect(f.p, PT_TOKEN(4), PT_DEADLINE_MS), PT_R);
  ck_assert_int_eq((int)net_recv(f.d, buf, sizeof buf), 1);
  ck_assert_int_eq(buf[0], 'w');
  pt_teardown(&f);
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
  pt_fixture f;
  pt_setup(&f, PAIR_TCP, 0);
  tofu_poller *p = f.p;
  tofu_socket a = f.a;
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
  const unsigned bad[] = {TOFU_POLL_ERROR, TOFU_POLL_WAKEUP, PT_W | PT_E,
                          PT_H | PT_E,     PT_R | 0x100u,    0x80000000u};
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
  pt_deregister(p, h); /* never in f: pt_teardown leaves it be */

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

  pt_teardown(&f);
}

void case_register_twice(void) {
  pt_fixture f;
  pt_setup(&f, PAIR_TCP, PT_REG_A);
  tofu_poll_handle *h2 = NULL;
  ck_assert_int_eq(PT_OPS->register_socket(f.p, f.a, PT_TOKEN(2), &h2), TOFU_EEXIST);
  /* The first registration is intact. */
  pt_arm(f.p, f.ha, PT_W);
  PT_ASSERT_BITS(pt_expect(f.p, PT_TOKEN(1), PT_DEADLINE_MS), PT_W);
  pt_deregister(f.p, f.ha);
  /* After deregister the socket registers again, under its new token. */
  f.ha = pt_register(f.p, f.a, PT_TOKEN(3));
  pt_arm(f.p, f.ha, PT_W);
  PT_ASSERT_BITS(pt_expect(f.p, PT_TOKEN(3), PT_DEADLINE_MS), PT_W);
  pt_teardown(&f);
}
