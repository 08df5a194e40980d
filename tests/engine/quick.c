/* tofu — the engine suite: the quick API (URLs, tofu_send, tofu_wait_reply,
 * the pollable queue) and the extensible options and stats. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "suite.h"
#include "url.h"

#ifdef _WIN32
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <windows.h>
#else
#include <poll.h>
#endif

void case_quick_urls(void) {
  static const struct {
    const char *url, *value; /* value NULL: refused */
  } forms[] = {
      {"tcp://127.0.0.1:7099", "tcp|127.0.0.1|7099"},
      {"tcp://localhost:1", "tcp|localhost|1"},
      {"tcp://[::1]:7099", "tcp|::1|7099"},
      {"tcp://[::]:0", "tcp|::|0"},
      {"tcp://:0", "tcp||0"},
      {"unix:///tmp/x.sock", "uds|/tmp/x.sock"},
      {"unix:rel/x.sock", "uds|rel/x.sock"},
      {"tcp://::1:7099", NULL}, /* IPv6 without brackets */
      {"tcp://[::1]7099", NULL},
      {"tcp://[]:1", NULL},
      {"tcp://host", NULL},
      {"tcp://host:", NULL},
      {"tcp://host:12a", NULL},
      {"tcp://a|b:1", NULL},
      {"unix://relative", NULL},
      {"unix:", NULL},
      {"udp://x:1", NULL},
      {"", NULL},
  };
  char out[600];
  for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
    int rc = url_to_address(forms[i].url, out, sizeof out);
    if (!forms[i].value) {
      ck_assert_msg(rc == TOFU_EINVAL, "%s accepted", forms[i].url);
      continue;
    }
    ck_assert_msg(rc == TOFU_OK, "%s refused", forms[i].url);
    ck_assert_str_eq(out, forms[i].value);
    /* And back: the URL again (the listen-any forms included). */
    char back[600];
    ck_assert_int_eq(url_from_address(out, strlen(out), back, sizeof back), TOFU_OK);
    ck_assert_str_eq(back, forms[i].url);
  }
  ck_assert_int_eq(url_from_address("tcp|1.2.3.4|5", 13, out, 15), TOFU_ELIMIT); /* 15 + NUL */
  ck_assert_int_eq(url_from_address("tcp|1.2.3.4|5", 13, out, 16), TOFU_OK);
  ck_assert_int_eq(url_from_address("sctp|x", 6, out, sizeof out), TOFU_EINVAL);
  static char longest[URL_MAX + 2];
  memset(longest, 'a', sizeof longest - 1);
  memcpy(longest, "unix:", 5);
  ck_assert_int_eq(url_to_address(longest, out, sizeof out), TOFU_EINVAL);
}

/* Listen on url, return the WelcomeResponse's address as a URL. */
static uint16_t quick_listen(tofu_group *g, const char *url, char *bound, size_t n) {
  uint16_t lch = 0;
  ck_assert_int_eq(tofu_listen(g, url, &lch), TOFU_OK);
  ck_assert_uint_ne(lch, 0);
  tofu_message *m = et_expect(g, TOFU_OP_WELCOME_RESPONSE, TOFU_ORIGIN_ENGINE, TOFU_STATUS_SUCCESS);
  ck_assert_uint_eq(tofu_msg_header(m)->channel, lch);
  ck_assert_int_eq(tofu_listen_address(m, bound, n), TOFU_OK);
  tofu_put(NULL, &m);
  return lch;
}

/* The ten-line client against a server written with the same calls; the
 * client's reply is found among other messages, which stay queued in order. */
