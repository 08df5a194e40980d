/* tofu — the engine suite: receiving, backpressure, timers and scale. */
#include <stdio.h>
#include <string.h>

#include "suite.h"

void case_wait_receive_timeout(void) {
  tofu_engine *e = et_engine(0);
  tofu_group *g = et_group(e);
  uint64_t t0 = mono_now_ms();
  ck_assert_ptr_null(tofu_wait_receive(g, 0));
  ck_assert_uint_lt(mono_now_ms() - t0, 100);
  t0 = mono_now_ms();
  ck_assert_ptr_null(tofu_wait_receive(g, 150));
  ck_assert_uint_ge(mono_now_ms() - t0, 150);
  ck_assert_ptr_null(tofu_wait_receive(NULL, 0));
  tofu_group_destroy(g);
  tofu_engine_destroy(e);
}

/* tofu_receive_many takes what is queued, oldest first, up to max; waits
 * only for the first; says timed out with nothing; and a receiver_update
 * notice it takes can be asked for again. */
void case_receive_many(void) {
  tofu_engine *e = et_engine(0);
  tofu_group *g = et_group(e);
  tofu_message *ms[8];
  size_t got = 99;
  ck_assert_int_eq(tofu_receive_many(NULL, ms, 8, 0, &got), TOFU_EINVAL);
  ck_assert_uint_eq(got, 0);
  ck_assert_int_eq(tofu_receive_many(g, NULL, 8, 0, &got), TOFU_EINVAL);
  ck_assert_int_eq(tofu_receive_many(g, ms, 0, 0, &got), TOFU_EINVAL);
  ck_assert_int_eq(tofu_receive_many(g, ms, 8, 0, NULL), TOFU_EINVAL);

  for (uint64_t id = 1; id <= 5; id++)
    et_queue_id(e, g, id);
  ck_assert_int_eq(tofu_receive_many(g, ms, 3, 0, &got), TOFU_OK);
  ck_assert_uint_eq(got, 3);
  for (size_t i = 0; i < got; i++) {
    ck_assert(tofu_msg_header(ms[i])->message_id == i + 1);
    tofu_put(e, &ms[i]);
  }
  /* Two left: both come at once, and the call does not wait for more. */
  uint64_t t0 = mono_now_ms();
  ck_assert_int_eq(tofu_receive_many(g, ms, 8, 5000, &got), TOFU_OK);
  ck_assert_uint_lt(mono_now_ms() - t0, et_bound_ms(1000));
  ck_assert_uint_eq(got, 2);
  for (size_t i = 0; i < got; i++) {
    ck_assert(tofu_msg_header(ms[i])->message_id == i + 4);
    tofu_put(e, &ms[i]);
  }
  got = 99;
  ck_assert_int_eq(tofu_receive_many(g, ms, 8, 0, &got), TOFU_ETIMEDOUT);
  ck_assert_uint_eq(got, 0);
  t0 = mono_now_ms();
  ck_assert_int_eq(tofu_receive_many(g, ms, 8, 100, &got), TOFU_ETIMEDOUT);
  ck_assert_uint_ge(mono_now_ms() - t0, 100);
  ck_assert_uint_eq(got, 0);

  /* A notice taken in a batch lets the next one be queued. */
  for (int round = 0; round < 2; round++) {
    ck_assert_int_eq(tofu_update_receiver(g, NULL), TOFU_OK);
    et_queue_id(e, g, 77);
    ck_assert_int_eq(tofu_receive_many(g, ms, 8, 0, &got), TOFU_OK);
    ck_assert_uint_eq(got, 2);
    ck_assert_uint_eq(tofu_msg_header(ms[0])->status, TOFU_STATUS_RECEIVER_UPDATE);
    ck_assert(tofu_msg_header(ms[1])->message_id == 77);
    tofu_put(e, &ms[0]);
    tofu_put(e, &ms[1]);
  }
  tofu_group_destroy(g);
  et_assert_all_returned(e);
  tofu_engine_destroy(e);
}

typedef struct updater {
  tofu_group *g;
  tofu_engine *e;
} updater;

static void update_thread(void *arg) {
  updater *u = arg;
  /* One notice, coalesced however often it is asked for... */
  for (int i = 0; i < 100; i++)
    tofu_update_receiver(u->g, NULL);
  /* ...and one message of our own. */
  tofu_message *m = tofu_get(u->e, TOFU_ALWAYS);
  tofu_msg_header(m)->message_id = 4242;
  tofu_update_receiver(u->g, &m);
}

