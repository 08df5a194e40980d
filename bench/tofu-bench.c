/* tofu-bench — the BENCH.md workload on tofu.
 *
 * Echo and load run in this process on two engines, so on two Reactor
 * threads, each with one application thread: the echo thread turns every
 * Request into a Response (the same message, reposted) and the load thread
 * keeps W requests in flight on each of C connections, checking every echo.
 * Run with --help for the options; docs/performance.md has the method. */
#ifndef _WIN32
#define _POSIX_C_SOURCE 200809L
#endif

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef _WIN32
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#endif

#include "bench.h"
#include "platform/thread.h" /* the library's own threads: every platform tofu runs on */
#include "tofu/tofu.h"

#define SETUP_TIMEOUT_NS 20000000000LL

/* ---- The echo side ------------------------------------------------------- */

typedef struct echo_side {
  tofu_engine *e;
  tofu_group *g;
  plat_thread thread;
  atomic_int stop;
  char addr[400]; /* where it listens, in tofu's address form */
} echo_side;

/* Messages taken at once with tofu_receive_many and their answers posted at
 * once with tofu_post_many (--post-batch; 1 = tofu_wait_receive and
 * tofu_post for each message). */
static int post_batch = 1;
#define POST_BATCH_MAX 256

/* What one tofu_receive_many took, handed out one by one. */
typedef struct inbox {
  tofu_message *m[POST_BATCH_MAX];
  size_t n, at;
} inbox;

/* The next message: with --post-batch 1 from tofu_wait_receive; otherwise
 * from the batch one tofu_receive_many took, and NULL once that batch is
 * used up and timeout_ms is 0, so that the caller posts its answers before it
 * takes the next batch. */
static tofu_message *inbox_next(inbox *in, tofu_group *g, int timeout_ms) {
  if (post_batch == 1)
    return tofu_wait_receive(g, timeout_ms);
  if (in->at == in->n) {
    in->at = in->n = 0;
    if (timeout_ms == 0)
      return NULL;
    (void)tofu_receive_many(g, in->m, (size_t)post_batch, timeout_ms, &in->n);
    if (in->n == 0)
      return NULL;
  }
  return in->m[in->at++];
}

/* The messages of the batch not handed out go back to the pool. */
static void inbox_drop(inbox *in, tofu_engine *e) {
  while (in->at < in->n)
    tofu_put(e, &in->m[in->at++]);
}

/* Post n messages from g, one call per message or in one batch; what is not
 * posted goes back to the pool. 0, or -1 if a post was refused. */
static int post_all(tofu_engine *e, tofu_group *g, tofu_message **ms, size_t n) {
  int rc = 0;
  if (post_batch == 1) {
    for (size_t i = 0; i < n; i++)
      if (tofu_post(g, &ms[i], NULL) != TOFU_OK) {
        tofu_put(e, &ms[i]);
        rc = -1;
      }
    return rc;
  }
  size_t posted = 0;
  if (tofu_post_many(g, ms, n, NULL, &posted) != TOFU_OK) {
    for (size_t i = posted; i < n; i++)
      tofu_put(e, &ms[i]);
    rc = -1;
  }
  return rc;
}

/* Turn a Request into its Response (the same message, no copy) and answer
 * the hello and bye; 0 when the message is not to be answered (it is put). */
static int echo_turn(echo_side *s, tofu_message *m) {
  tofu_header *h = tofu_msg_header(m);
  if (h->origin == TOFU_ORIGIN_ENGINE) {
    tofu_put(s->e, &m); /* channel_closed, or a response to a channel gone at the end */
    return 0;
  }
  switch (h->opcode) {
  case TOFU_OP_REQUEST:
    h->opcode = TOFU_OP_RESPONSE; /* same id, same body */
    return 1;
  case TOFU_OP_HELLO_REQUEST:
    h->opcode = TOFU_OP_HELLO_RESPONSE;
    tofu_msg_set_headers(m, NULL, 0);
    return 1;
  case TOFU_OP_BYE_REQUEST:
    h->opcode = TOFU_OP_BYE_RESPONSE;
    return 1;
  default:
    tofu_put(s->e, &m);
    return 0;
  }
}

