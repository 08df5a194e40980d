/* tofu — the reliability suite: what an application can get wrong. Each
 * misuse gets a clear status (or is a documented no-op), never a crash; the
 * sanitizer and valgrind legs run these too, so a leak or a bad access fails
 * them. Using a group or an engine after destroying it is undefined (tofu.h
 * says so) and is not tested. */
#include <stdio.h>
#include <string.h>

#include "suite.h"

void case_misuse_put(void) {
  tofu_engine *e = et_engine(0);
  tofu_put(NULL, NULL);
  tofu_put(e, NULL);
  tofu_message *m = NULL;
  tofu_put(e, &m);
  tofu_put(NULL, &m);
  m = tofu_get(e, TOFU_ALWAYS);
  tofu_message *alias = m;
  tofu_put(e, &m);
  ck_assert_ptr_null(m);
  tofu_put(e, &m); /* cleared: a no-op */
  /* A second put through a copy of the pointer is ignored: the pool must
   * not hand the same message out twice. */
  tofu_put(e, &alias);
  ck_assert_ptr_null(alias);
  tofu_engine_stats st = {.size = sizeof st};
  tofu_engine_get_stats(e, &st);
  ck_assert_uint_eq(st.messages_free, st.messages_live);
  tofu_message *a = tofu_get(e, TOFU_ALWAYS), *b = tofu_get(e, TOFU_ALWAYS);
  ck_assert_ptr_nonnull(a);
  ck_assert_ptr_nonnull(b);
  ck_assert_ptr_ne(a, b);
  tofu_put(e, &a);
  tofu_put(e, &b);
  /* The same for a notice the engine made (outside the pool's limit): a
   * second put is ignored, and the next notice is whole. */
  tofu_group *g = et_group(e);
  for (int round = 0; round < 2; round++) {
    ck_assert_int_eq(tofu_update_receiver(g, NULL), TOFU_OK);
    tofu_message *n = et_expect(g, TOFU_OP_SIGNAL, TOFU_ORIGIN_ENGINE, TOFU_STATUS_RECEIVER_UPDATE);
    tofu_message *n_alias = n;
    tofu_put(e, &n);
    tofu_put(e, &n_alias);
    ck_assert_ptr_null(n_alias);
  }
  tofu_group_destroy(g);
  /* NULL engine everywhere it is accepted. */
  ck_assert_ptr_null(tofu_get(NULL, TOFU_ALWAYS));
  memset(&st, 0xA5, sizeof st);
  st.size = sizeof st;
  ck_assert_int_eq(tofu_engine_get_stats(NULL, &st), TOFU_EINVAL);
  ck_assert_uint_eq(st.messages_live, (size_t)0xA5A5A5A5A5A5A5A5ull); /* untouched */
  ck_assert_int_eq(tofu_engine_get_stats(e, NULL), TOFU_EINVAL);      /* refused, not a crash */
  st.size = 0;
  ck_assert_int_eq(tofu_engine_get_stats(e, &st), TOFU_EINVAL); /* size not set */
  tofu_options_default(NULL);
  ck_assert_int_eq(tofu_group_create(NULL, NULL), TOFU_EINVAL);
  ck_assert_int_eq(tofu_update_receiver(NULL, NULL), TOFU_EINVAL);
  ck_assert_int_eq(tofu_post_timer(NULL, NULL, 0), TOFU_EINVAL);
  ck_assert_ptr_null(tofu_wait_receive(NULL, 0));
  et_assert_all_returned(e);
  tofu_engine_destroy(e);
}

/* A message put through the wrong engine still goes back to its own pool:
 * both engines' counts stay true, and after the first engine is gone the
 * second hands out none of its memory (ASan and valgrind see any misstep). */
