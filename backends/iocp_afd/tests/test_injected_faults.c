/* Failures of the NT calls under the backend that no test machine produces on
 * demand, injected through the backend's internal hooks (afd.h):
 *   1. a cancel that fails when arm widens the interest must be tried again
 *      by the next arm, not taken as done for ever;
 *   2. cancels that fail at deregister must be tried again by close, which
 *      waits for every last packet (through waits that come back empty)
 *      instead of leaving socket states behind;
 *   3. a poll ioctl that returns a warning status has still been queued: arm
 *      succeeds and the report comes.
 * Plain program: exit 0 passes, anything else fails. */
#include <stdio.h>
#include <stdlib.h>

#include "afd.h"
#include "iocp_afd.h"
#include "tofu/poller.h"

static int failures;

static void expect(int ok, const char *what) {
  printf("%s - %s\n", ok ? "ok  " : "FAIL", what);
  if (!ok)
    failures++;
}

static const tofu_poller_ops *ops;

/* A connected TCP pair on loopback, both ends non-blocking. */
static void tcp_pair(SOCKET *a, SOCKET *b) {
  SOCKET l = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
  struct sockaddr_in addr = {0};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int len = sizeof addr;
  int ok = l != INVALID_SOCKET && bind(l, (struct sockaddr *)&addr, len) == 0 &&
           listen(l, 4) == 0 && getsockname(l, (struct sockaddr *)&addr, &len) == 0;
  *a = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
  ok = ok && *a != INVALID_SOCKET && connect(*a, (struct sockaddr *)&addr, sizeof addr) == 0;
  *b = ok ? accept(l, NULL, NULL) : INVALID_SOCKET;
  closesocket(l);
  if (!ok || *b == INVALID_SOCKET) {
    printf("FAIL - a connected TCP pair (%d)\n", WSAGetLastError());
    exit(1);
  }
  u_long on = 1;
  ioctlsocket(*a, FIONBIO, &on);
  ioctlsocket(*b, FIONBIO, &on);
}

/* One wait: the single event of token, or 0 if nothing came in ms. */
static unsigned wait_for(tofu_poller *p, void *token, int ms) {
  tofu_poll_event ev[4];
  int n = ops->wait(p, ev, 4, ms);
  if (n == 1 && ev[0].token == token)
    return ev[0].events;
  if (n != 0)
    printf("     unexpected: wait returned %d (first token %p, bits 0x%x)\n", n,
           n > 0 ? ev[0].token : NULL, n > 0 ? ev[0].events : 0u);
  return 0;
}

static void cancel_fails_at_arm(void) {
  printf("# 1. a failed cancel at arm is tried again by the next arm\n");
  SOCKET a, b;
  tcp_pair(&a, &b);
  tofu_poller *p = NULL;
  expect(ops->open(&p) == TOFU_OK, "open");
  tofu_poll_handle *h = NULL;
  expect(ops->register_socket(p, (tofu_socket)a, &h, &h) == TOFU_OK, "register");
  expect(ops->arm(p, h, TOFU_POLL_READABLE) == TOFU_OK, "arm READABLE (nothing to read)");
  expect(wait_for(p, &h, 50) == 0, "quiet");
  /* Widening to WRITABLE needs the READABLE poll cancelled first. */
  afd_test_fail_cancels(1);
  int rc = ops->arm(p, h, TOFU_POLL_READABLE | TOFU_POLL_WRITABLE);
  afd_test_fail_cancels(0);
  expect(rc == TOFU_ESYSTEM, "arm READABLE|WRITABLE fails when the cancel fails");
  rc = ops->arm(p, h, TOFU_POLL_READABLE | TOFU_POLL_WRITABLE);
  expect(rc == TOFU_OK, "armed again, the cancel goes through");
  expect(wait_for(p, &h, 5000) == TOFU_POLL_WRITABLE, "WRITABLE is reported");
  expect(ops->deregister(p, h) == TOFU_OK, "deregister");
  ops->close(p);
  expect(iocp_afd_test_close_leaks() == 0, "close left nothing behind");
  closesocket(a);
  closesocket(b);
}

static void cancel_fails_at_deregister(void) {
  printf("# 2. cancels that failed at deregister are tried again by close\n");
  enum { N = 3 };
  SOCKET a[N], b[N];
  tofu_poller *p = NULL;
  expect(ops->open(&p) == TOFU_OK, "open");
  for (int i = 0; i < N; i++) {
    tcp_pair(&a[i], &b[i]);
    tofu_poll_handle *h = NULL;
    int ok = ops->register_socket(p, (tofu_socket)a[i], &a[i], &h) == TOFU_OK &&
             ops->arm(p, h, TOFU_POLL_READABLE) == TOFU_OK;
    afd_test_fail_cancels(1);
    ok = ok && ops->deregister(p, h) == TOFU_OK;
    expect(ok, "register, arm READABLE (pending), deregister with a failing cancel");
  }
  /* The first round of retries at close fails too, so its wait comes back
   * empty; the drain must go on and retry rather than stop there. */
  afd_test_fail_cancels(N);
  ULONGLONG start = GetTickCount64();
  ops->close(p);
  ULONGLONG took = GetTickCount64() - start;
  afd_test_fail_cancels(0);
  printf("     close took %llu ms (its deadline is 10 s)\n", (unsigned long long)took);
  expect(iocp_afd_test_close_leaks() == 0, "close freed every state (none left to the deadline)");
  expect(took < 5000, "close did not wait for its deadline");
  for (int i = 0; i < N; i++) {
    closesocket(a[i]);
    closesocket(b[i]);
  }
}

static void poll_returns_warning(void) {
  printf("# 3. a warning status from the poll ioctl still brings the packet\n");
  SOCKET a, b;
  tcp_pair(&a, &b);
  tofu_poller *p = NULL;
  expect(ops->open(&p) == TOFU_OK, "open");
  tofu_poll_handle *h = NULL;
  expect(ops->register_socket(p, (tofu_socket)a, &h, &h) == TOFU_OK, "register");
  expect(send(b, "w", 1, 0) == 1, "the peer sends a byte");
  afd_test_warn_poll(1);
  int rc = ops->arm(p, h, TOFU_POLL_READABLE);
  afd_test_warn_poll(0);
  expect(rc == TOFU_OK, "arm READABLE succeeds though the ioctl said STATUS_BUFFER_OVERFLOW");
  expect(wait_for(p, &h, 5000) == TOFU_POLL_READABLE, "READABLE is reported");
  char c = 0;
  expect(recv(a, &c, 1, 0) == 1 && c == 'w', "the byte is there");
  expect(ops->arm(p, h, TOFU_POLL_READABLE) == TOFU_OK, "armed again, normally");
  expect(wait_for(p, &h, 100) == 0, "nothing more to read: quiet");
  expect(ops->deregister(p, h) == TOFU_OK, "deregister");
  ops->close(p);
  expect(iocp_afd_test_close_leaks() == 0, "close left nothing behind");
  closesocket(a);
  closesocket(b);
}

int main(void) {
  ops = tofu_poller_backend();
  printf("# backend %s: injected NT failures\n", ops->name);
  WSADATA data;
  if (WSAStartup(MAKEWORD(2, 2), &data) != 0) {
    printf("FAIL - WSAStartup\n");
    return 1;
  }
  cancel_fails_at_arm();
  cancel_fails_at_deregister();
  poll_returns_warning();
  WSACleanup();
  printf("# %s\n", failures ? "FAILED" : "passed");
  return failures ? 1 : 0;
}
