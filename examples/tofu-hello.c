/* The smallest tofu program: a server group and a client group in one engine
 * say hello and exchange one request over TCP. README.md shows this file. */
#include <stdio.h>
#include <string.h>
#include <tofu/tofu.h>

static tofu_message *msg(tofu_engine *e, int op, uint16_t ch, const char *hdr, const char *val) {
  tofu_message *m = tofu_get(e, TOFU_ALWAYS);
  tofu_msg_header(m)->opcode = (uint8_t)op;
  tofu_msg_header(m)->channel = ch;
  if (hdr)
    tofu_msg_add_header(m, hdr, val);
  return m;
}

int main(void) {
  tofu_engine *e;
  tofu_group *server, *client;
  if (tofu_engine_create(NULL, &e) != TOFU_OK)
    return 1;
  tofu_group_create(e, &server);
  tofu_group_create(e, &client);

  /* Server: listen on a free port; the WelcomeResponse tells which. */
  tofu_message *m = msg(e, TOFU_OP_WELCOME_REQUEST, 0, TOFU_HDR_LISTEN_ON, "tcp|127.0.0.1|0");
  tofu_post(server, &m, NULL);
  m = tofu_wait_receive(server, 5000);
  const char *addr;
  size_t len;
  char where[64];
  tofu_msg_find_header(m, TOFU_HDR_LISTEN_ON, &addr, &len);
  snprintf(where, sizeof where, "%.*s", (int)len, addr);
  tofu_put(e, &m);

  /* Client: connect; the server's application answers the HelloRequest. */
  m = msg(e, TOFU_OP_HELLO_REQUEST, 0, TOFU_HDR_CONNECT_TO, where);
  tofu_post(client, &m, NULL);
  m = tofu_wait_receive(server, 5000); /* the peer's HelloRequest */
  tofu_msg_header(m)->opcode = TOFU_OP_HELLO_RESPONSE;
  tofu_post(server, &m, NULL);
  m = tofu_wait_receive(client, 5000); /* HelloResponse: connected */
  uint16_t channel = tofu_msg_header(m)->channel;
  tofu_put(e, &m);

  /* One request, answered by the server with a Response (same message id). */
  m = msg(e, TOFU_OP_REQUEST, channel, NULL, NULL);
  tofu_msg_set_body(m, "ping", 4);
  tofu_post(client, &m, NULL);
  m = tofu_wait_receive(server, 5000);
  tofu_msg_header(m)->opcode = TOFU_OP_RESPONSE;
  tofu_msg_set_body(m, "pong", 4);
  tofu_post(server, &m, NULL);
  m = tofu_wait_receive(client, 5000);
  size_t n;
  const char *body = tofu_msg_body(m, &n);
  int ok = tofu_msg_header(m)->opcode == TOFU_OP_RESPONSE && n == 4 && memcmp(body, "pong", 4) == 0;
  printf("tofu-hello: %s via %s, answer \"%.*s\": %s\n", where, tofu_backend_name(), (int)n, body,
         ok ? "ok" : "FAILED");
  tofu_put(e, &m);

  tofu_group_destroy(client); /* closes the client's channel */
  tofu_group_destroy(server); /* closes the listener and the server's channel */
  tofu_engine_destroy(e);
  return ok ? 0 : 1;
}
