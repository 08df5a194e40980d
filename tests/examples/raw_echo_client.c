/* A tofu peer written from the wire description alone (no tofu code): it
 * drives tofu-echo-server through hello, requests of every size, and bye, and
 * checks every answer byte for byte. Its frames are the ones a tofu (Zig)
 * node writes: the HelloRequest carries "~connect_to:ADDRESS", text headers
 * are "name:value\r\n", ids count from 1. POSIX only.
 *
 *   raw_echo_client tcp HOST PORT | unix PATH      (HOST: IPv4 or IPv6)
 *
 * Frame: a 16-byte big-endian header — channel (2), proto (1: opcode in bits
 * 0-3, origin in bit 4, "more" in bit 5), status (1), message id (8),
 * text-header length (2), body length (2) — then the text headers, then the
 * body. Exits 0 when every check passed. */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

enum { HELLO_REQUEST = 3, HELLO_RESPONSE = 4, REQUEST = 0, RESPONSE = 1 };
enum { BYE_REQUEST = 5, BYE_RESPONSE = 6 };

static int fail(const char *what) {
  fprintf(stderr, "raw_echo_client: %s\n", what);
  exit(1);
}

static void send_all(int fd, const uint8_t *p, size_t n) {
  while (n > 0) {
    ssize_t k = send(fd, p, n, 0);
    if (k <= 0)
      fail("send failed");
    p += k;
    n -= (size_t)k;
  }
}

/* Read exactly n bytes; 0 at a clean end of stream before the first byte. */
static int recv_all(int fd, uint8_t *p, size_t n) {
  size_t got = 0;
  while (got < n) {
    ssize_t k = recv(fd, p + got, n - got, 0);
    if (k == 0 && got == 0)
      return 0;
    if (k <= 0)
      fail("connection ended inside a frame, or recv failed (or timed out)");
    got += (size_t)k;
  }
  return 1;
}

typedef struct frame {
  uint16_t channel;
  uint8_t opcode, origin, status;
  uint64_t id;
  uint8_t *headers, *body;
  uint16_t headers_len, body_len;
} frame;

static void send_frame(int fd, uint8_t opcode, uint64_t id, const void *headers, uint16_t hlen,
                       const void *body, uint16_t blen) {
  uint8_t *buf = malloc(16u + hlen + blen);
  if (!buf)
    fail("out of memory");
  buf[0] = 0;
  buf[1] = 1; /* our channel number: the receiver ignores it */
  buf[2] = opcode;
  buf[3] = 0;
  for (int i = 0; i < 8; i++)
    buf[4 + i] = (uint8_t)(id >> (56 - 8 * i));
  buf[12] = (uint8_t)(hlen >> 8);
  buf[13] = (uint8_t)hlen;
  buf[14] = (uint8_t)(blen >> 8);
  buf[15] = (uint8_t)blen;
  if (hlen)
    memcpy(buf + 16, headers, hlen);
  if (blen)
    memcpy(buf + 16 + hlen, body, blen);
  send_all(fd, buf, 16u + hlen + blen);
  free(buf);
}

static int recv_frame(int fd, frame *f) {
  uint8_t h[16];
  if (!recv_all(fd, h, sizeof h))
    return 0;
  f->channel = (uint16_t)(h[0] << 8 | h[1]);
  f->opcode = h[2] & 0x0f;
  f->origin = (h[2] >> 4) & 1;
  f->status = h[3];
  f->id = 0;
  for (int i = 0; i < 8; i++)
    f->id = f->id << 8 | h[4 + i];
  f->headers_len = (uint16_t)(h[12] << 8 | h[13]);
  f->body_len = (uint16_t)(h[14] << 8 | h[15]);
  f->headers = malloc(f->headers_len + 1u);
  f->body = malloc(f->body_len + 1u);
  if (!f->headers || !f->body)
    fail("out of memory");
  if ((f->headers_len && !recv_all(fd, f->headers, f->headers_len)) ||
      (f->body_len && !recv_all(fd, f->body, f->body_len)))
    fail("connection ended inside a frame");
  return 1;
}

static void frame_free(frame *f) {
  free(f->headers);
  free(f->body);
}

