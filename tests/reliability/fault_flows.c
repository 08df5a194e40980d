/* tofu — the reliability suite: engine flows under injected faults.
 *
 * A client engine opens a few channels to a server engine whose application
 * (a thread) echoes every Request as a Response. The client posts requests of
 * assorted sizes at once, behind the HelloRequests, while both Reactors run
 * under a fault plan. The invariant, checked per seed:
 *   - every request comes back exactly once: as its Response (body intact,
 *     on its channel, in order) or handed back by the engine with a status;
 *     with faults that cannot lose data (would-block, short I/O, early,
 *     spurious and delayed reports) only as its Response;
 *   - with faults that break connections (resets, allocation failures), a
 *     request may also be lost with its connection, but only on a channel
 *     whose group received channel_closed, and only if its frame reached the
 *     kernel, wholly or partly (faults.c follows the frames every net_sendv
 *     hands over): a request that was never written must come back. So the
 *     engine may lose what the wire lost, never what it still held. A request
 *     is never delivered twice, and never both delivered and handed back;
 *   - every request answered was seen written (the accounting's own check),
 *     and a seed ends only once a timer posted behind the requests is back,
 *     so that no hand-back is still on its way;
 *   - nothing hangs (every wait has a deadline) and, at the end, every
 *     message of both engines is back in its pool. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "suite.h"

#define FLOW_CHANNELS 3
#define FLOW_DEADLINE_MS 30000

typedef struct flow_cfg {
  int messages;
  int strict; /* no loss allowed: the plan has no reset and no allocation failure */
  int uds;
} flow_cfg;

typedef struct flow_totals {
  long delivered, handed_back, lost_written, closed_early, seeds;
} flow_totals;

static const size_t flow_sizes[] = {0, 1, 17, 1000, 20000, 65535};

/* Index of id in ids[0..n) (ids increase), or -1. */
static int find_id(const uint64_t *ids, int n, uint64_t id) {
  int lo = 0, hi = n - 1;
  while (lo <= hi) {
    int mid = (lo + hi) / 2;
    if (ids[mid] == id)
      return mid;
    if (ids[mid] < id)
      lo = mid + 1;
    else
      hi = mid - 1;
  }
  return -1;
}

static int chan_index(const uint16_t *ch, uint16_t n) {
  for (int c = 0; c < FLOW_CHANNELS; c++)
    if (ch[c] == n)
      return c;
  return -1;
}

