/* tofu — the engine suite: posting a batch at once (tofu_post_many). */
#include <string.h>

#include "suite.h"

enum { BATCH_N = 64 };

/* Receive n Requests on gs in order, with the ids and bodies posted, and
 * answer them all with one tofu_post_many. */
static void echo_batch(tofu_group *gs, const uint64_t *ids, int n, int first_seed, uint16_t sch) {
  tofu_message *answers[BATCH_N];
  for (int i = 0; i < n; i++) {
    tofu_message *m = et_expect(gs, TOFU_OP_REQUEST, TOFU_ORIGIN_APPLICATION, TOFU_STATUS_SUCCESS);
    tofu_header *h = tofu_msg_header(m);
    ck_assert_uint_eq(h->channel, sch);
    ck_assert_msg(h->message_id == ids[i], "request %d out of order (id %llu, want %llu)", i,
                  (unsigned long long)h->message_id, (unsigned long long)ids[i]);
    ck_assert(et_body_ok(m, (size_t)(first_seed + i) * 13, (unsigned)(first_seed + i)));
    h->opcode = TOFU_OP_RESPONSE;
    answers[i] = m;
  }
  size_t posted = 99;
  ck_assert_int_eq(tofu_post_many(gs, answers, (size_t)n, NULL, &posted), TOFU_OK);
  ck_assert_uint_eq(posted, (size_t)n);
  for (int i = 0; i < n; i++)
    ck_assert_ptr_null(answers[i]);
}

