/* tofu — poller suite: one-shot arming and the interest a report carries. */
#include "suite.h"

void case_one_report_per_arm(void) {
  tofu_socket a, b;
  pt_pair(PAIR_TCP, &a, &b);
  tofu_poller *p = pt_open();
  tofu_poll_handle *ha = pt_register(p, a, PT_TOKEN(1));
  tofu_poll_handle *hb = pt_register(p, b, PT_TOKEN(2));
  pt_make_readable(p, hb, PT_TOKEN(2), a, "x", 1);
  void *const tokens[] = {PT_TOKEN(1), PT_TOKEN(2)};
  unsigned bits[2];

  for (int round = 0; round < 5; round++) {
    /* Both stay ready throughout (nothing is read or written). */
    pt_arm(p, ha, PT_W);
    pt_arm(p, hb, PT_R);
    ck_assert_int_eq(pt_gather(p, tokens, bits, 2, PT_DEADLINE_MS), 2);
    PT_ASSERT_BITS(bits[0], PT_W);
    PT_ASSERT_BITS(bits[1], PT_R);
    /* Not re-armed: several waits report nothing. */
    pt_expect_none(p, PT_QUIET_MS / 2);
    pt_expect_none(p, 0);
    pt_expect_none(p, PT_QUIET_MS / 2);
  }

  pt_deregister(p, ha);
  pt_deregister(p, hb);
  PT_OPS->close(p);
  pair_close(a, b);
}

void case_rearm_new_interest(void) {
  tofu_socket a, b;
  pt_pair(PAIR_TCP, &a, &b);
  tofu_poller *p = pt_open();
  tofu_poll_handle *h = pt_register(p, a, PT_TOKEN(1));

  /* READABLE (not ready) replaced by WRITABLE (ready). */
  pt_arm(p, h, PT_R);
  pt_arm(p, h, PT_W);
  PT_ASSERT_BITS(pt_expect(p, PT_TOKEN(1), PT_DEADLINE_MS), PT_W);

  /* WRITABLE (ready) replaced by READABLE (not ready): nothing. */
  pt_arm(p, h, PT_W);
  pt_arm(p, h, PT_R);
  pt_expect_none(p, PT_QUIET_MS);
  /* The READABLE interest stands: data is reported, without WRITABLE. */
  pt_send(b, "x", 1);
  PT_ASSERT_BITS(pt_expect(p, PT_TOKEN(1), PT_DEADLINE_MS), PT_R);

  /* Widening: READABLE replaced by both, both ready. */
  pt_arm(p, h, PT_R);
  pt_arm(p, h, PT_R | PT_W);
  PT_ASSERT_BITS(pt_expect(p, PT_TOKEN(1), PT_DEADLINE_MS), PT_R | PT_W);

  pt_deregister(p, h);
  PT_OPS->close(p);
  pair_close(a, b);
}

void case_arm_both_one_event(void) {
  tofu_socket a, b;
  pt_pair(PAIR_TCP, &a, &b);
  tofu_poller *p = pt_open();
  tofu_poll_handle *h = pt_register(p, a, PT_TOKEN(1));
  pt_make_readable(p, h, PT_TOKEN(1), b, "x", 1); /* a: data arrived, and writable */
  for (int round = 0; round < 3; round++) {
    pt_arm(p, h, PT_R | PT_W);
    PT_ASSERT_BITS(pt_expect(p, PT_TOKEN(1), PT_DEADLINE_MS), PT_R | PT_W);
    pt_expect_none(p, PT_QUIET_MS); /* one event, not one per direction */
  }
  pt_deregister(p, h);
  PT_OPS->close(p);
  pair_close(a, b);
}

void case_disarm(void) {
  tofu_socket a, b;
  pt_pair(PAIR_TCP, &a, &b);
  tofu_poller *p = pt_open();
  tofu_poll_handle *h = pt_register(p, a, PT_TOKEN(1));
  pt_make_readable(p, h, PT_TOKEN(1), b, "x", 1);

  /* Ready in each armed direction, disarmed before the wait: nothing. */
  const unsigned interests[] = {PT_W, PT_R, PT_R | PT_W};
  for (int i = 0; i < 3; i++) {
    pt_arm(p, h, interests[i]);
    pt_arm(p, h, 0);
    pt_expect_none(p, PT_QUIET_MS);
  }
  /* Disarming a disarmed handle is fine, and arming works afterwards. */
  pt_arm(p, h, 0);
  pt_arm(p, h, PT_W);
  PT_ASSERT_BITS(pt_expect(p, PT_TOKEN(1), PT_DEADLINE_MS), PT_W);

  pt_deregister(p, h);
  PT_OPS->close(p);
  pair_close(a, b);
}

void case_interest_filter(void) {
  tofu_socket a, b, c, d;
  pt_pair(PAIR_TCP, &a, &b);
  pt_pair(PAIR_TCP, &c, &d);
  tofu_poller *p = pt_open();
  tofu_poll_handle *ha = pt_register(p, a, PT_TOKEN(1));
  tofu_poll_handle *hc = pt_register(p, c, PT_TOKEN(2));
  pt_make_readable(p, ha, PT_TOKEN(1), b, "x", 1); /* a: readable and writable */

  pt_arm(p, ha, PT_R);
  PT_ASSERT_BITS(pt_expect(p, PT_TOKEN(1), PT_DEADLINE_MS), PT_R);
  pt_arm(p, ha, PT_W);
  PT_ASSERT_BITS(pt_expect(p, PT_TOKEN(1), PT_DEADLINE_MS), PT_W);

  /* c is writable only: READABLE interest gets nothing. */
  pt_arm(p, hc, PT_R);
  pt_expect_none(p, PT_QUIET_MS);
  pt_arm(p, hc, PT_R | PT_W);
  PT_ASSERT_BITS(pt_expect(p, PT_TOKEN(2), PT_DEADLINE_MS), PT_W);

  pt_deregister(p, ha);
  pt_deregister(p, hc);
  PT_OPS->close(p);
  pair_close(a, b);
  pair_close(c, d);
}
