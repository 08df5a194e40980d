/* bench_sock — see bench_sock.h. */
#define _GNU_SOURCE
#include "bench_sock.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/un.h>
#include <unistd.h>

void bench_sock_setup(int fd, int tcp) {
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  if (tcp) {
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
}

int bench_sock_listen(const bench_case *c, struct sockaddr_storage *ss, socklen_t *sl) {
  int tcp = c->transport == BENCH_TCP;
  int fd = socket(tcp ? AF_INET : AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return -1;
  memset(ss, 0, sizeof *ss);
  if (tcp) {
    struct sockaddr_in *in = (struct sockaddr_in *)ss;
    in->sin_family = AF_INET;
    in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    *sl = sizeof *in;
  } else {
    struct sockaddr_un *un = (struct sockaddr_un *)ss;
    un->sun_family = AF_UNIX;
    snprintf(un->sun_path, sizeof un->sun_path, "%s", c->uds_path);
    unlink(c->uds_path);
    *sl = sizeof *un;
  }
  if (bind(fd, (struct sockaddr *)ss, *sl) != 0 || listen(fd, 4096) != 0 ||
      getsockname(fd, (struct sockaddr *)ss, sl) != 0) {
    close(fd);
    return -1;
  }
  bench_sock_setup(fd, 0);
  return fd;
}

int bench_sock_connect(const struct sockaddr_storage *ss, socklen_t sl, int tcp) {
  int fd = socket(tcp ? AF_INET : AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return -1;
  if (connect(fd, (const struct sockaddr *)ss, sl) != 0) {
    close(fd);
    return -1;
  }
  bench_sock_setup(fd, tcp);
  return fd;
}
