/* tofu — the engine suite: several threads receiving from one group at once
 * (a pool of workers, half of them taking batches with tofu_receive_many).
 * Each message goes to exactly one of them; a thread
 * waiting for a reply by id gets it, never another receiver; a destroy wakes
 * every waiter; the group's OS handle is ready exactly while its queue holds
 * a message. Worker threads record what they saw; the case's thread asserts
 * (check's asserts belong to the case's thread). */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "engine_state.h"
#include "suite.h"

#ifdef _WIN32
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <windows.h>
#else
#include <poll.h>
#endif

#define WORKERS 4

/* An atomic read as a plain value (readable in check's failure messages). */
static int load_int(atomic_int *a) {
  return atomic_load(a);
}
#define POLL_MS 20 /* a worker's bounded wait, so that it sees the stop flag */

/* The ids given to messages put straight into a group's queue. */
#define ID_BASE 1000000u

/* Wait until cond holds (re-read each turn) or the deadline passes. */
#define WAIT_UNTIL(cond)                                                                           \
  do {                                                                                             \
    uint64_t until_ = mono_now_ms() + ET_DEADLINE_MS;                                              \
    while (!(cond) && mono_now_ms() < until_)                                                      \
      plat_sleep_ms(1);                                                                            \
  } while (0)

/* What a pool of workers on one group saw: how often each index came. */
typedef struct crew {
  tofu_engine *e;
  tofu_group *g;
  int n;                   /* messages expected, indexed 0..n-1 */
  atomic_int *seen;        /* per index: times handed to a worker */
  atomic_int got;          /* messages taken in all */
  atomic_int strays;       /* messages that were not one of the n */
  atomic_int stop;         /* the case tells the workers to leave */
  int echo;                /* answer each Request (the server of a connection) */
  atomic_int per[WORKERS]; /* messages per worker */
} crew;

typedef struct worker {
  crew *p;
  int index;
  plat_thread t;
} worker;

/* The index a message carries: its id minus ID_BASE, or the first four
 * bytes of its body for a Request; -1 if neither. */
