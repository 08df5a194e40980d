/* tofu tests — engines, groups, listeners, connections and messages (see
 * engines.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engines.h"

tofu_engine *et_engine(size_t max_memory) {
  tofu_options o;
  tofu_options_default(&o);
  if (max_memory)
    o.max_memory = max_memory;
  tofu_engine *e = NULL;
  int rc = tofu_engine_create(&o, &e);
  ck_assert_msg(rc == TOFU_OK, "tofu_engine_create: %s", tofu_strerror(rc));
  return e;
}

tofu_engine *et_engine_connect_timeout(int connect_timeout_ms) {
  tofu_options o;
  tofu_options_default(&o);
  o.connect_timeout_ms = connect_timeout_ms;
  tofu_engine *e = NULL;
  int rc = tofu_engine_create(&o, &e);
  ck_assert_msg(rc == TOFU_OK, "tofu_engine_create: %s", tofu_strerror(rc));
  return e;
}

tofu_header et_post_hello(tofu_engine *e, tofu_group *g, const char *addr) {
  tofu_message *m = tofu_get(e, TOFU_ALWAYS);
  ck_assert_ptr_nonnull(m);
  tofu_msg_header(m)->opcode = TOFU_OP_HELLO_REQUEST;
  ck_assert_int_eq(tofu_msg_add_header(m, TOFU_HDR_CONNECT_TO, addr), TOFU_OK);
  return et_post(g, &m);
}

tofu_group *et_group(tofu_engine *e) {
  tofu_group *g = NULL;
  ck_assert_int_eq(tofu_group_create(e, &g), TOFU_OK);
  return g;
}

tofu_message *et_recv(tofu_group *g) {
  tofu_message *m = tofu_wait_receive(g, ET_DEADLINE_MS);
  ck_assert_msg(m != NULL, "no message within %d ms", ET_DEADLINE_MS);
  return m;
}

void et_queue_id(tofu_engine *e, tofu_group *g, uint64_t id) {
  tofu_message *m = tofu_get(e, TOFU_ALWAYS);
  ck_assert_ptr_nonnull(m);
  tofu_msg_header(m)->message_id = id;
  ck_assert_int_eq(tofu_update_receiver(g, &m), TOFU_OK);
}

tofu_message *et_expect(tofu_group *g, int opcode, int origin, int status) {
  return et_expect_within(g, ET_DEADLINE_MS, opcode, origin, status);
}

tofu_message *et_expect_within(tofu_group *g, int ms, int opcode, int origin, int status) {
  tofu_message *m = tofu_wait_receive(g, ms);
  ck_assert_msg(m != NULL, "no message within %d ms", ms);
  tofu_header *h = tofu_msg_header(m);
  ck_assert_msg(h->opcode == opcode && h->origin == origin && h->status == status,
                "expected %s origin %d %s, got %s origin %d %s (channel %u)",
                tofu_opcode_name(opcode), origin, tofu_status_name(status),
                tofu_opcode_name(h->opcode), h->origin, tofu_status_name(h->status),
                (unsigned)h->channel);
  return m;
}

void et_uds_path(pair_listener *hold, char *addr, size_t n) {
  ck_assert_int_eq(pair_listen(PAIR_UDS, hold), NET_OK);
  /* Keep the private directory; the engine makes its own socket file. */
  net_close(hold->sock);
  hold->sock = TOFU_INVALID_SOCKET;
  net_uds_unlink(hold->path);
  snprintf(addr, n, "uds|%s", hold->path);
}

void et_uds_done(pair_listener *hold) {
  pair_unlisten(hold);
}

tofu_header et_post(tofu_group *g, tofu_message **m) {
  tofu_header h;
  int rc = tofu_post(g, m, &h);
  ck_assert_msg(rc == TOFU_OK, "tofu_post: %s (status %s)", tofu_strerror(rc),
                *m ? tofu_status_name(tofu_msg_header(*m)->status) : "-");
  ck_assert_ptr_null(*m);
  return h;
}

