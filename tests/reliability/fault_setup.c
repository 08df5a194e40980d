/* tofu — the reliability suite: allocations and the platform's primitives
 * failing, on a seeded schedule, wherever the engine makes them: on the
 * application's thread (tofu_engine_create, tofu_group_create,
 * tofu_group_os_handle, tofu_get, tofu_listen, tofu_connect, tofu_send,
 * tofu_post) and on the Reactor's (channels, the channel table, timers,
 * requests, messages of the pool).
 *
 * One cycle per seed: an engine, two groups, a listener, a connection, a few
 * requests echoed, everything destroyed. Each call either succeeds or fails
 * with an error its contract names, and leaves nothing behind when it fails;
 * every request posted ends (answered or handed back, never lost); an object
 * whose making failed is never used as made (faults.c catches its release);
 * and after the destroy the process holds what it held before the cycle:
 * the same bytes in malloc'd blocks (POSIX), the same descriptors (Linux), the
 * same number of live mutexes, condition variables, threads and events.
 *
 * The schedule (faults.h, fail_nth): two seeds of three fail exactly the nth
 * allocation or primitive of the cycle, n walking through every one a cycle
 * makes (and a little past its end, where nothing fails); the third fails
 * each with a chance drawn from the seed. TOFU_REL_SETUP_SEEDS seeds
 * (default 1000), from TOFU_REL_SEED_BASE. */
#include <stdio.h>
#include <string.h>

#include "message.h"
#include "suite.h"

/* What the pool charges for a message without buffers (pool.c). */
#define MSG_COST sizeof(tofu_message)

#define CYCLE_REQUESTS 6
#define CYCLE_EXTRA_GETS 6 /* messages taken beyond the pool's initial ones */
#define CYCLE_DEADLINE_MS 8000

typedef struct cycle_totals {
  long engines_failed, groups_failed, handles_failed, gets_failed, posts_failed;
  long requests, answered, handed_back, setup_failures;
} cycle_totals;

static int one_of(int rc, int a, int b, int c) {
  return rc == a || rc == b || rc == c;
}

/* The case's thread meets the faults for the span of one call. */
#define SUBJECT(call)                                                                              \
  do {                                                                                             \
    faults_subject_thread(1);                                                                      \
    call;                                                                                          \
    faults_subject_thread(0);                                                                      \
  } while (0)

/* An assertion that calls check only when it fails: check's assertions
 * allocate and free on their own, which would blur the count of the bytes
 * a cycle leaves behind. */
#define CHECK(cond, ...)                                                                           \
  do {                                                                                             \
    if (!(cond))                                                                                   \
      ck_abort_msg(__VA_ARGS__);                                                                   \
  } while (0)

static uint64_t prims_failed(void) {
  fault_counts c;
  faults_counts(&c);
  return c.prim;
}

static uint64_t allocs_failed(void) {
  fault_counts c;
  faults_counts(&c);
  return c.nomem;
}

/* Answer the server side's messages, take the client's; returns when every
 * request sent has ended or the deadline passed. */
