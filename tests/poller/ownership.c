/* tofu — poller suite: which sockets a poller serves, and which completions
 * are its own.
 *
 * A socket is served by one poller. One registered with another poller is
 * refused on every backend; on Windows so is one bound to any other I/O
 * completion port (the binding lasts until the socket is closed, so its
 * completions could never reach this poller) and one opened for synchronous
 * I/O (a poll issued on it would block inside arm). And on Windows every
 * overlapped operation on a registered socket completes on the poller's port:
 * the application's own must be dropped (and counted), never taken for the
 * poller's. */
#include "suite.h"

#include <stdio.h>
#include <string.h>

#ifdef _WIN32
#include <winsock2.h>
#include <windows.h>
#endif

/* The poller's foreign_packets counter. */
static uint64_t foreign_packets(tofu_poller *p) {
  tofu_poller_stats st;
  memset(&st, 0xff, sizeof st);
  st.size = sizeof st;
  int rc = PT_OPS->stats(p, &st);
  ck_assert_uint_eq(st.size, sizeof st);
  ck_assert_msg(rc == TOFU_OK, "stats failed: %s", tofu_strerror(rc));
  return st.foreign_packets;
}

/* Register must refuse sock with TOFU_EUNSERVABLE and hand out no handle. */
static void expect_unservable(tofu_poller *p, tofu_socket sock, const char *what) {
  tofu_poll_handle *h = NULL;
  int rc = PT_OPS->register_socket(p, sock, PT_TOKEN(99), &h);
  ck_assert_msg(rc == TOFU_EUNSERVABLE, "%s: expected TOFU_EUNSERVABLE, got %d (%s)", what, rc,
                tofu_strerror(rc));
  ck_assert_msg(h == NULL, "%s: refused, yet a handle was returned", what);
}

void case_register_other_poller(void) {
  pt_fixture f;
  pt_setup(&f, PAIR_TCP, PT_REG_A);
  tofu_poller *q = pt_open();

  expect_unservable(q, f.a, "a socket registered with another poller");
  expect_unservable(q, f.a, "the same, asked again");
  /* With its own poller the answer is still TOFU_EEXIST. */
  tofu_poll_handle *h2 = NULL;
  ck_assert_int_eq(PT_OPS->register_socket(f.p, f.a, PT_TOKEN(2), &h2), TOFU_EEXIST);

  /* The first registration is intact, and the second poller never hears of
   * the socket: data on a is reported by p alone. */
  pt_send(f.b, "x", 1);
  pt_arm(f.p, f.ha, PT_R);
  PT_ASSERT_BITS(pt_expect(f.p, PT_TOKEN(1), PT_DEADLINE_MS), PT_R);
  pt_expect_none(q, PT_QUIET_MS);
  ck_assert_uint_eq(pt_recv_available(f.a, NULL), 1);

  /* The second poller serves a socket of its own as usual. */
  tofu_poll_handle *hb = pt_register(q, f.b, PT_TOKEN(3));
  pt_arm(q, hb, PT_W);
  PT_ASSERT_BITS(pt_expect(q, PT_TOKEN(3), PT_DEADLINE_MS), PT_W);
  ck_assert_uint_eq(foreign_packets(f.p), 0);
  ck_assert_uint_eq(foreign_packets(q), 0);

  pt_deregister(q, hb);
  PT_OPS->close(q);
  pt_teardown(&f);
}

#ifdef _WIN32

/* The application's overlapped I/O: kept in static storage, so that a case
 * that fails half-way never leaves the kernel a stack frame to write into. */
static OVERLAPPED app_ov;
static char app_buf[4];

static void app_overlapped_start(HANDLE event) {
  memset(&app_ov, 0, sizeof app_ov);
  memset(app_buf, 0, sizeof app_buf);
  app_ov.hEvent = event;
}

/* Wait for the application's overlapped operation on s and return its byte
 * count (the event is set whether or not a port also gets a packet). */
static DWORD app_overlapped_finish(tofu_socket s) {
  DWORD bytes = 0, flags = 0;
  BOOL ok = WSAGetOverlappedResult((SOCKET)s, &app_ov, &bytes, TRUE, &flags);
  ck_assert_msg(ok, "the application's overlapped operation failed (%d)", WSAGetLastError());
  return bytes;
}