static void echo_main(void *arg) {
  echo_side *s = arg;
  tofu_message *batch[POST_BATCH_MAX];
  inbox in = {.n = 0};
  while (!atomic_load(&s->stop)) {
    /* Answer what one wait brought, up to post_batch at a time. */
    size_t n = 0;
    tofu_message *m = inbox_next(&in, s->g, 100);
    while (m) {
      if (echo_turn(s, m))
        batch[n++] = m;
      if (n == (size_t)post_batch)
        break;
      m = inbox_next(&in, s->g, 0);
    }
    post_all(s->e, s->g, batch, n);
  }
  inbox_drop(&in, s->e);
}

static tofu_message *addr_msg(tofu_engine *e, int opcode, const char *name, const char *value) {
  tofu_message *m = tofu_get(e, TOFU_ALWAYS);
  if (!m)
    return NULL;
  tofu_msg_header(m)->opcode = (uint8_t)opcode;
  if (tofu_msg_add_header(m, name, value) != TOFU_OK)
    tofu_put(e, &m);
  return m;
}

static int echo_start(echo_side *s, const bench_case *c) {
  char want[400];
  if (c->transport == BENCH_TCP)
    snprintf(want, sizeof want, "tcp|127.0.0.1|0");
  else
    snprintf(want, sizeof want, "uds|%s", c->uds_path);
  if (tofu_engine_create(NULL, &s->e) != TOFU_OK)
    return -1;
  if (tofu_group_create(s->e, &s->g) != TOFU_OK)
    return -1;
  tofu_message *m = addr_msg(s->e, TOFU_OP_WELCOME_REQUEST, TOFU_HDR_LISTEN_ON, want);
  if (!m || tofu_post(s->g, &m, NULL) != TOFU_OK) {
    tofu_put(s->e, &m);
    return -1;
  }
  m = tofu_wait_receive(s->g, 5000);
  int ok = m && tofu_msg_header(m)->opcode == TOFU_OP_WELCOME_RESPONSE;
  const char *v;
  size_t len;
  if (ok && tofu_msg_find_header(m, TOFU_HDR_LISTEN_ON, &v, &len) && len < sizeof s->addr) {
    memcpy(s->addr, v, len);
    s->addr[len] = 0;
  } else {
    ok = 0;
  }
  tofu_put(s->e, &m);
  if (!ok)
    return -1;
  atomic_init(&s->stop, 0);
  if (plat_thread_start(&s->thread, echo_main, s) != TOFU_OK)
    return -1;
  return 0;
}

static void echo_stop(echo_side *s, int started) {
  if (started) {
    atomic_store(&s->stop, 1);
    tofu_update_receiver(s->g, NULL);
    plat_thread_join(&s->thread);
  }
  tofu_engine_destroy(s->e); /* destroys the group, closes the listener */
}

/* ---- The load side ------------------------------------------------------- */

typedef struct load_side {
  tofu_engine *e;
  tofu_group *g;
  bench_conn *conns;
  int *by_channel;  /* channel number -> connection index + 1 */
  size_t peak_used; /* bytes of message memory, both engines, sampled */
  size_t limit;
  int clipped;      /* requests that could not be made: pool limit */
  int pool_notices; /* pool_empty notices (backpressure episodes) */
} load_side;

/* Connect every connection and wait for every HelloResponse. */
static int load_connect(load_side *l, const bench_case *c, const char *addr, bench_result *r) {
  for (int i = 0; i < c->conns; i++) {
    tofu_message *m = addr_msg(l->e, TOFU_OP_HELLO_REQUEST, TOFU_HDR_CONNECT_TO, addr);
    tofu_header out;
    if (!m || tofu_post(l->g, &m, &out) != TOFU_OK) {
      tofu_put(l->e, &m);
      return -1;
    }
    l->by_channel[out.channel] = i + 1;
  }
  int64_t deadline = bench_now_ns() + SETUP_TIMEOUT_NS;
  int up = 0;
  while (up < c->conns && bench_now_ns() < deadline) {
    tofu_message *m = tofu_wait_receive(l->g, 100);
    if (!m)
      continue;
    tofu_header *h = tofu_msg_header(m);
    if (h->origin == TOFU_ORIGIN_APPLICATION && h->opcode == TOFU_OP_HELLO_RESPONSE) {
      up++;
    } else {
      fprintf(stderr, "tofu-bench: connect: %s %s\n", tofu_opcode_name(h->opcode),
              tofu_status_name(h->status));
      r->errors++;
    }
    tofu_put(l->e, &m);
  }
  return up == c->conns ? 0 : -1;
}

