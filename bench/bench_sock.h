/* bench_sock — the POSIX socket steps the hand-written baselines (raw-poll,
 * relay-poll) share: the listener of a case, a connection to it, and the
 * non-blocking, no-delay setting of every socket. */
#ifndef TOFU_BENCH_SOCK_H
#define TOFU_BENCH_SOCK_H

#include <sys/socket.h>

#include "bench.h"

/* Non-blocking; TCP_NODELAY too when tcp. */
void bench_sock_setup(int fd, int tcp);

/* A non-blocking listener for the case's transport (127.0.0.1, port chosen
 * by the system, or the case's socket path); its address in *ss / *sl.
 * -1 on failure. */
int bench_sock_listen(const bench_case *c, struct sockaddr_storage *ss, socklen_t *sl);

/* A blocking connect to ss, then bench_sock_setup. -1 on failure. */
int bench_sock_connect(const struct sockaddr_storage *ss, socklen_t sl, int tcp);

#endif /* TOFU_BENCH_SOCK_H */