static void run_flow(const fault_plan *plan, const flow_cfg *cfg, flow_totals *tot) {
  enum { MAXN = 400 };
  ck_assert_int_le(cfg->messages, MAXN);
  tofu_engine *es = et_engine(0), *ec = et_engine(0);
  tofu_group *gs = et_group(es), *gc = et_group(ec);
  char addr[NET_UDS_PATH_MAX + 8] = "tcp|127.0.0.1|0", bound[NET_UDS_PATH_MAX + 8];
  pair_listener hold;
  if (cfg->uds)
    et_uds_path(&hold, addr, sizeof addr);
  et_listen(es, gs, addr, bound, sizeof bound);

  rel_echo_server srv;
  memset(&srv, 0, sizeof srv);
  srv.e = es;
  srv.g = gs;
  srv.track = 1;
  plat_thread thr;
  ck_assert_int_eq(plat_thread_start(&thr, rel_echo_main, &srv), TOFU_OK);

  faults_start(plan);
  uint64_t rng = plan->seed * 2654435761u + 1;
  uint16_t ch[FLOW_CHANNELS];
  int closed[FLOW_CHANNELS] = {0}, hello_ok[FLOW_CHANNELS] = {0};
  uint64_t last_resp[FLOW_CHANNELS] = {0};
  for (int c = 0; c < FLOW_CHANNELS; c++) {
    ch[c] = et_post_hello(ec, gc, bound).channel;
  }
  static uint64_t ids[MAXN];
  static int idx_chan[MAXN], state[MAXN]; /* 0 pending, 1 delivered, 2 handed back */
  static size_t idx_size[MAXN];
  for (int i = 0; i < cfg->messages; i++) {
    rng = rng * 6364136223846793005ull + 1442695040888963407ull;
    int c = (int)((rng >> 33) % FLOW_CHANNELS);
    size_t len = flow_sizes[(rng >> 40) % (sizeof flow_sizes / sizeof flow_sizes[0])];
    tofu_message *m = et_msg(ec, TOFU_OP_REQUEST, ch[c], len, (unsigned)i);
    ids[i] = et_post(gc, &m).message_id;
    idx_chan[i] = c;
    idx_size[i] = len;
    state[i] = 0;
  }
  /* A timer posted behind the requests comes back once the Reactor has taken
   * every one of them (its inbound queue is FIFO), so once it is back, a
   * request posted to a channel that had closed has been handed back
   * (invalid_channel_number) and nothing more can come back late. */
  tofu_message *marker = et_msg(ec, TOFU_OP_SIGNAL, 0, 0, 0);
  const tofu_message *marker_sent = marker;
  ck_assert_int_eq(tofu_post_timer(gc, &marker, 0), TOFU_OK);
  int marker_back = 0;

  uint64_t deadline = mono_now_ms() + FLOW_DEADLINE_MS;
  for (;;) {
    /* Done when every channel is closed or has all its requests back. */
    int pending = 0;
    for (int i = 0; i < cfg->messages; i++)
      if (state[i] == 0 && !closed[idx_chan[i]])
        pending++;
    if (pending == 0 && marker_back)
      break;
    if (mono_now_ms() > deadline) {
      fault_counts fc;
      faults_counts(&fc);
      ck_abort_msg("seed %llu: %d requests neither answered nor handed back after %d ms, "
                   "marker timer %s (faults: %llu wouldblock, %llu short, %llu reset, "
                   "%llu nomem, %llu early, %llu spurious, %llu delayed)",
                   (unsigned long long)plan->seed, pending, FLOW_DEADLINE_MS,
                   marker_back ? "back" : "not back", (unsigned long long)fc.wouldblock,
                   (unsigned long long)fc.shortio, (unsigned long long)fc.reset,
                   (unsigned long long)fc.nomem, (unsigned long long)fc.early,
                   (unsigned long long)fc.spurious, (unsigned long long)fc.delay);
    }
    tofu_message *m = tofu_wait_receive(gc, 100);
    if (!m)
      continue;
    tofu_header *h = tofu_msg_header(m);
    int c = chan_index(ch, h->channel);
    if (!marker_back && m == marker_sent) {
      /* Fired, or handed back (allocation_failed): both say the same. Once
       * put, its struct may come back as another message. */
      marker_back = 1;
    } else if (h->origin == TOFU_ORIGIN_APPLICATION) {
      ck_assert_msg(c >= 0, "seed %llu: a message on unknown channel %u",
                    (unsigned long long)plan->seed, (unsigned)h->channel);
      if (h->opcode == TOFU_OP_HELLO_RESPONSE) {
        hello_ok[c] = 1;
      } else {
        ck_assert_uint_eq(h->opcode, TOFU_OP_RESPONSE);
        int i = find_id(ids, cfg->messages, h->message_id);
        ck_assert_msg(i >= 0, "seed %llu: a response to no request",
                      (unsigned long long)plan->seed);
        ck_assert_msg(state[i] == 0, "seed %llu: request %d came back twice (state %d)",
                      (unsigned long long)plan->seed, i, state[i]);
        ck_assert_int_eq(idx_chan[i], c);
        ck_assert_msg(et_body_ok(m, idx_size[i], (unsigned)i), "seed %llu: body of %d damaged",
                      (unsigned long long)plan->seed, i);
        ck_assert_msg(h->message_id > last_resp[c], "seed %llu: responses out of order",
                      (unsigned long long)plan->seed);
        last_resp[c] = h->message_id;
        state[i] = 1;
        tot->delivered++;
      }
    } else if (h->opcode == TOFU_OP_SIGNAL && h->status == TOFU_STATUS_CHANNEL_CLOSED) {
      ck_assert_int_ge(c, 0);
      const char *cause = "?";
      size_t cl = 1;
      tofu_msg_find_header(m, TOFU_HDR_CAUSE, &cause, &cl);
      ck_assert_msg(!cfg->strict, "seed %llu: channel closed (cause %.*s) under lossless faults",
                    (unsigned long long)plan->seed, (int)cl, cause);
      closed[c] = 1;
      tot->closed_early++;
    } else if (h->opcode == TOFU_OP_REQUEST) {
      int i = find_id(ids, cfg->messages, h->message_id);
      ck_assert_int_ge(i, 0);
      ck_assert_msg(!cfg->strict, "seed %llu: request handed back (%s) under lossless faults",
                    (unsigned long long)plan->seed, tofu_status_name(h->status));
      ck_assert_msg(state[i] == 0, "seed %llu: request %d handed back after it came back",
                    (unsigned long long)plan->seed, i);
      ck_assert_uint_ne(h->status, TOFU_STATUS_SUCCESS);
      state[i] = 2;
      tot->handed_back++;
    } else if (h->opcode == TOFU_OP_HELLO_REQUEST) {
      ck_assert_msg(!cfg->strict, "seed %llu: hello handed back (%s) under lossless faults",
                    (unsigned long long)plan->seed, tofu_status_name(h->status));
      /* Without memory for the channel there is no channel, so no
       * channel_closed follows (docs/reliability.md). */
      if (h->status == TOFU_STATUS_ALLOCATION_FAILED) {
        ck_assert_int_ge(c, 0);
        closed[c] = 1;
        tot->closed_early++;
      }
    } else {
      ck_assert_msg(h->status == TOFU_STATUS_POOL_EMPTY, "seed %llu: unexpected %s %s",
                    (unsigned long long)plan->seed, tofu_opcode_name(h->opcode),
                    tofu_status_name(h->status));
    }
    tofu_put(ec, &m);
  }
  faults_stop();
  const char *acct = faults_accounting_error();
  ck_assert_msg(acct == NULL, "seed %llu: the written-request accounting failed: %s",
                (unsigned long long)plan->seed, acct ? acct : "");
  for (int i = 0; i < cfg->messages; i++) {
    int written = faults_request_written(ids[i]);
    /* The accounting's own check: what was answered was written. */
    ck_assert_msg(state[i] != 1 || written,
                  "seed %llu: request %d (id %llu) was answered but not seen written: the "
                  "accounting of net_sendv is broken",
                  (unsigned long long)plan->seed, i, (unsigned long long)ids[i]);
    if (state[i] != 0)
      continue;
    /* Neither answered nor handed back: on a channel that closed (the loop's
     * condition), and the wire must have had it. */
    if (!written)
      ck_abort_msg("seed %llu: request %d (id %llu) was never written and never handed back",
                   (unsigned long long)plan->seed, i, (unsigned long long)ids[i]);
    tot->lost_written++;
  }
  if (cfg->strict)
    for (int c = 0; c < FLOW_CHANNELS; c++)
      ck_assert(hello_ok[c]);

  /* Close what is open; each channel ends with exactly one channel_closed. */
  for (int c = 0; c < FLOW_CHANNELS; c++) {
    if (closed[c])
      continue;
    tofu_message *m = et_msg(ec, TOFU_OP_BYE_SIGNAL, ch[c], 0, 0);
    et_post(gc, &m);
  }
  for (;;) {
    int open = 0;
    for (int c = 0; c < FLOW_CHANNELS; c++)
      open += !closed[c];
    if (!open)
      break;
    tofu_message *m = et_recv(gc);
    tofu_header *h = tofu_msg_header(m);
    int c = chan_index(ch, h->channel);
    if (h->origin == TOFU_ORIGIN_ENGINE && h->status == TOFU_STATUS_CHANNEL_CLOSED && c >= 0) {
      ck_assert_msg(!closed[c], "two channel_closed notices for one channel");
      closed[c] = 1;
    }
    tofu_put(ec, &m);
  }
  atomic_store(&srv.stop, 1);
  plat_thread_join(&thr);
  ck_assert_int_eq(atomic_load(&srv.errors), 0);
  /* The server closes its side as the client's go; wait for it. */
  uint64_t until = mono_now_ms() + ET_DEADLINE_MS;
  tofu_engine_stats st = {.size = sizeof st};
  for (;;) {
    tofu_message *m = tofu_wait_receive(gs, 20);
    tofu_put(es, &m);
    tofu_engine_get_stats(es, &st);
    if (st.channels == 1)
      break;
    ck_assert_msg(mono_now_ms() < until, "seed %llu: %zu server channels still open",
                  (unsigned long long)plan->seed, st.channels - 1);
  }
  tofu_message *left;
  while ((left = tofu_wait_receive(gs, 0)) != NULL)
    tofu_put(es, &left);
  tofu_group_destroy(gc);
  tofu_group_destroy(gs);
  free(srv.seen);
  et_assert_all_returned(es);
  et_assert_all_returned(ec);
  tofu_engine_destroy(ec);
  tofu_engine_destroy(es);
  if (cfg->uds)
    et_uds_done(&hold);
  tot->seeds++;
}

