/* quick — the quick API of tofu.h: URLs, one-call send, waiting for one
 * reply, the pollable queue. Built only on the public calls above it
 * (tofu_get, tofu_post, ...) and the mailbox; nothing here reaches the
 * Reactor another way. */
#include <string.h>

#include "engine.h"
#include "mailbox.h"
#include "url.h"

/* Post a Welcome/HelloRequest carrying url's address. */
static int post_request(tofu_group *g, const char *url, int opcode, const char *header,
                        uint16_t *channel) {
  if (!g || !url)
    return TOFU_EINVAL;
  char value[URL_MAX + 8];
  if (url_to_address(url, value, sizeof value) != TOFU_OK)
    return TOFU_EINVAL;
  tofu_message *m = tofu_get(g->engine, TOFU_ALWAYS);
  if (!m)
    return TOFU_ELIMIT;
  tofu_msg_header(m)->opcode = (uint8_t)opcode;
  int rc = tofu_msg_add_header(m, header, value);
  tofu_header out;
  if (rc == TOFU_OK)
    rc = tofu_post(g, &m, &out);
  if (rc == TOFU_EMESSAGE)
    rc = TOFU_EINVAL; /* the URL's address did not pass tofu_post's checks */
  if (rc != TOFU_OK) {
    tofu_put(g->engine, &m);
    return rc;
  }
  if (channel)
    *channel = out.channel;
  return TOFU_OK;
}

int tofu_connect(tofu_group *g, const char *url, uint16_t *channel) {
  return post_request(g, url, TOFU_OP_HELLO_REQUEST, TOFU_HDR_CONNECT_TO, channel);
}

int tofu_listen(tofu_group *g, const char *url, uint16_t *channel) {
  return post_request(g, url, TOFU_OP_WELCOME_REQUEST, TOFU_HDR_LISTEN_ON, channel);
}

int tofu_listen_address(const tofu_message *welcome_response, char *buf, size_t len) {
  const char *v;
  size_t vl;
  if (!welcome_response || !buf || len == 0)
    return TOFU_EINVAL;
  if (welcome_response->hdr.opcode != TOFU_OP_WELCOME_RESPONSE ||
      !tofu_msg_find_header(welcome_response, TOFU_HDR_LISTEN_ON, &v, &vl))
    return TOFU_EINVAL;
  return url_from_address(v, vl, buf, len);
}

int tofu_send(tofu_group *g, uint16_t channel, int opcode, const void *body, size_t len,
              uint64_t *message_id) {
  if (!g || (!body && len > 0) || opcode < 0 || opcode > 255)
    return TOFU_EINVAL;
  if (len > g->engine->opts.max_message)
    return TOFU_ELIMIT;
  tofu_message *m = tofu_get(g->engine, TOFU_ALWAYS);
  if (!m)
    return TOFU_ELIMIT;
  tofu_header *h = tofu_msg_header(m);
  h->opcode = (uint8_t)opcode;
  h->channel = channel;
  h->message_id = message_id ? *message_id : 0;
  int rc = len ? tofu_msg_set_body(m, body, len) : TOFU_OK;
  tofu_header out;
  if (rc == TOFU_OK)
    rc = tofu_post(g, &m, &out);
  if (rc != TOFU_OK) {
    tofu_put(g->engine, &m);
    return rc;
  }
  if (message_id)
    *message_id = out.message_id;
  return TOFU_OK;
}

tofu_message *tofu_wait_reply(tofu_group *g, uint64_t message_id, int timeout_ms) {
  tofu_message *m = NULL;
  if (message_id != 0)
    (void)tofu_receive(g, message_id, timeout_ms, &m);
  return m;
}

tofu_os_handle tofu_group_os_handle(tofu_group *g) {
  intptr_t h;
  if (!g || mailbox_os_handle(&g->mb, &h) != TOFU_OK)
    return TOFU_INVALID_OS_HANDLE;
  return (tofu_os_handle)h;
}
