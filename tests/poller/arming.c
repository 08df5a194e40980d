/* tofu — poller suite: one-shot arming and the interest a report carries. */
#include "suite.h"

void case_one_report_per_arm(void) {
  pt_fixture f;
  pt_setup(&f, PAIR_TCP, PT_REG_A | PT_REG_B);
  pt_make_readable(f.p, f.hb, PT_TOKEN(2), f.a, "x", 1);

  for (int round = 0; round < 5; round++) {
    /* Both stay ready throughout (nothing is read or written). */
    pt_arm(f.p, f.ha, PT_W);
    pt_arm(f.p, f.hb, PT_R);
    pt_expect_ab(&f, PT_W, PT_R);
    /* Not re-armed: several waits report nothing. */
    pt_expect_none(f.p, PT_QUIET_MS / 2);
    pt_expect_none(f.p, 0);
    pt_expect_none(f.p, PT_QUIET_MS / 2);
  }

  pt_teardown(&f);
}

void case_rearm_new_interest(void) {
  pt_fixture f;
  pt_setup(&f, PAIR_TCP, PT_REG_A);

  /* READABLE (not ready) replaced by WRITABLE (ready). */
  pt_arm(f.p, f.ha, PT_R);
  pt_arm(f.p, f.ha, PT_W);
  PT_ASSERT_BITS(pt_expect(f.p, PT_TOKEN(1), PT_DEADLINE_MS), PT_W);

  /* WRITABLE (ready) replaced by READABLE (not ready): nothing. */
  pt_arm(f.p, f.ha, PT_W);
  pt_arm(f.p, f.ha, PT_R);
  pt_expect_none(f.p, PT_QUIET_MS);
  /* The READABLE interest stands: data is reported, without WRITABLE. */
  pt_send(f.b, "x", 1);
  PT_ASSERT_BITS(pt_expect(f.p, PT_TOKEN(1), PT_DEADLINE_MS), PT_R);

  /* Widening: READABLE replaced by both, both ready. */
  pt_arm(f.p, f.ha, PT_R);
  pt_arm(f.p, f.ha, PT_R | PT_W);
  PT_ASSERT_BITS(pt_expect(f.p, PT_TOKEN(1), PT_DEADLINE_MS), PT_R | PT_W);

  pt_teardown(&f);
}

void case_arm_both_one_event(void) {
  pt_fixture f;
  pt_setup(&f, PAIR_TCP, PT_REG_A);
  pt_make_readable(f.p, f.ha, PT_TOKEN(1), f.b, "x", 1); /* a: data arrived, and writable */
  for (int round = 0; round < 3; round++) {
    pt_arm(f.p, f.ha, PT_R | PT_W);
    PT_ASSERT_BITS(pt_expect(f.p, PT_TOKEN(1), PT_DEADLINE_MS), PT_R | PT_W);
    pt_expect_none(f.p, PT_QUIET_MS); /* one event, not one per direction */
  }
  pt_teardown(&f);
}

void case_disarm(void) {
  pt_fixture f;
  pt_setup(&f, PAIR_TCP, PT_REG_A);
  pt_make_readable(f.p, f.ha, PT_TOKEN(1), f.b, "x", 1);

  /* Ready in each armed direction, disarmed before the wait: nothing. */
  const unsigned interests[] = {PT_W, PT_R, PT_R | PT_W};
  for (int i = 0; i < 3; i++) {
    pt_arm(f.p, f.ha, interests[i]);
    pt_arm(f.p, f.ha, 0);
    pt_expect_none(f.p, PT_QUIET_MS);
  }
  /* Disarming a disarmed handle is fine, and arming works afterwards. */
  pt_arm(f.p, f.ha, 0);
  pt_arm(f.p, f.ha, PT_W);
  PT_ASSERT_BITS(pt_expect(f.p, PT_TOKEN(1), PT_DEADLINE_MS), PT_W);

  pt_teardown(&f);
}

void case_interest_filter(void) {
  pt_fixture f;
  pt_setup(&f, PAIR_TCP, PT_REG_A | PT_REG_C);
  pt_make_readable(f.p, f.ha, PT_TOKEN(1), f.b, "x", 1); /* a: readable and writable */

  pt_arm(f.p, f.ha, PT_R);
  PT_ASSERT_BITS(pt_expect(f.p, PT_TOKEN(1), PT_DEADLINE_MS), PT_R);
  pt_arm(f.p, f.ha, PT_W);
  PT_ASSERT_BITS(pt_expect(f.p, PT_TOKEN(1), PT_DEADLINE_MS), PT_W);

  /* c is writable only: READABLE interest gets nothing. */
  pt_arm(f.p, f.hc, PT_R);
  pt_expect_none(f.p, PT_QUIET_MS);
  pt_arm(f.p, f.hc, PT_R | PT_W);
  PT_ASSERT_BITS(pt_expect(f.p, PT_TOKEN(3), PT_DEADLINE_MS), PT_W);

  pt_teardown(&f);
}