uint16_t et_listen(tofu_engine *e, tofu_group *g, const char *addr, char *bound, size_t n) {
  tofu_message *m = tofu_get(e, TOFU_ALWAYS);
  ck_assert_ptr_nonnull(m);
  tofu_msg_header(m)->opcode = TOFU_OP_WELCOME_REQUEST;
  ck_assert_int_eq(tofu_msg_add_header(m, TOFU_HDR_LISTEN_ON, addr), TOFU_OK);
  tofu_header h = et_post(g, &m);
  ck_assert_uint_ne(h.channel, 0);
  m = et_expect(g, TOFU_OP_WELCOME_RESPONSE, TOFU_ORIGIN_ENGINE, TOFU_STATUS_SUCCESS);
  ck_assert_uint_eq(tofu_msg_header(m)->channel, h.channel);
  const char *v;
  size_t len;
  ck_assert(tofu_msg_find_header(m, TOFU_HDR_LISTEN_ON, &v, &len));
  ck_assert_uint_lt(len, n);
  memcpy(bound, v, len);
  bound[len] = '\0';
  tofu_put(e, &m);
  return h.channel;
}

void et_connect(tofu_engine *ec, tofu_group *gc, tofu_group *gs, tofu_engine *es, const char *addr,
                uint16_t *client_ch, uint16_t *server_ch) {
  tofu_message *m = tofu_get(ec, TOFU_ALWAYS);
  tofu_msg_header(m)->opcode = TOFU_OP_HELLO_REQUEST;
  ck_assert_int_eq(tofu_msg_add_header(m, TOFU_HDR_CONNECT_TO, addr), TOFU_OK);
  ck_assert_int_eq(tofu_msg_add_header(m, "who", "client"), TOFU_OK);
  tofu_header h = et_post(gc, &m);
  m = et_expect(gs, TOFU_OP_HELLO_REQUEST, TOFU_ORIGIN_APPLICATION, TOFU_STATUS_SUCCESS);
  tofu_header *sh = tofu_msg_header(m);
  ck_assert_uint_ne(sh->channel, 0);
  ck_assert_uint_eq(sh->message_id, h.message_id);
  const char *v;
  size_t len;
  ck_assert(tofu_msg_find_header(m, "who", &v, &len));
  ck_assert(len == 6 && memcmp(v, "client", 6) == 0);
  *server_ch = sh->channel;
  /* Answer with the same message turned into a HelloResponse. */
  sh->opcode = TOFU_OP_HELLO_RESPONSE;
  et_post(gs, &m);
  m = et_expect(gc, TOFU_OP_HELLO_RESPONSE, TOFU_ORIGIN_APPLICATION, TOFU_STATUS_SUCCESS);
  ck_assert_uint_eq(tofu_msg_header(m)->channel, h.channel);
  tofu_put(ec, &m);
  (void)es;
  *client_ch = h.channel;
}

tofu_message *et_msg(tofu_engine *e, int opcode, uint16_t ch, size_t len, unsigned seed) {
  tofu_message *m = tofu_get(e, TOFU_ALWAYS);
  ck_assert_ptr_nonnull(m);
  tofu_header *h = tofu_msg_header(m);
  h->opcode = (uint8_t)opcode;
  h->channel = ch;
  uint8_t buf[4096];
  size_t done = 0;
  while (done < len) {
    size_t k = len - done < sizeof buf ? len - done : sizeof buf;
    for (size_t i = 0; i < k; i++)
      buf[i] = (uint8_t)(seed * 31u + (done + i) * 7u);
    ck_assert_int_eq(tofu_msg_append_body(m, buf, k), TOFU_OK);
    done += k;
  }
  return m;
}

int et_body_ok(const tofu_message *m, size_t len, unsigned seed) {
  size_t got;
  const uint8_t *b = tofu_msg_body(m, &got);
  if (got != len)
    return 0;
  for (size_t i = 0; i < len; i++)
    if (b[i] != (uint8_t)(seed * 31u + i * 7u))
      return 0;
  return 1;
}

void et_assert_all_returned(tofu_engine *e) {
  tofu_engine_stats s = {.size = sizeof s};
  tofu_engine_get_stats(e, &s);
  ck_assert_msg(s.messages_live == s.messages_free, "%zu messages live, %zu free", s.messages_live,
                s.messages_free);
  ck_assert_uint_le(s.memory_used, s.memory_limit);
}

uint64_t et_bound_ms(uint64_t ms) {
  const char *v = getenv("TOFU_TEST_TIME_SCALE");
  long k = v ? strtol(v, NULL, 10) : 1;
  return ms * (uint64_t)(k > 1 ? k : 1);
}
