/* platform/net_bsd — the calls of platform/net.h that read the same on BSD
 * sockets and Winsock2: options, binding, listening, connecting by address,
 * pending errors, name lookup. The platform's net_sys.h supplies the system
 * declarations, the address-length type and the last error. */
#include "net_sys.h" /* first: it may set feature macros for the system headers */

#include <string.h>

static int net_setopt(tofu_socket s, int level, int name, const void *val, net_len len) {
  return setsockopt(NET_SOCK(s), level, name, val, len) == 0 ? NET_OK : net_last();
}

int net_tcp_socket(tofu_socket *out) {
  return net_stream_socket(AF_INET, out);
}

int net_uds_socket(tofu_socket *out) {
  return net_stream_socket(AF_UNIX, out);
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

/* The port a bound socket got (host order). */
static int net_bound_port(tofu_socket s, uint16_t *port) {
  struct sockaddr_in sin;
  net_len len = sizeof sin;
  if (getsockname(NET_SOCK(s), (struct sockaddr *)&sin, &len) != 0)
    return net_last();
  *port = ntohs(sin.sin_port);
  return NET_OK;
}

int net_tcp_bind_loopback(tofu_socket s, uint16_t *port) {
  struct sockaddr_in sin;
  net_loopback(&sin, 0);
  if (bind(NET_SOCK(s), (struct sockaddr *)&sin, sizeof sin) != 0)
    return net_last();
  return net_bound_port(s, port);
}

int net_tcp_connect_loopback(tofu_socket s, uint16_t port) {
  struct sockaddr_in sin;
  net_loopback(&sin, port);
  return net_connect_sa(s, (struct sockaddr *)&sin, sizeof sin);
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
  return net_connect_sa(s, (struct sockaddr *)&sun, sizeof sun);
}

int net_listen(tofu_socket s, int backlog) {
  return listen(NET_SOCK(s), backlog) == 0 ? NET_OK : net_last();
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

int net_tcp_bind(tofu_socket s, const char *ip, uint16_t port, uint16_t *bound) {
  struct sockaddr_in sin;
  memset(&sin, 0, sizeof sin);
  sin.sin_family = AF_INET;
  sin.sin_port = htons(port);
  if (ip == NULL || *ip == '\0')
    sin.sin_addr.s_addr = htonl(INADDR_ANY);
  else if (inet_pton(AF_INET, ip, &sin.sin_addr) != 1)
    return NET_EOTHER;
#if NET_REUSEADDR
  int on = 1;
  int rc = net_setopt(s, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  if (rc != NET_OK)
    return rc;
#endif
  if (bind(NET_SOCK(s), (struct sockaddr *)&sin, sizeof sin) != 0)
    return net_last();
  return bound ? net_bound_port(s, bound) : NET_OK;
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
  return net_connect_sa(s, (struct sockaddr *)&sin, sizeof sin);
}