static int dial(int argc, char **argv) {
  int fd;
  if (argc == 4 && strcmp(argv[1], "tcp") == 0) {
    struct addrinfo hints = {0}, *ai = NULL;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICHOST;
    if (getaddrinfo(argv[2], argv[3], &hints, &ai) != 0 || !ai)
      fail("bad IPv4 or IPv6 address");
    fd = socket(ai->ai_family, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen) != 0)
      fail("cannot connect over TCP");
    freeaddrinfo(ai);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  } else if (argc == 3 && strcmp(argv[1], "unix") == 0) {
    struct sockaddr_un sun = {0};
    sun.sun_family = AF_UNIX;
    if (strlen(argv[2]) >= sizeof sun.sun_path)
      fail("socket path too long");
    strcpy(sun.sun_path, argv[2]);
    fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof sun) != 0)
      fail("cannot connect to the Unix socket");
  } else {
    fprintf(stderr, "usage: raw_echo_client tcp HOST PORT | unix PATH\n");
    exit(2);
  }
  /* Never hang: a missing answer fails the run. */
  struct timeval tv = {10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return fd;
}

int main(int argc, char **argv) {
  int fd = dial(argc, argv);
  frame f;

  char hello_headers[300];
  int hhl = strcmp(argv[1], "tcp") == 0
                ? snprintf(hello_headers, sizeof hello_headers, "~connect_to:tcp|%s|%s\r\n",
                           argv[2], argv[3])
                : snprintf(hello_headers, sizeof hello_headers, "~connect_to:uds|%s\r\n", argv[2]);
  if (hhl <= 0 || (size_t)hhl >= sizeof hello_headers)
    fail("address too long");
  send_frame(fd, HELLO_REQUEST, 1, hello_headers, (uint16_t)hhl, NULL, 0);
  if (!recv_frame(fd, &f) || f.opcode != HELLO_RESPONSE || f.id != 1 || f.status != 0)
    fail("no HelloResponse with id 1 and status success");
  frame_free(&f);

  /* Requests of every size, sent in one burst before any answer is read. */
  static const uint16_t sizes[] = {0, 1, 15, 16, 17, 1000, 4096, 65535};
  enum { N = sizeof sizes / sizeof sizes[0] };
  static uint8_t body[65535 + N]; /* request i sends sizes[i] bytes from body + i */
  for (size_t i = 0; i < sizeof body; i++)
    body[i] = (uint8_t)(i * 31 + 7);
  char headers[N][64];
  for (int i = 0; i < N; i++) {
    int hl = snprintf(headers[i], sizeof headers[i], "seq:%d\r\nsize:%u\r\n", i, sizes[i]);
    send_frame(fd, REQUEST, 2 + (uint64_t)i, headers[i], (uint16_t)hl, body + i, sizes[i]);
  }
  for (int i = 0; i < N; i++) {
    if (!recv_frame(fd, &f))
      fail("connection closed before every Response came");
    size_t hl = strlen(headers[i]);
    if (f.opcode != RESPONSE || f.origin != 0 || f.status != 0 || f.id != 2 + (uint64_t)i)
      fail("a Response with the wrong opcode, origin, status or id");
    if (f.headers_len != hl || memcmp(f.headers, headers[i], hl) != 0)
      fail("a Response whose text headers differ from its Request's");
    if (f.body_len != sizes[i] || (sizes[i] && memcmp(f.body, body + i, sizes[i]) != 0))
      fail("a Response whose body differs from its Request's");
    frame_free(&f);
  }

  send_frame(fd, BYE_REQUEST, 2 + N, NULL, 0, NULL, 0);
  if (!recv_frame(fd, &f) || f.opcode != BYE_RESPONSE || f.id != 2 + N)
    fail("no ByeResponse with the ByeRequest's id");
  frame_free(&f);
  uint8_t extra;
  if (recv(fd, &extra, 1, 0) != 0)
    fail("the server did not close the connection after ByeResponse");
  close(fd);
  printf("raw_echo_client: hello, %d requests (0..65535 bytes) and bye echoed exactly\n", N);
  return 0;
}