void case_misuse_put_other_engine(void) {
  tofu_engine *a = et_engine(0), *b = et_engine(0);
  tofu_engine_stats sa0 = {.size = sizeof sa0}, sb0 = {.size = sizeof sb0},
                    sa = {.size = sizeof sa}, sb = {.size = sizeof sb};
  tofu_engine_get_stats(a, &sa0);
  tofu_engine_get_stats(b, &sb0);
  tofu_message *m = tofu_get(a, TOFU_ALWAYS);
  ck_assert_ptr_nonnull(m);
  ck_assert_int_eq(tofu_msg_set_body(m, "a's", 3), TOFU_OK);
  tofu_put(b, &m);
  ck_assert_ptr_null(m);
  tofu_engine_get_stats(a, &sa);
  tofu_engine_get_stats(b, &sb);
  ck_assert_uint_eq(sa.messages_live, sa0.messages_live);
  ck_assert_uint_eq(sa.messages_free, sa.messages_live);
  ck_assert_uint_eq(sb.messages_live, sb0.messages_live);
  ck_assert_uint_eq(sb.messages_free, sb0.messages_free);
  ck_assert_uint_eq(sb.memory_used, sb0.memory_used);
  /* The same for a notice of a's group put through b. */
  tofu_group *g = et_group(a);
  ck_assert_int_eq(tofu_update_receiver(g, NULL), TOFU_OK);
  m = et_expect(g, TOFU_OP_SIGNAL, TOFU_ORIGIN_ENGINE, TOFU_STATUS_RECEIVER_UPDATE);
  tofu_put(b, &m);
  tofu_group_destroy(g);
  et_assert_all_returned(a);
  tofu_engine_destroy(a);
  /* Every message b hands out is b's own, live memory: take them all and
   * write to each. */
  tofu_message *held[64];
  size_t n = 0;
  while (n < sizeof held / sizeof held[0] && (held[n] = tofu_get(b, TOFU_POOL_ONLY)) != NULL) {
    ck_assert_int_eq(tofu_msg_set_body(held[n], "b's own", 7), TOFU_OK);
    n++;
  }
  ck_assert_uint_eq(n, sb0.messages_free);
  for (size_t i = 0; i < n; i++)
    tofu_put(b, &held[i]);
  et_assert_all_returned(b);
  tofu_engine_destroy(b);
}

void case_misuse_destroyed_group(void) {
  tofu_engine *es = et_engine(0), *ec = et_engine(0);
  tofu_group *gs = et_group(es), *gc = et_group(ec), *other = et_group(ec);
  char bound[256];
  et_listen(es, gs, "tcp|127.0.0.1|0", bound, sizeof bound);
  uint16_t cch, sch;
  et_connect(ec, gc, gs, es, bound, &cch, &sch);
  /* Requests on their way to a group that is destroyed meanwhile. */
  for (int i = 0; i < 20; i++) {
    tofu_message *m = et_msg(es, TOFU_OP_REQUEST, sch, 1000, (unsigned)i);
    et_post(gs, &m);
  }
  tofu_group_destroy(gc);
  /* Its channel is gone: another group posting to that number hears so. */
  tofu_message *m = et_msg(ec, TOFU_OP_REQUEST, cch, 10, 1);
  et_post(other, &m);
  m = et_recv(other);
  ck_assert_uint_eq(tofu_msg_header(m)->origin, TOFU_ORIGIN_ENGINE);
  ck_assert_msg(tofu_msg_header(m)->status == TOFU_STATUS_INVALID_CHANNEL_NUMBER, "status %s",
                tofu_status_name(tofu_msg_header(m)->status));
  tofu_put(ec, &m);
  /* The server sees the connection end. */
  for (;;) {
    m = et_recv(gs);
    tofu_header *h = tofu_msg_header(m);
    int done = h->opcode == TOFU_OP_SIGNAL && h->status == TOFU_STATUS_CHANNEL_CLOSED;
    tofu_put(es, &m);
    if (done)
      break;
  }
  tofu_group_destroy(other);
  tofu_group_destroy(gs);
  et_assert_all_returned(ec);
  et_assert_all_returned(es);
  tofu_engine_destroy(ec);
  tofu_engine_destroy(es);
}

void case_misuse_destroy_outstanding(void) {
  /* Destroy engines while messages are everywhere: queued to a peer that
   * does not read, in the inbound queue, in receive queues, in timers, and
   * held by the application. ASan / valgrind see any leak or bad access. */
  for (int round = 0; round < 3; round++) {
    pair_listener l;
    ck_assert_int_eq(pair_listen(PAIR_TCP, &l), NET_OK);
    tofu_engine *e = et_engine(4u << 20);
    tofu_group *g = et_group(e), *g2 = et_group(e);
    char addr[64];
    snprintf(addr, sizeof addr, "tcp|127.0.0.1|%u", (unsigned)l.port);
    tofu_message *m;
    uint16_t ch = et_post_hello(e, g, addr).channel;
    tofu_socket peer;
    ck_assert_int_eq(net_accept(l.sock, &peer), NET_OK);
    for (int i = 0; i < 60; i++) {
      m = et_msg(e, TOFU_OP_REQUEST, ch, 60000, (unsigned)i);
      et_post(g, &m);
    }
    for (int i = 0; i < 5; i++) {
      m = tofu_get(e, TOFU_ALWAYS);
      ck_assert_int_eq(tofu_post_timer(g2, &m, 100000), TOFU_OK);
      m = tofu_get(e, TOFU_ALWAYS);
      ck_assert_int_eq(tofu_update_receiver(g2, &m), TOFU_OK);
    }
    tofu_message *held = tofu_get(e, TOFU_ALWAYS);
    ck_assert_int_eq(tofu_msg_set_body(held, "held", 4), TOFU_OK);
    (void)held; /* freed by tofu_engine_destroy, as tofu.h allows */
    if (round == 1)
      tofu_group_destroy(g2);
    tofu_engine_destroy(e);
    /* The engine's end is closed: the peer reads what was sent, then the end
     * of the stream (or a reset), within the deadline. */
    uint64_t until = mono_now_ms() + ET_DEADLINE_MS;
    static uint8_t sink[65536];
    for (;;) {
      ptrdiff_t r = net_recv(peer, sink, sizeof sink);
      if (r == 0 || r == NET_ECONNRESET)
        break;
      ck_assert_msg(r > 0 || r == NET_EWOULDBLOCK, "recv: %s", net_strerror((int)r));
      ck_assert_msg(mono_now_ms() < until, "round %d: the peer's connection is still open", round);
      if (r == NET_EWOULDBLOCK)
        mono_sleep_ms(1);
    }
    net_close(peer);
    pair_unlisten(&l);
  }
}