static void exchange(tofu_engine *e, tofu_group *gs, tofu_group *gc, const uint64_t *ids, int n,
                     int *ended, cycle_totals *tot, uint64_t seed) {
  int left = 0;
  for (int i = 0; i < n; i++)
    left += !ended[i];
  uint64_t deadline = mono_now_ms() + CYCLE_DEADLINE_MS;
  while (left > 0 && mono_now_ms() < deadline) {
    tofu_message *m = tofu_wait_receive(gs, 1);
    if (m) {
      tofu_header *h = tofu_msg_header(m);
      if (h->origin == TOFU_ORIGIN_APPLICATION &&
          (h->opcode == TOFU_OP_HELLO_REQUEST || h->opcode == TOFU_OP_REQUEST)) {
        h->opcode = h->opcode == TOFU_OP_REQUEST ? TOFU_OP_RESPONSE : TOFU_OP_HELLO_RESPONSE;
        if (tofu_post(gs, &m, NULL) != TOFU_OK)
          tofu_put(e, &m);
      } else {
        tofu_put(e, &m); /* the server's own hand-backs and notices */
      }
    }
    m = tofu_wait_receive(gc, 1);
    if (!m)
      continue;
    tofu_header *h = tofu_msg_header(m);
    int req = h->opcode == TOFU_OP_RESPONSE ||
              (h->opcode == TOFU_OP_REQUEST && h->origin == TOFU_ORIGIN_ENGINE);
    for (int i = 0; req && i < n; i++) {
      if (ids[i] != h->message_id)
        continue;
      CHECK(!ended[i], "seed %llu: request %d (id %llu) ended twice (%s, %s)",
            (unsigned long long)seed, i, (unsigned long long)ids[i], tofu_opcode_name(h->opcode),
            tofu_status_name(h->status));
      ended[i] = 1;
      left--;
      if (h->opcode == TOFU_OP_RESPONSE)
        tot->answered++;
      else
        tot->handed_back++;
    }
    tofu_put(e, &m);
  }
  for (int i = 0; i < n; i++)
    CHECK(ended[i], "seed %llu: request %d (id %llu) never ended: lost", (unsigned long long)seed,
          i, (unsigned long long)ids[i]);
}

/* Listen and connect from the client; 0 if either failed (cleanly). */
static int open_pair(tofu_engine *e, tofu_group *gs, tofu_group *gc, uint16_t *cch,
                     cycle_totals *tot, uint64_t seed) {
  int rc;
  SUBJECT(rc = tofu_listen(gs, "tcp://127.0.0.1:0", NULL));
  CHECK(one_of(rc, TOFU_OK, TOFU_ELIMIT, TOFU_ENOMEM), "seed %llu: tofu_listen: %d",
        (unsigned long long)seed, rc);
  if (rc != TOFU_OK) {
    tot->posts_failed++;
    return 0;
  }
  tofu_message *m = tofu_wait_receive(gs, CYCLE_DEADLINE_MS);
  CHECK(m != NULL, "seed %llu: the WelcomeRequest never ended", (unsigned long long)seed);
  char url[128];
  int ok = tofu_msg_header(m)->opcode == TOFU_OP_WELCOME_RESPONSE &&
           tofu_listen_address(m, url, sizeof url) == TOFU_OK;
  if (!ok) /* handed back: the listener could not be made */
    CHECK(tofu_msg_header(m)->origin == TOFU_ORIGIN_ENGINE,
          "seed %llu: a WelcomeRequest back "
          "from the application",
          (unsigned long long)seed);
  tofu_put(e, &m);
  if (!ok)
    return 0;
  SUBJECT(rc = tofu_connect(gc, url, cch));
  CHECK(one_of(rc, TOFU_OK, TOFU_ELIMIT, TOFU_ENOMEM), "seed %llu: tofu_connect: %d",
        (unsigned long long)seed, rc);
  if (rc != TOFU_OK)
    tot->posts_failed++;
  return rc == TOFU_OK;
}