void case_update_receiver_thread(void) {
  tofu_engine *e = et_engine(0);
  tofu_group *g = et_group(e);
  updater u = {g, e};
  plat_thread t;
  ck_assert_int_eq(plat_thread_start(&t, update_thread, &u), TOFU_OK);
  tofu_message *m = et_expect(g, TOFU_OP_SIGNAL, TOFU_ORIGIN_ENGINE, TOFU_STATUS_RECEIVER_UPDATE);
  tofu_put(e, &m);
  plat_thread_join(&t);
  m = et_recv(g);
  tofu_header *h = tofu_msg_header(m);
  if (h->status == TOFU_STATUS_RECEIVER_UPDATE) {
    /* asked again after the first was taken */
    tofu_put(e, &m);
    m = et_recv(g);
    h = tofu_msg_header(m);
  }
  ck_assert(h->message_id == 4242);
  tofu_put(e, &m);
  m = tofu_wait_receive(g, 0);
  if (m) {
    ck_assert_uint_eq(tofu_msg_header(m)->status, TOFU_STATUS_RECEIVER_UPDATE);
    tofu_put(e, &m);
  }
  ck_assert_ptr_null(tofu_wait_receive(g, 0));
  ck_assert_int_eq(tofu_update_receiver(NULL, NULL), TOFU_EINVAL);
  tofu_group_destroy(g);
  et_assert_all_returned(e);
  tofu_engine_destroy(e);
}

void case_app_timer(void) {
  tofu_engine *e = et_engine(0);
  tofu_group *g = et_group(e);
  uint64_t t0 = mono_now_ms();
  for (int i = 3; i >= 1; i--) {
    tofu_message *m = tofu_get(e, TOFU_ALWAYS);
    tofu_msg_header(m)->opcode = TOFU_OP_SIGNAL;
    tofu_msg_header(m)->message_id = (uint64_t)i;
    ck_assert_int_eq(tofu_post_timer(g, &m, i * 60), TOFU_OK);
    ck_assert_ptr_null(m);
  }
  for (uint64_t i = 1; i <= 3; i++) {
    tofu_message *m = et_expect(g, TOFU_OP_SIGNAL, TOFU_ORIGIN_APPLICATION, 0);
    ck_assert(tofu_msg_header(m)->message_id == i);
    ck_assert_uint_ge(mono_now_ms() - t0, i * 60);
    tofu_put(e, &m);
  }
  /* A timer of a group destroyed first is freed with it. */
  tofu_message *m = tofu_get(e, TOFU_ALWAYS);
  ck_assert_int_eq(tofu_post_timer(g, &m, 100000), TOFU_OK);
  ck_assert_int_eq(tofu_post_timer(g, &m, 1), TOFU_EINVAL);
  tofu_group_destroy(g);
  et_assert_all_returned(e);
  tofu_engine_destroy(e);
}

void case_backpressure_slow_receiver(void) {
  /* The server's pool holds about 60 messages of 4 KiB. */
  enum { N = 400, BODY = 4000 };
  tofu_engine *es = et_engine(64 * 4500);
  tofu_engine *ec = et_engine(0);
  tofu_group *gs = et_group(es), *gc = et_group(ec);
  char bound[256];
  et_listen(es, gs, "tcp|127.0.0.1|0", bound, sizeof bound);
  uint16_t cch, sch;
  et_connect(ec, gc, gs, es, bound, &cch, &sch);
  for (int i = 0; i < N; i++) {
    tofu_message *m = et_msg(ec, TOFU_OP_SIGNAL, cch, BODY, (unsigned)i);
    tofu_msg_header(m)->message_id = (uint64_t)i + 1;
    et_post(gc, &m);
  }
  /* Take messages without returning them until the engine says the pool is
   * empty. */
  static tofu_message *held[N];
  int nheld = 0, notices = 0;
  uint64_t next = 1;
  for (;;) {
    tofu_message *m = et_recv(gs);
    tofu_header *h = tofu_msg_header(m);
    if (h->origin == TOFU_ORIGIN_ENGINE) {
      ck_assert_uint_eq(h->status, TOFU_STATUS_POOL_EMPTY);
      ck_assert_uint_eq(h->channel, sch);
      notices++;
      tofu_put(es, &m);
      break;
    }
    ck_assert(h->message_id == next);
    ck_assert(et_body_ok(m, BODY, (unsigned)(next - 1)));
    next++;
    held[nheld++] = m;
  }
  ck_assert_int_lt(nheld, N);
  /* While nothing comes back the Reactor waits: no spinning, no more
   * notices, nothing delivered. */
  tofu_engine_stats s0 = {.size = sizeof s0}, s1 = {.size = sizeof s1};
  tofu_engine_get_stats(es, &s0);
  ck_assert_ptr_null(tofu_wait_receive(gs, ET_QUIET_MS));
  tofu_engine_get_stats(es, &s1);
  ck_assert_msg(s1.reactor_loops - s0.reactor_loops < 10, "Reactor ran %llu passes while paused",
                (unsigned long long)(s1.reactor_loops - s0.reactor_loops));
  ck_assert_uint_le(s1.memory_used, s1.memory_limit);
  ck_assert_uint_ge(s1.reads_paused, 1);
  /* Return them: reading resumes where it stopped, nothing lost or
   * reordered. */
  for (int i = 0; i < nheld; i++)
    tofu_put(es, &held[i]);
  while (next <= N) {
    tofu_message *m = et_recv(gs);
    tofu_header *h = tofu_msg_header(m);
    if (h->origin == TOFU_ORIGIN_ENGINE) {
      ck_assert_uint_eq(h->status, TOFU_STATUS_POOL_EMPTY);
      notices++;
    } else {
      ck_assert(h->message_id == next);
      ck_assert(et_body_ok(m, BODY, (unsigned)(next - 1)));
      next++;
    }
    tofu_put(es, &m);
  }
  tofu_group_destroy(gc);
  tofu_group_destroy(gs);
  et_assert_all_returned(es);
  et_assert_all_returned(ec);
  tofu_engine_destroy(ec);
  tofu_engine_destroy(es);
}

