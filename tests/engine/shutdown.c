/* tofu — the engine conformance suite: the engine cannot be wedged by the
 * way an application shuts down or misuses a message. A destroy wakes the
 * threads waiting on what it destroys; a message put back to the pool
 * cannot be posted or changed through a stale pointer. */
#include <string.h>

#include "engine_state.h"
#include "suite.h"

/* ---- Destroy wakes its waiters --------------------------------------------- */

typedef enum wait_kind { WAIT_FOREVER, WAIT_BOUNDED, WAIT_REPLY } wait_kind;

typedef struct waiter {
  tofu_group *g;
  wait_kind kind;
  plat_thread t;
  int status;           /* what tofu_receive returned */
  tofu_message *got;    /* what it handed out (must be NULL) */
  atomic_int done;      /* the wait returned */
  uint64_t returned_ms; /* when */
} waiter;

static void waiter_main(void *arg) {
  waiter *w = arg;
  switch (w->kind) {
  case WAIT_FOREVER:
    w->status = tofu_receive(w->g, 0, -1, &w->got);
    break;
  case WAIT_BOUNDED:
    w->status = tofu_receive(w->g, 0, 5000, &w->got);
    break;
  case WAIT_REPLY:
    /* The quick form, for an id that never comes. */
    w->got = tofu_wait_reply(w->g, 123456789, 5000);
    w->status = w->got ? TOFU_OK : TOFU_ECLOSED;
    break;
  }
  w->returned_ms = mono_now_ms();
  atomic_store(&w->done, 1);
}

/* Start a waiter on g and return once it is inside its wait (the group's
 * mailbox counts it). */
static void waiter_start(waiter *w, tofu_group *g, wait_kind kind) {
  memset(w, 0, sizeof *w);
  w->g = g;
  w->kind = kind;
  atomic_init(&w->done, 0);
  ck_assert_int_eq(plat_thread_start(&w->t, waiter_main, w), TOFU_OK);
  uint64_t until = mono_now_ms() + ET_DEADLINE_MS;
  while (atomic_load(&g->mb.inside) == 0) {
    ck_assert_msg(mono_now_ms() < until, "the waiter never started waiting");
    plat_thread_yield();
  }
}

static void destroy_with_waiter(int whole_engine, wait_kind kind) {
  tofu_engine *e = et_engine(0);
  tofu_group *g = et_group(e);
  /* Something for the destroy to do: a listener and a queued message. */
  char bound[256];
  et_listen(e, g, "tcp|127.0.0.1|0", bound, sizeof bound);
  waiter w;
  waiter_start(&w, g, kind);
  uint64_t t0 = mono_now_ms();
  if (whole_engine)
    tofu_engine_destroy(e);
  else
    tofu_group_destroy(g);
  uint64_t destroyed = mono_now_ms();
  /* The wait has returned by the time the destroy does. */
  ck_assert_int_eq(atomic_load(&w.done), 1);
  plat_thread_join(&w.t);
  ck_assert_ptr_null(w.got);
  if (kind != WAIT_REPLY)
    ck_assert_msg(w.status == TOFU_ECLOSED, "the wait returned %s, not TOFU_ECLOSED",
                  tofu_strerror(w.status));
  ck_assert_uint_lt(destroyed - t0, 1000);
  ck_assert_uint_lt(w.returned_ms - t0, 1000);
  if (!whole_engine) {
    et_assert_all_returned(e);
    tofu_engine_destroy(e);
  }
}

void case_destroy_wakes_waiters(void) {
  destroy_with_waiter(0, WAIT_FOREVER);
  destroy_with_waiter(0, WAIT_BOUNDED);
  destroy_with_waiter(0, WAIT_REPLY);
}

void case_engine_destroy_wakes_waiters(void) {
  destroy_with_waiter(1, WAIT_FOREVER);
  destroy_with_waiter(1, WAIT_BOUNDED);
  destroy_with_waiter(1, WAIT_REPLY);
}

