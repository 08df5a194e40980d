/* A program built against an installed tofu, the way a user would build one:
 * it checks that the headers and the library agree, that the backend works,
 * and that the quick API (tofu_listen, tofu_connect, tofu_send,
 * tofu_wait_reply) carries a request and its reply. */
#include <stdio.h>
#include <string.h>

#include <tofu/poller.h>
#include <tofu/tofu.h>
#include <tofu/version.h>

/* A server and a client group in one engine, one request answered. */
static int quick_round_trip(void) {
  tofu_engine *e;
  tofu_group *server, *client;
  if (tofu_engine_create(NULL, &e) != TOFU_OK)
    return 0;
  tofu_group_create(e, &server);
  tofu_group_create(e, &client);
  char url[128];
  uint16_t ch = 0;
  uint64_t id = 0;
  int ok = 0;
  tofu_message *m = NULL;
  if (tofu_listen(server, "tcp://127.0.0.1:0", NULL) == TOFU_OK &&
      (m = tofu_wait_receive(server, 5000)) != NULL &&
      tofu_listen_address(m, url, sizeof url) == TOFU_OK) {
    tofu_put(e, &m);
    if (tofu_connect(client, url, &ch) == TOFU_OK && (m = tofu_wait_receive(server, 5000))) {
      tofu_msg_header(m)->opcode = TOFU_OP_HELLO_RESPONSE;
      tofu_post(server, &m, NULL);
      m = tofu_wait_receive(client, 5000);
      tofu_put(e, &m);
      if (tofu_send(client, ch, TOFU_OP_REQUEST, "ping", 4, &id) == TOFU_OK &&
          (m = tofu_wait_receive(server, 5000))) {
        tofu_msg_header(m)->opcode = TOFU_OP_RESPONSE;
        tofu_post(server, &m, NULL);
        m = tofu_wait_reply(client, id, 5000);
        ok = m && tofu_msg_header(m)->opcode == TOFU_OP_RESPONSE;
      }
    }
  }
  tofu_put(e, &m);
  tofu_group_destroy(client);
  tofu_group_destroy(server);
  tofu_engine_destroy(e);
  if (!ok)
    fprintf(stderr, "consumer: the quick round trip failed\n");
  return ok;
}

int main(void) {
  if (strcmp(tofu_version(), TOFU_VERSION_STRING) != 0) {
    fprintf(stderr, "consumer: header says %s, library says %s\n", TOFU_VERSION_STRING,
            tofu_version());
    return 1;
  }
  const tofu_poller_ops *ops = tofu_poller_backend();
  tofu_poller *p = NULL;
  int rc = ops->open(&p);
  if (rc != TOFU_OK) {
    fprintf(stderr, "consumer: open failed: %s\n", tofu_strerror(rc));
    return 1;
  }
  tofu_poll_event ev;
  int n = -1;
  if (ops->notify(p) == TOFU_OK)
    n = ops->wait(p, &ev, 1, 1000);
  ops->close(p);
  if (n != 1 || ev.events != TOFU_POLL_WAKEUP) {
    fprintf(stderr, "consumer: expected one wakeup, got %d\n", n);
    return 1;
  }
  if (!quick_round_trip())
    return 1;
  printf("consumer: tofu %s, backend %s: ok\n", tofu_version(), tofu_backend_name());
  return 0;
}
