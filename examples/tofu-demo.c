/* tofu-demo — the engine at work over TCP and over a Unix domain socket, in
 * one process: a server group listens, a client group connects, they
 * exchange a few requests, a signal and a graceful bye, and every step is
 * printed. Exits 0 when everything went as expected.
 *
 *   tofu-demo            (TCP on 127.0.0.1, then UDS in the temp directory) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "example_util.h"

#ifdef _WIN32
#include <windows.h>
#define demo_pid() ((unsigned long)GetCurrentProcessId())
#else
#include <unistd.h>
#define demo_pid() ((unsigned long)getpid())
#endif

static const char *tag;
static int failures;

/* The next message of g; NULL (and a failure) if none comes in 5 s. */
static tofu_message *next(tofu_group *g, const char *who) {
  tofu_message *m = tofu_wait_receive(g, 5000);
  if (!m) {
    printf("[%s] %s: nothing received in 5 s\n", tag, who);
    failures++;
    return NULL;
  }
  tofu_header *h = tofu_msg_header(m);
  size_t blen;
  const char *body = tofu_msg_body(m, &blen);
  printf("[%s] %-6s <- %-15s ch %-3u id %-4llu %s%s%s%.*s%s\n", tag, who,
         tofu_opcode_name(h->opcode), (unsigned)h->channel, (unsigned long long)h->message_id,
         h->origin ? "(engine, " : "", h->origin ? tofu_status_name(h->status) : "",
         h->origin ? ") " : "", (int)(blen > 40 ? 40 : blen), body ? body : "", blen ? "" : "");
  return m;
}

static int expect(tofu_message *m, int opcode) {
  if (!m || tofu_msg_header(m)->opcode != opcode) {
    printf("[%s] expected %s\n", tag, tofu_opcode_name(opcode));
    failures++;
    return 0;
  }
  return 1;
}

static void post(tofu_group *g, tofu_message **m, const char *who) {
  tofu_header h;
  int rc = tofu_post(g, m, &h);
  if (rc != TOFU_OK) {
    printf("[%s] %s: post refused: %s\n", tag, who, tofu_strerror(rc));
    failures++;
    return;
  }
  printf("[%s] %-6s -> %-15s ch %-3u id %llu\n", tag, who, tofu_opcode_name(h.opcode),
         (unsigned)h.channel, (unsigned long long)h.message_id);
}

