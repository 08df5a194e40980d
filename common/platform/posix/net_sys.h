/* platform/posix — what net_bsd.c needs of the BSD socket API: the system
 * headers, the address-length type and the last error as a net_error. */
#ifndef TOFU_PLATFORM_POSIX_NET_SYS_H
#define TOFU_PLATFORM_POSIX_NET_SYS_H

/* The system's whole socket API, for a file that includes this header first:
 * getaddrinfo is POSIX but not C11, and INADDR_LOOPBACK, SOCK_CLOEXEC and
 * SO_NOSIGPIPE are not POSIX at all. glibc and musl show it all under
 * _DEFAULT_SOURCE, Darwin under _DARWIN_C_SOURCE; FreeBSD, NetBSD and
 * OpenBSD show it unless _POSIX_C_SOURCE is defined, which would hide their
 * own calls (Darwin's too, without _DARWIN_C_SOURCE), so it is not. */
#ifndef _DEFAULT_SOURCE
#define _DEFAULT_SOURCE
#endif
#ifndef _DARWIN_C_SOURCE
#define _DARWIN_C_SOURCE
#endif

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "platform/net.h"

typedef socklen_t net_len;
#define NET_SOCK(s) (s)

/* A blocking stream socket of the family, set up the platform's way (see
 * net_tcp_socket). */
int net_stream_socket(int family, tofu_socket *out);

/* connect(), with the platform's way of saying "in progress" turned into
 * NET_EINPROGRESS. */
int net_connect_sa(tofu_socket s, const struct sockaddr *sa, net_len len);

/* The net_error of the calling thread's last failed socket call. */
static inline int net_last(void) {
  return net_map_error(errno);
}

/* SO_REUSEADDR: a listener can bind its port again at once after a restart,
 * while the old connections are in TIME_WAIT. */
#define NET_REUSEADDR 1

#endif /* TOFU_PLATFORM_POSIX_NET_SYS_H */