void case_register_foreign_port(void) {
  tofu_socket a, b;
  pt_pair(PAIR_TCP, &a, &b);
  /* The application binds a to its own completion port. */
  HANDLE app_port = CreateIoCompletionPort(INVALID_HANDLE_VALUE, NULL, 0, 1);
  ck_assert_msg(app_port != NULL, "CreateIoCompletionPort: %lu", GetLastError());
  ck_assert_msg(CreateIoCompletionPort((HANDLE)a, app_port, 7, 0) == app_port,
                "binding the socket to the application's port: %lu", GetLastError());

  tofu_poller *p = pt_open();
  expect_unservable(p, a, "a socket bound to another completion port");
  expect_unservable(p, a, "the same, asked again");

  /* Nothing changed: the socket's completions still go to the
   * application's port, with its key. */
  app_overlapped_start(NULL);
  WSABUF wb = {1, app_buf};
  DWORD bytes = 0, flags = 0;
  int rc = WSARecv((SOCKET)a, &wb, 1, &bytes, &flags, &app_ov, NULL);
  ck_assert_msg(rc == 0 || WSAGetLastError() == WSA_IO_PENDING, "WSARecv: %d", WSAGetLastError());
  pt_send(b, "y", 1);
  ULONG_PTR key = 0;
  OVERLAPPED *done = NULL;
  BOOL ok = GetQueuedCompletionStatus(app_port, &bytes, &key, &done, PT_DEADLINE_MS);
  ck_assert_msg(ok && done == &app_ov, "the application's port lost its completion (%lu)",
                GetLastError());
  ck_assert_uint_eq(key, 7);
  ck_assert_uint_eq(bytes, 1);
  ck_assert_int_eq(app_buf[0], 'y');

  /* And the poller serves other sockets as usual. */
  tofu_poll_handle *hb = pt_register(p, b, PT_TOKEN(2));
  pt_arm(p, hb, PT_W);
  PT_ASSERT_BITS(pt_expect(p, PT_TOKEN(2), PT_DEADLINE_MS), PT_W);
  ck_assert_uint_eq(foreign_packets(p), 0);

  pt_deregister(p, hb);
  PT_OPS->close(p);
  pair_close(a, b);
  CloseHandle(app_port);
}

/* A TCP listener on loopback made with WSASocketW and the given flags. */
static tofu_socket wsa_listener(DWORD flags, uint16_t *port) {
  SOCKET s = WSASocketW(AF_INET, SOCK_STREAM, IPPROTO_TCP, NULL, 0, flags);
  ck_assert_msg(s != INVALID_SOCKET, "WSASocketW: %d", WSAGetLastError());
  ck_assert_int_eq(net_tcp_bind_loopback((tofu_socket)s, port), NET_OK);
  ck_assert_int_eq(net_listen((tofu_socket)s, 4), NET_OK);
  ck_assert_int_eq(net_set_nonblocking((tofu_socket)s), NET_OK);
  return (tofu_socket)s;
}

void case_register_synchronous_socket(void) {
  tofu_poller *p = pt_open();
  uint16_t sync_port, ov_port;
  tofu_socket sync_l = wsa_listener(0, &sync_port);
  tofu_socket ov_l = wsa_listener(WSA_FLAG_OVERLAPPED, &ov_port);

  /* Without WSA_FLAG_OVERLAPPED every I/O request on the socket waits inside
   * the call until it completes: a poll would block arm. */
  expect_unservable(p, sync_l, "a socket opened without WSA_FLAG_OVERLAPPED");

  /* The same socket made with the flag is served: a pending connection is
   * reported. */
  tofu_poll_handle *h = pt_register(p, ov_l, PT_TOKEN(1));
  pt_arm(p, h, PT_R);
  tofu_socket c;
  ck_assert_int_eq(net_tcp_socket(&c), NET_OK);
  ck_assert_int_eq(net_set_nonblocking(c), NET_OK);
  int rc = net_tcp_connect_loopback(c, ov_port);
  ck_assert_msg(rc == NET_OK || rc == NET_EINPROGRESS, "connect: %s", net_strerror(rc));
  PT_ASSERT_BITS(pt_expect(p, PT_TOKEN(1), PT_DEADLINE_MS), PT_R);

  /* The refused one was left as it was: still a working listener. */
  tofu_socket c2, accepted;
  ck_assert_int_eq(net_tcp_socket(&c2), NET_OK);
  ck_assert_int_eq(net_tcp_connect_loopback(c2, sync_port), NET_OK);
  uint64_t until = mono_now_ms() + PT_DEADLINE_MS;
  while ((rc = net_accept(sync_l, &accepted)) == NET_EWOULDBLOCK && mono_now_ms() < until)
    pt_expect_none(p, 10); /* a bounded pause that also checks p stays quiet */
  ck_assert_msg(rc == NET_OK, "accept on the refused listener: %s", net_strerror(rc));

  pt_deregister(p, h);
  PT_OPS->close(p);
  net_close(accepted);
  net_close(c2);
  net_close(c);
  net_close(ov_l);
  net_close(sync_l);
}

