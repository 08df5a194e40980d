/* poc — shared helpers of the staged proofs (header only).
 *
 * Each proof is one program that drives the NT primitives the backend is
 * built on (nt.h, afd.h) without the backend itself, prints one line per
 * check, and exits 0 when all pass, 1 on the first failure, 77 when the
 * platform lacks what the check needs (ctest reports that as skipped).
 */
#ifndef TOFU_POC_H
#define TOFU_POC_H

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "afd.h"
#include "nt.h"

#include <ws2tcpip.h>

#define POC_SKIP 77

static inline void poc_check(int ok, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  printf("%s - ", ok ? "ok  " : "FAIL");
  vprintf(fmt, ap);
  printf("\n");
  va_end(ap);
  fflush(stdout);
  if (!ok)
    exit(1);
}

static inline void poc_init(const char *title) {
  printf("# %s\n", title);
  WSADATA data;
  poc_check(WSAStartup(MAKEWORD(2, 2), &data) == 0, "WSAStartup");
  poc_check(nt_init() == 0, "NT entry points resolved from ntdll.dll");
}

/* Wine exports wine_get_version from its ntdll; Windows does not. */
static inline const char *poc_wine_version(void) {
  typedef const char *(*version_fn)(void);
  version_fn fn;
  FARPROC proc = GetProcAddress(GetModuleHandleW(L"ntdll.dll"), "wine_get_version");
  if (proc == NULL)
    return NULL;
  memcpy(&fn, &proc, sizeof fn);
  return fn();
}

static inline int64_t poc_now_ms(void) {
  LARGE_INTEGER f, c;
  QueryPerformanceFrequency(&f);
  QueryPerformanceCounter(&c);
  return (int64_t)(c.QuadPart * 1000 / f.QuadPart);
}

static inline HANDLE poc_port(void) {
  HANDLE port = NULL;
  nt_status st = nt.create_io_completion(&port, NT_IO_COMPLETION_ALL_ACCESS, NULL, 1);
  poc_check(NT_SUCCESS(st) && port != NULL, "NtCreateIoCompletion -> 0x%08lx", (unsigned long)st);
  return port;
}

static inline HANDLE poc_base(SOCKET s) {
  SOCKET base = INVALID_SOCKET;
  DWORD bytes = 0;
  int rc = WSAIoctl(s, _WSAIOR(IOC_WS2, 34) /* SIO_BASE_HANDLE */, NULL, 0, &base, sizeof base,
                    &bytes, NULL, NULL);
  if (rc != 0 || base == INVALID_SOCKET)
    poc_check(0, "SIO_BASE_HANDLE: %d", WSAGetLastError());
  return (HANDLE)base;
}

static inline void poc_nonblocking(SOCKET s) {
  u_long on = 1;
  ioctlsocket(s, FIONBIO, &on);
}

/* A TCP listener on 127.0.0.1 with an ephemeral port; *addr receives it. */
static inline SOCKET poc_listener(struct sockaddr_in *addr) {
  SOCKET l = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
  poc_check(l != INVALID_SOCKET, "socket (listener)");
  memset(addr, 0, sizeof *addr);
  addr->sin_family = AF_INET;
  addr->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int len = sizeof *addr;
  poc_check(bind(l, (struct sockaddr *)addr, len) == 0 && listen(l, SOMAXCONN) == 0 &&
                getsockname(l, (struct sockaddr *)addr, &len) == 0,
            "listener on 127.0.0.1:%u", (unsigned)ntohs(addr->sin_port));
  poc_nonblocking(l);
  return l;
}

/* A connected pair: *client (blocking connect, then non-blocking) and the
 * accepted *server end. */
static inline void poc_pair(SOCKET l, const struct sockaddr_in *addr, SOCKET *client,
                            SOCKET *server) {
  *client = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
  if (connect(*client, (const struct sockaddr *)addr, sizeof *addr) != 0) {
    poc_check(0, "connect: %d", WSAGetLastError());
  }
  for (int i = 0; i < 200; i++) {
    *server = accept(l, NULL, NULL);
    if (*server != INVALID_SOCKET)
      break;
    Sleep(5);
  }
  if (*server == INVALID_SOCKET)
    poc_check(0, "accept: %d", WSAGetLastError());
  poc_nonblocking(*client);
  poc_nonblocking(*server);
}

/* Take one packet, waiting at most timeout_ms; returns 0 on timeout. */
static inline ULONG poc_take(HANDLE port, nt_completion *c, ULONG count, int timeout_ms) {
  LARGE_INTEGER t;
  t.QuadPart = -(LONGLONG)timeout_ms * 10000;
  ULONG n = 0;
  nt_status st = nt.remove_io_completion_ex(port, c, count, &n, &t, FALSE);
  if (st == NT_STATUS_TIMEOUT)
    return 0;
  if (!NT_SUCCESS(st))
    poc_check(0, "NtRemoveIoCompletionEx -> 0x%08lx", (unsigned long)st);
  return n;
}

#endif /* TOFU_POC_H */