static void run(tofu_engine *e, const char *listen_addr) {
  tofu_group *server, *client;
  tofu_group_create(e, &server);
  tofu_group_create(e, &client);

  tofu_message *m = example_msg(e, TOFU_OP_WELCOME_REQUEST, 0, TOFU_HDR_LISTEN_ON, listen_addr);
  post(server, &m, "server");
  m = next(server, "server");
  if (m && strcmp(tag, "uds") == 0 && tofu_msg_header(m)->opcode == TOFU_OP_WELCOME_REQUEST) {
    /* No AF_UNIX here (e.g. Wine): say so, it is not the engine's failure. */
    printf("[%s] cannot listen on a Unix domain socket on this platform; skipped\n", tag);
    tofu_put(e, &m);
    m = next(server, "server"); /* the listener's channel_closed */
    tofu_put(e, &m);
    goto done;
  }
  if (!expect(m, TOFU_OP_WELCOME_RESPONSE) || tofu_msg_header(m)->status != 0) {
    tofu_put(e, &m);
    goto done;
  }
  const char *v;
  size_t len;
  char bound[512];
  tofu_msg_find_header(m, TOFU_HDR_LISTEN_ON, &v, &len);
  snprintf(bound, sizeof bound, "%.*s", (int)len, v);
  printf("[%s] server listening on %s\n", tag, bound);
  uint16_t lch = tofu_msg_header(m)->channel;
  tofu_put(e, &m);

  m = example_msg(e, TOFU_OP_HELLO_REQUEST, 0, TOFU_HDR_CONNECT_TO, bound);
  post(client, &m, "client");
  m = next(server, "server");
  if (!expect(m, TOFU_OP_HELLO_REQUEST)) {
    tofu_put(e, &m);
    goto done;
  }
  tofu_msg_header(m)->opcode = TOFU_OP_HELLO_RESPONSE;
  tofu_msg_set_headers(m, NULL, 0);
  tofu_msg_set_body(m, "welcome", 7);
  post(server, &m, "server");
  m = next(client, "client");
  if (!expect(m, TOFU_OP_HELLO_RESPONSE)) {
    tofu_put(e, &m);
    goto done;
  }
  uint16_t cch = tofu_msg_header(m)->channel;
  tofu_put(e, &m);

  for (int i = 1; i <= 3; i++) {
    char text[64];
    snprintf(text, sizeof text, "hello #%d", i);
    m = example_msg(e, TOFU_OP_REQUEST, cch, "content-type", "text/plain");
    tofu_msg_set_body(m, text, strlen(text));
    post(client, &m, "client");
    m = next(server, "server");
    if (expect(m, TOFU_OP_REQUEST)) {
      tofu_msg_header(m)->opcode = TOFU_OP_RESPONSE; /* echo: same id, headers, body */
      post(server, &m, "server");
    } else {
      tofu_put(e, &m);
    }
    m = next(client, "client");
    expect(m, TOFU_OP_RESPONSE);
    tofu_put(e, &m);
  }
  m = example_msg(e, TOFU_OP_SIGNAL, cch, NULL, NULL);
  tofu_msg_set_body(m, "one-way note", 12);
  post(client, &m, "client");
  m = next(server, "server");
  expect(m, TOFU_OP_SIGNAL);
  tofu_put(e, &m);

  m = example_msg(e, TOFU_OP_BYE_REQUEST, cch, NULL, NULL);
  post(client, &m, "client");
  m = next(server, "server");
  if (expect(m, TOFU_OP_BYE_REQUEST)) {
    tofu_msg_header(m)->opcode = TOFU_OP_BYE_RESPONSE;
    post(server, &m, "server");
  } else {
    tofu_put(e, &m);
  }
  m = next(server, "server"); /* channel_closed */
  tofu_put(e, &m);
  m = next(client, "client"); /* ByeResponse */
  expect(m, TOFU_OP_BYE_RESPONSE);
  tofu_put(e, &m);
  m = next(client, "client"); /* channel_closed */
  tofu_put(e, &m);

  m = example_msg(e, TOFU_OP_BYE_SIGNAL, lch, NULL, NULL);
  post(server, &m, "server");
  m = next(server, "server"); /* the listener's channel_closed */
  tofu_put(e, &m);
done:
  tofu_group_destroy(client);
  tofu_group_destroy(server);
}

int main(void) {
  tofu_engine *e;
  if (tofu_engine_create(NULL, &e) != TOFU_OK) {
    printf("tofu-demo: cannot start the engine\n");
    return 1;
  }
  printf("tofu-demo: one engine, backend %s\n", tofu_backend_name());
  tag = "tcp";
  run(e, "tcp|127.0.0.1|0");

  /* UDS: a socket file in the temp directory. */
  const char *tmp = getenv("TMPDIR");
#ifdef _WIN32
  if (!tmp)
    tmp = getenv("TEMP");
#endif
  if (!tmp)
    tmp = "/tmp";
  char addr[200];
  snprintf(addr, sizeof addr, "uds|%s/tofu-demo-%lu.sock", tmp, demo_pid());
  if (strlen(addr) - 4 > 100) {
    printf("[uds] temp path too long for a Unix socket; skipped\n");
  } else {
    tag = "uds";
    run(e, addr);
  }
  tofu_engine_destroy(e);
  printf("tofu-demo: %s\n", failures ? "FAILED" : "all exchanges as expected");
  return failures ? 1 : 0;
}
