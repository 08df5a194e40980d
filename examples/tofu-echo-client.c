/* tofu-echo-client — connects to an echo server, exchanges requests and
 * checks every echo, then says Bye and prints a summary.
 *
 *   tofu-echo-client --connect tcp://HOST:PORT | tcp://[V6]:PORT | unix:///PATH
 *                    [-n MESSAGES] [-s BODY_BYTES] [-c CONNECTIONS] [-w WINDOW]
 *                    [-o channel | any]
 *
 * Each connection sends MESSAGES requests (default 1000), keeping WINDOW
 * (default 16) in flight; each body holds a sequence number and a pattern
 * that the echo must return unchanged. With -o channel (the default) the
 * echoes of a connection must come in the order sent, as from a server with
 * one receiving thread; with -o any they may come in any order (a server with
 * several worker threads on one group, tofu-worker-server), and each must
 * still come exactly once. A body larger than 65,535 bytes (up to 16 MiB)
 * needs a server whose max_message takes it (tofu-worker-server: 1 MiB); the
 * client sets its own max_message to the body size. Exits 0 when every echo
 * was right. */
#ifndef _WIN32
#define _POSIX_C_SOURCE 200809L
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifdef _WIN32
#include <windows.h>
#endif

#include "example_util.h"

typedef struct conn {
  uint16_t ch;
  unsigned long sent, got;
  int open;
  unsigned char *seen; /* -o any: which echoes came */
} conn;

static size_t body_size = 64;

#define CLIENT_MAX_BODY (16u * 1024u * 1024u)

static void fill(uint8_t *b, size_t n, uint64_t seq) {
  for (size_t i = 0; i < n; i++)
    b[i] = (uint8_t)(i < 8 ? seq >> (8 * i) : seq + i);
}

/* One request; its id says which connection and which message it is. On
 * failure tofu_send keeps nothing: no message leaks. */
static int send_one(tofu_group *g, conn *c, uint8_t *buf) {
  fill(buf, body_size, c->sent);
  uint64_t id = ((uint64_t)c->ch << 40) | (c->sent + 1);
  if (tofu_send(g, c->ch, TOFU_OP_REQUEST, buf, body_size, &id) != TOFU_OK)
    return -1;
  c->sent++;
  return 0;
}

static double now_s(void) {
#ifdef _WIN32
  LARGE_INTEGER f, c;
  QueryPerformanceFrequency(&f);
  QueryPerformanceCounter(&c);
  return (double)c.QuadPart / (double)f.QuadPart;
#else
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
#endif
}

