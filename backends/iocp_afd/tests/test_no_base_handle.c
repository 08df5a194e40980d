/* When SIO_BASE_HANDLE fails (a non-IFS Layered Service Provider), register
 * must fail with TOFU_ENOBASEHANDLE and leave nothing behind; once the
 * provider is out of the way the same socket registers normally, and a second
 * registration is TOFU_EEXIST. The failure is injected through the backend's
 * internal hook, since no test machine has such a provider installed. */
#include <stdio.h>
#include <stdlib.h>

#include "tofu/poller.h"
#include "ws.h"

static int failures;

static void expect(int ok, const char *what) {
  printf("%s - %s\n", ok ? "ok  " : "FAIL", what);
  if (!ok)
    failures++;
}

int main(void) {
  const tofu_poller_ops *ops = tofu_poller_backend();
  printf("# backend %s: registration without a base handle\n", ops->name);
  tofu_poller *p = NULL;
  expect(ops->open(&p) == TOFU_OK, "open");
  /* A listener, so that readiness can be produced on demand by a connect. */
  SOCKET s = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
  struct sockaddr_in addr = {0};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int len = sizeof addr;
  expect(s != INVALID_SOCKET && bind(s, (struct sockaddr *)&addr, len) == 0 && listen(s, 4) == 0 &&
             getsockname(s, (struct sockaddr *)&addr, &len) == 0,
         "listener");
  u_long on = 1;
  ioctlsocket(s, FIONBIO, &on);

  tofu_poll_handle *h = NULL;
  ws_test_fail_base_handle(1);
  int rc = ops->register_socket(p, (tofu_socket)s, &h, &h);
  /* the token is &h: any pointer will do, and it is easy to recognise */
  ws_test_fail_base_handle(0);
  expect(rc == TOFU_ENOBASEHANDLE, "register fails with TOFU_ENOBASEHANDLE");
  printf("     %s\n", tofu_strerror(rc));
  expect(h == NULL, "no handle is returned");

  rc = ops->register_socket(p, (tofu_socket)s, &h, &h);
  expect(rc == TOFU_OK && h != NULL, "the same socket registers once the base handle is there");
  tofu_poll_handle *h2 = NULL;
  expect(ops->register_socket(p, (tofu_socket)s, &h2, &h2) == TOFU_EEXIST,
         "registering it again is TOFU_EEXIST");
  expect(ops->arm(p, h, TOFU_POLL_WRITABLE) == TOFU_OK, "arm");
  expect(ops->deregister(p, h) == TOFU_OK, "deregister");
  expect(ops->register_socket(p, (tofu_socket)s, &h2, &h2) == TOFU_OK,
         "after deregister it registers again");
  expect(ops->arm(p, h2, TOFU_POLL_READABLE) == TOFU_OK, "arm the new handle");
  SOCKET c = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
  expect(connect(c, (struct sockaddr *)&addr, sizeof addr) == 0, "connect a client");
  tofu_poll_event ev[4];
  int n = ops->wait(p, ev, 4, 2000);
  expect(n == 1 && ev[0].token == &h2 && ev[0].events == TOFU_POLL_READABLE,
         "only the new handle reports (readable: a pending connection)");
  ops->close(p);
  closesocket(c);
  closesocket(s);
  printf("# %s\n", failures ? "FAILED" : "passed");
  return failures ? 1 : 0;
}
