/* platform/win32 — what net_bsd.c needs of Winsock2: the system headers, the
 * address-length type and the last error as a net_error. */
#ifndef TOFU_PLATFORM_WIN32_NET_SYS_H
#define TOFU_PLATFORM_WIN32_NET_SYS_H

#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <winsock2.h>
#include <ws2tcpip.h>
#if defined(__has_include)
#if __has_include(<afunix.h>)
#include <afunix.h>
#define NET_HAVE_AFUNIX_H 1
#endif
#elif defined(_MSC_VER)
#include <afunix.h> /* every Windows 10 SDK has it */
#define NET_HAVE_AFUNIX_H 1
#endif
#ifndef NET_HAVE_AFUNIX_H
/* Older MinGW headers lack <afunix.h>; this is the layout Windows uses. */
#define UNIX_PATH_MAX 108
struct sockaddr_un {
  ADDRESS_FAMILY sun_family;
  char sun_path[UNIX_PATH_MAX];
};
#endif

#include "platform/net.h"

typedef int net_len;
#define NET_SOCK(s) ((SOCKET)(s))

/* A blocking stream socket of the family, set up the platform's way (see
 * net_tcp_socket). */
int net_stream_socket(int family, tofu_socket *out);

/* connect(), with the platform's way of saying "in progress" turned into
 * NET_EINPROGRESS. */
int net_connect_sa(tofu_socket s, const struct sockaddr *sa, net_len len);

/* The net_error of the calling thread's last failed socket call. */
static inline int net_last(void) {
  return net_map_error(WSAGetLastError());
}

/* No SO_REUSEADDR: on Windows it would let another socket take over a port
 * that is in use. */
#define NET_REUSEADDR 0

#endif /* TOFU_PLATFORM_WIN32_NET_SYS_H */
