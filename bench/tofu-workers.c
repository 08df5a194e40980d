/* tofu-workers — a pool of worker threads on one group: how the time to
 * answer a batch of requests falls with the number of workers when each
 * request costs blocking work.
 *
 * A server engine listens over TCP; its group is received from by W worker
 * threads at once (tofu_wait_receive). Each worker, for each Request, does
 * the "work" and answers with the same body. A client engine posts R
 * requests at once on one connection and waits for every answer, checking
 * each id comes back exactly once. It runs W = 1 and W = each number given,
 * and prints the time and the speedup over one worker.
 *
 * The work is blocking, not CPU: a sleep of --work-ms (2 ms by default),
 * as a database call or a call to another service would be. This is what a
 * worker pool is for, and the only kind of work that can scale past the
 * cores of the machine it runs on: CPU-bound work cannot go faster than the
 * number of cores allows (a 2-core machine caps it at 2x whatever W is).
 *
 *   tofu-workers [--requests R] [--work-ms MS] [--workers W[,W...]]
 *
 * Defaults: R = 400, MS = 2, W = 4. Exits 1 if a run loses or repeats an
 * answer; the speedup is reported, not judged. */
#ifndef _WIN32
#define _POSIX_C_SOURCE 200809L
#endif

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "platform/thread.h" /* the library's own threads: every platform tofu runs on */
#include "tofu/tofu.h"

#define MAX_WORKERS 64
#define DEADLINE_MS 60000

typedef struct server {
  tofu_engine *e;
  tofu_group *g;
  int work_ms;
  atomic_int stop;
  atomic_int handled;
} server;

static void worker_main(void *arg) {
  server *s = arg;
  while (!atomic_load(&s->stop)) {
    tofu_message *m = tofu_wait_receive(s->g, 50);
    if (!m)
      continue;
    tofu_header *h = tofu_msg_header(m);
    if (h->origin != TOFU_ORIGIN_APPLICATION || h->opcode != TOFU_OP_REQUEST) {
      tofu_put(s->e, &m); /* channel_closed at the end */
      continue;
    }
    plat_sleep_ms(s->work_ms);    /* the work: blocking, as a call to a database */
    h->opcode = TOFU_OP_RESPONSE; /* same id, same body */
    if (tofu_post(s->g, &m, NULL) != TOFU_OK)
      tofu_put(s->e, &m);
    atomic_fetch_add(&s->handled, 1);
  }
}

/* The next message of g that is not an engine notice, or NULL after DEADLINE_MS. */
static tofu_message *next_of(tofu_engine *e, tofu_group *g) {
  for (;;) {
    tofu_message *m = tofu_wait_receive(g, DEADLINE_MS);
    if (!m || tofu_msg_header(m)->opcode != TOFU_OP_SIGNAL)
      return m;
    tofu_put(e, &m);
  }
}

/* One run with w workers: the seconds it took to answer r requests, or a
 * negative number if one was lost or answered twice. */
