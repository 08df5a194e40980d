/* tofu — the internal socket shim (see net.h). Two halves, one per socket API;
 * the functions after them are shared. */
#ifndef _WIN32
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE
#define _DARWIN_C_SOURCE
#endif

#include "net.h"

#include <limits.h>
#include <string.h>

#ifdef _WIN32
#include <winsock2.h>
#include <ws2tcpip.h>
#if defined(__has_include)
#if __has_include(<afunix.h>)
#include <afunix.h>
#define NET_HAVE_AFUNIX_H 1
#endif
#endif
#ifndef NET_HAVE_AFUNIX_H
/* Older MinGW headers lack <afunix.h>; this is the layout Windows uses. */
#define UNIX_PATH_MAX 108
struct sockaddr_un {
  ADDRESS_FAMILY sun_family;
  char sun_path[UNIX_PATH_MAX];
};
#endif
#ifndef WSA_FLAG_NO_HANDLE_INHERIT
#define WSA_FLAG_NO_HANDLE_INHERIT 0x80
#endif

typedef int net_len;
#define NET_SOCK(s) ((SOCKET)(s))

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

static int net_socket(int family, tofu_socket *out) {
  /* Overlapped, so that the iocp_afd backend can poll it through AFD. */
  SOCKET s =
      WSASocketW(family, SOCK_STREAM, 0, NULL, 0, WSA_FLAG_OVERLAPPED | WSA_FLAG_NO_HANDLE_INHERIT);
  if (s == INVALID_SOCKET) {
    *out = TOFU_INVALID_SOCKET;
    return net_map_error(WSAGetLastError());
  }
  *out = (tofu_socket)s;
  return NET_OK;
}

int net_set_nonblocking(tofu_socket s) {
  u_long on = 1;
  return ioctlsocket(NET_SOCK(s), FIONBIO, &on) == 0 ? NET_OK : net_map_error(WSAGetLastError());
}

static int net_connect(tofu_socket s, const struct sockaddr *sa, net_len len) {
  if (connect(NET_SOCK(s), sa, len) == 0)
    return NET_OK;
  int e = WSAGetLastError();
  /* A non-blocking connect on Windows says "would block" for "in progress". */
  return e == WSAEWOULDBLOCK ? NET_EINPROGRESS : net_map_error(e);
}

ptrdiff_t net_send(tofu_socket s, const void *buf, size_t len) {
  int n = send(NET_SOCK(s), (const char *)buf, len > INT_MAX ? INT_MAX : (int)len, 0);
  return n >= 0 ? (ptrdiff_t)n : net_map_error(WSAGetLastError());
}

ptrdiff_t net_recv(tofu_socket s, void *buf, size_t len) {
  int n = recv(NET_SOCK(s), (char *)buf, len > INT_MAX ? INT_MAX : (int)len, 0);
  return n >= 0 ? (ptrdiff_t)n : net_map_error(WSAGetLastError());
}

int net_shutdown_write(tofu_socket s) {
  return shutdown(NET_SOCK(s), SD_SEND) == 0 ? NET_OK : net_map_error(WSAGetLastError());
}

void net_close(tofu_socket s) {
  if (s != TOFU_INVALID_SOCKET)
    closesocket(NET_SOCK(s));
}

static int net_last(void) {
  return net_map_error(WSAGetLastError());
}

#else /* POSIX */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

typedef socklen_t net_len;
#define NET_SOCK(s) (s)

#ifdef MSG_NOSIGNAL
#define NET_SEND_FLAGS MSG_NOSIGNAL
#else
#define NET_SEND_FLAGS 0 /* SO_NOSIGPIPE is set on the socket instead */
#endif

int net_init(void) {
  return NET_OK;
}

void net_cleanup(void) {}

int net_os_error(void) {
  return errno;
}

int net_map_error(int e) {
  if (e == 0)
    return NET_OK;
  if (e == EAGAIN || e == EWOULDBLOCK)
    return NET_EWOULDBLOCK;
  switch (e) {
  case EINPROGRESS:
  case EALREADY:
    return NET_EINPROGRESS;
  case ECONNREFUSED:
    return NET_ECONNREFUSED;
  case ECONNRESET:
  case ECONNABORTED:
    return NET_ECONNRESET;
  case EPIPE:
    return NET_EPIPE;
  case EAFNOSUPPORT:
  case EPROTONOSUPPORT:
    return NET_EAFNOSUPPORT;
  default:
    return NET_EOTHER;
  }
}

static int net_socket(int family, tofu_socket *out) {
  int type = SOCK_STREAM;
#ifdef SOCK_CLOEXEC
  type |= SOCK_CLOEXEC;
#endif
  int s = socket(family, type, 0);
  *out = s;
  if (s < 0)
    return net_map_error(errno);
#ifndef SOCK_CLOEXEC
  fcntl(s, F_SETFD, FD_CLOEXEC);
#endif
#ifdef SO_NOSIGPIPE
  int on = 1;
  setsockopt(s, SOL_SOCKET, SO_NOSIGPIPE, &on, sizeof on);
#endif
  return NET_OK;
}

