/* tofu-echo-server — answers HelloRequest with HelloResponse, each Request
 * with a Response carrying the same message id, text headers and body, and
 * ByeRequest with ByeResponse (the engine then closes that connection).
 *
 *   tofu-echo-server --listen tcp://HOST:PORT | tcp://[V6]:PORT | unix:///PATH
 *
 * Prints one line once it listens; exits 0 on SIGINT/SIGTERM after closing
 * everything (the Unix socket file is removed). */
#ifndef _WIN32
#define _POSIX_C_SOURCE 200809L
#endif

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "example_signals.h"
#include "example_util.h"

#ifndef _WIN32
#include <sys/resource.h>
#endif

static tofu_group *stop_group;
static atomic_int stopping;

static void stop_serving(void) {
  stopping = 1;
  tofu_update_receiver(stop_group, NULL);
}

#ifdef _WIN32
static void raise_fd_limit(void) {}
#else
/* At least 1,000 connections need descriptors: raise the soft limit to the
 * hard one. */
static void raise_fd_limit(void) {
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
}
#endif

static int usage(void) {
  fprintf(stderr,
          "usage: tofu-echo-server --listen tcp://HOST:PORT | tcp://[V6]:PORT | unix:///PATH\n");
  return 2;
}

int main(int argc, char **argv) {
  if (argc != 3 || strcmp(argv[1], "--listen") != 0)
    return usage();
  example_stop_signals_block();
  raise_fd_limit();

  tofu_engine *e;
  tofu_options o;
  tofu_options_default(&o);
  o.initial_messages = 256;
  int rc = tofu_engine_create(&o, &e);
  if (rc != TOFU_OK) {
    fprintf(stderr, "tofu-echo-server: engine: %s\n", tofu_strerror(rc));
    return 1;
  }
  tofu_group *g;
  if (tofu_group_create(e, &g) != TOFU_OK) {
    tofu_engine_destroy(e);
    return 1;
  }
  stop_group = g;
  example_stop_signals_watch(stop_serving);

  if (tofu_listen(g, argv[2], NULL) != TOFU_OK) {
    fprintf(stderr, "tofu-echo-server: %s is not a tcp:// or unix: URL\n", argv[2]);
    tofu_engine_destroy(e);
    return 2;
  }
  /* What one pass of the Reactor delivered is taken in one call and answered
   * in one post. */
  enum { BATCH = 64 };
  tofu_message *in[BATCH], *out[BATCH];

  int status = 0;
  unsigned long served = 0, open = 0;
  while (!stopping) {
    size_t n = 0, k = 0;
    if (tofu_receive_many(g, in, BATCH, -1, &n) != TOFU_OK)
      continue;
    for (size_t i = 0; i < n; i++) {
      tofu_message *m = in[i];
      tofu_header *h = tofu_msg_header(m);
      if (h->origin == TOFU_ORIGIN_ENGINE) {
        if (h->opcode == TOFU_OP_WELCOME_RESPONSE) {
          const char *v;
          size_t len;
          tofu_msg_find_header(m, TOFU_HDR_LISTEN_ON, &v, &len);
          printf("tofu-echo-server: listening on %.*s (backend %s)\n", (int)len, v,
                 tofu_backend_name());
          fflush(stdout);
        } else if (h->opcode == TOFU_OP_WELCOME_REQUEST) {
          fprintf(stderr, "tofu-echo-server: cannot listen on %s: %s\n", argv[2],
                  tofu_status_name(h->status));
          status = 1;
          stopping = 1;
        } else if (h->status == TOFU_STATUS_CHANNEL_CLOSED && open > 0) {
          open--;
        }
        tofu_put(e, &m);
        continue;
      }
      switch (h->opcode) {
      case TOFU_OP_HELLO_REQUEST:
        open++;
        h->opcode = TOFU_OP_HELLO_RESPONSE;
        tofu_msg_set_headers(m, NULL, 0);
        break;
      case TOFU_OP_REQUEST:
        served++;
        h->opcode = TOFU_OP_RESPONSE; /* same id, text headers and body */
        break;
      case TOFU_OP_BYE_REQUEST:
        h->opcode = TOFU_OP_BYE_RESPONSE;
        break;
      default:
        tofu_put(e, &m);
        continue;
      }
      out[k++] = m;
    }
    /* A refused answer (its channel is gone) goes back to the pool; the ones
     * after it are posted still. */
    size_t at = 0;
    while (at < k) {
      size_t posted = 0;
      if (tofu_post_many(g, out + at, k - at, NULL, &posted) == TOFU_OK)
        break;
      at += posted;
      tofu_put(e, &out[at++]);
    }
  }
  tofu_group_destroy(g); /* closes the listener and every connection */
  tofu_engine_destroy(e);
  fprintf(stderr, "tofu-echo-server: stopped after %lu requests\n", served);
  return status;
}