/* Write the next request of connection i into m and post it. */
/* Write the next request of connection i into m (the caller posts it). */
static void make_request(load_side *l, const bench_case *c, int i, uint16_t channel,
                         tofu_message *m) {
  bench_conn *bc = &l->conns[i];
  size_t len;
  uint8_t *body = tofu_msg_body_mut(m, &len); /* rewritten in place, no copy */
  uint64_t seq = bench_conn_next(bc);
  bench_body_set_seq(body, seq);
  tofu_header *h = tofu_msg_header(m);
  h->opcode = TOFU_OP_REQUEST;
  h->origin = TOFU_ORIGIN_APPLICATION;
  h->status = 0;
  h->more = 0;
  h->channel = channel;
  h->message_id = seq + 1;
  if (c->scenario == BENCH_PINGPONG)
    bc->sent_at = bench_now_ns();
}

static int post_request(load_side *l, const bench_case *c, int i, uint16_t channel,
                        tofu_message *m) {
  make_request(l, c, i, channel, m);
  return tofu_post(l->g, &m, NULL) == TOFU_OK ? 0 : -1;
}

static int fill_windows(load_side *l, const bench_case *c, uint16_t *channels) {
  const uint8_t *tmpl = bench_body_template(c->size);
  if (!tmpl)
    return -1;
  for (int k = 0; k < c->window; k++) {
    for (int i = 0; i < c->conns; i++) {
      tofu_message *m = tofu_get(l->e, TOFU_ALWAYS);
      if (m && tofu_msg_set_body(m, tmpl, c->size) != TOFU_OK)
        tofu_put(l->e, &m);
      if (!m) {
        l->clipped++; /* the pool's limit: this connection runs a smaller window */
        continue;
      }
      if (post_request(l, c, i, channels[i], m) != 0)
        return -1;
    }
  }
  return 0;
}

static void sample_pool(load_side *l, tofu_engine *echo) {
  tofu_engine_stats a = {.size = sizeof a}, b = {.size = sizeof b};
  tofu_engine_get_stats(l->e, &a);
  if (echo) /* NULL: the echo side is another process (--echo-process) */
    tofu_engine_get_stats(echo, &b);
  if (a.memory_used + b.memory_used > l->peak_used)
    l->peak_used = a.memory_used + b.memory_used;
  l->limit = a.memory_limit + b.memory_limit;
}

/* A stream load reads the clock once every CLOCK_EVERY answers (and after
 * every wait that came back empty), as relay-poll reads it once per batch: a
 * phase ends at most that many answers late, some microseconds in a window of
 * seconds. Pingpong reads it for every answer, whose latency it takes. */
#define CLOCK_EVERY 32

