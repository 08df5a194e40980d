/* tofu — the engine suite: bodies received into read blocks (pool.h), left
 * where they were read and bound to their messages until put back. */
#include <stdio.h>
#include <string.h>

#include "suite.h"

/* A wave of signals: more bytes than one read block holds, so that a wave
 * fills several and the next wave is read while the first is still held. */
enum { WAVE = 400, BODY = 1000 };

typedef struct blk_site {
  tofu_engine *es, *ec;
  tofu_group *gs, *gc;
  uint16_t cch, sch;
} blk_site;

static void blk_open(blk_site *p, size_t server_memory) {
  p->es = et_engine(server_memory);
  p->ec = et_engine(0);
  p->gs = et_group(p->es);
  p->gc = et_group(p->ec);
  char bound[256];
  et_listen(p->es, p->gs, "tcp|127.0.0.1|0", bound, sizeof bound);
  et_connect(p->ec, p->gc, p->gs, p->es, bound, &p->cch, &p->sch);
}

static tofu_engine_stats stats_of(tofu_engine *e) {
  tofu_engine_stats s = {.size = sizeof s};
  ck_assert_int_eq(tofu_engine_get_stats(e, &s), TOFU_OK);
  return s;
}

/* Every message of the server is back once its Reactor has put what it
 * wrote (the peer may have read it a moment before). */
static void blk_close(blk_site *p) {
  tofu_group *idle = et_group(p->es);
  tofu_engine_stats s = stats_of(p->es);
  for (uint64_t waited = 0;
       s.messages_live != s.messages_free && waited < et_bound_ms(ET_DEADLINE_MS); waited += 5) {
    ck_assert_ptr_null(tofu_wait_receive(idle, 5));
    s = stats_of(p->es);
  }
  et_assert_all_returned(p->es);
  tofu_engine_destroy(p->ec);
  tofu_engine_destroy(p->es);
}

/* Send n signals from the client, one post each, bodies of len bytes seeded
 * first + i. */
static void send_wave(blk_site *p, int n, size_t len, unsigned first) {
  for (int i = 0; i < n; i++) {
    tofu_message *m = et_msg(p->ec, TOFU_OP_SIGNAL, p->cch, len, first + (unsigned)i);
    et_post(p->gc, &m);
  }
}

/* Receive n signals on the server, in order, each with its body. */
static void recv_wave(blk_site *p, tofu_message **held, int n, size_t len, unsigned first) {
  for (int i = 0; i < n; i++) {
    held[i] = et_expect(p->gs, TOFU_OP_SIGNAL, TOFU_ORIGIN_APPLICATION, TOFU_STATUS_SUCCESS);
    ck_assert_msg(et_body_ok(held[i], len, first + (unsigned)i), "signal %d arrived changed", i);
  }
}

/* Wait (on an idle group, with a deadline) until every block of e is free:
 * nothing is bound to any, and the Reactor, parked, holds none. (A Reactor
 * that parked while bodies were bound to its block holds it until it next
 * parks with nothing bound, or until a channel waits for memory.) */
static tofu_engine_stats blocks_settle(tofu_engine *e, tofu_group *idle) {
  uint64_t until = et_bound_ms(ET_DEADLINE_MS);
  tofu_engine_stats s = stats_of(e);
  for (uint64_t waited = 0; s.memory_blocks_free != s.memory_blocks && waited < until;
       waited += 5) {
    ck_assert_ptr_null(tofu_wait_receive(idle, 5));
    s = stats_of(e);
  }
  return s;
}

/* Bodies held by the application stay as they came while the Reactor reads
 * a second wave: a block with bodies bound to it is never read into again
 * where they are. Held, the first wave keeps its blocks in use; put back,
 * every block comes free and stays charged for reuse, within the limit. */
void case_blocks_held_bodies_stay(void) {
  blk_site p;
  blk_open(&p, 0);
  static tofu_message *first[WAVE], *second[WAVE];
  send_wave(&p, WAVE, BODY, 1);
  recv_wave(&p, first, WAVE, BODY, 1);
  tofu_engine_stats s = stats_of(p.es);
  printf("after a wave of %d x %d bytes: %zu bytes in read blocks, %zu free\n", WAVE, BODY,
         s.memory_blocks, s.memory_blocks_free);
  /* 400 KB of frames cannot be in fewer than four 128 KiB blocks, and the
   * ones holding the wave are not free. */
  ck_assert_uint_ge(s.memory_blocks, (size_t)WAVE * BODY);
  ck_assert_uint_ge(s.memory_blocks - s.memory_blocks_free, (size_t)WAVE * BODY);
  ck_assert_uint_le(s.memory_used, s.memory_limit);

  send_wave(&p, WAVE, BODY, 5000);
  recv_wave(&p, second, WAVE, BODY, 5000);
  for (int i = 0; i < WAVE; i++) {
    ck_assert_msg(et_body_ok(first[i], BODY, 1 + (unsigned)i),
                  "held signal %d was overwritten by the second wave", i);
    tofu_put(p.es, &first[i]);
  }
  for (int i = 0; i < WAVE; i++)
    tofu_put(p.es, &second[i]);
  /* The Reactor parked while the bodies were held; it lets go of its block
   * when it next parks with nothing bound to it: after one more frame. */
  send_wave(&p, 1, 0, 0);
  recv_wave(&p, second, 1, 0, 0);
  tofu_put(p.es, &second[0]);
  tofu_group *idle = et_group(p.es);
  s = blocks_settle(p.es, idle);
  ck_assert_msg(s.memory_blocks_free == s.memory_blocks, "%zu of %zu block bytes still in use",
                s.memory_blocks - s.memory_blocks_free, s.memory_blocks);
  ck_assert_uint_gt(s.memory_blocks, 0);
  blk_close(&p);
}

