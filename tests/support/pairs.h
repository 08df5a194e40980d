/* tofu tests — listeners and connected socket pairs over TCP loopback or
 * AF_UNIX, the same way on POSIX and Windows.
 *
 * Functions return NET_OK or a negative net_error (common/net.h). AF_UNIX
 * listeners live at a path inside a private temporary directory; both are
 * removed by pair_unlisten. */
#ifndef TOFU_TEST_PAIRS_H
#define TOFU_TEST_PAIRS_H

#include <stdint.h>

#include "platform/net.h"

typedef enum pair_transport { PAIR_TCP, PAIR_UDS } pair_transport;

typedef struct pair_listener {
  pair_transport transport;
  tofu_socket sock;                /* blocking, listening */
  uint16_t port;                   /* PAIR_TCP: the port on 127.0.0.1 */
  char dir[NET_UDS_PATH_MAX + 1];  /* PAIR_UDS: the private directory */
  char path[NET_UDS_PATH_MAX + 1]; /* PAIR_UDS: the socket's path in it */
} pair_listener;

/* "tcp" or "uds", for messages. */
const char *pair_name(pair_transport t);

/* Open a blocking listener (backlog 128) on 127.0.0.1 port 0 or a fresh path. */
int pair_listen(pair_transport t, pair_listener *l);

/* Close the listener and remove its path and directory. */
void pair_unlisten(pair_listener *l);

/* Create a socket of the listener's transport and connect it. With
 * nonblocking, the socket is switched first and the result may be
 * NET_EINPROGRESS; *client is then set and still owned by the caller. On any
 * other failure *client is closed and set to TOFU_INVALID_SOCKET. */
int pair_connect(const pair_listener *l, int nonblocking, tofu_socket *client);

/* A connected pair, both ends non-blocking (TCP: TCP_NODELAY on both). */
int pair_open(pair_transport t, tofu_socket *a, tofu_socket *b);

/* Close both ends (either may be TOFU_INVALID_SOCKET). */
void pair_close(tofu_socket a, tofu_socket b);

#endif /* TOFU_TEST_PAIRS_H */
