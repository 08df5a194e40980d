/* platform/net — the socket part of the platform layer: one small API over
 * BSD sockets and Winsock2.
 *
 * posix/net.c and win32/net.c hold what differs between the two socket APIs
 * (start-up, error codes, non-blocking mode, send/recv, accept, gathered
 * writes); net_bsd.c holds the calls that read the same on both, over the
 * declarations of the platform's net_sys.h. Callers get
 * portable error values (enum net_error) and never compare errno against
 * EAGAIN or WSAGetLastError() against WSAEWOULDBLOCK themselves.
 *
 * Functions that can fail return NET_OK (0), a count (>= 0) where they say so,
 * or a negative net_error. The raw platform code of the last failure stays in
 * errno / WSAGetLastError() and net_os_error() returns it.
 */
#ifndef TOFU_NET_H
#define TOFU_NET_H

#include <stddef.h>
#include <stdint.h>

#include "tofu/poller.h"

typedef enum net_error {
  NET_OK = 0,
  NET_EWOULDBLOCK = -1,  /* the call would block (EAGAIN, WSAEWOULDBLOCK) */
  NET_EINPROGRESS = -2,  /* a non-blocking connect has started and goes on */
  NET_ECONNREFUSED = -3, /* nobody listens at the address */
  NET_ECONNRESET = -4,   /* the peer reset (or the stack aborted) the connection */
  NET_EPIPE = -5,        /* writing after shutdown(write) or to a finished connection */
  NET_EAFNOSUPPORT = -6, /* the address family (e.g. AF_UNIX on Wine) is not supported */
  NET_EOTHER = -7        /* anything else; see net_os_error() */
} net_error;

/* Longest AF_UNIX path accepted by net_uds_bind/net_uds_connect, without the
 * terminating NUL (sun_path is 108 bytes on Linux and Windows). */
#define NET_UDS_PATH_MAX 107

/* Start the socket layer. On Windows this is WSAStartup, which Winsock
 * reference-counts, so every net_init must be paired with one net_cleanup. A
 * no-op on POSIX. */
int net_init(void);

/* Undo one net_init (WSACleanup on Windows). */
void net_cleanup(void);

/* Create a blocking TCP/IPv4 stream socket (not inherited by child processes;
 * SIGPIPE suppressed where the platform does that per socket). */
int net_tcp_socket(tofu_socket *out);

/* Create a blocking AF_UNIX stream socket. NET_EAFNOSUPPORT where the
 * platform has no AF_UNIX (Wine 8, Windows before build 17063). */
int net_uds_socket(tofu_socket *out);

/* Switch a socket to non-blocking mode, or back to blocking mode (a socket
 * that no poller watches; e.g. a test's peer reading frame by frame). */
int net_set_nonblocking(tofu_socket s);
int net_set_blocking(tofu_socket s);

/* Disable Nagle's algorithm so small writes leave at once. */
int net_set_nodelay(tofu_socket s);

/* Ask for a send / receive buffer of the given size. The OS may round it (Linux
 * doubles it), so this is a hint, not an exact size. */
int net_set_sndbuf(tofu_socket s, int bytes);
int net_set_rcvbuf(tofu_socket s, int bytes);

/* Make the next net_close abortive: SO_LINGER {1, 0}, so the peer gets a RST
 * instead of a FIN. */
int net_set_linger_abort(tofu_socket s);

/* Bind to 127.0.0.1 on a port the OS picks and store that port (host order)
 * in *port. */
int net_tcp_bind_loopback(tofu_socket s, uint16_t *port);

/* Bind an AF_UNIX socket to a filesystem path (at most NET_UDS_PATH_MAX bytes).
 * The caller removes the path when done. */
int net_uds_bind(tofu_socket s, const char *path);

/* Start listening on a bound socket. */
int net_listen(tofu_socket s, int backlog);

/* Connect to 127.0.0.1:port. On a non-blocking socket a connect that goes on
 * in the background returns NET_EINPROGRESS on every platform (Windows says
 * WSAEWOULDBLOCK for it); its end is reported as writable, and
 * net_pending_error tells how it ended. */
int net_tcp_connect_loopback(tofu_socket s, uint16_t port);

/* Connect to an AF_UNIX path. Returns NET_OK, NET_EINPROGRESS (Windows), or
 * NET_EWOULDBLOCK when the listener's backlog is full (Linux; nothing is in
 * progress then: try again later). */
int net_uds_connect(tofu_socket s, const char *path);