/* Run `seeds` seeds of a plan (the seed varies, the chances do not). */
static void run_seeds(const char *name, fault_plan plan, flow_cfg cfg, long seeds) {
  flow_totals tot;
  memset(&tot, 0, sizeof tot);
  fault_counts all;
  memset(&all, 0, sizeof all);
  long first = rel_env("TOFU_REL_SEED_BASE", 1);
  for (long s = first; s < first + seeds; s++) {
    plan.seed = (uint64_t)s;
    if (rel_env("TOFU_REL_VERBOSE", 0))
      printf("%s: seed %ld\n", name, s);
    run_flow(&plan, &cfg, &tot);
    fault_counts fc;
    faults_counts(&fc);
    all.wouldblock += fc.wouldblock;
    all.shortio += fc.shortio;
    all.reset += fc.reset;
    all.nomem += fc.nomem;
    all.early += fc.early;
    all.spurious += fc.spurious;
    all.delay += fc.delay;
  }
  printf("%s: %ld seeds, %ld requests answered, %ld handed back, %ld lost after being "
         "written (with their connection), 0 lost unwritten, %ld channels closed by faults; "
         "faults injected: %llu would-block, %llu short I/O, %llu resets, %llu allocation "
         "failures, %llu early returns, %llu spurious reports, %llu delayed reports\n",
         name, tot.seeds, tot.delivered, tot.handed_back, tot.lost_written, tot.closed_early,
         (unsigned long long)all.wouldblock, (unsigned long long)all.shortio,
         (unsigned long long)all.reset, (unsigned long long)all.nomem,
         (unsigned long long)all.early, (unsigned long long)all.spurious,
         (unsigned long long)all.delay);
  char fig[96];
  snprintf(fig, sizeof fig, "%s_seeds", name);
  rel_figure(fig, (double)tot.seeds);
  snprintf(fig, sizeof fig, "%s_answered", name);
  rel_figure(fig, (double)tot.delivered);
  snprintf(fig, sizeof fig, "%s_handed_back", name);
  rel_figure(fig, (double)tot.handed_back);
  snprintf(fig, sizeof fig, "%s_lost_written", name);
  rel_figure(fig, (double)tot.lost_written);
  /* The faults must really have been injected. */
  ck_assert_uint_gt(all.wouldblock + all.shortio + all.reset + all.nomem + all.early +
                        all.spurious + all.delay,
                    0);
}