static double run(int w, int r, int work_ms) {
  server s = {0};
  s.work_ms = work_ms;
  atomic_init(&s.stop, 0);
  atomic_init(&s.handled, 0);
  tofu_engine *ec = NULL;
  tofu_group *gc = NULL;
  double secs = -1;
  char url[600];
  uint16_t ch = 0;
  unsigned char *seen = calloc((size_t)r, 1);
  uint64_t *ids = calloc((size_t)r, sizeof *ids);
  plat_thread ts[MAX_WORKERS];
  int started = 0;
  if (!seen || !ids || tofu_engine_create(NULL, &s.e) != TOFU_OK ||
      tofu_group_create(s.e, &s.g) != TOFU_OK || tofu_engine_create(NULL, &ec) != TOFU_OK ||
      tofu_group_create(ec, &gc) != TOFU_OK ||
      tofu_listen(s.g, "tcp://127.0.0.1:0", NULL) != TOFU_OK)
    goto out;
  tofu_message *m = next_of(s.e, s.g);
  if (!m || tofu_listen_address(m, url, sizeof url) != TOFU_OK) {
    tofu_put(s.e, &m);
    goto out;
  }
  tofu_put(s.e, &m);
  if (tofu_connect(gc, url, &ch) != TOFU_OK)
    goto out;
  /* The server's group sees the HelloRequest; answer it before the workers start. */
  m = next_of(s.e, s.g);
  if (!m || tofu_msg_header(m)->opcode != TOFU_OP_HELLO_REQUEST) {
    tofu_put(s.e, &m);
    goto out;
  }
  tofu_msg_header(m)->opcode = TOFU_OP_HELLO_RESPONSE;
  tofu_msg_set_headers(m, NULL, 0);
  if (tofu_post(s.g, &m, NULL) != TOFU_OK) {
    tofu_put(s.e, &m);
    goto out;
  }
  m = next_of(ec, gc);
  int hello_ok = m && tofu_msg_header(m)->opcode == TOFU_OP_HELLO_RESPONSE;
  tofu_put(ec, &m);
  if (!hello_ok)
    goto out;
  for (; started < w; started++)
    if (plat_thread_start(&ts[started], worker_main, &s) != TOFU_OK)
      goto out;

  int64_t t0 = bench_now_ns();
  for (int i = 0; i < r; i++) {
    uint32_t b = (uint32_t)i;
    uint64_t id = 0;
    if (tofu_send(gc, ch, TOFU_OP_REQUEST, &b, sizeof b, &id) != TOFU_OK)
      goto out;
    ids[i] = id;
  }
  int back = 0, bad = 0;
  while (back < r) {
    m = next_of(ec, gc);
    if (!m)
      break;
    size_t len = 0;
    const uint32_t *b = tofu_msg_body(m, &len);
    uint32_t i;
    if (tofu_msg_header(m)->opcode != TOFU_OP_RESPONSE || len != sizeof i) {
      bad++;
    } else {
      memcpy(&i, b, sizeof i);
      if (i >= (uint32_t)r || seen[i] || ids[i] != tofu_msg_header(m)->message_id)
        bad++;
      else
        seen[i] = 1;
    }
    tofu_put(ec, &m);
    back++;
  }
  int64_t t1 = bench_now_ns();
  if (back == r && bad == 0)
    secs = (double)(t1 - t0) / 1e9;
  else
    fprintf(stderr, "tofu-workers: %d workers: %d of %d answers, %d wrong\n", w, back, r, bad);
out:
  atomic_store(&s.stop, 1);
  for (int i = 0; i < started; i++)
    plat_thread_join(&ts[i]);
  tofu_engine_destroy(ec);
  tofu_engine_destroy(s.e);
  free(seen);
  free(ids);
  return secs;
}

int main(int argc, char **argv) {
  int r = 400, work_ms = 2;
  int ws[16], nw = 0;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--requests") == 0 && i + 1 < argc) {
      r = atoi(argv[++i]);
    } else if (strcmp(argv[i], "--work-ms") == 0 && i + 1 < argc) {
      work_ms = atoi(argv[++i]);
    } else if (strcmp(argv[i], "--workers") == 0 && i + 1 < argc) {
      for (char *p = argv[++i]; *p && nw < 16;) {
        ws[nw++] = (int)strtol(p, &p, 10);
        if (*p == ',')
          p++;
        else if (*p)
          break;
      }
    } else {
      fprintf(stderr, "usage: %s [--requests R] [--work-ms MS] [--workers W[,W...]]\n", argv[0]);
      return 2;
    }
  }
  if (nw == 0)
    ws[nw++] = 4;
  if (r < 1 || work_ms < 0)
    return 2;
  for (int i = 0; i < nw; i++)
    if (ws[i] < 1 || ws[i] > MAX_WORKERS)
      return 2;
  double one = run(1, r, work_ms);
  if (one < 0)
    return 1;
  printf("workers=1 requests=%d work_ms=%d seconds=%.3f req/s=%.0f\n", r, work_ms, one, r / one);
  for (int i = 0; i < nw; i++) {
    if (ws[i] == 1)
      continue;
    double t = run(ws[i], r, work_ms);
    if (t < 0)
      return 1;
    printf("workers=%d requests=%d work_ms=%d seconds=%.3f req/s=%.0f speedup=%.2f\n", ws[i], r,
           work_ms, t, r / t, one / t);
  }
  return 0;
}