static int load_run(load_side *l, const bench_case *c, tofu_engine *echo, bench_result *r) {
  uint16_t *channels = calloc((size_t)c->conns, sizeof *channels);
  if (!channels)
    return -1;
  for (int ch = 1; ch < 65535; ch++)
    if (l->by_channel[ch])
      channels[l->by_channel[ch] - 1] = (uint16_t)ch;
  bench_clock k;
  bench_samples lat = {0};
  bench_clock_start(&k, c);
  int rc = fill_windows(l, c, channels);
  int64_t next_sample = 0, now = 0;
  int unclocked = CLOCK_EVERY; /* the first pass reads the clock */
  tofu_message *next[POST_BATCH_MAX];
  size_t nnext = 0;
  inbox in = {.n = 0};
  while (rc == 0) {
    /* The next requests go out once the queue (or the batch taken) is
     * empty, or the batch of requests is full. */
    tofu_message *m = inbox_next(&in, l->g, nnext ? 0 : 100);
    if (nnext && (!m || nnext == (size_t)post_batch)) {
      if (post_all(l->e, l->g, next, nnext) != 0)
        rc = -1;
      nnext = 0;
      if (!m)
        continue;
    }
    if (c->scenario == BENCH_PINGPONG || !m || ++unclocked >= CLOCK_EVERY) {
      now = bench_now_ns();
      unclocked = 0;
    }
    int phase = bench_phase(&k, now);
    if (phase == 2) {
      tofu_put(l->e, &m);
      break;
    }
    if (now >= next_sample) {
      sample_pool(l, echo);
      next_sample = now + 50000000;
    }
    if (!m)
      continue;
    tofu_header *h = tofu_msg_header(m);
    if (h->origin == TOFU_ORIGIN_ENGINE && h->status == TOFU_STATUS_POOL_EMPTY) {
      l->pool_notices++; /* backpressure: reading paused until messages come back */
      tofu_put(l->e, &m);
      continue;
    }
    int idx = l->by_channel[h->channel] - 1;
    if (h->origin != TOFU_ORIGIN_APPLICATION || h->opcode != TOFU_OP_RESPONSE || idx < 0) {
      fprintf(stderr, "tofu-bench: unexpected %s %s on channel %u\n", tofu_opcode_name(h->opcode),
              tofu_status_name(h->status), h->channel);
      r->errors++;
      tofu_put(l->e, &m);
      continue;
    }
    bench_conn *bc = &l->conns[idx];
    size_t len;
    const uint8_t *body = tofu_msg_body(m, &len);
    if (bench_conn_check(bc, c->size, len, body, h->message_id) != 0) {
      r->errors++;
      tofu_put(l->e, &m);
      continue;
    }
    if (phase == 1) {
      r->echoes++;
      if (c->scenario == BENCH_PINGPONG)
        bench_samples_add(&lat, now - bc->sent_at);
    }
    make_request(l, c, idx, h->channel, m);
    next[nnext++] = m;
  }
  for (size_t i = 0; i < nnext; i++)
    tofu_put(l->e, &next[i]);
  inbox_drop(&in, l->e);
  r->elapsed = c->seconds;
  bench_samples_finish(&lat, r);
  free(channels);
  return rc;
}

/* ---- One case ------------------------------------------------------------ */

#ifndef _WIN32
static int echo_process; /* --echo-process */
static int run_case_forked(const bench_case *c, bench_result *r);
#endif

static int run_case(const bench_case *c, bench_result *r) {
#ifndef _WIN32
  if (echo_process)
    return run_case_forked(c, r);
#endif
  echo_side es;
  load_side ls;
  memset(&es, 0, sizeof es);
  memset(&ls, 0, sizeof ls);
  int echo_up = echo_start(&es, c) == 0;
  int rc = -1;
  ls.conns = calloc((size_t)c->conns, sizeof *ls.conns);
  ls.by_channel = calloc(65536, sizeof *ls.by_channel);
  if (echo_up && ls.conns && ls.by_channel && tofu_engine_create(NULL, &ls.e) == TOFU_OK &&
      tofu_group_create(ls.e, &ls.g) == TOFU_OK && load_connect(&ls, c, es.addr, r) == 0)
    rc = load_run(&ls, c, es.e, r);
  if (!echo_up)
    fprintf(stderr, "tofu-bench: the echo side did not start\n");
  tofu_engine_destroy(ls.e); /* closes every load connection */
  echo_stop(&es, echo_up);
  snprintf(r->note, sizeof r->note,
           "pool_limit_kb=%zu pool_peak_used_kb=%zu window_clipped=%d pool_empty_notices=%d",
           ls.limit / 1024, ls.peak_used / 1024, ls.clipped, ls.pool_notices);
  free(ls.conns);
  free(ls.by_channel);
  return rc;
}

#ifndef _WIN32
/* --echo-process: the echo side in a child process, so that each process
 * holds one end of every connection (C = 10,000 needs 20,000 descriptors in
 * one process otherwise). The child writes the address it listens on, serves
 * until the parent closes the pipe, and its peak RSS is read from its
 * rusage. */

static int read_full(int fd, void *buf, size_t n) {
  size_t got = 0;
  while (got < n) {
    ssize_t k = read(fd, (char *)buf + got, n - got);
    if (k <= 0)
      return -1;
    got += (size_t)k;
  }
  return 0;
}