/* Faults that cannot lose data: every request must come back answered. */
static fault_plan lossless_plan(void) {
  fault_plan p;
  memset(&p, 0, sizeof p);
  p.wouldblock = 100;
  p.shortio = 300;
  p.early = 100;
  p.spurious = 150;
  p.delay = 150;
  return p;
}

/* Resets at random points, among the lossless faults. */
static fault_plan resets_plan(void) {
  fault_plan p;
  memset(&p, 0, sizeof p);
  p.wouldblock = 50;
  p.shortio = 200;
  p.reset = 8;
  p.early = 50;
  p.spurious = 50;
  p.delay = 50;
  return p;
}

void case_faults_lossless(void) {
  flow_cfg cfg = {60, 1, 0};
  run_seeds("faults_lossless", lossless_plan(), cfg, rel_env("TOFU_REL_SEEDS", 24));
}

void case_faults_resets(void) {
  flow_cfg cfg = {60, 0, 0};
  run_seeds("faults_resets", resets_plan(), cfg, rel_env("TOFU_REL_SEEDS", 24));
}

void case_faults_nomem(void) {
  fault_plan p;
  memset(&p, 0, sizeof p);
  p.shortio = 100;
  p.nomem = 20;
  p.spurious = 20;
  p.delay = 20;
  flow_cfg cfg = {60, 0, 0};
  run_seeds("faults_nomem", p, cfg, rel_env("TOFU_REL_SEEDS", 24));
}

/* Windows AF_UNIX: as TCP (the faults are injected, not the system's). */
void case_faults_uds(void) {
  flow_cfg cfg = {60, 1, 1};
  run_seeds("faults_uds", lossless_plan(), cfg, rel_env("TOFU_REL_SEEDS", 12));
}

/* The resets plan on a Unix socket: what is lost with a connection was
 * written, on both transports. Windows AF_UNIX: as TCP (injected resets). */
void case_faults_resets_uds(void) {
  flow_cfg cfg = {60, 0, 1};
  run_seeds("faults_resets_uds", resets_plan(), cfg, rel_env("TOFU_REL_SEEDS", 12));
}
