/* tofu — the reliability suite: a Reactor whose poller cannot wait. Every
 * wait fails (the fault backend's waitfail): the Reactor must back off
 * instead of spinning, count the failures, tell every group once, and work
 * again as soon as the poller does. */
#include <stdio.h>
#include <string.h>

#include "suite.h"

/* How long the Reactor's pass rate is watched, and the most passes allowed
 * in it. Backing off from 1 ms to 100 ms makes about 13 passes in the first
 * 500 ms; without a back-off it would be hundreds of thousands. */
#define WATCH_MS 500
#define WATCH_MAX_LOOPS 40

void case_faults_wait_fails(void) {
  tofu_engine *e = et_engine(0);
  tofu_group *g1 = et_group(e), *g2 = et_group(e);
  fault_plan plan;
  memset(&plan, 0, sizeof plan);
  plan.seed = 1;
  plan.waitfail = 1000;
  faults_start(&plan);
  /* The Reactor may be blocked in a wait that started before the plan: a
   * post wakes it, and its next waits fail. */
  tofu_message *m = tofu_get(e, TOFU_ALWAYS);
  ck_assert_int_eq(tofu_post_timer(g1, &m, 0), TOFU_OK);

  /* Both groups hear of it, once each. */
  tofu_group *gs[2] = {g1, g2};
  for (int i = 0; i < 2; i++) {
    for (;;) {
      m = et_recv(gs[i]);
      tofu_header *h = tofu_msg_header(m);
      if (h->opcode == TOFU_OP_SIGNAL && h->origin == TOFU_ORIGIN_ENGINE &&
          h->status == TOFU_STATUS_COMMUNICATION_FAILED) {
        tofu_put(e, &m);
        break;
      }
      ck_assert_msg(h->origin == TOFU_ORIGIN_APPLICATION && i == 0, "group %d: unexpected %s %s", i,
                    tofu_opcode_name(h->opcode),
                    tofu_status_name(h->status)); /* only g1's own timer message */
      tofu_put(e, &m);
    }
  }

  /* Backing off: few passes in WATCH_MS, every one a failure counted. */
  tofu_engine_stats s0 = {.size = sizeof s0}, s1 = {.size = sizeof s1};
  tofu_engine_get_stats(e, &s0);
  ck_assert_uint_ge(s0.wait_failures, 8);
  double cpu0 = rel_cpu_seconds();
  mono_sleep_ms(WATCH_MS);
  double cpu = rel_cpu_seconds() - cpu0;
  tofu_engine_get_stats(e, &s1);
  uint64_t loops = s1.reactor_loops - s0.reactor_loops;
  printf("faults_wait_fails: %llu Reactor passes and %.4f s of CPU in %d ms with every wait "
         "failing (%llu failures in all)\n",
         (unsigned long long)loops, cpu, WATCH_MS, (unsigned long long)s1.wait_failures);
  rel_figure("wait_fails_cpu_ms_per_s", cpu / (WATCH_MS / 1000.0) * 1000.0);
  ck_assert_msg(loops <= WATCH_MAX_LOOPS, "%llu passes in %d ms: the Reactor spins",
                (unsigned long long)loops, WATCH_MS);
  /* Below 5 % of a core (the process's CPU: this thread sleeps meanwhile). */
  ck_assert_msg(cpu < 0.05 * (WATCH_MS / 1000.0), "%.4f s of CPU in %d ms", cpu, WATCH_MS);
  ck_assert_uint_ge(s1.wait_failures, s0.wait_failures + (loops > 0 ? loops - 1 : 0));
  ck_assert_ptr_null(tofu_wait_receive(g1, 0)); /* told once per episode, not per failure */
  ck_assert_ptr_null(tofu_wait_receive(g2, 0));

  /* The poller works again: so does the engine (a timer fires). */
  faults_stop();
  m = tofu_get(e, TOFU_ALWAYS);
  tofu_msg_header(m)->message_id = 77;
  ck_assert_int_eq(tofu_post_timer(g2, &m, 0), TOFU_OK);
  m = et_recv(g2);
  ck_assert(tofu_msg_header(m)->message_id == 77);
  tofu_put(e, &m);

  /* A second episode starts counting afresh: the groups are told again,
   * after as many failures in a row as the first time (8), not fewer. The
   * Reactor sleeps 100 ms after the failure that told them, so the count
   * read as soon as both heard is that failure's. */
  ck_assert_int_eq(tofu_engine_get_stats(e, &s0), TOFU_OK);
  plan.seed = 2;
  faults_start(&plan);
  m = tofu_get(e, TOFU_ALWAYS);
  ck_assert_int_eq(tofu_post_timer(g1, &m, 0), TOFU_OK);
  for (int i = 0; i < 2; i++) {
    for (;;) {
      m = et_recv(gs[i]);
      int told = tofu_msg_header(m)->status == TOFU_STATUS_COMMUNICATION_FAILED &&
                 tofu_msg_header(m)->origin == TOFU_ORIGIN_ENGINE;
      tofu_put(e, &m);
      if (told)
        break;
    }
  }
  ck_assert_int_eq(tofu_engine_get_stats(e, &s1), TOFU_OK);
  faults_stop();
  ck_assert_msg(s1.wait_failures - s0.wait_failures >= 8,
                "the second episode told the groups after %llu failures",
                (unsigned long long)(s1.wait_failures - s0.wait_failures));
  m = tofu_get(e, TOFU_ALWAYS);
  tofu_msg_header(m)->message_id = 78;
  ck_assert_int_eq(tofu_post_timer(g2, &m, 0), TOFU_OK);
  m = et_recv(g2);
  ck_assert(tofu_msg_header(m)->message_id == 78);
  tofu_put(e, &m);
  tofu_group_destroy(g1);
  tofu_group_destroy(g2);
  et_assert_all_returned(e);
  tofu_engine_destroy(e);
}
