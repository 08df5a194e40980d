/* tofu — the reliability suite: the hand-off between application threads and
 * the Reactor. Waits may stay runnable for a moment before they park (a few
 * yields), but an engine with nothing to do must cost nothing; and a batch
 * posted with tofu_post_many wakes the Reactor at most once. */
#include <stdio.h>
#include <string.h>

#include "suite.h"

/* How long the idle engines are watched, and the most CPU they may use in
 * that time: 1 % of one core. */
#define IDLE_WATCH_MS 1000
#define IDLE_MAX_SHARE 0.01
/* Reactor passes allowed in the watch (a due connect timer makes one); an
 * engine that polls or spins would make thousands. */
#define IDLE_MAX_PASSES 10

typedef struct waiter {
  tofu_group *g;
  tofu_message *got;
} waiter;

static void waiter_main(void *arg) {
  waiter *w = arg;
  w->got = tofu_wait_receive(w->g, -1);
}

static uint64_t passes(tofu_engine *e) {
  tofu_engine_stats s = {.size = sizeof s};
  ck_assert_int_eq(tofu_engine_get_stats(e, &s), TOFU_OK);
  return s.reactor_loops;
}

void case_idle_engine_cpu(void) {
  tofu_engine *es = et_engine(0), *ec = et_engine(0);
  tofu_group *gs = et_group(es), *gc = et_group(ec), *gw = et_group(ec);
  char bound[256];
  et_listen(es, gs, "tcp|127.0.0.1|0", bound, sizeof bound);
  uint16_t cch, sch;
  et_connect(ec, gc, gs, es, bound, &cch, &sch);
  /* An application thread blocked in a receive without a limit, for the
   * whole watch. */
  waiter w = {gw, NULL};
  plat_thread t;
  ck_assert_int_eq(plat_thread_start(&t, waiter_main, &w), TOFU_OK);
  /* Traffic right up to the watch: the engines go idle from busy, so any
   * wait that stays runnable before it parks is inside the measure. */
  for (unsigned i = 0; i < 200; i++)
    rel_echo_once(ec, gc, cch, es, gs, i);

  uint64_t p0 = passes(es) + passes(ec);
  double cpu0 = rel_cpu_seconds();
  mono_sleep_ms(IDLE_WATCH_MS);
  double cpu = rel_cpu_seconds() - cpu0;
  uint64_t loops = passes(es) + passes(ec) - p0;
  double share = cpu / (IDLE_WATCH_MS / 1000.0);
  printf("idle_engine_cpu: two engines, one connection, a listener and a blocked receiver: %.5f s "
         "of CPU and %llu Reactor passes in %d ms (%.3f %% of a core)\n",
         cpu, (unsigned long long)loops, IDLE_WATCH_MS, share * 100.0);
  rel_figure("idle_cpu_percent_of_core", share * 100.0);
  ck_assert_msg(share < IDLE_MAX_SHARE, "idle engines used %.3f %% of a core (limit %.1f %%)",
                share * 100.0, IDLE_MAX_SHARE * 100.0);
  ck_assert_msg(loops <= IDLE_MAX_PASSES, "%llu Reactor passes in %d ms with nothing to do",
                (unsigned long long)loops, IDLE_WATCH_MS);

  /* Still working: the blocked receiver wakes, the connection echoes. */
  ck_assert_int_eq(tofu_update_receiver(gw, NULL), TOFU_OK);
  plat_thread_join(&t);
  ck_assert_ptr_nonnull(w.got);
  ck_assert_uint_eq(tofu_msg_header(w.got)->status, TOFU_STATUS_RECEIVER_UPDATE);
  tofu_put(ec, &w.got);
  rel_echo_once(ec, gc, cch, es, gs, 999);
  tofu_group_destroy(gw);
  tofu_group_destroy(gc);
  tofu_group_destroy(gs);
  et_assert_all_returned(ec);
  et_assert_all_returned(es);
  tofu_engine_destroy(ec);
  tofu_engine_destroy(es);
}

void case_post_many_one_notify(void) {
  enum { ROUNDS = 20, N = 100, NOWHERE = 4321 };
  tofu_engine *e = et_engine(0);
  tofu_group *g = et_group(e);
  uint64_t most = 0, all = 0;
  for (unsigned r = 0; r < ROUNDS; r++) {
    tofu_message *msgs[N];
    for (unsigned i = 0; i < N; i++)
      msgs[i] = et_msg(e, TOFU_OP_SIGNAL, NOWHERE, 8, r * N + i);
    uint64_t n0 = faults_notify_count();
    size_t posted = 0;
    ck_assert_int_eq(tofu_post_many(g, msgs, N, NULL, &posted), TOFU_OK);
    uint64_t made = faults_notify_count() - n0;
    ck_assert_uint_eq(posted, N);
    ck_assert_msg(made <= 1, "round %u: one batch of %d posts made %llu notifies", r, N,
                  (unsigned long long)made);
    most = made > most ? made : most;
    all += made;
    /* Every one comes back (no such channel), in the order posted. */
    for (unsigned i = 0; i < N; i++) {
      tofu_message *m =
          et_expect(g, TOFU_OP_SIGNAL, TOFU_ORIGIN_ENGINE, TOFU_STATUS_INVALID_CHANNEL_NUMBER);
      ck_assert_msg(et_body_ok(m, 8, r * N + i), "round %u: message %u out of order", r, i);
      tofu_put(e, &m);
    }
  }
  printf("post_many_one_notify: %d batches of %d posts made %llu notifies (at most %llu each)\n",
         ROUNDS, N, (unsigned long long)all, (unsigned long long)most);
  tofu_group_destroy(g);
  et_assert_all_returned(e);
  tofu_engine_destroy(e);
}
