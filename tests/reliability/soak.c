/* tofu — the reliability suite: the soak.
 *
 * soak: random connect / exchange / disconnect for TOFU_REL_SOAK_SECONDS
 * (short by default; ci/soak.sh runs the long form); memory, pool and
 * descriptors must come back to their start values. */
#include <stdio.h>
#include <string.h>

#include "suite.h"

#define SOAK_MAX_OPEN 40

/* Under a sanitizer (or valgrind: TOFU_REL_NO_RSS_CHECK=1) freed memory is
 * held in quarantine, so RSS says nothing about leaks; the sanitizer's own
 * leak check does (REL_SANITIZED: suite.h). */

void case_soak(void) {
  long seconds = rel_env("TOFU_REL_SOAK_SECONDS", 5);
  int fds0 = rel_open_fds();
  tofu_engine *es = et_engine(8u << 20), *ec = et_engine(8u << 20);
  tofu_group *gs = et_group(es), *gc = et_group(ec);
  char bound[256];
  et_listen(es, gs, "tcp|127.0.0.1|0", bound, sizeof bound);
  rel_echo_server srv;
  memset(&srv, 0, sizeof srv);
  srv.e = es;
  srv.g = gs;
  plat_thread thr;
  ck_assert_int_eq(plat_thread_start(&thr, rel_echo_main, &srv), TOFU_OK);

  uint16_t open[SOAK_MAX_OPEN];
  int nopen = 0;
  long cycles = 0, connects = 0, exchanged = 0, closes = 0;
  long rss_warm = 0;
  uint64_t rng = 88172645463325252ull;
  uint64_t t0 = mono_now_ms(), end = t0 + (uint64_t)seconds * 1000;
  while (mono_now_ms() < end || nopen > 0) {
    int finishing = mono_now_ms() >= end;
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    unsigned action = (unsigned)(rng % 10);
    if (!finishing && nopen < SOAK_MAX_OPEN && (action < 3 || nopen == 0)) {
      uint16_t ch = et_post_hello(ec, gc, bound).channel;
      tofu_message *m = et_expect(gc, TOFU_OP_HELLO_RESPONSE, TOFU_ORIGIN_APPLICATION, 0);
      tofu_put(ec, &m);
      open[nopen++] = ch;
      connects++;
    } else if (!finishing && action < 8) {
      /* A burst of requests on one channel, each answered in order. */
      uint16_t ch = open[rng % (unsigned)nopen];
      int k = 1 + (int)(rng >> 20) % 16;
      size_t len = (size_t)((rng >> 30) % 20000);
      uint64_t first = 0;
      for (int i = 0; i < k; i++) {
        tofu_message *m = et_msg(ec, TOFU_OP_REQUEST, ch, len, (unsigned)i);
        uint64_t id = et_post(gc, &m).message_id;
        if (i == 0)
          first = id;
      }
      for (int i = 0; i < k; i++) {
        tofu_message *m = et_expect(gc, TOFU_OP_RESPONSE, TOFU_ORIGIN_APPLICATION, 0);
        ck_assert_uint_eq(tofu_msg_header(m)->channel, ch);
        ck_assert(tofu_msg_header(m)->message_id >= first);
        ck_assert(et_body_ok(m, len, (unsigned)i));
        tofu_put(ec, &m);
      }
      exchanged += k;
    } else {
      /* Close one: gracefully (Bye) or abruptly (ByeSignal). */
      int j = (int)(rng % (unsigned)nopen);
      uint16_t ch = open[j];
      open[j] = open[--nopen];
      if (rng & (1ull << 40)) {
        tofu_message *m = et_msg(ec, TOFU_OP_BYE_REQUEST, ch, 0, 0);
        et_post(gc, &m);
        m = et_expect(gc, TOFU_OP_BYE_RESPONSE, TOFU_ORIGIN_APPLICATION, 0);
        tofu_put(ec, &m);
      } else {
        tofu_message *m = et_msg(ec, TOFU_OP_BYE_SIGNAL, ch, 0, 0);
        et_post(gc, &m);
      }
      tofu_message *m =
          et_expect(gc, TOFU_OP_SIGNAL, TOFU_ORIGIN_ENGINE, TOFU_STATUS_CHANNEL_CLOSED);
      ck_assert_uint_eq(tofu_msg_header(m)->channel, ch);
      tofu_put(ec, &m);
      closes++;
    }
    cycles++;
    if (rss_warm == 0 && mono_now_ms() - t0 >= 1000)
      rss_warm = rel_rss_kib();
  }
  /* Everything closed: the server sees its channels go. */
  uint64_t until = mono_now_ms() + ET_DEADLINE_MS;
  tofu_engine_stats st = {.size = sizeof st};
  for (;;) {
    tofu_engine_get_stats(es, &st);
    if (st.channels == 1)
      break;
    ck_assert_msg(mono_now_ms() < until, "%zu server channels left", st.channels - 1);
    ck_assert_ptr_null(tofu_wait_receive(gc, 10)); /* the echo thread takes the notices */
  }
  atomic_store(&srv.stop, 1);
  plat_thread_join(&thr);
  ck_assert_int_eq(atomic_load(&srv.errors), 0);
  et_assert_all_returned(es);
  et_assert_all_returned(ec);
  long rss_end = rel_rss_kib();
  printf("soak %ld s: %ld cycles, %ld connections, %ld requests, %ld closes; RSS %ld KiB after "
         "1 s, %ld KiB at the end, peak %ld KiB\n",
         seconds, cycles, connects, exchanged, closes, rss_warm, rss_end, rel_peak_rss_kib());
  rel_figure("soak_seconds", (double)seconds);
  rel_figure("soak_connections", (double)connects);
  rel_figure("soak_requests", (double)exchanged);
  rel_figure("soak_peak_rss_kib", (double)rel_peak_rss_kib());
  /* Memory does not grow with the work done: within 4 MiB of the warm
   * value (allocator slack), whatever the duration. */
  if (rss_warm > 0 && !rel_env("TOFU_REL_NO_RSS_CHECK", REL_SANITIZED))
    ck_assert_msg(rss_end <= rss_warm + 4096, "RSS grew from %ld to %ld KiB", rss_warm, rss_end);
  tofu_group_destroy(gc);
  tofu_group_destroy(gs);
  tofu_engine_destroy(ec);
  tofu_engine_destroy(es);
  int fds1 = rel_open_fds();
  ck_assert_msg(fds1 == fds0, "%d descriptors open at the start, %d at the end", fds0, fds1);
}
