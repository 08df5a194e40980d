/* tofu — poller suite: a handle armed for TOFU_POLL_HANGUP alone, as a
 * caller arms a socket it does not read for now (a channel paused for
 * memory): a reset reaches it, data and (over TCP) an orderly close do not. */
#include "suite.h"

#include <string.h>

/* Reset a's connection: a closes abortively, with bytes from b unread (what
 * makes a Unix domain socket's close a reset too: SO_LINGER means nothing
 * there). */
static void reset_from_a(pt_fixture *f) {
  pt_send(f->b, "unread by a", 11);
  ck_assert_int_eq(net_set_linger_abort(f->a), NET_OK);
  net_close(f->a);
  f->a = TOFU_INVALID_SOCKET;
}

/* A reset reaches a handle armed for HANGUP alone as HANGUP|ERROR, without
 * READABLE even though unread data waits; once per arm; the error is still
 * there for the next arm, with the armed direction this time. */
void case_hangup_only_peer_rst_tcp(void) {
  pt_fixture f;
  pt_setup(&f, PAIR_TCP, PT_REG_B);
  /* Unread data on b: certainly arrived (reported once), never read. */
  pt_make_readable(f.p, f.hb, PT_TOKEN(2), f.a, "unread", 6);
  pt_arm(f.p, f.hb, PT_H);
  pt_expect_none(f.p, PT_QUIET_MS);

  reset_from_a(&f);
  unsigned bits = pt_expect(f.p, PT_TOKEN(2), PT_DEADLINE_MS);
  PT_ASSERT_BITS(bits, PT_H | PT_E);
  /* One report per arm, though the socket stays reset. */
  pt_expect_none(f.p, PT_QUIET_MS);

  /* Armed again with a direction: the hang-up is level state, reported at
   * once, with that direction and not the other. */
  pt_arm(f.p, f.hb, PT_H | PT_W);
  bits = pt_expect(f.p, PT_TOKEN(2), PT_DEADLINE_MS);
  PT_ASSERT_BITS(bits, PT_H | PT_E | PT_W);

  pt_teardown(&f);
}

/* Data is no hang-up: nothing is reported while it arrives, however many
 * times, and armed for READABLE again the socket is reported at once. The
 * first READABLE arm makes the backend watch data (epoll's registration),
 * which the HANGUP arm after it must stop reporting. */
static void hangup_only_ignores_data(pair_transport t) {
  pt_fixture f;
  pt_setup(&f, t, PT_REG_B);
  pt_make_readable(f.p, f.hb, PT_TOKEN(2), f.a, "one", 3);
  ck_assert_uint_eq(pt_recv_available(f.b, NULL), 3);

  pt_arm(f.p, f.hb, PT_H);
  pt_expect_none(f.p, PT_QUIET_MS / 2);
  pt_send(f.a, "two", 3);
  pt_expect_none(f.p, PT_QUIET_MS);
  pt_send(f.a, "three", 5);
  pt_expect_none(f.p, PT_QUIET_MS);

  /* Still armed: a reset now is reported, and only it. */
  reset_from_a(&f);
  unsigned bits = pt_expect(f.p, PT_TOKEN(2), PT_DEADLINE_MS);
  ck_assert_msg((bits & PT_E) && (bits & ~(PT_H | PT_E)) == 0,
                "reset after data, armed HANGUP: expected HANGUP|ERROR, got %s", pt_bits(bits));

  pt_teardown(&f);
}

void case_hangup_only_ignores_data_tcp(void) {
  hangup_only_ignores_data(PAIR_TCP);
}
/* Windows AF_UNIX: as TCP (AFD's ABORT for the reset). */
void case_hangup_only_ignores_data_uds(void) {
  hangup_only_ignores_data(PAIR_UDS);
}

/* An orderly close over TCP is READABLE (rule 3), not a hang-up: a handle
 * armed for HANGUP alone hears nothing, and the bytes before the close are
 * all read afterwards, then the end of stream. */
void case_hangup_only_ignores_fin_tcp(void) {
  pt_fixture f;
  pt_setup(&f, PAIR_TCP, PT_REG_B);
  pt_arm(f.p, f.hb, PT_H);
  pt_send(f.a, "last words", 10);
  net_close(f.a);
  f.a = TOFU_INVALID_SOCKET;
  pt_expect_none(f.p, PT_QUIET_MS * 2);

  pt_arm(f.p, f.hb, PT_R);
  unsigned bits = pt_expect(f.p, PT_TOKEN(2), PT_DEADLINE_MS);
  ck_assert_msg((bits & PT_R) && !(bits & PT_E), "after the close: got %s", pt_bits(bits));
  char buf[16];
  ck_assert_int_eq((int)net_recv(f.b, buf, sizeof buf), 10);
  ck_assert_int_eq(memcmp(buf, "last words", 10), 0);
  ck_assert_int_eq((int)net_recv(f.b, buf, sizeof buf), 0);

  pt_teardown(&f);
}

/* Over a Unix domain socket poll and epoll say HANGUP when the peer has
 * closed (both directions are finished), so a handle armed for HANGUP alone
 * may be reported; never with ERROR, and the bytes before the close are
 * still there. (Windows AF_UNIX: AFD reports the close as DISCONNECT, which
 * a HANGUP arm does not ask for: nothing is reported.) */
void case_hangup_only_fin_uds(void) {
  pt_fixture f;
  pt_setup(&f, PAIR_UDS, PT_REG_B);
  pt_arm(f.p, f.hb, PT_H);
  pt_send(f.a, "last words", 10);
  net_close(f.a);
  f.a = TOFU_INVALID_SOCKET;
  unsigned bits = pt_expect(f.p, PT_TOKEN(2), PT_QUIET_MS * 2);
  ck_assert_msg(bits == 0 || bits == PT_H,
                "orderly close armed HANGUP: expected nothing or HANGUP, got %s", pt_bits(bits));
  ck_assert_int_eq(net_pending_error(f.b), NET_OK);

  char buf[16];
  ck_assert_int_eq((int)net_recv(f.b, buf, sizeof buf), 10);
  ck_assert_int_eq(memcmp(buf, "last words", 10), 0);
  ck_assert_int_eq((int)net_recv(f.b, buf, sizeof buf), 0);

  pt_teardown(&f);
}

/* HANGUP with a direction reports that direction as usual, and only it. */
void case_hangup_with_writable(void) {
  pt_fixture f;
  pt_setup(&f, PAIR_TCP, PT_REG_B);
  pt_make_readable(f.p, f.hb, PT_TOKEN(2), f.a, "data", 4);
  pt_arm(f.p, f.hb, PT_H | PT_W);
  unsigned bits = pt_expect(f.p, PT_TOKEN(2), PT_DEADLINE_MS);
  PT_ASSERT_BITS(bits, PT_W);
  pt_expect_none(f.p, PT_QUIET_MS);
  pt_teardown(&f);
}
