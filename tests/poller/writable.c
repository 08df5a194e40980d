/* tofu — poller suite: writability (idle sockets, connects, full send
 * buffers). */
#include "suite.h"

#include <stdio.h>
#include <string.h>

void case_idle_socket_writable(void) {
  pt_fixture f;
  pt_setup(&f, PAIR_TCP, PT_REG_A | PT_REG_B);
  pt_arm(f.p, f.ha, PT_W);
  pt_arm(f.p, f.hb, PT_W);
  pt_expect_ab(&f, PT_W, PT_W);
  /* And a send indeed does not block. */
  pt_send(f.a, "x", 1);
  pt_teardown(&f);
}

static void connect_writable_once(pair_transport t) {
  pair_listener l;
  int rc = pair_listen(t, &l);
  ck_assert_msg(rc == NET_OK, "listen (%s): %s", pair_name(t), net_strerror(rc));
  tofu_poller *p = pt_open();

  tofu_socket c;
  rc = pair_connect(&l, 1, &c);
  ck_assert_msg(rc == NET_OK || rc == NET_EINPROGRESS, "connect (%s): %s", pair_name(t),
                net_strerror(rc));
  tofu_poll_handle *h = pt_register(p, c, PT_TOKEN(1));
  pt_arm(p, h, PT_W);
  PT_ASSERT_BITS(pt_expect(p, PT_TOKEN(1), PT_DEADLINE_MS), PT_W);
  ck_assert_int_eq(net_pending_error(c), NET_OK);

  /* Once per arm: still writable, but not reported until armed again. */
  pt_expect_none(p, PT_QUIET_MS);
  pt_arm(p, h, PT_W);
  PT_ASSERT_BITS(pt_expect(p, PT_TOKEN(1), PT_DEADLINE_MS), PT_W);
  pt_expect_none(p, PT_QUIET_MS);

  /* The connection is real: the listener hands it out and data flows. */
  tofu_socket s;
  ck_assert_int_eq(net_accept(l.sock, &s), NET_OK);
  pt_send(c, "hi", 2);
  tofu_poll_handle *hs = pt_register(p, s, PT_TOKEN(2));
  pt_arm(p, hs, PT_R);
  PT_ASSERT_BITS(pt_expect(p, PT_TOKEN(2), PT_DEADLINE_MS), PT_R);
  ck_assert_int_eq((int)pt_recv_available(s, NULL), 2);

  pt_deregister(p, h);
  pt_deregister(p, hs);
  PT_OPS->close(p);
  pair_close(c, s);
  pair_unlisten(&l);
}

void case_connect_writable_once_tcp(void) {
  connect_writable_once(PAIR_TCP);
}
/* Windows AF_UNIX: as TCP; the connect may finish at once or later, both
 * are accepted. */
void case_connect_writable_once_uds(void) {
  connect_writable_once(PAIR_UDS);
}

/* Start a non-blocking connect to a loopback port where nobody listens. On
 * some systems the refusal is immediate; then try a few fresh ports. */
static tofu_socket refused_connect_in_progress(void) {
  int immediate = 0;
  for (int attempt = 0; attempt < 5; attempt++) {
    tofu_socket probe, c;
    uint16_t port = 0;
    ck_assert_int_eq(net_tcp_socket(&probe), NET_OK);
    ck_assert_int_eq(net_tcp_bind_loopback(probe, &port), NET_OK);
    net_close(probe); /* the port is free again, and nobody listens there */
    ck_assert_int_eq(net_tcp_socket(&c), NET_OK);
    ck_assert_int_eq(net_set_nonblocking(c), NET_OK);
    int rc = net_tcp_connect_loopback(c, port);
    if (rc == NET_EINPROGRESS)
      return c;
    net_close(c);
    ck_assert_msg(rc == NET_ECONNREFUSED, "connect to a closed port: %s (os error %d)",
                  net_strerror(rc), net_os_error());
    immediate++;
  }
  ck_abort_msg("a non-blocking connect to a closed loopback port was refused at once %d times: "
               "this system never reports a refused connect through the poller",
               immediate);
  return TOFU_INVALID_SOCKET;
}

void case_connect_refused_tcp(void) {
  tofu_socket c = refused_connect_in_progress();
  tofu_poller *p = pt_open();
  tofu_poll_handle *h = pt_register(p, c, PT_TOKEN(1));
  pt_arm(p, h, PT_W);
  /* Real Windows retries a refused SYN for about 2 s. */
  unsigned bits = pt_expect(p, PT_TOKEN(1), 10000);
  ck_assert_msg(bits != 0, "a refused connect was not reported within 10 s");
  ck_assert_msg((bits & (PT_W | PT_E)) == (PT_W | PT_E),
                "refused connect: expected WRITABLE|ERROR (HANGUP allowed), got %s", pt_bits(bits));
  ck_assert_msg((bits & ~(PT_W | PT_E | PT_H)) == 0,
                "refused connect armed WRITABLE only: unexpected bits in %s", pt_bits(bits));
  int err = net_pending_error(c);
  ck_assert_msg(err == NET_ECONNREFUSED, "SO_ERROR after a refused connect: %s", net_strerror(err));
  pt_deregister(p, h);
  PT_OPS->close(p);
  net_close(c);
}

/* Armed for HANGUP alone, a refused connect is reported as ERROR (HANGUP
 * allowed), without WRITABLE. */
