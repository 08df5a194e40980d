/* platform/posix — what net_bsd.c needs of the BSD socket API: the system
 * headers, the address-length type and the last error as a net_error. */
#ifndef TOFU_PLATFORM_POSIX_NET_SYS_H
#define TOFU_PLATFORM_POSIX_NET_SYS_H

/* getaddrinfo and struct addrinfo are POSIX, not C11: a file that includes
 * this header first gets them. */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
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