static int run_case_forked(const bench_case *c, bench_result *r) {
  int up[2], down[2];
  if (pipe(up) != 0 || pipe(down) != 0)
    return -1;
  fflush(stdout);
  pid_t pid = fork();
  if (pid < 0)
    return -1;
  if (pid == 0) {
    close(up[0]);
    close(down[1]);
    echo_side es;
    memset(&es, 0, sizeof es);
    int ok = echo_start(&es, c) == 0;
    uint32_t len = ok ? (uint32_t)strlen(es.addr) : 0;
    if (write(up[1], &len, sizeof len) != (ssize_t)sizeof len ||
        (len && write(up[1], es.addr, len) != (ssize_t)len))
      ok = 0;
    char byte;
    while (ok && read(down[0], &byte, 1) > 0) {
    }
    echo_stop(&es, ok);
    _exit(ok ? 0 : 1);
  }
  close(up[1]);
  close(down[0]);
  echo_side es;
  memset(&es, 0, sizeof es);
  uint32_t len = 0;
  int echo_up = read_full(up[0], &len, sizeof len) == 0 && len > 0 && len < sizeof es.addr &&
                read_full(up[0], es.addr, len) == 0;
  close(up[0]);
  load_side ls;
  memset(&ls, 0, sizeof ls);
  int rc = -1;
  ls.conns = calloc((size_t)c->conns, sizeof *ls.conns);
  ls.by_channel = calloc(65536, sizeof *ls.by_channel);
  if (echo_up && ls.conns && ls.by_channel && tofu_engine_create(NULL, &ls.e) == TOFU_OK &&
      tofu_group_create(ls.e, &ls.g) == TOFU_OK && load_connect(&ls, c, es.addr, r) == 0)
    rc = load_run(&ls, c, NULL, r);
  if (!echo_up)
    fprintf(stderr, "tofu-bench: the echo process did not start\n");
  tofu_engine_destroy(ls.e);
  close(down[1]); /* the child stops */
  int status = 0;
  if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
    rc = -1;
  struct rusage ru;
  long child_rss = getrusage(RUSAGE_CHILDREN, &ru) == 0 ? ru.ru_maxrss : 0;
  snprintf(r->note, sizeof r->note,
           "echo_process_peak_rss_kb=%ld load_pool_limit_kb=%zu load_pool_peak_used_kb=%zu "
           "window_clipped=%d pool_empty_notices=%d",
           child_rss, ls.limit / 1024, ls.peak_used / 1024, ls.clipped, ls.pool_notices);
  free(ls.conns);
  free(ls.by_channel);
  return rc;
}
#endif

int main(int argc, char **argv) {
  /* --post-batch N and --echo-process are tofu-bench's own; the rest is
   * bench.c's. */
  for (int i = 1; i < argc; i++)
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
      fprintf(stderr, "tofu-bench also takes: --post-batch N (take up to N messages at once "
                      "with tofu_receive_many and post their answers with tofu_post_many; "
                      "1 = one tofu_wait_receive and one tofu_post each, the default)\n"
                      "  --echo-process (POSIX: the echo side in a child process)\n");
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--echo-process") != 0)
      continue;
#ifdef _WIN32
    fprintf(stderr, "tofu-bench: --echo-process is POSIX only\n");
    return 2;
#else
    echo_process = 1;
    for (int j = i; j + 1 <= argc; j++)
      argv[j] = argv[j + 1];
    argc -= 1;
    break;
#endif
  }
  for (int i = 1; i + 1 < argc; i++) {
    if (strcmp(argv[i], "--post-batch") != 0)
      continue;
    post_batch = atoi(argv[i + 1]);
    if (post_batch < 1 || post_batch > POST_BATCH_MAX) {
      fprintf(stderr, "tofu-bench: --post-batch takes 1..%d\n", POST_BATCH_MAX);
      return 2;
    }
    for (int j = i; j + 2 <= argc; j++)
      argv[j] = argv[j + 2];
    argc -= 2;
    break;
  }
  char impl[64], layout[256];
  snprintf(impl, sizeof impl, "tofu-%s", tofu_backend_name());
  snprintf(layout, sizeof layout,
           "echo and load in %s: two tofu engines (two Reactor threads), "
           "one echo thread, one load thread; takes and posts in batches of up to %d",
#ifndef _WIN32
           echo_process ? "two processes (--echo-process)" :
#endif
                        "one process",
           post_batch);
  return bench_main(argc, argv, impl, layout, run_case);
}