void case_post_many(void) {
  tofu_engine *es = et_engine(0), *ec = et_engine(0);
  tofu_group *gs = et_group(es), *gc = et_group(ec);
  char bound[256];
  et_listen(es, gs, "tcp|127.0.0.1|0", bound, sizeof bound);
  uint16_t cch, sch;
  et_connect(ec, gc, gs, es, bound, &cch, &sch);

  /* A whole batch: posted in its order, every entry cleared, every header
   * out as tofu_post gives it; the answers come back in order. */
  tofu_message *msgs[BATCH_N];
  tofu_header out[BATCH_N];
  uint64_t ids[BATCH_N];
  for (int i = 0; i < BATCH_N; i++)
    msgs[i] = et_msg(ec, TOFU_OP_REQUEST, cch, (size_t)i * 13, (unsigned)i);
  size_t posted = 0;
  memset(out, 0, sizeof out);
  ck_assert_int_eq(tofu_post_many(gc, msgs, BATCH_N, out, &posted), TOFU_OK);
  ck_assert_uint_eq(posted, BATCH_N);
  for (int i = 0; i < BATCH_N; i++) {
    ck_assert_ptr_null(msgs[i]);
    ck_assert_uint_eq(out[i].channel, cch);
    ck_assert_uint_eq(out[i].opcode, TOFU_OP_REQUEST);
    ck_assert_uint_eq(out[i].origin, TOFU_ORIGIN_APPLICATION);
    ck_assert(out[i].message_id != 0);
    ck_assert(i == 0 || out[i].message_id != out[i - 1].message_id);
    ids[i] = out[i].message_id;
  }
  echo_batch(gs, ids, BATCH_N, 0, sch);
  for (int i = 0; i < BATCH_N; i++) {
    tofu_message *m = et_expect(gc, TOFU_OP_RESPONSE, TOFU_ORIGIN_APPLICATION, TOFU_STATUS_SUCCESS);
    ck_assert(tofu_msg_header(m)->message_id == ids[i]);
    ck_assert(et_body_ok(m, (size_t)i * 13, (unsigned)i));
    tofu_put(ec, &m);
  }

  /* A refused message ends the batch: the ones before it are posted, it
   * keeps its status byte, the ones after it are untouched. */
  enum { K = 5, BAD = 2 };
  tofu_message *part[K];
  for (int i = 0; i < K; i++)
    part[i] = et_msg(ec, TOFU_OP_REQUEST, cch, (size_t)(100 + i) * 13, (unsigned)(100 + i));
  tofu_message *bad = part[BAD], *after[K];
  tofu_msg_header(bad)->opcode = 12;
  for (int i = BAD + 1; i < K; i++)
    after[i] = part[i];
  ck_assert_int_eq(tofu_post_many(gc, part, K, out, &posted), TOFU_EMESSAGE);
  ck_assert_uint_eq(posted, BAD);
  for (int i = 0; i < BAD; i++)
    ck_assert_ptr_null(part[i]);
  ck_assert_ptr_eq(part[BAD], bad);
  ck_assert_uint_eq(tofu_msg_header(bad)->status, TOFU_STATUS_INVALID_OP_CODE);
  for (int i = BAD + 1; i < K; i++) {
    ck_assert_ptr_eq(part[i], after[i]);
    tofu_header *h = tofu_msg_header(part[i]);
    ck_assert_msg(h->message_id == 0 && h->status == 0 && h->origin == 0,
                  "message %d after the refused one was changed", i);
  }
  /* Only the posted prefix travels: its answers, and nothing else. */
  uint64_t pids[BAD];
  for (int i = 0; i < BAD; i++)
    pids[i] = out[i].message_id;
  echo_batch(gs, pids, BAD, 100, sch);
  for (int i = 0; i < BAD; i++) {
    tofu_message *m = et_expect(gc, TOFU_OP_RESPONSE, TOFU_ORIGIN_APPLICATION, TOFU_STATUS_SUCCESS);
    ck_assert(tofu_msg_header(m)->message_id == pids[i]);
    tofu_put(ec, &m);
  }
  ck_assert_ptr_null(tofu_wait_receive(gs, ET_QUIET_MS));
  /* The rest can be posted as they are once the refused one is fixed. */
  tofu_msg_header(bad)->opcode = TOFU_OP_REQUEST;
  ck_assert_int_eq(tofu_post_many(gc, part + BAD, K - BAD, out, &posted), TOFU_OK);
  ck_assert_uint_eq(posted, K - BAD);
  uint64_t rids[K - BAD];
  for (int i = 0; i < K - BAD; i++)
    rids[i] = out[i].message_id;
  echo_batch(gs, rids, K - BAD, 100 + BAD, sch);
  for (int i = 0; i < K - BAD; i++) {
    tofu_message *m = et_expect(gc, TOFU_OP_RESPONSE, TOFU_ORIGIN_APPLICATION, TOFU_STATUS_SUCCESS);
    ck_assert(tofu_msg_header(m)->message_id == out[i].message_id);
    tofu_put(ec, &m);
  }

  /* A NULL entry ends the batch as a refusal does, with TOFU_EINVAL. */
  tofu_message *holes[3] = {et_msg(ec, TOFU_OP_SIGNAL, cch, 1, 7), NULL,
                            et_msg(ec, TOFU_OP_SIGNAL, cch, 1, 8)};
  tofu_message *third = holes[2];
  ck_assert_int_eq(tofu_post_many(gc, holes, 3, NULL, &posted), TOFU_EINVAL);
  ck_assert_uint_eq(posted, 1);
  ck_assert_ptr_null(holes[0]);
  ck_assert_ptr_eq(holes[2], third);
  tofu_message *m = et_expect(gs, TOFU_OP_SIGNAL, TOFU_ORIGIN_APPLICATION, TOFU_STATUS_SUCCESS);
  ck_assert(et_body_ok(m, 1, 7));
  tofu_put(es, &m);
  tofu_put(ec, &third);

  /* Arguments. */
  tofu_message *one = et_msg(ec, TOFU_OP_SIGNAL, cch, 0, 0);
  posted = 99;
  ck_assert_int_eq(tofu_post_many(NULL, &one, 1, NULL, &posted), TOFU_EINVAL);
  ck_assert_uint_eq(posted, 0);
  ck_assert_ptr_nonnull(one);
  ck_assert_int_eq(tofu_post_many(gc, NULL, 1, NULL, NULL), TOFU_EINVAL);
  ck_assert_int_eq(tofu_post_many(gc, NULL, 0, NULL, &posted), TOFU_OK);
  ck_assert_uint_eq(posted, 0);
  ck_assert_int_eq(tofu_post_many(gc, &one, 0, NULL, NULL), TOFU_OK);
  ck_assert_ptr_nonnull(one); /* n == 0: nothing posted */
  tofu_put(ec, &one);
  ck_assert_ptr_null(tofu_wait_receive(gs, ET_QUIET_MS));

  tofu_group_destroy(gc);
  tofu_group_destroy(gs);
  et_assert_all_returned(ec);
  et_assert_all_returned(es);
  tofu_engine_destroy(ec);
  tofu_engine_destroy(es);
}
