/* platform/posix — the half of platform/net.h that only BSD sockets have:
 * errno, O_NONBLOCK, MSG_NOSIGNAL / SO_NOSIGPIPE, close-on-exec, sendmsg. */
#include "net_sys.h" /* first: it sets the feature macros for the system headers */

#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

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

/* What every socket of ours gets: not inherited by child processes, and no
 * SIGPIPE where the platform suppresses it per socket. */
static void own_socket(int s) {
#ifdef SO_NOSIGPIPE
  int on = 1;
  setsockopt(s, SOL_SOCKET, SO_NOSIGPIPE, &on, sizeof on);
#endif
  fcntl(s, F_SETFD, FD_CLOEXEC);
}

int net_stream_socket(int family, tofu_socket *out) {
  int type = SOCK_STREAM;
#ifdef SOCK_CLOEXEC
  type |= SOCK_CLOEXEC;
#endif
  int s = socket(family, type, 0);
  *out = s;
  if (s < 0)
    return net_map_error(errno);
  own_socket(s);
  return NET_OK;
}

int net_set_nonblocking(tofu_socket s) {
  int flags = fcntl(s, F_GETFL);
  if (flags < 0 || fcntl(s, F_SETFL, flags | O_NONBLOCK) < 0)
    return net_map_error(errno);
  return NET_OK;
}

int net_set_blocking(tofu_socket s) {
  int flags = fcntl(s, F_GETFL);
  if (flags < 0 || fcntl(s, F_SETFL, flags & ~O_NONBLOCK) < 0)
    return net_map_error(errno);
  return NET_OK;
}

int net_connect_sa(tofu_socket s, const struct sockaddr *sa, net_len len) {
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

ptrdiff_t net_sendv(tofu_socket s, const net_iov *iov, int count) {
  struct iovec v[NET_IOV_MAX];
  struct msghdr mh;
  ssize_t n;
  if (count < 1 || count > NET_IOV_MAX)
    return NET_EOTHER;
  /* One piece, the usual case since frames are written whole (chan_send.c):
   * send spares the kernel the msghdr and iovec copies. */
  if (count == 1)
    return net_send(s, iov[0].base, iov[0].len);
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

int net_shutdown_write(tofu_socket s) {
  return shutdown(s, SHUT_WR) == 0 ? NET_OK : net_map_error(errno);
}

void net_close(tofu_socket s) {
  if (s != TOFU_INVALID_SOCKET)
    close(s); /* never retried: Linux has released the descriptor even on EINTR */
}

int net_accept(tofu_socket listener, tofu_socket *out) {
  *out = TOFU_INVALID_SOCKET;
  int c;
  do
    c = accept(listener, NULL, NULL);
  while (c < 0 && errno == EINTR);
  if (c < 0)
    return net_last();
  own_socket(c);
  int rc = net_set_nonblocking(c);
  if (rc != NET_OK) {
    close(c);
    return rc;
  }
  *out = c;
  return NET_OK;
}

void net_uds_unlink(const char *path) {
  unlink(path);
}
