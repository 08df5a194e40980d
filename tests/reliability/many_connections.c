/* tofu — the reliability suite: many connections held at once.
 *
 * load_1000: 1,000 connections between two engines in this process, a
 * request and its response on each, on every backend.
 * load_10000 (POSIX): 10,000 connections; the client engine runs in a child
 * process so that each side has its own descriptor table.
 * (The soak, connections opened and closed over time, is soak.c.) */
#ifndef _WIN32
#define _POSIX_C_SOURCE 200809L
#endif
#include <stdio.h>
#include <stdlib.h>

#include "suite.h"

#ifndef _WIN32
#include <sys/wait.h>
#include <unistd.h>
#endif

/* How long each message may take here. Under Wine, 1,000 sockets with a
 * poll pending each make Wine's server (one process that serves every
 * Winsock and I/O call) spend seconds on one Reactor pass's calls: it was
 * measured at 94 % of a core through a stall of 5 s between the last
 * HelloResponse and the first Request, the client's Reactor inside one pass
 * all along (its posts taken, its pass count still). The engine waits on
 * Wine there and loses nothing; natively the deadline stays ET_DEADLINE_MS. */
static int load_deadline_ms(void) {
  return runner_under_wine() ? 6 * ET_DEADLINE_MS : ET_DEADLINE_MS;
}

static tofu_message *load_expect(tofu_group *g, int opcode, int origin, int status) {
  return et_expect_within(g, load_deadline_ms(), opcode, origin, status);
}

/* Open n channels from gc to the listener at bound: HelloRequests go out in
 * batches, the server application (this thread) answers each. */
static void open_many(tofu_engine *ec, tofu_group *gc, tofu_engine *es, tofu_group *gs,
                      const char *bound, int n, uint16_t *cch) {
  enum { BATCH = 500 };
  for (int done = 0; done < n;) {
    int k = n - done < BATCH ? n - done : BATCH;
    for (int i = 0; i < k; i++) {
      cch[done + i] = et_post_hello(ec, gc, bound).channel;
    }
    for (int i = 0; i < k; i++) {
      tofu_message *m =
          load_expect(gs, TOFU_OP_HELLO_REQUEST, TOFU_ORIGIN_APPLICATION, TOFU_STATUS_SUCCESS);
      tofu_msg_header(m)->opcode = TOFU_OP_HELLO_RESPONSE;
      et_post(gs, &m);
    }
    for (int i = 0; i < k; i++) {
      tofu_message *m =
          load_expect(gc, TOFU_OP_HELLO_RESPONSE, TOFU_ORIGIN_APPLICATION, TOFU_STATUS_SUCCESS);
      tofu_put(ec, &m);
    }
    done += k;
  }
  (void)es;
}

void case_load_1000(void) {
  int n = (int)rel_env("TOFU_REL_CONNECTIONS", 1000);
  ck_assert(runner_raise_fd_limit(2L * n + 200));
  uint64_t t0 = mono_now_ms();
  tofu_engine *es = et_engine(0), *ec = et_engine(0);
  tofu_group *gs = et_group(es), *gc = et_group(ec);
  char bound[256];
  et_listen(es, gs, "tcp|127.0.0.1|0", bound, sizeof bound);
  uint16_t *cch = malloc((size_t)n * sizeof *cch);
  open_many(ec, gc, es, gs, bound, n, cch);
  tofu_engine_stats st = {.size = sizeof st};
  tofu_engine_get_stats(es, &st);
  ck_assert_uint_eq(st.channels, (size_t)n + 1);
  for (int i = 0; i < n; i++) {
    tofu_message *m = et_msg(ec, TOFU_OP_REQUEST, cch[i], 256, (unsigned)i);
    et_post(gc, &m);
  }
  for (int i = 0; i < n; i++) {
    tofu_message *m = load_expect(gs, TOFU_OP_REQUEST, TOFU_ORIGIN_APPLICATION, 0);
    tofu_msg_header(m)->opcode = TOFU_OP_RESPONSE;
    et_post(gs, &m);
  }
  for (int i = 0; i < n; i++) {
    tofu_message *m = load_expect(gc, TOFU_OP_RESPONSE, TOFU_ORIGIN_APPLICATION, 0);
    tofu_put(ec, &m);
  }
  printf("%d connections opened and used in %llu ms\n", n,
         (unsigned long long)(mono_now_ms() - t0));
  rel_figure("connections_held", n);
  rel_figure("load_peak_rss_kib", (double)rel_peak_rss_kib());
  tofu_group_destroy(gc);
  for (int i = 0; i < n; i++) {
    tofu_message *m =
        load_expect(gs, TOFU_OP_SIGNAL, TOFU_ORIGIN_ENGINE, TOFU_STATUS_CHANNEL_CLOSED);
    tofu_put(es, &m);
  }
  free(cch);
  tofu_group_destroy(gs);
  et_assert_all_returned(es);
  et_assert_all_returned(ec);
  tofu_engine_destroy(ec);
  tofu_engine_destroy(es);
}

#ifndef _WIN32
/* The client side of load_10000, in a child process: no check assertions
 * here; the exit status says how it went. */
