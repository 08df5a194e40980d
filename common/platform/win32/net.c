/* platform/win32 — the half of platform/net.h that only Winsock2 has:
 * WSAStartup, WSA* error codes, ioctlsocket, overlapped sockets, WSASend. */
#include <limits.h>

#include "net_sys.h"

#ifndef WSA_FLAG_NO_HANDLE_INHERIT
#define WSA_FLAG_NO_HANDLE_INHERIT 0x80
#endif

int net_init(void) {
  WSADATA data;
  return WSAStartup(MAKEWORD(2, 2), &data) == 0 ? NET_OK : NET_EOTHER;
}

void net_cleanup(void) {
  WSACleanup();
}

int net_os_error(void) {
  return WSAGetLastError();
}

int net_map_error(int e) {
  switch (e) {
  case 0:
    return NET_OK;
  case WSAEWOULDBLOCK:
    return NET_EWOULDBLOCK;
  case WSAEINPROGRESS:
  case WSAEALREADY:
    return NET_EINPROGRESS;
  case WSAECONNREFUSED:
    return NET_ECONNREFUSED;
  case WSAECONNRESET:
  case WSAECONNABORTED:
  case WSAENETRESET:
    return NET_ECONNRESET;
  case WSAESHUTDOWN:
    return NET_EPIPE;
  case WSAEAFNOSUPPORT:
  case WSAEPFNOSUPPORT:
  case WSAEPROTONOSUPPORT:
    return NET_EAFNOSUPPORT;
  default:
    return NET_EOTHER;
  }
}

int net_stream_socket(int family, tofu_socket *out) {
  /* Overlapped, so that the iocp_afd backend can poll it through AFD. */
  SOCKET s =
      WSASocketW(family, SOCK_STREAM, 0, NULL, 0, WSA_FLAG_OVERLAPPED | WSA_FLAG_NO_HANDLE_INHERIT);
  if (s == INVALID_SOCKET) {
    *out = TOFU_INVALID_SOCKET;
    return net_last();
  }
  *out = (tofu_socket)s;
  return NET_OK;
}

int net_set_nonblocking(tofu_socket s) {
  u_long on = 1;
  return ioctlsocket(NET_SOCK(s), FIONBIO, &on) == 0 ? NET_OK : net_last();
}

int net_set_blocking(tofu_socket s) {
  u_long off = 0;
  return ioctlsocket(NET_SOCK(s), FIONBIO, &off) == 0 ? NET_OK : net_last();
}

int net_connect_sa(tofu_socket s, const struct sockaddr *sa, net_len len) {
  if (connect(NET_SOCK(s), sa, len) == 0)
    return NET_OK;
  int e = WSAGetLastError();
  /* A non-blocking connect on Windows says "would block" for "in progress". */
  return e == WSAEWOULDBLOCK ? NET_EINPROGRESS : net_map_error(e);
}

ptrdiff_t net_send(tofu_socket s, const void *buf, size_t len) {
  int n = send(NET_SOCK(s), (const char *)buf, len > INT_MAX ? INT_MAX : (int)len, 0);
  return n >= 0 ? (ptrdiff_t)n : net_last();
}

ptrdiff_t net_recv(tofu_socket s, void *buf, size_t len) {
  int n = recv(NET_SOCK(s), (char *)buf, len > INT_MAX ? INT_MAX : (int)len, 0);
  return n >= 0 ? (ptrdiff_t)n : net_last();
}

ptrdiff_t net_sendv(tofu_socket s, const net_iov *iov, int count) {
  WSABUF bufs[NET_IOV_MAX];
  DWORD sent = 0;
  if (count < 1 || count > NET_IOV_MAX)
    return NET_EOTHER;
  for (int i = 0; i < count; i++) {
    bufs[i].buf = (char *)iov[i].base;
    bufs[i].len = (ULONG)iov[i].len;
  }
  if (WSASend(NET_SOCK(s), bufs, (DWORD)count, &sent, 0, NULL, NULL) != 0)
    return net_last();
  return (ptrdiff_t)sent;
}

int net_shutdown_write(tofu_socket s) {
  return shutdown(NET_SOCK(s), SD_SEND) == 0 ? NET_OK : net_last();
}

void net_close(tofu_socket s) {
  if (s != TOFU_INVALID_SOCKET)
    closesocket(NET_SOCK(s));
}

int net_accept(tofu_socket listener, tofu_socket *out) {
  *out = TOFU_INVALID_SOCKET;
  SOCKET c = accept(NET_SOCK(listener), NULL, NULL);
  if (c == INVALID_SOCKET)
    return net_last();
  /* The accepted socket inherits the listener's non-blocking mode on
   * Windows; set it anyway, so that both halves promise the same. */
  int rc = net_set_nonblocking((tofu_socket)c);
  if (rc != NET_OK) {
    closesocket(c);
    return rc;
  }
  *out = (tofu_socket)c;
  return NET_OK;
}

void net_uds_unlink(const char *path) {
  DeleteFileA(path);
}
