/* platform/net_bsd — the calls of platform/net.h that read the same on BSD
 * sockets and Winsock2: options, binding, listening, connecting by address,
 * pending errors, name lookup. The platform's net_sys.h supplies the system
 * declarations, the address-length type and the last error. */
/* First: the platform's net_sys.h may set feature macros for the system
 * headers. */
#ifdef _WIN32
#include "win32/net_sys.h"
#else
#include "posix/net_sys.h"
#endif

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

/* ---- IPv4 and IPv6 ---------------------------------------------------- */

/* The platform's sockaddr for a net_addr. */
static net_len net_sockaddr(const net_addr *a, struct sockaddr_storage *ss) {
  memset(ss, 0, sizeof *ss);
  if (a->family == NET_INET6) {
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
    s6->sin6_family = AF_INET6;
    s6->sin6_port = htons(a->port);
    memcpy(&s6->sin6_addr, a->ip, 16);
    s6->sin6_scope_id = a->scope;
    return (net_len)sizeof *s6;
  }
  struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
  s4->sin_family = AF_INET;
  s4->sin_port = htons(a->port);
  memcpy(&s4->sin_addr, a->ip, 4);
  return (net_len)sizeof *s4;
}

/* A net_addr from a sockaddr of either family; 0 for another family. */
static int net_from_sockaddr(const struct sockaddr *sa, net_addr *a) {
  memset(a, 0, sizeof *a);
  if (sa->sa_family == AF_INET6) {
    const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
    a->family = NET_INET6;
    memcpy(a->ip, &s6->sin6_addr, 16);
    a->port = ntohs(s6->sin6_port);
    a->scope = (uint32_t)s6->sin6_scope_id;
    return 1;
  }
  if (sa->sa_family == AF_INET) {
    const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
    a->family = NET_INET4;
    memcpy(a->ip, &s4->sin_addr, 4);
    a->port = ntohs(s4->sin_port);
    return 1;
  }
  return 0;
}

int net_resolve(const char *host, uint16_t port, int passive, net_addr *out, int max) {
  if (max > NET_RESOLVE_MAX)
    max = NET_RESOLVE_MAX;
  if (max < 1)
    return NET_EOTHER;
  if (passive && (host == NULL || *host == '\0')) {
    memset(out, 0, sizeof *out); /* 0.0.0.0 */
    out->family = NET_INET4;
    out->port = port;
    return 1;
  }
  if (host == NULL || *host == '\0')
    return NET_EOTHER;
  struct addrinfo hints, *res = NULL;
  memset(&hints, 0, sizeof hints);
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_protocol = IPPROTO_TCP;
  /* A literal is parsed without a lookup: try that first. */
  hints.ai_flags = AI_NUMERICHOST | (passive ? AI_PASSIVE : 0);
  if (getaddrinfo(host, NULL, &hints, &res) != 0) {
    res = NULL;
    hints.ai_flags = passive ? AI_PASSIVE : 0;
    if (getaddrinfo(host, NULL, &hints, &res) != 0)
      return NET_EOTHER;
  }
  int n = 0;
  for (const struct addrinfo *ai = res; ai && n < max; ai = ai->ai_next) {
    net_addr a;
    if (!ai->ai_addr || !net_from_sockaddr(ai->ai_addr, &a))
      continue;
    a.port = port;
    int dup = 0;
    for (int i = 0; i < n; i++)
      dup |= memcmp(&out[i], &a, sizeof a) == 0;
    if (!dup)
      out[n++] = a;
  }
  freeaddrinfo(res);
  return n > 0 ? n : NET_EOTHER;
}

void net_addr_ip_text(const net_addr *a, char *buf, size_t n) {
  if (n == 0)
    return;
  buf[0] = '\0';
  char tmp[NET_ADDR_TEXT];
  if (!inet_ntop(a->family == NET_INET6 ? AF_INET6 : AF_INET, (void *)a->ip, tmp, sizeof tmp))
    return;
  size_t len = strlen(tmp);
  if (a->family == NET_INET6 && a->scope != 0) {
    /* The scope as its number: valid in a literal on every platform. */
    unsigned long v = a->scope;
    char num[16];
    int k = 0;
    do {
      num[k++] = (char)('0' + v % 10);
      v /= 10;
    } while (v && k < (int)sizeof num);
    if (len + 1 + (size_t)k < sizeof tmp) {
      tmp[len++] = '%';
      while (k)
        tmp[len++] = num[--k];
      tmp[len] = '\0';
    }
  }
  if (len >= n)
    len = n - 1;
  memcpy(buf, tmp, len);
  buf[len] = '\0';
}

int net_tcp_socket_for(const net_addr *a, tofu_socket *out) {
  return net_stream_socket(a->family == NET_INET6 ? AF_INET6 : AF_INET, out);
}

int net_tcp_bind(tofu_socket s, const net_addr *a, uint16_t *bound) {
  struct sockaddr_storage ss;
  net_len len = net_sockaddr(a, &ss);
  int rc;
#if NET_REUSEADDR
  int on = 1;
  rc = net_setopt(s, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  if (rc != NET_OK)
    return rc;
#endif
  if (a->family == NET_INET6) {
    int off = 0;
    rc = net_setopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off);
    if (rc != NET_OK)
      return rc;
  }
  if (bind(NET_SOCK(s), (struct sockaddr *)&ss, len) != 0)
    return net_last();
  if (!bound)
    return NET_OK;
  net_addr got;
  len = sizeof ss;
  if (getsockname(NET_SOCK(s), (struct sockaddr *)&ss, &len) != 0)
    return net_last();
  if (!net_from_sockaddr((struct sockaddr *)&ss, &got))
    return NET_EOTHER;
  *bound = got.port;
  return NET_OK;
}

int net_tcp_connect(tofu_socket s, const net_addr *a) {
  struct sockaddr_storage ss;
  net_len len = net_sockaddr(a, &ss);
  return net_connect_sa(s, (struct sockaddr *)&ss, len);
}