static int load_child(int rfd, int n) {
  uint16_t port = 0;
  if (read(rfd, &port, sizeof port) != (ssize_t)sizeof port)
    return 10;
  close(rfd);
  if (!runner_raise_fd_limit((long)n + 200))
    return 11;
  char bound[64];
  snprintf(bound, sizeof bound, "tcp|127.0.0.1|%u", (unsigned)port);
  tofu_engine *e = NULL;
  if (tofu_engine_create(NULL, &e) != TOFU_OK)
    return 12;
  tofu_group *g = NULL;
  tofu_group_create(e, &g);
  uint16_t *ch = malloc((size_t)n * sizeof *ch);
  enum { BATCH = 500 };
  for (int done = 0; done < n; done += BATCH) {
    int k = n - done < BATCH ? n - done : BATCH;
    for (int i = 0; i < k; i++) {
      tofu_message *m = tofu_get(e, TOFU_ALWAYS);
      tofu_msg_header(m)->opcode = TOFU_OP_HELLO_REQUEST;
      tofu_msg_add_header(m, TOFU_HDR_CONNECT_TO, bound);
      tofu_header h;
      if (tofu_post(g, &m, &h) != TOFU_OK)
        return 13;
      ch[done + i] = h.channel;
    }
    for (int i = 0; i < k; i++) {
      tofu_message *m = tofu_wait_receive(g, 20000);
      if (!m || tofu_msg_header(m)->opcode != TOFU_OP_HELLO_RESPONSE)
        return 14;
      tofu_put(e, &m);
    }
  }
  for (int i = 0; i < n; i++) {
    tofu_message *m = tofu_get(e, TOFU_ALWAYS);
    tofu_msg_header(m)->opcode = TOFU_OP_REQUEST;
    tofu_msg_header(m)->channel = ch[i];
    tofu_msg_set_body(m, "ping", 4);
    if (tofu_post(g, &m, NULL) != TOFU_OK)
      return 15;
  }
  for (int i = 0; i < n; i++) {
    tofu_message *m = tofu_wait_receive(g, 20000);
    if (!m || tofu_msg_header(m)->opcode != TOFU_OP_RESPONSE)
      return 16;
    tofu_put(e, &m);
  }
  tofu_engine_stats st = {.size = sizeof st};
  tofu_engine_get_stats(e, &st);
  if (st.channels != (size_t)n)
    return 17;
  free(ch);
  tofu_engine_destroy(e);
  return 0;
}
#endif

void case_load_10000(void) {
#ifdef _WIN32
  ck_abort_msg("POSIX only");
#else
  int n = (int)rel_env("TOFU_REL_BIG_CONNECTIONS", 10000);
  if (!runner_raise_fd_limit((long)n + 200))
    ck_abort_msg("RLIMIT_NOFILE cannot be raised to %d", n + 200);
  int pfd[2];
  ck_assert_int_eq(pipe(pfd), 0);
  pid_t pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid == 0) {
    close(pfd[1]);
    _exit(load_child(pfd[0], n));
  }
  close(pfd[0]);
  uint64_t t0 = mono_now_ms();
  tofu_engine *es = et_engine(0);
  tofu_group *gs = et_group(es);
  char bound[256];
  et_listen(es, gs, "tcp|127.0.0.1|0", bound, sizeof bound);
  uint16_t port = rel_port_of(bound);
  ck_assert_int_eq((int)write(pfd[1], &port, sizeof port), (int)sizeof port);
  close(pfd[1]);
  /* Serve: answer hellos, echo requests, until every connection has been
   * used once. */
  int hellos = 0, echoed = 0;
  size_t peak = 0;
  uint64_t until = mono_now_ms() + 150000;
  while (echoed < n) {
    ck_assert_msg(mono_now_ms() < until, "%d hellos, %d echoes", hellos, echoed);
    tofu_message *m = tofu_wait_receive(gs, 1000);
    if (!m) {
      int status;
      ck_assert_msg(waitpid(pid, &status, WNOHANG) == 0, "the client ended early (status %d)",
                    WIFEXITED(status) ? WEXITSTATUS(status) : -1);
      continue;
    }
    tofu_header *h = tofu_msg_header(m);
    ck_assert_uint_eq(h->origin, TOFU_ORIGIN_APPLICATION);
    if (h->opcode == TOFU_OP_HELLO_REQUEST) {
      h->opcode = TOFU_OP_HELLO_RESPONSE;
      hellos++;
    } else {
      ck_assert_uint_eq(h->opcode, TOFU_OP_REQUEST);
      h->opcode = TOFU_OP_RESPONSE;
      echoed++;
    }
    et_post(gs, &m);
    tofu_engine_stats st = {.size = sizeof st};
    tofu_engine_get_stats(es, &st);
    if (st.channels > peak)
      peak = st.channels;
  }
  int status = 0;
  ck_assert_int_eq(waitpid(pid, &status, 0), pid);
  ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "client exit status %d",
                WIFEXITED(status) ? WEXITSTATUS(status) : -1);
  /* The client is gone: every connection ends, each with its notice. */
  for (int i = 0; i < n; i++) {
    tofu_message *m = tofu_wait_receive(gs, 20000);
    ck_assert_ptr_nonnull(m);
    ck_assert_uint_eq(tofu_msg_header(m)->status, TOFU_STATUS_CHANNEL_CLOSED);
    tofu_put(es, &m);
  }
  printf("%d connections (peak %zu server channels) in %llu ms\n", n, peak - 1,
         (unsigned long long)(mono_now_ms() - t0));
  rel_figure("big_connections_held", (double)(peak - 1));
  rel_figure("big_load_server_peak_rss_kib", (double)rel_peak_rss_kib());
  ck_assert_uint_eq(peak - 1, (size_t)n);
  tofu_group_destroy(gs);
  et_assert_all_returned(es);
  tofu_engine_destroy(es);
#endif
}