void case_misuse_oversize(void) {
  tofu_engine *e = et_engine(1u << 20);
  tofu_group *g = et_group(e);
  tofu_message *m = tofu_get(e, TOFU_ALWAYS);
  static uint8_t big[TOFU_MAX_BODY + 2];
  ck_assert_int_eq(tofu_msg_set_body(m, big, TOFU_MAX_BODY + 1), TOFU_ELIMIT);
  ck_assert_int_eq(tofu_msg_set_headers(m, big, TOFU_MAX_TEXT_HEADERS + 1), TOFU_ELIMIT);
  ck_assert_int_eq(tofu_msg_set_body(m, big, TOFU_MAX_BODY), TOFU_OK);
  ck_assert_int_eq(tofu_msg_append_body(m, big, 1), TOFU_ELIMIT);
  size_t len;
  tofu_msg_body(m, &len);
  ck_assert_uint_eq(len, TOFU_MAX_BODY); /* unchanged on error */
  ck_assert_int_eq(tofu_msg_set_body(m, NULL, 5), TOFU_EINVAL);
  ck_assert_int_eq(tofu_msg_set_body(NULL, big, 5), TOFU_EINVAL);
  ck_assert_int_eq(tofu_msg_add_header(m, "", "v"), TOFU_EINVAL);
  ck_assert_int_eq(tofu_msg_add_header(m, "a:b", "v"), TOFU_EINVAL);
  ck_assert_int_eq(tofu_msg_add_header(m, "a", "v\r\n"), TOFU_EINVAL);
  ck_assert_int_eq(tofu_msg_add_header(m, NULL, "v"), TOFU_EINVAL);
  ck_assert_int_eq(tofu_msg_add_header(m, "a", NULL), TOFU_EINVAL);
  ck_assert_int_eq(tofu_msg_set_headers(m, big, TOFU_MAX_TEXT_HEADERS - 3), TOFU_OK);
  ck_assert_int_eq(tofu_msg_add_header(m, "a", "b"), TOFU_ELIMIT);
  ck_assert_int_eq(tofu_msg_copy(NULL, m), TOFU_EINVAL);
  /* The pool's hard limit: a second full message does not fit 1 MiB many
   * times over; the failure is ELIMIT, and the message is unchanged. */
  tofu_message *more[32];
  int n = 0, limited = 0;
  for (; n < 32; n++) {
    more[n] = tofu_get(e, TOFU_ALWAYS);
    if (!more[n]) {
      limited = 1;
      break;
    }
    int rc = tofu_msg_set_body(more[n], big, TOFU_MAX_BODY);
    if (rc != TOFU_OK) {
      ck_assert_int_eq(rc, TOFU_ELIMIT);
      tofu_msg_body(more[n], &len);
      ck_assert_uint_eq(len, 0);
      limited = 1;
      n++;
      break;
    }
  }
  ck_assert(limited);
  for (int i = 0; i < n; i++)
    tofu_put(e, &more[i]);
  /* Posting NULLs. */
  ck_assert_int_eq(tofu_post(g, NULL, NULL), TOFU_EINVAL);
  tofu_message *none = NULL;
  ck_assert_int_eq(tofu_post(g, &none, NULL), TOFU_EINVAL);
  ck_assert_int_eq(tofu_post(NULL, &m, NULL), TOFU_EINVAL);
  ck_assert_int_eq(tofu_post_timer(g, &m, -1), TOFU_EINVAL);
  ck_assert_ptr_nonnull(m);
  tofu_put(e, &m);
  tofu_group_destroy(g);
  et_assert_all_returned(e);
  tofu_engine_destroy(e);
}