void case_many_groups_channels(void) {
  enum { GROUPS = 8, PER = 25, ROUNDS = 4 };
  tofu_engine *es = et_engine(0), *ec = et_engine(0);
  tofu_group *gs = et_group(es);
  char bound[256];
  et_listen(es, gs, "tcp|127.0.0.1|0", bound, sizeof bound);
  tofu_group *gc[GROUPS];
  uint16_t cch[GROUPS][PER];
  for (int g = 0; g < GROUPS; g++) {
    gc[g] = et_group(ec);
    for (int c = 0; c < PER; c++) {
      uint16_t sch;
      et_connect(ec, gc[g], gs, es, bound, &cch[g][c], &sch);
    }
  }
  tofu_engine_stats st = {.size = sizeof st};
  tofu_engine_get_stats(es, &st);
  ck_assert_uint_eq(st.channels, 1 + GROUPS * PER);
  for (int r = 0; r < ROUNDS; r++) {
    for (int g = 0; g < GROUPS; g++)
      for (int c = 0; c < PER; c++) {
        tofu_message *m = et_msg(ec, TOFU_OP_REQUEST, cch[g][c], 64, (unsigned)(g * PER + c));
        et_post(gc[g], &m);
      }
    /* The server echoes everything. */
    for (int i = 0; i < GROUPS * PER; i++) {
      tofu_message *m = et_expect(gs, TOFU_OP_REQUEST, TOFU_ORIGIN_APPLICATION, 0);
      tofu_msg_header(m)->opcode = TOFU_OP_RESPONSE;
      et_post(gs, &m);
    }
    /* Each group gets exactly its own answers. */
    for (int g = 0; g < GROUPS; g++) {
      for (int c = 0; c < PER; c++) {
        tofu_message *m = et_expect(gc[g], TOFU_OP_RESPONSE, TOFU_ORIGIN_APPLICATION, 0);
        uint16_t ch = tofu_msg_header(m)->channel;
        int k = 0;
        while (k < PER && cch[g][k] != ch)
          k++;
        ck_assert_int_lt(k, PER);
        ck_assert(et_body_ok(m, 64, (unsigned)(g * PER + k)));
        tofu_put(ec, &m);
      }
    }
  }
  /* Destroying a client group closes its channels; the server sees each go. */
  for (int g = 0; g < GROUPS; g++)
    tofu_group_destroy(gc[g]);
  for (int i = 0; i < GROUPS * PER; i++) {
    tofu_message *m = et_expect(gs, TOFU_OP_SIGNAL, TOFU_ORIGIN_ENGINE, TOFU_STATUS_CHANNEL_CLOSED);
    tofu_put(es, &m);
  }
  tofu_group_destroy(gs);
  et_assert_all_returned(es);
  et_assert_all_returned(ec);
  tofu_engine_destroy(ec);
  tofu_engine_destroy(es);
}
