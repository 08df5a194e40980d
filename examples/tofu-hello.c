/* The smallest tofu program: a server group and a client group in one engine
 * say hello and exchange one request over TCP, with the quick API (URLs,
 * tofu_send, tofu_wait_reply). README.md shows this file. */
#include <stdio.h>
#include <string.h>
#include <tofu/tofu.h>

int main(void) {
  tofu_engine *e;
  tofu_group *server, *client;
  if (tofu_engine_create(NULL, &e) != TOFU_OK)
    return 1;
  tofu_group_create(e, &server);
  tofu_group_create(e, &client);
  int ok = 0;

  /* Server: listen on a free port; the WelcomeResponse tells which. */
  char url[128] = "";
  tofu_listen(server, "tcp://127.0.0.1:0", NULL);
  tofu_message *m = tofu_wait_receive(server, 5000); /* the WelcomeResponse */
  if (m && tofu_listen_address(m, url, sizeof url) == TOFU_OK) {
    tofu_put(e, &m);

    /* Client: connect; the server's application accepts the HelloRequest. */
    uint16_t channel;
    tofu_connect(client, url, &channel);
    m = tofu_wait_receive(server, 5000); /* the peer's HelloRequest */
    tofu_msg_header(m)->opcode = TOFU_OP_HELLO_RESPONSE;
    tofu_post(server, &m, NULL);
    m = tofu_wait_receive(client, 5000); /* HelloResponse: connected */
    tofu_put(e, &m);

    /* One request; the server answers with a Response of the same id. */
    uint64_t id = 0;
    tofu_send(client, channel, TOFU_OP_REQUEST, "ping", 4, &id);
    m = tofu_wait_receive(server, 5000);
    tofu_msg_header(m)->opcode = TOFU_OP_RESPONSE;
    tofu_msg_set_body(m, "pong", 4);
    tofu_post(server, &m, NULL);
    m = tofu_wait_reply(client, id, 5000); /* the Response, or the Request handed back */
    size_t n = 0;
    const char *body = m ? tofu_msg_body(m, &n) : "";
    ok = m && tofu_msg_header(m)->opcode == TOFU_OP_RESPONSE && n == 4 &&
         memcmp(body, "pong", 4) == 0;
    printf("tofu-hello: %s via %s, answer \"%.*s\": %s\n", url, tofu_backend_name(), (int)n, body,
           ok ? "ok" : "FAILED");
  }
  tofu_put(e, &m);

  tofu_group_destroy(client); /* closes the client's channel */
  tofu_group_destroy(server); /* closes the listener and the server's channel */
  tofu_engine_destroy(e);
  return ok ? 0 : 1;
}
