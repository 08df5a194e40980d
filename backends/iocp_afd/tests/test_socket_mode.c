/* ws_check_overlapped tells a socket opened for overlapped I/O from one
 * opened for synchronous I/O (FileModeInformation). The poller suite's
 * register_synchronous_socket cannot tell this check from the bind that
 * follows it (Microsoft documents that only a handle opened for overlapped
 * I/O may be bound to a completion port, and Wine refuses such a bind with
 * ERROR_INVALID_PARAMETER, which port_bind takes for a foreign binding); this
 * program checks the first line of defence on its own. Plain program: exit 0 passes, anything else
 * fails. */
#include <stdio.h>

#include "nt.h"
#include "tofu/error.h"
#include "ws.h"

static int failures;

static void expect(int ok, const char *what) {
  printf("%s - %s\n", ok ? "ok  " : "FAIL", what);
  if (!ok)
    failures++;
}

static int mode_of(SOCKET s) {
  HANDLE base;
  if (s == INVALID_SOCKET || ws_base_handle(s, &base) != TOFU_OK)
    return TOFU_EINVAL;
  return ws_check_overlapped(base);
}

int main(void) {
  printf("# ws_check_overlapped: overlapped and synchronous sockets\n");
  WSADATA data;
  expect(WSAStartup(MAKEWORD(2, 2), &data) == 0 && nt_init() == TOFU_OK, "startup");
  SOCKET plain = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
  SOCKET ov = WSASocketW(AF_INET, SOCK_STREAM, IPPROTO_TCP, NULL, 0, WSA_FLAG_OVERLAPPED);
  SOCKET sync = WSASocketW(AF_INET, SOCK_STREAM, IPPROTO_TCP, NULL, 0, 0);
  expect(mode_of(plain) == TOFU_OK, "socket(): overlapped, served");
  expect(mode_of(ov) == TOFU_OK, "WSASocketW with WSA_FLAG_OVERLAPPED: served");
  expect(mode_of(sync) == TOFU_EUNSERVABLE, "WSASocketW without it: TOFU_EUNSERVABLE");
  closesocket(plain);
  closesocket(ov);
  closesocket(sync);
  WSACleanup();
  printf("# %s\n", failures ? "FAILED" : "passed");
  return failures ? 1 : 0;
}