int main(int argc, char **argv) {
  const char *url = NULL;
  unsigned long n = 1000;
  int nconn = 1, window = 16, any_order = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (strcmp(argv[i], "--connect") == 0)
      url = argv[i + 1];
    else if (strcmp(argv[i], "-n") == 0)
      n = strtoul(argv[i + 1], NULL, 10);
    else if (strcmp(argv[i], "-s") == 0)
      body_size = strtoul(argv[i + 1], NULL, 10);
    else if (strcmp(argv[i], "-c") == 0)
      nconn = atoi(argv[i + 1]);
    else if (strcmp(argv[i], "-w") == 0)
      window = atoi(argv[i + 1]);
    else if (strcmp(argv[i], "-o") == 0 && strcmp(argv[i + 1], "any") == 0)
      any_order = 1;
    else if (strcmp(argv[i], "-o") == 0 && strcmp(argv[i + 1], "channel") == 0)
      any_order = 0;
    else
      url = NULL;
  }
  if (!url || argc % 2 == 0 || nconn < 1 || window < 1 || body_size < 8 ||
      body_size > CLIENT_MAX_BODY) {
    fprintf(stderr, "usage: tofu-echo-client --connect tcp://HOST:PORT | tcp://[V6]:PORT | "
                    "unix:///PATH "
                    "[-n MESSAGES] [-s BODY_BYTES (8..16777216)] [-c CONNECTIONS] [-w WINDOW] "
                    "[-o channel|any]\n");
    return 2;
  }
  tofu_engine *e;
  tofu_group *g;
  tofu_options o;
  tofu_options_default(&o);
  if (body_size > TOFU_MAX_BODY)
    o.max_message = body_size; /* sent as parts of one id, the echo joined */
  if (tofu_engine_create(&o, &e) != TOFU_OK || tofu_group_create(e, &g) != TOFU_OK) {
    fprintf(stderr, "tofu-echo-client: cannot start the engine\n");
    return 1;
  }
  conn *cs = calloc((size_t)nconn, sizeof(conn));
  uint8_t *buf = malloc(body_size), *want = malloc(body_size);
  unsigned long errors = 0, done = 0;
  int connected = 0, closed = 0;
  for (int i = 0; i < nconn; i++) {
    cs[i].seen = any_order ? calloc(n ? n : 1, 1) : NULL;
    int rc = tofu_connect(g, url, &cs[i].ch);
    if (rc != TOFU_OK) {
      fprintf(stderr, "tofu-echo-client: %s: %s\n", url,
              rc == TOFU_EINVAL ? "not a tcp:// or unix: URL" : tofu_strerror(rc));
      return 2;
    }
  }
  double t0 = now_s();
  while (closed < nconn) {
    tofu_message *m = tofu_wait_receive(g, 10000);
    if (!m) {
      fprintf(stderr, "tofu-echo-client: no answer for 10 s\n");
      errors++;
      break;
    }
    tofu_header *h = tofu_msg_header(m);
    conn *c = NULL;
    for (int i = 0; i < nconn; i++)
      if (cs[i].ch == h->channel)
        c = &cs[i];
    if (h->origin == TOFU_ORIGIN_ENGINE) {
      if (h->status == TOFU_STATUS_CHANNEL_CLOSED) {
        closed++;
        if (c && c->got < n)
          errors++;
      } else {
        fprintf(stderr, "tofu-echo-client: channel %u: %s %s\n", (unsigned)h->channel,
                tofu_opcode_name(h->opcode), tofu_status_name(h->status));
        errors++;
      }
    } else if (c && h->opcode == TOFU_OP_HELLO_RESPONSE) {
      connected++;
      c->open = 1;
      while (c->sent < n && c->sent < (unsigned long)window)
        if (send_one(g, c, buf) != 0)
          errors++;
      if (n == 0) {
        if (tofu_send(g, c->ch, TOFU_OP_BYE_REQUEST, NULL, 0, NULL) != TOFU_OK)
          errors++;
      }
    } else if (c && h->opcode == TOFU_OP_RESPONSE) {
      size_t len;
      const void *body = tofu_msg_body(m, &len);
      /* The sequence number the id says; in order, the next one. */
      uint64_t seq = (h->message_id & (((uint64_t)1 << 40) - 1)) - 1;
      if (!any_order)
        seq = c->got;
      fill(want, body_size, seq);
      if (len != body_size || memcmp(body, want, len) != 0 ||
          h->message_id != (((uint64_t)c->ch << 40) | (seq + 1)))
        errors++;
      else if (any_order && (seq >= c->sent || !c->seen || c->seen[seq]++))
        errors++; /* never sent, or came twice */
      c->got++;
      done++;
      if (c->sent < n && send_one(g, c, buf) != 0)
        errors++;
      if (c->got == n) {
        if (tofu_send(g, c->ch, TOFU_OP_BYE_REQUEST, NULL, 0, NULL) != TOFU_OK)
          errors++;
      }
    }
    tofu_put(e, &m);
  }
  double secs = now_s() - t0;
  printf("tofu-echo-client: %d/%d connections, %lu echoes of %zu bytes in %.3f s "
         "(%.0f msgs/s), %lu errors\n",
         connected, nconn, done, body_size, secs, secs > 0 ? done / secs : 0.0, errors);
  for (int i = 0; i < nconn; i++)
    free(cs[i].seen);
  free(cs);
  free(buf);
  free(want);
  tofu_group_destroy(g);
  tofu_engine_destroy(e);
  return errors == 0 && connected == nconn ? 0 : 1;
}
