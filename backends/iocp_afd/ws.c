/* ws — Winsock startup and the base socket handle. */
#include "ws.h"

#include <mswsock.h>

#include "tofu/error.h"

#ifndef SIO_BASE_HANDLE
#define SIO_BASE_HANDLE _WSAIOR(IOC_WS2, 34)
#endif

static volatile LONG ws_fail_base_handle;

int ws_startup(void) {
  WSADATA data;
  int rc = WSAStartup(MAKEWORD(2, 2), &data);
  if (rc != 0) {
    WSASetLastError(rc);
    SetLastError((DWORD)rc);
    return TOFU_ESYSTEM;
  }
  return TOFU_OK;
}

void ws_cleanup(void) {
  WSACleanup();
}

void ws_test_fail_base_handle(int on) {
  InterlockedExchange(&ws_fail_base_handle, on ? 1 : 0);
}

int ws_base_handle(SOCKET sock, HANDLE *base) {
  if (InterlockedCompareExchange(&ws_fail_base_handle, 0, 0)) {
    WSASetLastError(WSAEOPNOTSUPP);
    return TOFU_ENOBASEHANDLE;
  }
  SOCKET out = INVALID_SOCKET;
  DWORD bytes = 0;
  if (WSAIoctl(sock, SIO_BASE_HANDLE, NULL, 0, &out, sizeof out, &bytes, NULL, NULL) != 0 ||
      out == INVALID_SOCKET) {
    int err = WSAGetLastError();
    /* Not a socket at all is the caller's mistake, not a provider problem. */
    if (err == WSAENOTSOCK)
      return TOFU_EINVAL;
    return TOFU_ENOBASEHANDLE;
  }
  *base = (HANDLE)out;
  return TOFU_OK;
}

int ws_check_overlapped(HANDLE base) {
  ULONG mode = 0;
  nt_io_status_block iosb;
  nt_status status =
      nt.query_information_file(base, &iosb, &mode, sizeof mode, NT_FILE_MODE_INFORMATION);
  if (!NT_SUCCESS(status))
    return nt_fail(status);
  if (mode & (NT_FILE_SYNCHRONOUS_IO_ALERT | NT_FILE_SYNCHRONOUS_IO_NONALERT))
    return TOFU_EUNSERVABLE;
  return TOFU_OK;
}