static int msg_index(const crew *p, tofu_message *m) {
  const tofu_header *h = tofu_msg_header(m);
  if (p->echo) {
    size_t len = 0;
    const unsigned char *b = tofu_msg_body(m, &len);
    if (h->opcode != TOFU_OP_REQUEST || len < 4)
      return -1;
    return (int)((uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
                 (uint32_t)b[3] << 24);
  }
  if (h->message_id < ID_BASE || h->message_id >= ID_BASE + (uint64_t)p->n)
    return -1;
  return (int)(h->message_id - ID_BASE);
}

/* What a worker does with one message it took. */
static void worker_take(worker *w, tofu_message *m) {
  crew *p = w->p;
  int i = msg_index(p, m);
  if (i < 0 || i >= p->n) {
    if (tofu_msg_header(m)->origin != TOFU_ORIGIN_ENGINE) /* channel_closed at the end */
      atomic_fetch_add(&p->strays, 1);
    tofu_put(p->e, &m);
    return;
  }
  atomic_fetch_add(&p->seen[i], 1);
  atomic_fetch_add(&p->per[w->index], 1);
  if (p->echo) {
    tofu_msg_header(m)->opcode = TOFU_OP_RESPONSE; /* same id, same body */
    if (tofu_post(p->g, &m, NULL) != TOFU_OK)
      tofu_put(p->e, &m);
  } else {
    tofu_put(p->e, &m);
  }
  atomic_fetch_add(&p->got, 1);
}

/* A worker with an odd index takes up to BATCH messages at once
 * (tofu_receive_many), the others one at a time (tofu_receive). */
#define BATCH 8

static void worker_main(void *arg) {
  worker *w = arg;
  crew *p = w->p;
  while (!atomic_load(&p->stop)) {
    tofu_message *ms[BATCH];
    size_t n = 1;
    int rc = w->index % 2 ? tofu_receive_many(p->g, ms, BATCH, POLL_MS, &n)
                          : tofu_receive(p->g, 0, POLL_MS, &ms[0]);
    if (rc != TOFU_OK)
      continue;
    for (size_t k = 0; k < n; k++)
      worker_take(w, ms[k]);
  }
}

static void crew_start(crew *p, worker *ws, tofu_engine *e, tofu_group *g, int n, int echo) {
  memset(p, 0, sizeof *p);
  p->e = e;
  p->g = g;
  p->n = n;
  p->echo = echo;
  p->seen = calloc((size_t)n, sizeof *p->seen);
  ck_assert_ptr_nonnull(p->seen);
  for (int i = 0; i < n; i++)
    atomic_init(&p->seen[i], 0);
  atomic_init(&p->got, 0);
  atomic_init(&p->strays, 0);
  atomic_init(&p->stop, 0);
  for (int i = 0; i < WORKERS; i++) {
    atomic_init(&p->per[i], 0);
    ws[i].p = p;
    ws[i].index = i;
    ck_assert_int_eq(plat_thread_start(&ws[i].t, worker_main, &ws[i]), TOFU_OK);
  }
}

/* Stop and join the workers, then check that each of the n came once. */
static void crew_finish(crew *p, worker *ws) {
  atomic_store(&p->stop, 1);
  for (int i = 0; i < WORKERS; i++)
    plat_thread_join(&ws[i].t);
  int missing = 0, twice = 0;
  for (int i = 0; i < p->n; i++) {
    int k = atomic_load(&p->seen[i]);
    missing += k == 0;
    twice += k > 1;
  }
  ck_assert_msg(missing == 0 && twice == 0, "%d messages never delivered, %d more than once",
                missing, twice);
  ck_assert_int_eq(load_int(&p->strays), 0);
  int busy = 0;
  for (int i = 0; i < WORKERS; i++)
    busy += atomic_load(&p->per[i]) > 0;
  ck_assert_msg(busy >= 2, "only %d of %d workers ever received", busy, WORKERS);
  free(p->seen);
}

/* ---- Every message to exactly one worker ---------------------------------- */

#define PRODUCERS 2
#define PER_PRODUCER 5000

typedef struct producer {
  tofu_engine *e;
  tofu_group *g;
  int first, count;
  atomic_int failed;
  plat_thread t;
} producer;

static void producer_main(void *arg) {
  producer *pr = arg;
  for (int i = 0; i < pr->count; i++) {
    tofu_message *m = tofu_get(pr->e, TOFU_ALWAYS);
    if (!m) {
      atomic_fetch_add(&pr->failed, 1);
      continue;
    }
    tofu_msg_header(m)->message_id = ID_BASE + (uint64_t)(pr->first + i);
    if (tofu_update_receiver(pr->g, &m) != TOFU_OK) {
      atomic_fetch_add(&pr->failed, 1);
      tofu_put(pr->e, &m);
    }
    if (i % 64 == 0)
      plat_thread_yield(); /* let the queue run dry now and then: sleepers wake */
  }
}

/* Messages put into the queue by two threads, taken by four. */
void case_workers_each_once_local(void) {
  tofu_engine *e = et_engine(0);
  tofu_group *g = et_group(e);
  int n = PRODUCERS * PER_PRODUCER;
  crew p;
  worker ws[WORKERS];
  crew_start(&p, ws, e, g, n, 0);
  producer prs[PRODUCERS];
  for (int i = 0; i < PRODUCERS; i++) {
    prs[i].e = e;
    prs[i].g = g;
    prs[i].first = i * PER_PRODUCER;
    prs[i].count = PER_PRODUCER;
    atomic_init(&prs[i].failed, 0);
    ck_assert_int_eq(plat_thread_start(&prs[i].t, producer_main, &prs[i]), TOFU_OK);
  }
  for (int i = 0; i < PRODUCERS; i++) {
    plat_thread_join(&prs[i].t);
    ck_assert_int_eq(load_int(&prs[i].failed), 0);
  }
  WAIT_UNTIL(atomic_load(&p.got) == n);
  ck_assert_int_eq(load_int(&p.got), n);
  crew_finish(&p, ws);
  ck_assert_ptr_null(tofu_wait_receive(g, 0)); /* nothing left over */
  tofu_group_destroy(g);
  et_assert_all_returned(e);
  tofu_engine_destroy(e);
}

#define TCP_REQUESTS 4000
#define TCP_WINDOW 64

/* Requests over TCP to a server group with four workers answering: the
 * Reactor hands the workers whole batches. Each Request reaches one worker,
 * each Response comes back once. */
void case_workers_each_once_tcp(void) {
  tofu_engine *es = et_engine(0), *ec = et_engine(0);
  tofu_group *gs = et_group(es), *gc = et_group(ec);
  char bound[256];
  et_listen(es, gs, "tcp|127.0.0.1|0", bound, sizeof bound);
  uint16_t cch, sch;
  et_connect(ec, gc, gs, es, bound, &cch, &sch);
  crew p;
  worker ws[WORKERS];
  crew_start(&p, ws, es, gs, TCP_REQUESTS, 1);
  unsigned char *answered = calloc(TCP_REQUESTS, 1);
  uint64_t *ids = calloc(TCP_REQUESTS, sizeof *ids);
  ck_assert_ptr_nonnull(answered);
  ck_assert_ptr_nonnull(ids);
  int sent = 0, back = 0, twice = 0, wrong = 0;
  while (back < TCP_REQUESTS) {
    while (sent < TCP_REQUESTS && sent - back < TCP_WINDOW) {
      unsigned char b[8] = {(unsigned char)sent, (unsigned char)(sent >> 8),
                            (unsigned char)(sent >> 16), (unsigned char)(sent >> 24), 0xA5};
      uint64_t id = 0;
      ck_assert_int_eq(tofu_send(gc, cch, TOFU_OP_REQUEST, b, sizeof b, &id), TOFU_OK);
      ids[sent++] = id;
    }
    tofu_message *m = et_recv(gc);
    const tofu_header *h = tofu_msg_header(m);
    size_t len = 0;
    const unsigned char *b = tofu_msg_body(m, &len);
    ck_assert_uint_eq(h->opcode, TOFU_OP_RESPONSE);
    ck_assert_uint_eq(len, 8);
    int i =
        (int)((uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24);
    ck_assert_int_lt(i, sent);
    wrong += ids[i] != h->message_id || b[4] != 0xA5;
    twice += answered[i];
    answered[i] = 1;
    back++;
    tofu_put(ec, &m);
  }
  ck_assert_int_eq(wrong, 0);
  ck_assert_int_eq(twice, 0);
  ck_assert_ptr_null(tofu_wait_receive(gc, ET_QUIET_MS)); /* no answer more than once */
  crew_finish(&p, ws);
  free(answered);
  free(ids);
  tofu_group_destroy(gc);
  tofu_group_destroy(gs);
  tofu_engine_destroy(ec);
  tofu_engine_destroy(es);
}

/* ---- A reply goes to the thread waiting for its id ------------------------ */

#define REPLY_WAITERS 2
#define REPLY_ROUNDS 200
#define REPLY_NOISE 16 /* other messages around each reply */

typedef struct reply_waiter {
  tofu_group *g;
  tofu_engine *e;
  atomic_uint_fast64_t want; /* the id to wait for next; 0: stop */
  atomic_int got;            /* replies received, each with its own id */
  atomic_int wrong;          /* messages with another id */
  atomic_int turn;           /* bumped after each wait */
  plat_thread t;
} reply_waiter;

static void reply_waiter_main(void *arg) {
  reply_waiter *w = arg;
  uint64_t id;
  int turn = 0;
  while ((id = atomic_load(&w->want)) != 0) {
    tofu_message *m = tofu_wait_reply(w->g, id, ET_DEADLINE_MS);
    if (m) {
      if (tofu_msg_header(m)->message_id == id)
        atomic_fetch_add(&w->got, 1);
      else
        atomic_fetch_add(&w->wrong, 1);
      tofu_put(w->e, &m);
    }
    /* Wait for the case to name the next id (or 0). */
    atomic_store(&w->turn, ++turn);
    while (atomic_load(&w->want) == id)
      plat_thread_yield();
  }
}

/* Waits for a match now registered in g's queue. */
static int wants_registered(tofu_group *g) {
  return mailbox_match_waits(&g->mb);
}

/* Four workers (two in tofu_receive, two in tofu_receive_many) and two
 * threads in tofu_wait_reply on one group; each reply is put among other
 * messages while its waiter waits. The waiter gets its own; no worker ever
 * gets a reply; every other message reaches one worker. */
void case_workers_reply_to_its_waiter(void) {
  tofu_engine *e = et_engine(0);
  tofu_group *g = et_group(e);
  int n = REPLY_ROUNDS * REPLY_NOISE;
  crew p;
  worker ws[WORKERS];
  crew_start(&p, ws, e, g, n, 0);
  reply_waiter rw[REPLY_WAITERS];
  uint64_t reply_base = 1; /* below ID_BASE: a worker counts any it gets as a stray */
  for (int i = 0; i < REPLY_WAITERS; i++) {
    rw[i].g = g;
    rw[i].e = e;
    atomic_init(&rw[i].want, reply_base + (uint64_t)i);
    atomic_init(&rw[i].got, 0);
    atomic_init(&rw[i].wrong, 0);
    atomic_init(&rw[i].turn, 0);
    ck_assert_int_eq(plat_thread_start(&rw[i].t, reply_waiter_main, &rw[i]), TOFU_OK);
  }
  int noise = 0;
  for (int r = 0; r < REPLY_ROUNDS; r++) {
    WAIT_UNTIL(wants_registered(g) == REPLY_WAITERS);
    ck_assert_int_eq(wants_registered(g), REPLY_WAITERS);
    for (int k = 0; k < REPLY_NOISE; k++) {
      et_queue_id(e, g, ID_BASE + (uint64_t)noise++);
      if (k == 3 || k == 11) /* the replies in the middle of the others */
        et_queue_id(e, g, atomic_load(&rw[k == 3 ? 0 : 1].want));
    }
    for (int i = 0; i < REPLY_WAITERS; i++) {
      WAIT_UNTIL(atomic_load(&rw[i].turn) == r + 1 || atomic_load(&p.strays) > 0);
      ck_assert_msg(load_int(&p.strays) == 0, "round %d: a worker took a reply", r);
      ck_assert_int_eq(load_int(&rw[i].turn), r + 1);
      ck_assert_int_eq(load_int(&rw[i].wrong), 0);
      uint64_t next = r + 1 < REPLY_ROUNDS ? reply_base + (uint64_t)(2 * (r + 1) + i) : 0;
      atomic_store(&rw[i].want, next);
    }
  }
  for (int i = 0; i < REPLY_WAITERS; i++) {
    plat_thread_join(&rw[i].t);
    ck_assert_int_eq(load_int(&rw[i].wrong), 0);
    ck_assert_int_eq(load_int(&rw[i].got), REPLY_ROUNDS);
  }
  WAIT_UNTIL(atomic_load(&p.got) == n);
  crew_finish(&p, ws); /* strays: a worker that got a reply */
  tofu_group_destroy(g);
  et_assert_all_returned(e);
  tofu_engine_destroy(e);
}

/* ---- Destroy wakes every waiter -------------------------------------------- */

#define SLEEPERS 6

typedef struct sleeper {
  tofu_group *g;
  uint64_t id; /* 0: tofu_receive for anything */
  int many;    /* tofu_receive_many instead (id 0) */
  int timeout_ms;
  int status;
  tofu_message *got;
  atomic_int done;
  plat_thread t;
} sleeper;

static void sleeper_main(void *arg) {
  sleeper *s = arg;
  if (s->many) {
    size_t n = 99;
    s->status = tofu_receive_many(s->g, &s->got, 1, s->timeout_ms, &n);
    if (n != 0)
      s->status = 1; /* not a status: the case sees it as wrong */
  } else {
    s->status = tofu_receive(s->g, s->id, s->timeout_ms, &s->got);
  }
  atomic_store(&s->done, 1);
}

/* Six threads waiting at once (for anything, one of them with
 * tofu_receive_many, and for ids; bounded and not):
 * the destroy releases them all with TOFU_ECLOSED and returns after them. */
void case_workers_destroy_wakes_all(void) {
  tofu_engine *e = et_engine(0);
  tofu_group *g = et_group(e);
  sleeper s[SLEEPERS];
  for (int i = 0; i < SLEEPERS; i++) {
    memset(&s[i], 0, sizeof s[i]);
    s[i].g = g;
    s[i].id = i % 2 ? 777 + (uint64_t)i : 0;
    s[i].many = i == 4;
    s[i].timeout_ms = i % 3 == 0 ? -1 : 30000;
    atomic_init(&s[i].done, 0);
    ck_assert_int_eq(plat_thread_start(&s[i].t, sleeper_main, &s[i]), TOFU_OK);
  }
  WAIT_UNTIL(atomic_load(&g->mb.inside) == SLEEPERS);
  ck_assert_int_eq(load_int(&g->mb.inside), SLEEPERS);
  plat_sleep_ms(20); /* asleep, not just inside */
  uint64_t t0 = mono_now_ms();
  tofu_group_destroy(g);
  ck_assert_uint_lt(mono_now_ms() - t0, et_bound_ms(1000));
  for (int i = 0; i < SLEEPERS; i++) {
    ck_assert_int_eq(load_int(&s[i].done), 1); /* returned before the destroy did */
    plat_thread_join(&s[i].t);
    ck_assert_int_eq(s[i].status, TOFU_ECLOSED);
    ck_assert_ptr_null(s[i].got);
  }
  et_assert_all_returned(e);
  tofu_engine_destroy(e);
}

/* ---- The OS handle's level rule with several receivers --------------------- */

static int handle_ready(tofu_os_handle h, int timeout_ms) {
#ifdef _WIN32
  return WaitForSingleObject((HANDLE)h, (DWORD)timeout_ms) == WAIT_OBJECT_0;
#else
  struct pollfd pf = {h, POLLIN, 0};
  return poll(&pf, 1, timeout_ms) == 1 && (pf.revents & POLLIN);
#endif
}

typedef struct poller_worker {
  tofu_engine *e;
  tofu_group *g;
  tofu_os_handle h;
  atomic_int *got, *empty, *stop, *go;
  plat_thread t;
} poller_worker;

/* An event-loop worker: wait for the handle, then take without waiting. A
 * take may find nothing when another worker was faster; that is allowed. */
static void poller_main(void *arg) {
  poller_worker *w = arg;
  while (!atomic_load(w->stop)) {
    if (!atomic_load(w->go) || !handle_ready(w->h, POLL_MS)) {
      plat_sleep_ms(1);
      continue;
    }
    tofu_message *m = tofu_wait_receive(w->g, 0);
    if (!m) {
      atomic_fetch_add(w->empty, 1);
      continue;
    }
    tofu_put(w->e, &m);
    atomic_fetch_add(w->got, 1);
  }
}

#define LEVEL_ROUNDS 20
#define LEVEL_BURST 50

/* The handle is ready while the queue holds a message and not once the
 * workers have taken the last one, however many take at once. */
void case_workers_os_handle_level(void) {
  tofu_engine *e = et_engine(0);
  tofu_group *g = et_group(e);
  tofu_os_handle h = tofu_group_os_handle(g);
  ck_assert(h != TOFU_INVALID_OS_HANDLE);
  atomic_int got, empty, stop, go;
  atomic_init(&got, 0);
  atomic_init(&empty, 0);
  atomic_init(&stop, 0);
  atomic_init(&go, 0);
  poller_worker ws[WORKERS];
  for (int i = 0; i < WORKERS; i++) {
    ws[i] = (poller_worker){e, g, h, &got, &empty, &stop, &go, {0}};
    ck_assert_int_eq(plat_thread_start(&ws[i].t, poller_main, &ws[i]), TOFU_OK);
  }
  for (int r = 0; r < LEVEL_ROUNDS; r++) {
    ck_assert(!handle_ready(h, 0));
    for (int i = 0; i < LEVEL_BURST; i++)
      et_queue_id(e, g, ID_BASE + (uint64_t)i);
    ck_assert(handle_ready(h, 0)); /* queued, nobody taking: ready */
    atomic_store(&go, 1);
    WAIT_UNTIL(atomic_load(&got) == (r + 1) * LEVEL_BURST);
    ck_assert_int_eq(load_int(&got), (r + 1) * LEVEL_BURST);
    atomic_store(&go, 0);
    ck_assert(!handle_ready(h, 0)); /* the last taken: not ready */
  }
  atomic_store(&stop, 1);
  for (int i = 0; i < WORKERS; i++)
    plat_thread_join(&ws[i].t);
  ck_assert_ptr_null(tofu_wait_receive(g, 0));
  tofu_group_destroy(g);
  et_assert_all_returned(e);
  tofu_engine_destroy(e);
}
