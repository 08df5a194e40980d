/* tofu — poller suite: readability (listeners, data, level state, reading
 * until would-block). */
#include "suite.h"

#include <string.h>

static void listener_readable(pair_transport t) {
  pair_listener l;
  int rc = pair_listen(t, &l);
  ck_assert_msg(rc == NET_OK, "listen (%s): %s", pair_name(t), net_strerror(rc));
  ck_assert_int_eq(net_set_nonblocking(l.sock), NET_OK);
  tofu_poller *p = pt_open();
  tofu_poll_handle *h = pt_register(p, l.sock, PT_TOKEN(1));

  /* No connection pending: not readable. */
  pt_arm(p, h, PT_R);
  pt_expect_none(p, PT_QUIET_MS);
  tofu_socket extra;
  ck_assert_int_eq(net_accept(l.sock, &extra), NET_EWOULDBLOCK);

  tofu_socket client;
  rc = pair_connect(&l, 1, &client);
  ck_assert_msg(rc == NET_OK || rc == NET_EINPROGRESS, "connect (%s): %s", pair_name(t),
                net_strerror(rc));
  PT_ASSERT_BITS(pt_expect(p, PT_TOKEN(1), PT_DEADLINE_MS), PT_R);

  tofu_socket server;
  ck_assert_int_eq(net_accept(l.sock, &server), NET_OK);
  /* Accepted the only one: armed again, nothing to report. */
  pt_arm(p, h, PT_R);
  pt_expect_none(p, PT_QUIET_MS);

  pt_deregister(p, h);
  PT_OPS->close(p);
  pair_close(client, server);
  pair_unlisten(&l);
}

void case_listener_readable_tcp(void) {
  listener_readable(PAIR_TCP);
}
/* Windows AF_UNIX: as TCP (AFD reports ACCEPT for any transport). */
void case_listener_readable_uds(void) {
  listener_readable(PAIR_UDS);
}

static void readable_on_data(pair_transport t) {
  pt_fixture f;
  pt_setup(&f, t, PT_REG_B);
  pt_arm(f.p, f.hb, PT_R);
  pt_expect_none(f.p, PT_QUIET_MS);

  pt_send(f.a, "hello", 5);
  PT_ASSERT_BITS(pt_expect(f.p, PT_TOKEN(2), PT_DEADLINE_MS), PT_R);
  char buf[16];
  ck_assert_int_eq((int)net_recv(f.b, buf, sizeof buf), 5);
  ck_assert_int_eq(memcmp(buf, "hello", 5), 0);

  pt_teardown(&f);
}

void case_readable_on_data_tcp(void) {
  readable_on_data(PAIR_TCP);
}
/* Windows AF_UNIX: as TCP. */
void case_readable_on_data_uds(void) {
  readable_on_data(PAIR_UDS);
}

void case_level_at_arm(void) {
  pt_fixture f;
  pt_setup(&f, PAIR_TCP, PT_REG_A | PT_REG_B);
  /* b's data has arrived (reported once, not read); a was never armed. */
  pt_make_readable(f.p, f.hb, PT_TOKEN(2), f.a, "abc", 3);

  /* Both already ready when armed: the very next wait reports both. */
  pt_arm(f.p, f.hb, PT_R);
  pt_arm(f.p, f.ha, PT_W);
  tofu_poll_event ev[4];
  memset(ev, 0, sizeof ev);
  int n = pt_wait(f.p, ev, 4, PT_DEADLINE_MS);
  ck_assert_msg(n == 2, "the next wait reported %d of the 2 handles ready at arm time", n);
  for (int i = 0; i < 2; i++)
    PT_ASSERT_BITS(ev[i].events, ev[i].token == PT_TOKEN(1) ? PT_W : PT_R);
  ck_assert_ptr_ne(ev[0].token, ev[1].token);

  /* Level, not edge: nothing was read, so re-arming reports again, and again. */
  for (int round = 0; round < 3; round++) {
    pt_arm(f.p, f.hb, PT_R);
    pt_arm(f.p, f.ha, PT_W);
    pt_expect_ab(&f, PT_W, PT_R);
  }

  pt_teardown(&f);
}

static void read_until_wouldblock(pair_transport t) {
  enum { SIZE = 100000 };
  static char out[SIZE];
  for (size_t i = 0; i < SIZE; i++)
    out[i] = (char)(i * 7);
  pt_fixture f;
  pt_setup(&f, t, PT_REG_B);
  tofu_poller *p = f.p;
  tofu_poll_handle *h = f.hb;
  tofu_socket a = f.a, b = f.b;

  /* More than one recv's worth; the sender may itself have to wait. */
  size_t sent = 0;
  while (sent < SIZE) {
    ptrdiff_t n = net_send(a, out + sent, SIZE - sent);
    if (n == NET_EWOULDBLOCK) {
      pt_arm(p, h, PT_R);
      PT_ASSERT_BITS(pt_expect(p, PT_TOKEN(2), PT_DEADLINE_MS), PT_R);
      break;
    }
    ck_assert_msg(n > 0, "send: %s", net_strerror((int)n));
    sent += (size_t)n;
  }

  /* Read all of it, re-arming whenever recv would block. */
  size_t got = 0;
  uint64_t deadline = mono_now_ms() + PT_DEADLINE_MS;
  while (got < SIZE) {
    got += pt_recv_available(b, NULL);
    while (sent < SIZE) {
      ptrdiff_t n = net_send(a, out + sent, SIZE - sent);
      if (n == NET_EWOULDBLOCK)
        break;
      ck_assert_msg(n > 0, "send: %s", net_strerror((int)n));
      sent += (size_t)n;
    }
    if (got < SIZE) {
      ck_assert_msg(mono_now_ms() < deadline, "only %u of %u bytes arrived", (unsigned)got, SIZE);
      pt_arm(p, h, PT_R);
      PT_ASSERT_BITS(pt_expect(p, PT_TOKEN(2), PT_DEADLINE_MS), PT_R);
    }
  }
  ck_assert_uint_eq(got, SIZE);

  /* Drained: recv would block, and an armed READABLE reports nothing. */
  char buf[64];
  ck_assert_int_eq((int)net_recv(b, buf, sizeof buf), NET_EWOULDBLOCK);
  pt_arm(p, h, PT_R);
  pt_expect_none(p, PT_QUIET_MS);

  /* New data: reported (the arm above still stands). */
  pt_send(a, "0123456789", 10);
  PT_ASSERT_BITS(pt_expect(p, PT_TOKEN(2), PT_DEADLINE_MS), PT_R);
  ck_assert_int_eq((int)pt_recv_available(b, NULL), 10);

  pt_teardown(&f);
}

void case_read_until_wouldblock_tcp(void) {
  read_until_wouldblock(PAIR_TCP);
}
/* Windows AF_UNIX: as TCP; the buffer sizes differ, which the case allows for. */
void case_read_until_wouldblock_uds(void) {
  read_until_wouldblock(PAIR_UDS);
}