static void groups_and_traffic(tofu_engine *e, cycle_totals *tot, uint64_t seed) {
  tofu_group *g[2] = {NULL, NULL};
  for (int i = 0; i < 2; i++) {
    int rc;
    SUBJECT(rc = tofu_group_create(e, &g[i]));
    CHECK(one_of(rc, TOFU_OK, TOFU_ENOMEM, TOFU_ESYSTEM), "seed %llu: tofu_group_create: %d",
          (unsigned long long)seed, rc);
    CHECK((rc == TOFU_OK) == (g[i] != NULL), "seed %llu: group %p with status %d",
          (unsigned long long)seed, (void *)g[i], rc);
    tot->groups_failed += rc != TOFU_OK;
  }
  tofu_group *gs = g[0], *gc = g[1];

  if (gc) {
    /* The descriptor: made, or TOFU_INVALID_OS_HANDLE exactly when its
     * making failed. */
    uint64_t before = prims_failed();
    tofu_os_handle h;
    SUBJECT(h = tofu_group_os_handle(gc));
    int failed = prims_failed() != before;
    CHECK(failed == (h == TOFU_INVALID_OS_HANDLE),
          "seed %llu: tofu_group_os_handle gave %s with%s a failed event", (unsigned long long)seed,
          h == TOFU_INVALID_OS_HANDLE ? "none" : "one", failed ? "" : "out");
    tot->handles_failed += failed;
  }

  /* Messages beyond the pool's first ones: NULL only when an allocation
   * failed, and then nothing stays charged for it. */
  tofu_engine_stats s0 = {.size = sizeof s0}, s1 = {.size = sizeof s1};
  tofu_engine_get_stats(e, &s0);
  tofu_message *held[CYCLE_EXTRA_GETS + 4];
  int nheld = 0;
  for (int i = 0; i < CYCLE_EXTRA_GETS + 4; i++) {
    uint64_t before = allocs_failed();
    SUBJECT(held[nheld] = tofu_get(e, TOFU_ALWAYS));
    if (held[nheld]) {
      nheld++;
      continue;
    }
    CHECK(allocs_failed() != before, "seed %llu: tofu_get gave NULL, nothing failed",
          (unsigned long long)seed);
    tot->gets_failed++;
  }
  for (int i = 0; i < nheld; i++)
    tofu_put(e, &held[i]);
  tofu_engine_get_stats(e, &s1);
  CHECK(s1.memory_used - s0.memory_used == (s1.messages_live - s0.messages_live) * MSG_COST,
        "seed %llu: %zu bytes charged for %zu new messages", (unsigned long long)seed,
        s1.memory_used - s0.memory_used, s1.messages_live - s0.messages_live);

  uint16_t cch = 0;
  if (gs && gc && open_pair(e, gs, gc, &cch, tot, seed)) {
    uint64_t ids[CYCLE_REQUESTS];
    int ended[CYCLE_REQUESTS];
    int n = 0;
    for (int i = 0; i < CYCLE_REQUESTS; i++) {
      uint64_t id = 0;
      char body[32];
      int len = snprintf(body, sizeof body, "seed %llu request %d", (unsigned long long)seed, i);
      int rc;
      SUBJECT(rc = tofu_send(gc, cch, TOFU_OP_REQUEST, body, (size_t)len, &id));
      CHECK(one_of(rc, TOFU_OK, TOFU_ELIMIT, TOFU_ENOMEM), "seed %llu: tofu_send: %d",
            (unsigned long long)seed, rc);
      if (rc != TOFU_OK) {
        tot->posts_failed++;
        continue;
      }
      ids[n] = id;
      ended[n++] = 0;
    }
    tot->requests += n;
    exchange(e, gs, gc, ids, n, ended, tot, seed);
  }
  for (int i = 0; i < 2; i++)
    SUBJECT(tofu_group_destroy(g[i]));
}

/* One cycle under plan (NULL: none). */
static void cycle(const fault_plan *plan, cycle_totals *tot) {
  uint64_t seed = plan ? plan->seed : 0;
  tofu_options o;
  tofu_options_default(&o);
  o.initial_messages = 4;
  o.connect_timeout_ms = 2000;
  o.request_timeout_ms = 3000; /* a bound on how long a request can take to end */
  if (plan)
    faults_start(plan);
  tofu_engine *e = NULL;
  int rc;
  SUBJECT(rc = tofu_engine_create(&o, &e));
  CHECK(one_of(rc, TOFU_OK, TOFU_ENOMEM, TOFU_ESYSTEM), "seed %llu: engine_create: %d",
        (unsigned long long)seed, rc);
  CHECK((rc == TOFU_OK) == (e != NULL), "seed %llu: engine %p with status %d",
        (unsigned long long)seed, (void *)e, rc);
  if (e) {
    /* A pool that failed to fill must not pass for one that did. */
    tofu_engine_stats s = {.size = sizeof s};
    tofu_engine_get_stats(e, &s);
    CHECK(s.messages_live == 4 && s.messages_free == 4,
          "seed %llu: a new engine with %zu messages (%zu free), not 4", (unsigned long long)seed,
          s.messages_live, s.messages_free);
    groups_and_traffic(e, tot, seed);
    tofu_engine_get_stats(e, &s);
    CHECK(s.messages_live == s.messages_free, "seed %llu: %zu messages live, %zu free",
          (unsigned long long)seed, s.messages_live, s.messages_free);
    SUBJECT(tofu_engine_destroy(e));
  } else {
    tot->engines_failed++;
  }
  if (plan) {
    faults_stop();
    tot->setup_failures += (long)(allocs_failed() + prims_failed());
    const char *why = faults_prim_error();
    CHECK(why == NULL, "seed %llu: %s", (unsigned long long)seed, why ? why : "");
  }
}