int net_set_nonblocking(tofu_socket s) {
  int flags = fcntl(s, F_GETFL);
  if (flags < 0 || fcntl(s, F_SETFL, flags | O_NONBLOCK) < 0)
    return net_map_error(errno);
  return NET_OK;
}

static int net_connect(tofu_socket s, const struct sockaddr *sa, net_len len) {
  if (connect(s, sa, len) == 0)
    return NET_OK;
  /* An interrupted connect goes on in the background, like EINPROGRESS. */
  return errno == EINTR ? NET_EINPROGRESS : net_map_error(errno);
}

ptrdiff_t net_send(tofu_socket s, const void *buf, size_t len) {
  ssize_t n;
  do
    n = send(s, buf, len, NET_SEND_FLAGS);
  while (n < 0 && errno == EINTR);
  return n >= 0 ? (ptrdiff_t)n : net_map_error(errno);
}

ptrdiff_t net_recv(tofu_socket s, void *buf, size_t len) {
  ssize_t n;
  do
    n = recv(s, buf, len, 0);
  while (n < 0 && errno == EINTR);
  return n >= 0 ? (ptrdiff_t)n : net_map_error(errno);
}

int net_shutdown_write(tofu_socket s) {
  return shutdown(s, SHUT_WR) == 0 ? NET_OK : net_map_error(errno);
}

void net_close(tofu_socket s) {
  if (s != TOFU_INVALID_SOCKET)
    close(s); /* never retried: Linux has released the descriptor even on EINTR */
}

static int net_last(void) {
  return net_map_error(errno);
}

#endif /* _WIN32 */

/* ---- shared by both socket APIs ------------------------------------------ */

static int net_setopt(tofu_socket s, int level, int name, const void *val, net_len len) {
  return setsockopt(NET_SOCK(s), level, name, val, len) == 0 ? NET_OK : net_last();
}

int net_tcp_socket(tofu_socket *out) {
  return net_socket(AF_INET, out);
}

int net_uds_socket(tofu_socket *out) {
  return net_socket(AF_UNIX, out);
}

int net_set_nodelay(tofu_socket s) {
  int on = 1;
  return net_setopt(s, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
}

int net_set_sndbuf(tofu_socket s, int bytes) {
  return net_setopt(s, SOL_SOCKET, SO_SNDBUF, &bytes, sizeof bytes);
}

int net_set_rcvbuf(tofu_socket s, int bytes) {
  return net_setopt(s, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes);
}

int net_set_linger_abort(tofu_socket s) {
  struct linger lg;
  memset(&lg, 0, sizeof lg);
  lg.l_onoff = 1;
  lg.l_linger = 0;
  return net_setopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
}

static void net_loopback(struct sockaddr_in *sin, uint16_t port) {
  memset(sin, 0, sizeof *sin);
  sin->sin_family = AF_INET;
  sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  sin->sin_port = htons(port);
}

int net_tcp_bind_loopback(tofu_socket s, uint16_t *port) {
  struct sockaddr_in sin;
  net_loopback(&sin, 0);
  if (bind(NET_SOCK(s), (struct sockaddr *)&sin, sizeof sin) != 0)
    return net_last();
  net_len len = sizeof sin;
  if (getsockname(NET_SOCK(s), (struct sockaddr *)&sin, &len) != 0)
    return net_last();
  *port = ntohs(sin.sin_port);
  return NET_OK;
}

int net_tcp_connect_loopback(tofu_socket s, uint16_t port) {
  struct sockaddr_in sin;
  net_loopback(&sin, port);
  return net_connect(s, (struct sockaddr *)&sin, sizeof sin);
}

static int net_uds_addr(struct sockaddr_un *sun, const char *path) {
  size_t n = strlen(path);
  if (n > NET_UDS_PATH_MAX || n >= sizeof sun->sun_path)
    return NET_EOTHER;
  memset(sun, 0, sizeof *sun);
  sun->sun_family = AF_UNIX;
  memcpy(sun->sun_path, path, n);
  return NET_OK;
}

int net_uds_bind(tofu_socket s, const char *path) {
  struct sockaddr_un sun;
  if (net_uds_addr(&sun, path) != NET_OK)
    return NET_EOTHER;
  return bind(NET_SOCK(s), (struct sockaddr *)&sun, sizeof sun) == 0 ? NET_OK : net_last();
}

int net_uds_connect(tofu_socket s, const char *path) {
  struct sockaddr_un sun;
  if (net_uds_addr(&sun, path) != NET_OK)
    return NET_EOTHER;
  return net_connect(s, (struct sockaddr *)&sun, sizeof sun);
}

int net_listen(tofu_socket s, int backlog) {
  return listen(NET_SOCK(s), backlog) == 0 ? NET_OK : net_last();
}

int net_accept(tofu_socket listener, tofu_socket *out) {
  *out = TOFU_INVALID_SOCKET;
#ifdef _WIN32
  SOCKET c = accept(NET_SOCK(listener), NULL, NULL);
  if (c == INVALID_SOCKET)
    return net_last();
#else
  int c;
  do
    c = accept(listener, NULL, NULL);
  while (c < 0 && errno == EINTR);
  if (c < 0)
    return net_last();
  fcntl(c, F_SETFD, FD_CLOEXEC);
#ifdef SO_NOSIGPIPE
  int on = 1;
  setsockopt(c, SOL_SOCKET, SO_NOSIGPIPE, &on, sizeof on);
#endif
#endif
  int rc = net_set_nonblocking((tofu_socket)c);
  if (rc != NET_OK) {
    net_close((tofu_socket)c);
    return rc;
  }
  *out = (tofu_socket)c;
  return NET_OK;
}

int net_pending_error(tofu_socket s) {
  int err = 0;
  net_len len = sizeof err;
  if (getsockopt(NET_SOCK(s), SOL_SOCKET, SO_ERROR, (char *)&err, &len) != 0)
    return net_last();
  return net_map_error(err);
}

const char *net_strerror(int err) {
  switch (err) {
  case NET_OK:
    return "success";
  case NET_EWOULDBLOCK:
    return "operation would block";
  case NET_EINPROGRESS:
    return "connect in progress";
  case NET_ECONNREFUSED:
    return "connection refused";
  case NET_ECONNRESET:
    return "connection reset";
  case NET_EPIPE:
    return "connection shut down for writing";
  case NET_EAFNOSUPPORT:
    return "address family not supported";
  default:
    return "socket call failed";
  }
}

/* ---- Engine additions: general addresses and gathered writes ------------ */

#ifdef _WIN32
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
    return net_map_error(WSAGetLastError());
  return (ptrdiff_t)sent;
}