static void quick_flow(const char *listen_url) {
  tofu_engine *e = et_engine(0);
  tofu_group *gs = et_group(e), *gc = et_group(e);
  char url[600];
  quick_listen(gs, listen_url, url, sizeof url);
  ck_assert_msg(strstr(url, ":0") == NULL || strncmp(url, "unix", 4) == 0, "port 0 in %s", url);
  uint16_t cch = 0;
  ck_assert_int_eq(tofu_connect(gc, url, &cch), TOFU_OK);
  tofu_message *m = et_expect(gs, TOFU_OP_HELLO_REQUEST, TOFU_ORIGIN_APPLICATION, 0);
  uint16_t sch = tofu_msg_header(m)->channel;
  uint64_t hello_id = tofu_msg_header(m)->message_id;
  tofu_put(e, &m);
  ck_assert_int_eq(tofu_send(gs, sch, TOFU_OP_HELLO_RESPONSE, NULL, 0, &hello_id), TOFU_OK);
  m = tofu_wait_reply(gc, hello_id, ET_DEADLINE_MS);
  ck_assert_ptr_nonnull(m);
  ck_assert_uint_eq(tofu_msg_header(m)->opcode, TOFU_OP_HELLO_RESPONSE);
  ck_assert_uint_eq(tofu_msg_header(m)->channel, cch);
  tofu_put(e, &m);

  /* The request; meanwhile the server sends two Signals, and the client's
   * own receiver_update notice is queued too. */
  uint64_t id = 0;
  ck_assert_int_eq(tofu_send(gc, cch, TOFU_OP_REQUEST, "ping", 4, &id), TOFU_OK);
  ck_assert(id != 0);
  m = et_expect(gs, TOFU_OP_REQUEST, TOFU_ORIGIN_APPLICATION, 0);
  ck_assert(tofu_msg_header(m)->message_id == id);
  tofu_put(e, &m);
  uint64_t s1 = 0, s2 = 0;
  ck_assert_int_eq(tofu_send(gs, sch, TOFU_OP_SIGNAL, "one", 3, &s1), TOFU_OK);
  ck_assert_int_eq(tofu_update_receiver(gc, NULL), TOFU_OK);
  ck_assert_int_eq(tofu_send(gs, sch, TOFU_OP_SIGNAL, "two", 3, &s2), TOFU_OK);
  uint64_t rid = id;
  ck_assert_int_eq(tofu_send(gs, sch, TOFU_OP_RESPONSE, "pong", 4, &rid), TOFU_OK);
  ck_assert(rid == id);
  m = tofu_wait_reply(gc, id, ET_DEADLINE_MS);
  ck_assert_ptr_nonnull(m);
  ck_assert_uint_eq(tofu_msg_header(m)->opcode, TOFU_OP_RESPONSE);
  size_t len;
  const void *body = tofu_msg_body(m, &len);
  ck_assert(len == 4 && memcmp(body, "pong", 4) == 0);
  tofu_put(e, &m);
  /* Everything else, in its order (the notice may come before or after the
   * first Signal: it was posted from this thread while the Signal travelled). */
  int seen_one = 0, seen_two = 0, seen_update = 0;
  for (int i = 0; i < 3; i++) {
    m = et_recv(gc);
    tofu_header *h = tofu_msg_header(m);
    if (h->status == TOFU_STATUS_RECEIVER_UPDATE) {
      seen_update++;
    } else {
      ck_assert_uint_eq(h->opcode, TOFU_OP_SIGNAL);
      if (h->message_id == s1) {
        ck_assert(!seen_two);
        seen_one++;
      } else {
        ck_assert(h->message_id == s2);
        seen_two++;
      }
    }
    tofu_put(e, &m);
  }
  ck_assert(seen_one == 1 && seen_two == 1 && seen_update == 1);
  ck_assert_ptr_null(tofu_wait_receive(gc, 0));
  tofu_group_destroy(gc);
  tofu_group_destroy(gs);
  et_assert_all_returned(e);
  tofu_engine_destroy(e);
}

void case_quick_flow_tcp(void) {
  quick_flow("tcp://127.0.0.1:0");
}

void case_quick_flow_tcp6(void) {
  quick_flow("tcp://[::1]:0");
}

void case_quick_flow_uds(void) {
  pair_listener hold;
  char addr[NET_UDS_PATH_MAX + 8], url[NET_UDS_PATH_MAX + 16];
  et_uds_path(&hold, addr, sizeof addr); /* "uds|/dir/x" */
  snprintf(url, sizeof url, "unix://%s", addr + 4);
  quick_flow(url);
  et_uds_done(&hold);
}

/* A refused connect through tofu_connect: the HelloRequest comes back with
 * connect_failed, then channel_closed, as with tofu_post; a tofu_send queued
 * behind it comes back too, or finds the channel gone. */