/* What the process holds that a cycle must give back. */
typedef struct held_now {
  int64_t bytes, prims;
  int fds;
} held_now;

static held_now held(void) {
  held_now h = {faults_live_bytes(), faults_prims_live(), rel_open_fds()};
  return h;
}

void case_faults_setup(void) {
  long seeds = rel_env("TOFU_REL_SETUP_SEEDS", runner_under_wine() ? 100 : 1000);
  long base = rel_env("TOFU_REL_SEED_BASE", 1);
  cycle_totals tot;
  memset(&tot, 0, sizeof tot);

  /* A cycle without faults first: what is made once per process (the
   * resolver, the fault layer's own lock) is made, and the cycle's count of
   * allocations and primitives measured, for the schedule. */
  cycle(NULL, &tot);
  fault_plan count;
  memset(&count, 0, sizeof count);
  count.seed = 1;
  cycle(&count, &tot);
  uint64_t calls = faults_setup_calls();
  CHECK(calls > 10, "%llu allocations and primitives in a cycle", (unsigned long long)calls);
  held_now start = held();

  for (long i = 0; i < seeds; i++) {
    uint64_t seed = (uint64_t)(base + i);
    fault_plan p;
    memset(&p, 0, sizeof p);
    p.seed = seed;
    if (seed % 3 == 0) {
      p.nomem = (unsigned)(10 + seed % 7 * 15); /* 1 % to 10 % of the allocations */
      p.prim = (unsigned)(20 + seed % 5 * 20);  /* 2 % to 10 % of the primitives */
    } else {
      /* the k-th seed that is not a multiple of 3 fails the (k mod M)+1-th
       * call, M a little more than a cycle makes: every one in turn */
      uint64_t k = seed - seed / 3 - 1;
      p.fail_nth = 1 + k % (calls + calls / 8);
    }
    cycle(&p, &tot);
    held_now now = held();
    CHECK(now.prims == start.prims, "seed %llu: %lld primitives alive, %lld before",
          (unsigned long long)seed, (long long)now.prims, (long long)start.prims);
    CHECK(now.fds == start.fds, "seed %llu: %d descriptors open, %d before",
          (unsigned long long)seed, now.fds, start.fds);
    CHECK(now.bytes == start.bytes,
          "seed %llu: %lld bytes held in malloc'd blocks, %lld "
          "before",
          (unsigned long long)seed, (long long)now.bytes, (long long)start.bytes);
  }
  printf("faults_setup: %ld seeds, %llu allocations and primitives per cycle; %ld failures "
         "injected; engines failed %ld, groups %ld, handles %ld, gets %ld, posts %ld; requests "
         "%ld: %ld answered, %ld handed back\n",
         seeds, (unsigned long long)calls, tot.setup_failures, tot.engines_failed,
         tot.groups_failed, tot.handles_failed, tot.gets_failed, tot.posts_failed, tot.requests,
         tot.answered, tot.handed_back);
  ck_assert_int_gt(tot.engines_failed, 0);
  ck_assert_int_gt(tot.groups_failed, 0);
  ck_assert_int_gt(tot.answered, 0);
}