/* Accept one connection. The new socket is always non-blocking (POSIX does
 * not inherit the listener's mode, Windows does: this makes them agree).
 * NET_EWOULDBLOCK when none is pending on a non-blocking listener. */
int net_accept(tofu_socket listener, tofu_socket *out);

/* Send up to len bytes without raising SIGPIPE. Returns the count sent or a
 * negative net_error (NET_EWOULDBLOCK, NET_EPIPE, NET_ECONNRESET, ...). */
ptrdiff_t net_send(tofu_socket s, const void *buf, size_t len);

/* Receive up to len bytes. Returns the count received, 0 at end of stream, or
 * a negative net_error (NET_EWOULDBLOCK, NET_ECONNRESET, ...). */
ptrdiff_t net_recv(tofu_socket s, void *buf, size_t len);

/* Shut down the sending direction; the peer reads end of stream. */
int net_shutdown_write(tofu_socket s);

/* Close a socket. TOFU_INVALID_SOCKET is ignored. */
void net_close(tofu_socket s);

/* Read and clear the socket's pending error (SO_ERROR): NET_OK if none, else
 * its net_error (e.g. NET_ECONNREFUSED after a failed connect). */
int net_pending_error(tofu_socket s);

/* The net_error for a raw platform code (an errno or WSA* value). */
int net_map_error(int os_error);

/* The raw platform code of the last failure on this thread (errno or
 * WSAGetLastError()). */
int net_os_error(void);

/* A short static description of a net_error value (never NULL). */
const char *net_strerror(int err);

/* ---- Engine additions: general addresses and gathered writes ------------ */

/* One buffer of a gathered write. */
typedef struct net_iov {
  const void *base;
  size_t len;
} net_iov;

/* Most buffers net_sendv takes at once. */
#define NET_IOV_MAX 64

/* Send the buffers in order with one system call (sendmsg / WSASend), without
 * raising SIGPIPE. count is 1..NET_IOV_MAX. Returns the count of bytes sent or
 * a negative net_error, as net_send. */
ptrdiff_t net_sendv(tofu_socket s, const net_iov *iov, int count);

/* An IPv4 or IPv6 address with a port, as name lookup returns it (the
 * platform's sockaddr is built from it only inside net_bsd.c). */
typedef struct net_addr {
  uint8_t family; /* NET_INET4 or NET_INET6 */
  uint8_t ip[16]; /* network byte order; IPv4 uses the first 4 bytes */
  uint16_t port;  /* host order */
  uint32_t scope; /* IPv6 scope (interface) id; 0 for none */
} net_addr;

enum { NET_INET4 = 4, NET_INET6 = 6 };

/* Most addresses net_resolve returns: a name with more is tried on these. */
#define NET_RESOLVE_MAX 4

/* The longest text of an address: an IPv6 address with a scope id, NUL
 * included. */
#define NET_ADDR_TEXT 64

/* Resolve host and port to at most max (<= NET_RESOLVE_MAX) addresses, in
 * the order the system prefers (getaddrinfo, both families; a literal IPv4
 * or IPv6 address is parsed without a lookup; a name may block). passive:
 * for a listener, where host "" means every IPv4 interface (0.0.0.0).
 * Returns the count (>= 1) or NET_EOTHER when the host does not resolve. */
int net_resolve(const char *host, uint16_t port, int passive, net_addr *out, int max);

/* Format an address's IP (without the port) as text: "127.0.0.1", "::1". */
void net_addr_ip_text(const net_addr *a, char *buf, size_t n);

/* Create a blocking TCP stream socket of the address's family (as
 * net_tcp_socket). */
int net_tcp_socket_for(const net_addr *a, tofu_socket *out);

/* Bind a TCP socket to a, allowing quick rebinding of the address
 * (SO_REUSEADDR, POSIX only). An IPv6 socket is made dual-stack
 * (IPV6_V6ONLY off) on every platform, so "::" takes IPv4 connections too,
 * as it does by default on Linux. The port bound (host order) goes to *bound
 * if bound is not NULL. */
int net_tcp_bind(tofu_socket s, const net_addr *a, uint16_t *bound);

/* Connect a TCP socket to a (never a name lookup, so this never blocks on
 * one). Results as net_tcp_connect_loopback. */
int net_tcp_connect(tofu_socket s, const net_addr *a);

/* Remove a filesystem path (a UDS listener's socket file). */
void net_uds_unlink(const char *path);

#endif /* TOFU_NET_H */