void case_quick_connect_refused(void) {
  tofu_socket s;
  uint16_t port;
  ck_assert_int_eq(net_tcp_socket(&s), NET_OK);
  ck_assert_int_eq(net_tcp_bind_loopback(s, &port), NET_OK);
  net_close(s); /* a port that was just free */
  char url[64];
  snprintf(url, sizeof url, "tcp://127.0.0.1:%u", (unsigned)port);
  tofu_engine *e = et_engine(0);
  tofu_group *g = et_group(e);
  uint16_t ch = 0;
  ck_assert_int_eq(tofu_connect(g, url, &ch), TOFU_OK);
  ck_assert_uint_ne(ch, 0);
  uint64_t id = 0;
  ck_assert_int_eq(tofu_send(g, ch, TOFU_OP_REQUEST, "x", 1, &id), TOFU_OK);
  tofu_message *m =
      et_expect(g, TOFU_OP_HELLO_REQUEST, TOFU_ORIGIN_ENGINE, TOFU_STATUS_CONNECT_FAILED);
  ck_assert_uint_eq(tofu_msg_header(m)->channel, ch);
  uint64_t hello_id = tofu_msg_header(m)->message_id;
  tofu_put(e, &m);
  /* The request, by id: connect_failed if it reached the channel, else
   * invalid_channel_number; either way it is handed back, not lost. */
  m = tofu_wait_reply(g, id, ET_DEADLINE_MS);
  ck_assert_ptr_nonnull(m);
  ck_assert_uint_eq(tofu_msg_header(m)->origin, TOFU_ORIGIN_ENGINE);
  ck_assert(tofu_msg_header(m)->status == TOFU_STATUS_CONNECT_FAILED ||
            tofu_msg_header(m)->status == TOFU_STATUS_INVALID_CHANNEL_NUMBER);
  tofu_put(e, &m);
  m = et_expect(g, TOFU_OP_SIGNAL, TOFU_ORIGIN_ENGINE, TOFU_STATUS_CHANNEL_CLOSED);
  ck_assert(tofu_msg_header(m)->message_id == hello_id);
  tofu_put(e, &m);
  ck_assert_ptr_null(tofu_wait_receive(g, 0));
  tofu_group_destroy(g);
  et_assert_all_returned(e);
  tofu_engine_destroy(e);
}

/* Every failure leaves nothing posted and nothing with the caller. */
void case_quick_errors(void) {
  tofu_engine *e = et_engine(0);
  tofu_group *g = et_group(e);
  uint16_t ch = 99;
  ck_assert_int_eq(tofu_connect(g, "tcp://nohostport", &ch), TOFU_EINVAL);
  ck_assert_int_eq(tofu_connect(g, "tcp://127.0.0.1:0", &ch), TOFU_EINVAL); /* port 0 */
  ck_assert_int_eq(tofu_connect(g, "tcp://127.0.0.1:70000", &ch), TOFU_EINVAL);
  ck_assert_int_eq(tofu_listen(g, "http://x:1", &ch), TOFU_EINVAL);
  ck_assert_int_eq(tofu_connect(NULL, "tcp://h:1", &ch), TOFU_EINVAL);
  ck_assert_int_eq(tofu_connect(g, NULL, &ch), TOFU_EINVAL);
  ck_assert_uint_eq(ch, 99);
  uint64_t id = 0;
  ck_assert_int_eq(tofu_send(g, 5, 12, "x", 1, &id), TOFU_EMESSAGE);               /* opcode 12 */
  ck_assert_int_eq(tofu_send(g, 0, TOFU_OP_REQUEST, "x", 1, &id), TOFU_EMESSAGE);  /* channel 0 */
  ck_assert_int_eq(tofu_send(g, 5, TOFU_OP_RESPONSE, "x", 1, &id), TOFU_EMESSAGE); /* id 0 */
  ck_assert_int_eq(tofu_send(g, 5, TOFU_OP_REQUEST, NULL, 1, &id), TOFU_EINVAL);
  ck_assert_int_eq(tofu_send(g, 5, TOFU_OP_REQUEST, "x", TOFU_MAX_BODY + 1, &id), TOFU_ELIMIT);
  ck_assert_int_eq(tofu_send(NULL, 5, TOFU_OP_REQUEST, "x", 1, &id), TOFU_EINVAL);
  ck_assert(id == 0);
  ck_assert_ptr_null(tofu_wait_receive(g, ET_QUIET_MS)); /* nothing was posted */
  et_assert_all_returned(e);
  /* tofu_listen_address wants a WelcomeResponse with an address. */
  char buf[64];
  tofu_message *m = tofu_get(e, TOFU_ALWAYS);
  ck_assert_int_eq(tofu_listen_address(m, buf, sizeof buf), TOFU_EINVAL);
  tofu_msg_header(m)->opcode = TOFU_OP_WELCOME_RESPONSE;
  ck_assert_int_eq(tofu_listen_address(m, buf, sizeof buf), TOFU_EINVAL);
  ck_assert_int_eq(tofu_msg_add_header(m, TOFU_HDR_LISTEN_ON, "tcp|10.0.0.1|80"), TOFU_OK);
  ck_assert_int_eq(tofu_listen_address(m, buf, 8), TOFU_ELIMIT);
  ck_assert_int_eq(tofu_listen_address(m, buf, sizeof buf), TOFU_OK);
  ck_assert_str_eq(buf, "tcp://10.0.0.1:80");
  ck_assert_int_eq(tofu_listen_address(NULL, buf, sizeof buf), TOFU_EINVAL);
  tofu_put(e, &m);
  ck_assert_ptr_null(tofu_wait_reply(NULL, 1, 0));
  ck_assert(tofu_group_os_handle(NULL) == TOFU_INVALID_OS_HANDLE);
  tofu_group_destroy(g);
  et_assert_all_returned(e);
  tofu_engine_destroy(e);
}

