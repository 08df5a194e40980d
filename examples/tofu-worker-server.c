/* tofu-worker-server — an echo server whose group is received from by a
 * pool of worker threads at once: each Request is answered, by whichever
 * worker took it, with a Response carrying the same id, text headers and
 * body; HelloRequest and ByeRequest are answered as tofu-echo-server does.
 * Bodies may be up to 1 MiB (tofu_options.max_message): a larger body
 * travels as several frames of one id and arrives joined into one message.
 *
 *   tofu-worker-server --listen URL [--listen URL ...] [--workers N]
 *
 * URL is tcp://HOST:PORT, tcp://[V6]:PORT or unix:///PATH; listen on as many
 * as given (a TCP port and a Unix socket, say), all on one group. N worker
 * threads (default 4) wait on that group with tofu_wait_receive; each
 * message goes to exactly one of them. Prints one line per address once it
 * listens; exits 0 on SIGINT/SIGTERM after closing everything, printing how
 * many requests each worker answered. */
#ifndef _WIN32
#define _POSIX_C_SOURCE 200809L
#endif

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "example_signals.h" /* windows.h or pthread.h, for the workers too */
#include "example_util.h"

#define MAX_WORKERS 64
#define MAX_LISTEN 8

static tofu_engine *engine;
static tofu_group *group;
static atomic_int stopping;
static atomic_int status;
static atomic_ulong served[MAX_WORKERS];

/* Stop: every worker must leave its wait. The engine's receiver_update
 * notice wakes one waiter (notices coalesce), and each worker that leaves
 * raises it again for the next. */
static void stop_all(void) {
  atomic_store(&stopping, 1);
  tofu_update_receiver(group, NULL);
}

/* A message from the engine: a listener's answer, a channel's end. */
static void engine_notice(tofu_message *m) {
  tofu_header *h = tofu_msg_header(m);
  const char *v = "";
  size_t len = 0;
  if (h->opcode == TOFU_OP_WELCOME_RESPONSE) {
    tofu_msg_find_header(m, TOFU_HDR_LISTEN_ON, &v, &len);
    printf("tofu-worker-server: listening on %.*s (backend %s)\n", (int)len, v,
           tofu_backend_name());
    fflush(stdout);
  } else if (h->opcode == TOFU_OP_WELCOME_REQUEST) {
    tofu_msg_find_header(m, TOFU_HDR_LISTEN_ON, &v, &len);
    fprintf(stderr, "tofu-worker-server: cannot listen on %.*s: %s\n", (int)len, v,
            tofu_status_name(h->status));
    atomic_store(&status, 1);
    stop_all();
  }
}

static void work(int index) {
  while (!atomic_load(&stopping)) {
    tofu_message *m = tofu_wait_receive(group, -1);
    if (!m)
      continue;
    tofu_header *h = tofu_msg_header(m);
    if (h->origin == TOFU_ORIGIN_ENGINE) {
      engine_notice(m);
      tofu_put(engine, &m);
      continue;
    }
    switch (h->opcode) {
    case TOFU_OP_HELLO_REQUEST:
      h->opcode = TOFU_OP_HELLO_RESPONSE;
      tofu_msg_set_headers(m, NULL, 0);
      break;
    case TOFU_OP_REQUEST:
      /* An application's work goes here: it may block (a database call,
       * another service) without holding up the other workers. */
      h->opcode = TOFU_OP_RESPONSE; /* same id, text headers and body */
      atomic_fetch_add(&served[index], 1);
      break;
    case TOFU_OP_BYE_REQUEST:
      h->opcode = TOFU_OP_BYE_RESPONSE;
      break;
    default:
      tofu_put(engine, &m);
      continue;
    }
    if (tofu_post(group, &m, NULL) != TOFU_OK)
      tofu_put(engine, &m);
  }
  tofu_update_receiver(group, NULL); /* wake the next worker: it leaves too */
}

#ifdef _WIN32
typedef HANDLE worker_thread;
static DWORD WINAPI worker_main(LPVOID arg) {
  work((int)(intptr_t)arg);
  return 0;
}
static int worker_start(worker_thread *t, int index) {
  *t = CreateThread(NULL, 0, worker_main, (LPVOID)(intptr_t)index, 0, NULL);
  return *t ? 0 : -1;
}
static void worker_join(worker_thread t) {
  WaitForSingleObject(t, INFINITE);
  CloseHandle(t);
}
#else
typedef pthread_t worker_thread;
static void *worker_main(void *arg) {
  work((int)(intptr_t)arg);
  return NULL;
}
static int worker_start(worker_thread *t, int index) {
  return pthread_create(t, NULL, worker_main, (void *)(intptr_t)index) == 0 ? 0 : -1;
}
static void worker_join(worker_thread t) {
  pthread_join(t, NULL);
}
#endif

/* The largest body a request may carry (and its echo). */
#define WORKER_MAX_MESSAGE (1024u * 1024u)

static int usage(void) {
  fprintf(stderr, "usage: tofu-worker-server --listen URL [--listen URL ...] [--workers N]\n"
                  "       URL: tcp://HOST:PORT | tcp://[V6]:PORT | unix:///PATH\n");
  return 2;
}

int main(int argc, char **argv) {
  const char *urls[MAX_LISTEN];
  int nurls = 0, nworkers = 4;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--listen") == 0 && i + 1 < argc && nurls < MAX_LISTEN)
      urls[nurls++] = argv[++i];
    else if (strcmp(argv[i], "--workers") == 0 && i + 1 < argc)
      nworkers = atoi(argv[++i]);
    else
      return usage();
  }
  if (nurls == 0 || nworkers < 1 || nworkers > MAX_WORKERS)
    return usage();
  example_stop_signals_block();

  tofu_options o;
  tofu_options_default(&o);
  o.initial_messages = 256;
  o.max_message = WORKER_MAX_MESSAGE;
  int rc = tofu_engine_create(&o, &engine);
  if (rc != TOFU_OK) {
    fprintf(stderr, "tofu-worker-server: engine: %s\n", tofu_strerror(rc));
    return 1;
  }
  if (tofu_group_create(engine, &group) != TOFU_OK) {
    tofu_engine_destroy(engine);
    return 1;
  }
  for (int i = 0; i < nurls; i++) {
    if (tofu_listen(group, urls[i], NULL) != TOFU_OK) {
      fprintf(stderr, "tofu-worker-server: %s is not a tcp:// or unix: URL\n", urls[i]);
      tofu_engine_destroy(engine);
      return 2;
    }
  }
  example_stop_signals_watch(stop_all);

  worker_thread ts[MAX_WORKERS];
  int started = 0;
  for (; started < nworkers; started++)
    if (worker_start(&ts[started], started) != 0) {
      fprintf(stderr, "tofu-worker-server: cannot start worker %d\n", started);
      atomic_store(&status, 1);
      stop_all();
      break;
    }
  for (int i = 0; i < started; i++)
    worker_join(ts[i]);

  tofu_group_destroy(group); /* closes the listeners and every connection */
  tofu_engine_destroy(engine);
  unsigned long total = 0;
  fprintf(stderr, "tofu-worker-server: requests per worker:");
  for (int i = 0; i < started; i++) {
    unsigned long n = atomic_load(&served[i]);
    total += n;
    fprintf(stderr, " %lu", n);
  }
  fprintf(stderr, "\ntofu-worker-server: stopped after %lu requests\n", total);
  return atomic_load(&status);
}
