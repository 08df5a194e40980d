/* A request/response client in a dozen statements, with the quick API: connect
 * to an echo server (tofu-echo-server), send one request, print the reply.
 * README.md shows the body of main between the markers.
 *
 *   tofu-client [URL]        (default tcp://127.0.0.1:7099) */
#include <stdio.h>
#include <tofu/tofu.h>

int main(int argc, char **argv) {
  const char *url = argc > 1 ? argv[1] : "tcp://127.0.0.1:7099";
  tofu_engine *e;
  tofu_group *g;
  uint16_t ch;
  uint64_t id = 0;
  size_t n = 0;
  /* README: begin */
  tofu_engine_create(NULL, &e);
  tofu_group_create(e, &g);
  tofu_connect(g, url, &ch);
  tofu_message *m = tofu_wait_receive(g, 5000); /* HelloResponse, or the request handed back */
  int ok = m && tofu_msg_header(m)->opcode == TOFU_OP_HELLO_RESPONSE;
  tofu_put(e, &m);
  ok = ok && tofu_send(g, ch, TOFU_OP_REQUEST, "ping", 4, &id) == TOFU_OK;
  m = ok ? tofu_wait_reply(g, id, 5000) : NULL; /* the Response, or the Request handed back */
  const char *body = m ? tofu_msg_body(m, &n) : "";
  printf("%s: %.*s\n", ok && m ? tofu_opcode_name(tofu_msg_header(m)->opcode) : "failed", (int)n,
         body);
  /* README: end */
  ok = ok && m && tofu_msg_header(m)->opcode == TOFU_OP_RESPONSE;
  tofu_put(e, &m);
  tofu_group_destroy(g);
  tofu_engine_destroy(e);
  return ok ? 0 : 1;
}