/* An exhausted pool: the quick calls say TOFU_ELIMIT and keep nothing. */
void case_quick_pool_exhausted(void) {
  tofu_engine *e = et_engine(64 * 1024);
  tofu_group *g = et_group(e);
  enum { MAX = 4096 };
  tofu_message **held = malloc(MAX * sizeof *held);
  ck_assert_ptr_nonnull(held);
  int n = 0;
  while (n < MAX && (held[n] = tofu_get(e, TOFU_ALWAYS)) != NULL)
    n++;
  ck_assert_int_lt(n, MAX);
  uint64_t id = 0;
  ck_assert_int_eq(tofu_send(g, 5, TOFU_OP_REQUEST, "x", 1, &id), TOFU_ELIMIT);
  ck_assert_int_eq(tofu_connect(g, "tcp://127.0.0.1:9", NULL), TOFU_ELIMIT);
  ck_assert_int_eq(tofu_listen(g, "tcp://127.0.0.1:0", NULL), TOFU_ELIMIT);
  while (n > 0)
    tofu_put(e, &held[--n]);
  free(held);
  ck_assert_ptr_null(tofu_wait_receive(g, 0));
  tofu_group_destroy(g);
  et_assert_all_returned(e);
  tofu_engine_destroy(e);
}

/* No reply in time: NULL, and every message stays queued in its order. */
void case_quick_wait_reply_timeout(void) {
  tofu_engine *e = et_engine(0);
  tofu_group *g = et_group(e);
  enum { N = 5 };
  for (int i = 0; i < N; i++) {
    tofu_message *m = tofu_get(e, TOFU_ALWAYS);
    tofu_msg_header(m)->message_id = 100 + (uint64_t)i;
    ck_assert_int_eq(tofu_update_receiver(g, &m), TOFU_OK);
  }
  ck_assert_ptr_null(tofu_wait_reply(g, 7, 0));
  ck_assert_ptr_null(tofu_wait_reply(g, 7, 50));
  /* One from the middle, found by id; then the rest in order. */
  tofu_message *m = tofu_wait_reply(g, 102, 0);
  ck_assert_ptr_nonnull(m);
  ck_assert(tofu_msg_header(m)->message_id == 102);
  tofu_put(e, &m);
  /* The last, and a reply that arrives while waiting (a timer). */
  m = tofu_wait_reply(g, 104, 0);
  ck_assert(m && tofu_msg_header(m)->message_id == 104);
  tofu_put(e, &m);
  m = tofu_get(e, TOFU_ALWAYS);
  tofu_msg_header(m)->message_id = 200;
  ck_assert_int_eq(tofu_post_timer(g, &m, 20), TOFU_OK);
  m = tofu_wait_reply(g, 200, ET_DEADLINE_MS);
  ck_assert(m && tofu_msg_header(m)->message_id == 200);
  tofu_put(e, &m);
  const uint64_t rest[] = {100, 101, 103};
  for (int i = 0; i < 3; i++) {
    m = et_recv(g);
    ck_assert(tofu_msg_header(m)->message_id == rest[i]);
    tofu_put(e, &m);
  }
  ck_assert_ptr_null(tofu_wait_receive(g, 0));
  tofu_group_destroy(g);
  et_assert_all_returned(e);
  tofu_engine_destroy(e);
}

/* Whether the handle is ready within timeout_ms, waited on the platform's
 * own way, as an application's event loop would. */
static int handle_ready(tofu_os_handle h, int timeout_ms) {
#ifdef _WIN32
  return WaitForSingleObject((HANDLE)h, (DWORD)timeout_ms) == WAIT_OBJECT_0;
#else
  struct pollfd p = {h, POLLIN, 0};
  int n = poll(&p, 1, timeout_ms);
  return n == 1 && (p.revents & POLLIN);
#endif
}