void case_foreign_completion_dropped(void) {
  pt_fixture f;
  pt_setup(&f, PAIR_TCP, PT_REG_A | PT_REG_C);
  tofu_poller *p = f.p;
  tofu_socket a = f.a, b = f.b;
  tofu_poll_handle *ha = f.ha, *hc = f.hc;
  ck_assert_uint_eq(foreign_packets(p), 0);
  HANDLE event = CreateEventW(NULL, TRUE, FALSE, NULL);
  ck_assert_msg(event != NULL, "CreateEventW: %lu", GetLastError());

  /* The application reads a itself, with an overlapped WSARecv. It completes
   * when data arrives; its packet goes to the poller's port, with the
   * poller's key and the application's OVERLAPPED. */
  app_overlapped_start(event);
  WSABUF wb = {1, app_buf};
  DWORD bytes = 0, flags = 0;
  int rc = WSARecv((SOCKET)a, &wb, 1, &bytes, &flags, &app_ov, NULL);
  ck_assert_msg(rc == 0 || WSAGetLastError() == WSA_IO_PENDING, "WSARecv: %d", WSAGetLastError());
  pt_send(b, "f", 1);
  ck_assert_uint_eq(app_overlapped_finish(a), 1);
  ck_assert_int_eq(app_buf[0], 'f');

  /* Reports queued behind that packet, one on the same socket: both come
   * as they should, and the foreign packet is counted, not reported. */
  pt_send(b, "g", 1);
  pt_arm(p, ha, PT_R);
  pt_arm(p, hc, PT_W);
  void *const tokens[] = {PT_TOKEN(1), PT_TOKEN(3)};
  unsigned bits[2];
  ck_assert_int_eq(pt_gather(p, tokens, bits, 2, PT_DEADLINE_MS), 2);
  PT_ASSERT_BITS(bits[0], PT_R);
  PT_ASSERT_BITS(bits[1], PT_W);
  ck_assert_uint_eq(foreign_packets(p), 1);
  char buf[8];
  ck_assert_int_eq((int)net_recv(a, buf, sizeof buf), 1);
  ck_assert_int_eq(buf[0], 'g');
  pt_expect_none(p, PT_QUIET_MS);

  /* An overlapped send that completes at once queues a packet just the
   * same: dropped and counted too, while a poll of the poller's own is
   * pending on that socket. */
  pt_arm(p, ha, PT_R);
  app_overlapped_start(event);
  ResetEvent(event);
  app_buf[0] = 'h';
  rc = WSASend((SOCKET)a, &wb, 1, &bytes, 0, &app_ov, NULL);
  ck_assert_msg(rc == 0 || WSAGetLastError() == WSA_IO_PENDING, "WSASend: %d", WSAGetLastError());
  ck_assert_uint_eq(app_overlapped_finish(a), 1);
  uint64_t until = mono_now_ms() + PT_DEADLINE_MS;
  while (foreign_packets(p) < 2 && mono_now_ms() < until)
    pt_expect_none(p, 20);
  ck_assert_uint_eq(foreign_packets(p), 2);
  ck_assert_uint_eq(pt_recv_available(b, NULL), 1);

  /* The poller goes on reporting a correctly: the pending READABLE comes
   * with the next data, once. */
  pt_send(b, "i", 1);
  PT_ASSERT_BITS(pt_expect(p, PT_TOKEN(1), PT_DEADLINE_MS), PT_R);
  ck_assert_uint_eq(pt_recv_available(a, NULL), 1);
  pt_expect_none(p, PT_QUIET_MS);
  ck_assert_uint_eq(foreign_packets(p), 2);

  pt_teardown(&f);
  CloseHandle(event);
}

#else /* not Windows: the runner skips these cases (REQ_WINDOWS) */

static void windows_only(void) {
  ck_abort_msg("this case runs on Windows only; the runner should have skipped it");
}
void case_register_foreign_port(void) {
  windows_only();
}
void case_register_synchronous_socket(void) {
  windows_only();
}
void case_foreign_completion_dropped(void) {
  windows_only();
}

#endif