void case_hangup_only_connect_refused_tcp(void) {
  tofu_socket c = refused_connect_in_progress();
  tofu_poller *p = pt_open();
  tofu_poll_handle *h = pt_register(p, c, PT_TOKEN(1));
  pt_arm(p, h, PT_H);
  unsigned bits = pt_expect(p, PT_TOKEN(1), 10000);
  ck_assert_msg(bits != 0, "a refused connect was not reported within 10 s");
  ck_assert_msg((bits & PT_E) && (bits & ~(PT_E | PT_H)) == 0,
                "refused connect armed HANGUP: expected ERROR (HANGUP allowed), got %s",
                pt_bits(bits));
  int err = net_pending_error(c);
  ck_assert_msg(err == NET_ECONNREFUSED, "SO_ERROR after a refused connect: %s", net_strerror(err));
  pt_deregister(p, h);
  PT_OPS->close(p);
  net_close(c);
}

/* Fill a's send buffer until send would block; returns the bytes sent. */
static size_t fill_until_wouldblock(tofu_socket a) {
  static char chunk[65536];
  size_t total = 0;
  for (;;) {
    ptrdiff_t n = net_send(a, chunk, sizeof chunk);
    if (n == NET_EWOULDBLOCK)
      return total;
    ck_assert_msg(n > 0, "send: %s", net_strerror((int)n));
    total += (size_t)n;
    ck_assert_msg(total < (64u << 20), "64 MiB sent without the send buffer ever filling");
  }
}

/* Small buffers, so that a few sends fill them. AF_UNIX on Windows rejects
 * some socket options that other systems accept (curl saw SO_REUSEADDR and
 * SO_KEEPALIVE refused) and has not been run here natively yet: if it refuses
 * these, the case goes on with the default buffers, which
 * fill_until_wouldblock fills all the same (it gives up at 64 MiB). Anywhere
 * else a refusal fails the case. */
static void small_buffers(pair_transport t, tofu_socket a, tofu_socket b) {
  int snd = net_set_sndbuf(a, 4096);
  int rcv = net_set_rcvbuf(b, 4096);
  if (snd == NET_OK && rcv == NET_OK)
    return;
#ifdef _WIN32
  if (t == PAIR_UDS) {
    printf("full_send_buffer_uds: AF_UNIX refused SO_SNDBUF (%s) or SO_RCVBUF (%s) here; going "
           "on with the default buffers\n",
           net_strerror(snd), net_strerror(rcv));
    return;
  }
#endif
  ck_abort_msg("%s: SO_SNDBUF: %s, SO_RCVBUF: %s", pair_name(t), net_strerror(snd),
               net_strerror(rcv));
}

static void full_send_buffer(pair_transport t) {
  pt_fixture f;
  pt_setup(&f, t, PT_REG_A | PT_REG_B);
  tofu_poller *p = f.p;
  tofu_socket a = f.a, b = f.b;
  tofu_poll_handle *ha = f.ha, *hb = f.hb;
  small_buffers(t, a, b);

  /* Full: armed WRITABLE reports nothing. Data still moving into the peer may
   * legitimately free space just after send would block; then WRITABLE must
   * be true (a send goes through), and we fill again. */
  size_t sent = fill_until_wouldblock(a);
  int quiet = 0;
  for (int attempt = 0; attempt < 10 && !quiet; attempt++) {
    pt_arm(p, ha, PT_W);
    tofu_poll_event ev[4];
    int n = pt_wait(p, ev, 4, PT_QUIET_MS);
    if (n == 0) {
      quiet = 1;
      break;
    }
    ck_assert_ptr_eq(ev[0].token, PT_TOKEN(1));
    PT_ASSERT_BITS(ev[0].events, PT_W);
    size_t more = fill_until_wouldblock(a);
    ck_assert_msg(more > 0, "WRITABLE was reported, but send would block");
    sent += more;
  }
  ck_assert_msg(quiet, "the send buffer never stayed full (%u bytes sent)", (unsigned)sent);

  /* Drain the peer fully; the armed WRITABLE of a must then be reported. */
  size_t got = 0;
  unsigned a_bits = 0;
  uint64_t deadline = mono_now_ms() + PT_DEADLINE_MS;
  while (got < sent) {
    got += pt_recv_available(b, NULL);
    if (got >= sent)
      break;
    ck_assert_msg(mono_now_ms() < deadline, "drained %u of %u bytes", (unsigned)got,
                  (unsigned)sent);
    pt_arm(p, hb, PT_R);
    tofu_poll_event ev[4];
    int n = pt_wait(p, ev, 4, PT_DEADLINE_MS);
    for (int k = 0; k < n; k++) {
      if (ev[k].token == PT_TOKEN(1)) {
        ck_assert_msg(a_bits == 0, "a reported twice for one arm");
        a_bits = ev[k].events;
      } else {
        ck_assert_ptr_eq(ev[k].token, PT_TOKEN(2));
        PT_ASSERT_BITS(ev[k].events, PT_R);
      }
    }
  }
  ck_assert_uint_eq(got, sent);
  pt_arm(p, hb, 0);
  if (a_bits == 0)
    a_bits = pt_expect(p, PT_TOKEN(1), PT_DEADLINE_MS);
  PT_ASSERT_BITS(a_bits, PT_W);
  pt_send(a, "x", 1);

  pt_teardown(&f);
}

void case_full_send_buffer_tcp(void) {
  full_send_buffer(PAIR_TCP);
}
/* Windows AF_UNIX: as TCP, with the default buffers if it refuses
 * SO_SNDBUF / SO_RCVBUF (small_buffers prints so). */
void case_full_send_buffer_uds(void) {
  full_send_buffer(PAIR_UDS);
}