void case_quick_os_handle(void) {
  tofu_engine *e = et_engine(0);
  tofu_group *g = et_group(e);
  /* A message queued before the handle exists: ready at once. */
  tofu_message *m = tofu_get(e, TOFU_ALWAYS);
  ck_assert_int_eq(tofu_update_receiver(g, &m), TOFU_OK);
  tofu_os_handle h = tofu_group_os_handle(g);
  ck_assert(h != TOFU_INVALID_OS_HANDLE);
  ck_assert(tofu_group_os_handle(g) == h); /* one handle per group */
  ck_assert(handle_ready(h, 0));
  m = tofu_wait_receive(g, 0);
  ck_assert_ptr_nonnull(m);
  tofu_put(e, &m);
  ck_assert(!handle_ready(h, 0)); /* empty: not ready */
  /* A message from the Reactor (a timer) makes it ready; level-triggered:
   * ready until the last message is taken, and tofu_wait_receive(g, 0) then
   * never returns NULL. */
  for (int round = 0; round < 3; round++) {
    for (int i = 0; i < 3; i++) {
      m = tofu_get(e, TOFU_ALWAYS);
      tofu_msg_header(m)->message_id = 10 + (uint64_t)i;
      ck_assert_int_eq(tofu_post_timer(g, &m, i == 0 ? 10 : 0), TOFU_OK);
    }
    ck_assert(handle_ready(h, ET_DEADLINE_MS));
    for (int got = 0; got < 3; got++) {
      if (round == 1) { /* by id, in id order: each may have to be waited for */
        m = tofu_wait_reply(g, 10 + (uint64_t)got, ET_DEADLINE_MS);
      } else {
        ck_assert(handle_ready(h, ET_DEADLINE_MS));
        m = tofu_wait_receive(g, 0); /* ready: never NULL */
      }
      ck_assert_ptr_nonnull(m);
      tofu_put(e, &m);
    }
    ck_assert(!handle_ready(h, 0));
    ck_assert_ptr_null(tofu_wait_receive(g, 0));
  }
  tofu_group_destroy(g); /* closes the handle */
  et_assert_all_returned(e);
  tofu_engine_destroy(e);
}

/* tofu_options and tofu_engine_stats start with their size: a shorter struct
 * (an older program) gets the defaults for what it lacks, a longer one (a
 * newer header) is taken if the unknown part is zero. */
void case_options_stats_abi(void) {
  tofu_options o;
  tofu_options_default(&o);
  ck_assert_uint_eq(o.size, sizeof o);
  /* Built before max_memory existed: the 4 KiB below is not read. */
  o.size = offsetof(tofu_options, max_memory);
  o.max_memory = 4096;
  tofu_engine *e = NULL;
  ck_assert_int_eq(tofu_engine_create(&o, &e), TOFU_OK);
  tofu_engine_stats st = {.size = sizeof st};
  ck_assert_int_eq(tofu_engine_get_stats(e, &st), TOFU_OK);
  ck_assert_uint_eq(st.size, sizeof st);
  ck_assert_uint_eq(st.memory_limit, 64u << 20);
  /* A caller that knows only the first fields gets only those. */
  tofu_engine_stats part;
  memset(&part, 0x5A, sizeof part);
  part.size = offsetof(tofu_engine_stats, messages_live);
  ck_assert_int_eq(tofu_engine_get_stats(e, &part), TOFU_OK);
  ck_assert_uint_eq(part.size, offsetof(tofu_engine_stats, messages_live));
  ck_assert_uint_eq(part.memory_limit, 64u << 20);
  unsigned char *tail = (unsigned char *)&part + offsetof(tofu_engine_stats, messages_live);
  for (size_t i = 0; i < sizeof part - offsetof(tofu_engine_stats, messages_live); i++)
    ck_assert_uint_eq(tail[i], 0x5A);
  tofu_engine_destroy(e);
  /* A newer header's struct: accepted while its extra bytes are zero. */
  unsigned char big[sizeof(tofu_options) + 16];
  memset(big, 0, sizeof big);
  tofu_options_default((tofu_options *)big);
  ((tofu_options *)big)->size = sizeof big;
  e = NULL;
  ck_assert_int_eq(tofu_engine_create((tofu_options *)big, &e), TOFU_OK);
  tofu_engine_destroy(e);
  big[sizeof(tofu_options) + 3] = 1;
  e = NULL;
  ck_assert_int_eq(tofu_engine_create((tofu_options *)big, &e), TOFU_EUNSUPPORTED);
  ck_assert_ptr_null(e);
  /* A zeroed struct was never filled: refused. */
  memset(&o, 0, sizeof o);
  ck_assert_int_eq(tofu_engine_create(&o, &e), TOFU_EINVAL);
}