static int net_reuseaddr(tofu_socket s) {
  (void)s; /* SO_REUSEADDR on Windows would let another socket steal the port */
  return NET_OK;
}

void net_uds_unlink(const char *path) {
  DeleteFileA(path);
}
#else
#include <netdb.h>
#include <sys/uio.h>

ptrdiff_t net_sendv(tofu_socket s, const net_iov *iov, int count) {
  struct iovec v[NET_IOV_MAX];
  struct msghdr mh;
  ssize_t n;
  if (count < 1 || count > NET_IOV_MAX)
    return NET_EOTHER;
  for (int i = 0; i < count; i++) {
    v[i].iov_base = (void *)iov[i].base;
    v[i].iov_len = iov[i].len;
  }
  memset(&mh, 0, sizeof mh);
  mh.msg_iov = v;
  mh.msg_iovlen = (size_t)count;
  do
    n = sendmsg(s, &mh, NET_SEND_FLAGS);
  while (n < 0 && errno == EINTR);
  return n >= 0 ? (ptrdiff_t)n : net_map_error(errno);
}

static int net_reuseaddr(tofu_socket s) {
  int on = 1;
  return net_setopt(s, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
}

void net_uds_unlink(const char *path) {
  unlink(path);
}
#endif

int net_tcp_bind(tofu_socket s, const char *ip, uint16_t port, uint16_t *bound) {
  struct sockaddr_in sin;
  memset(&sin, 0, sizeof sin);
  sin.sin_family = AF_INET;
  sin.sin_port = htons(port);
  if (ip == NULL || *ip == '\0')
    sin.sin_addr.s_addr = htonl(INADDR_ANY);
  else if (inet_pton(AF_INET, ip, &sin.sin_addr) != 1)
    return NET_EOTHER;
  int rc = net_reuseaddr(s);
  if (rc != NET_OK)
    return rc;
  if (bind(NET_SOCK(s), (struct sockaddr *)&sin, sizeof sin) != 0)
    return net_last();
  if (bound) {
    net_len len = sizeof sin;
    if (getsockname(NET_SOCK(s), (struct sockaddr *)&sin, &len) != 0)
      return net_last();
    *bound = ntohs(sin.sin_port);
  }
  return NET_OK;
}

int net_resolve_ipv4(const char *host, char ip[NET_IPV4_TEXT]) {
  struct in_addr in;
  if (inet_pton(AF_INET, host, &in) != 1) {
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_INET;
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(host, NULL, &hints, &res) != 0 || res == NULL)
      return NET_EOTHER;
    in = ((struct sockaddr_in *)res->ai_addr)->sin_addr;
    freeaddrinfo(res);
  }
  return inet_ntop(AF_INET, &in, ip, NET_IPV4_TEXT) ? NET_OK : NET_EOTHER;
}

int net_tcp_connect(tofu_socket s, const char *ip, uint16_t port) {
  struct sockaddr_in sin;
  memset(&sin, 0, sizeof sin);
  sin.sin_family = AF_INET;
  sin.sin_port = htons(port);
  if (inet_pton(AF_INET, ip, &sin.sin_addr) != 1)
    return NET_EOTHER;
  return net_connect(s, (struct sockaddr *)&sin, sizeof sin);
}