/* A wait that times out says so, and one on a live group hands its message. */
void case_receive_status(void) {
  tofu_engine *e = et_engine(0);
  tofu_group *g = et_group(e);
  tofu_message *m = (tofu_message *)1;
  ck_assert_int_eq(tofu_receive(g, 0, 0, &m), TOFU_ETIMEDOUT);
  ck_assert_ptr_null(m);
  ck_assert_int_eq(tofu_receive(g, 0, 20, &m), TOFU_ETIMEDOUT);
  ck_assert_int_eq(tofu_receive(NULL, 0, 0, &m), TOFU_EINVAL);
  ck_assert_int_eq(tofu_receive(g, 0, 0, NULL), TOFU_EINVAL);
  ck_assert_int_eq(tofu_update_receiver(g, NULL), TOFU_OK);
  ck_assert_int_eq(tofu_receive(g, 0, ET_DEADLINE_MS, &m), TOFU_OK);
  ck_assert_uint_eq(tofu_msg_header(m)->status, TOFU_STATUS_RECEIVER_UPDATE);
  tofu_put(e, &m);
  ck_assert_str_eq(tofu_strerror(TOFU_ECLOSED), "the group is being destroyed");
  tofu_group_destroy(g);
  et_assert_all_returned(e);
  tofu_engine_destroy(e);
}

/* ---- A message put back cannot be posted or changed -------------------- */

void case_post_after_put_refused(void) {
  tofu_engine *e = et_engine(0);
  tofu_group *g = et_group(e);
  char bound[256];
  uint16_t ch = et_listen(e, g, "tcp|127.0.0.1|0", bound, sizeof bound);
  tofu_engine_stats before = {.size = sizeof before};
  tofu_engine_get_stats(e, &before);

  tofu_message *live = tofu_get(e, TOFU_ALWAYS); /* taken first: a get after the put
                                                  * would hand the stale one out */
  tofu_message *m = et_msg(e, TOFU_OP_SIGNAL, ch, 8, 1);
  tofu_message *stale = m;
  tofu_put(e, &m);
  ck_assert_int_eq(tofu_post(g, &stale, NULL), TOFU_EINVAL);
  ck_assert_ptr_nonnull(stale); /* nothing taken */
  size_t posted = 9;
  ck_assert_int_eq(tofu_post_many(g, &stale, 1, NULL, &posted), TOFU_EINVAL);
  ck_assert_uint_eq(posted, 0);
  ck_assert_ptr_nonnull(stale);
  ck_assert_int_eq(tofu_post_timer(g, &stale, 0), TOFU_EINVAL);
  ck_assert_ptr_nonnull(stale);
  ck_assert_int_eq(tofu_update_receiver(g, &stale), TOFU_EINVAL);
  ck_assert_ptr_nonnull(stale);
  ck_assert_int_eq(tofu_msg_set_body(stale, "x", 1), TOFU_EINVAL);
  ck_assert_int_eq(tofu_msg_append_body(stale, "x", 1), TOFU_EINVAL);
  ck_assert_int_eq(tofu_msg_set_headers(stale, "a:b\r\n", 5), TOFU_EINVAL);
  ck_assert_int_eq(tofu_msg_add_header(stale, "a", "b"), TOFU_EINVAL);
  ck_assert_int_eq(tofu_msg_set_timeout(stale, 5), TOFU_EINVAL);
  ck_assert_int_eq(tofu_msg_copy(stale, live), TOFU_EINVAL);
  tofu_put(e, &live);

  /* Nothing came back to the group, and the pool's counts are true: every
   * message is free, the stale one once. */
  ck_assert_ptr_null(tofu_wait_receive(g, ET_QUIET_MS));
  tofu_engine_stats after = {.size = sizeof after};
  tofu_engine_get_stats(e, &after);
  ck_assert_uint_eq(after.messages_live, after.messages_free);
  ck_assert_uint_le(after.messages_live, before.messages_live + 2);
  /* The next get hands the message out once, as any free message. */
  tofu_message *a = tofu_get(e, TOFU_POOL_ONLY), *b = tofu_get(e, TOFU_POOL_ONLY);
  ck_assert_ptr_ne(a, b);
  tofu_put(e, &a);
  tofu_put(e, &b);
  tofu_group_destroy(g);
  et_assert_all_returned(e);
  tofu_engine_destroy(e);
}
