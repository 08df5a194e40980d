/* half-frames — the hostile peers of issue 16, for bench/half-frames.sh.
 *
 *   half-frames --connect HOST:PORT [-n PEERS] [--payload BYTES] [--hold SECONDS]
 *               [--small PEERS]
 *
 * Opens PEERS TCP connections (default 2000) to a tofu node. Each sends a
 * HelloRequest, then the header of a Request claiming the largest frame
 * (65,535 bytes of text headers and 65,535 of body), then as much of its
 * payload (default 125,535 bytes: most of it) as the socket takes without
 * blocking, and stalls: it never sends the rest and never reads. The
 * connections are held for SECONDS (default 60), then closed. With --small,
 * as many more peers (after the others) claim a frame of 256 bytes of body
 * and send half of it: they take what the large ones leave of the pool.
 * Prints one line when every peer has sent, one when they are closed. POSIX
 * only. */
#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static void header(uint8_t *out, unsigned opcode, uint64_t id, uint16_t hlen, uint16_t blen) {
  memset(out, 0, 16);
  out[1] = 1; /* channel 1: the receiver ignores it */
  out[2] = (uint8_t)(opcode & 0x0f);
  for (int i = 0; i < 8; i++)
    out[4 + i] = (uint8_t)(id >> (56 - 8 * i));
  out[12] = (uint8_t)(hlen >> 8);
  out[13] = (uint8_t)hlen;
  out[14] = (uint8_t)(blen >> 8);
  out[15] = (uint8_t)blen;
}

static size_t send_some(int s, const uint8_t *p, size_t n) {
  size_t sent = 0;
  while (sent < n) {
    ssize_t w = send(s, p + sent, n - sent, MSG_NOSIGNAL);
    if (w <= 0)
      break;
    sent += (size_t)w;
  }
  return sent;
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int usage(void) {
  fprintf(stderr, "usage: half-frames --connect HOST:PORT [-n PEERS] [--payload BYTES] "
                  "[--hold SECONDS]\n");
  return 2;
}

int main(int argc, char **argv) {
  const char *target = NULL;
  long peers = 2000, payload = 65535 + 60000, hold = 60, small = 0;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--connect") == 0 && i + 1 < argc)
      target = argv[++i];
    else if (strcmp(argv[i], "-n") == 0 && i + 1 < argc)
      peers = atol(argv[++i]);
    else if (strcmp(argv[i], "--payload") == 0 && i + 1 < argc)
      payload = atol(argv[++i]);
    else if (strcmp(argv[i], "--hold") == 0 && i + 1 < argc)
      hold = atol(argv[++i]);
    else if (strcmp(argv[i], "--small") == 0 && i + 1 < argc)
      small = atol(argv[++i]);
    else
      return usage();
  }
  const char *colon = target ? strrchr(target, ':') : NULL;
  if (!colon || peers <= 0 || payload < 0 || payload > 2 * 65535 || small < 0)
    return usage();
  char host[64];
  snprintf(host, sizeof host, "%.*s", (int)(colon - target), target);
  struct sockaddr_in to;
  memset(&to, 0, sizeof to);
  to.sin_family = AF_INET;
  to.sin_port = htons((uint16_t)atoi(colon + 1));
  if (inet_pton(AF_INET, host, &to.sin_addr) != 1)
    return usage();
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }

  static const char th[] = "who: half-frames\r\n";
  uint8_t hello[16 + sizeof th - 1];
  header(hello, 3 /* HelloRequest */, 1, (uint16_t)(sizeof th - 1), 0);
  memcpy(hello + 16, th, sizeof th - 1);
  uint8_t *frame = malloc(16 + (size_t)payload);
  uint8_t little[16 + 128];
  header(little, 0 /* Request */, 3, 0, 256);
  memset(little + 16, 's', 128);
  long total = peers + small;
  int *s = malloc((size_t)total * sizeof *s);
  if (!frame || !s)
    return 1;
  header(frame, 0 /* Request */, 2, 65535, 65535);
  memset(frame + 16, 'h', (size_t)payload);

  double t0 = now_s();
  size_t sent = 0;
  long open = 0;
  for (long i = 0; i < total; i++) {
    s[i] = socket(AF_INET, SOCK_STREAM, 0);
    if (s[i] < 0 || connect(s[i], (struct sockaddr *)&to, sizeof to) != 0) {
      fprintf(stderr, "half-frames: peer %ld: %s\n", i, strerror(errno));
      if (s[i] >= 0)
        close(s[i]);
      s[i] = -1;
      continue;
    }
    int one = 1;
    setsockopt(s[i], IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    fcntl(s[i], F_SETFL, fcntl(s[i], F_GETFL) | O_NONBLOCK);
    sent += send_some(s[i], hello, sizeof hello);
    if (i < peers)
      sent += send_some(s[i], frame, 16 + (size_t)payload);
    else
      sent += send_some(s[i], little, sizeof little);
    open++;
  }
  printf("half-frames: %ld peers sent %zu bytes in %.2f s and stall\n", open, sent, now_s() - t0);
  fflush(stdout);
  struct timespec ts = {hold, 0};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
  for (long i = 0; i < total; i++)
    if (s[i] >= 0)
      close(s[i]);
  printf("half-frames: closed\n");
  free(frame);
  free(s);
  return 0;
}