/* A received body is the application's to change: written in place (no
 * copy, the same bytes go back out), made shorter in place, grown (moved to
 * the message's own buffer with what it held), copied. Each change reaches
 * the peer as made. */
void case_blocks_body_changes(void) {
  blk_site p;
  blk_open(&p, 0);
  tofu_message *m[4];
  send_wave(&p, 4, BODY, 7);
  recv_wave(&p, m, 4, BODY, 7);

  /* In place: every byte rewritten through tofu_msg_body_mut. */
  size_t len = 0;
  uint8_t *b = tofu_msg_body_mut(m[0], &len);
  ck_assert_uint_eq(len, BODY);
  for (size_t i = 0; i < len; i++)
    b[i] = (uint8_t)(255 - i % 251);
  /* Shorter, in place. */
  static const char shorter[] = "shorter than it was";
  ck_assert_int_eq(tofu_msg_set_body(m[1], shorter, sizeof shorter), TOFU_OK);
  /* Grown: what it held, then what was appended. */
  static uint8_t tail[3000];
  memset(tail, 't', sizeof tail);
  ck_assert_int_eq(tofu_msg_append_body(m[2], tail, sizeof tail), TOFU_OK);
  /* Copied into a message of the server's pool. */
  tofu_message *copy = tofu_get(p.es, TOFU_ALWAYS);
  ck_assert_ptr_nonnull(copy);
  ck_assert_int_eq(tofu_msg_copy(copy, m[3]), TOFU_OK);
  tofu_put(p.es, &m[3]);

  tofu_message *back[4] = {m[0], m[1], m[2], copy};
  for (int i = 0; i < 4; i++) {
    tofu_header *h = tofu_msg_header(back[i]);
    h->channel = p.sch;
    h->opcode = TOFU_OP_SIGNAL;
    et_post(p.gs, &back[i]);
  }
  tofu_message *r[4];
  for (int i = 0; i < 4; i++)
    r[i] = et_expect(p.gc, TOFU_OP_SIGNAL, TOFU_ORIGIN_APPLICATION, TOFU_STATUS_SUCCESS);
  const uint8_t *rb = tofu_msg_body(r[0], &len);
  ck_assert_uint_eq(len, BODY);
  for (size_t i = 0; i < len; i++)
    ck_assert_msg(rb[i] == (uint8_t)(255 - i % 251), "byte %zu written in place went out as %u", i,
                  rb[i]);
  rb = tofu_msg_body(r[1], &len);
  ck_assert_uint_eq(len, sizeof shorter);
  ck_assert_mem_eq(rb, shorter, sizeof shorter);
  rb = tofu_msg_body(r[2], &len);
  ck_assert_uint_eq(len, BODY + sizeof tail);
  tofu_message *want = et_msg(p.ec, TOFU_OP_SIGNAL, 0, BODY, 9);
  size_t wl;
  const uint8_t *wb = tofu_msg_body(want, &wl);
  ck_assert_mem_eq(rb, wb, BODY);
  ck_assert_mem_eq(rb + BODY, tail, sizeof tail);
  tofu_put(p.ec, &want);
  ck_assert(et_body_ok(r[3], BODY, 10));
  for (int i = 0; i < 4; i++)
    tofu_put(p.ec, &r[i]);
  blk_close(&p);
}

/* With a limit too small for a read block, the Reactor reads through its
 * own buffer and copies, as it always could: every body arrives, and no
 * block is charged. */
void case_blocks_not_within_small_limit(void) {
  blk_site p;
  blk_open(&p, 96 * 1024);
  static tofu_message *held[WAVE];
  for (int round = 0; round < 4; round++) {
    send_wave(&p, 32, BODY, 100u * (unsigned)round);
    recv_wave(&p, held, 32, BODY, 100u * (unsigned)round);
    for (int i = 0; i < 32; i++)
      tofu_put(p.es, &held[i]);
  }
  tofu_engine_stats s = stats_of(p.es);
  ck_assert_uint_eq(s.memory_blocks, 0);
  ck_assert_uint_le(s.memory_used, s.memory_limit);
  blk_close(&p);
}
