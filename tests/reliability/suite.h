/* tofu — the reliability suite: hostile input, faults, exhaustion, many
 * connections, a soak and misuse. Drives the engine with the helpers it
 * shares with the engine suite (et_*, tests/support/engines.h).
 *
 * Figures a case measures are printed as "FIGURE <name> <value>" lines, which
 * docs/reliability.md quotes. */
#ifndef TOFU_TEST_RELIABILITY_SUITE_H
#define TOFU_TEST_RELIABILITY_SUITE_H

#include <check.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "engines.h"
#include "faults.h"
#include "monoclock.h"
#include "platform/net.h"
#include "platform/thread.h"
#include "pairs.h"
#include "runner.h"
#include "tofu/tofu.h"

#define TOFU_CASE(name, requirements) void case_##name(void);
#include "cases.h"
#undef TOFU_CASE

/* Requirements of this suite on top of runner.h's (masked off before the
 * runner sees them; checked by main.c). */
#define REQ_POSIX (1u << 8)       /* POSIX-only facility (rlimits, fork, /proc) */
#define REQ_NOMEM (1u << 9)       /* allocation failures can be injected */
#define REQ_NATIVE_NET (1u << 10) /* not under Wine (its network stack is too slow for it) */
#define REQ_RLIMIT (1u << 11)     /* may lower RLIMIT_NOFILE (not under valgrind, which owns it) */

/* 1 in builds with AddressSanitizer or ThreadSanitizer, whose quarantine
 * and shadow memory make the resident set say little about the program's
 * own memory (valgrind runs set TOFU_REL_NO_RSS_CHECK=1 for the same). */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define REL_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define REL_SANITIZED 1
#endif
#endif
#ifndef REL_SANITIZED
#define REL_SANITIZED 0
#endif

/* A number from the environment, or def. */
long rel_env(const char *name, long def);

/* CPU seconds used by this process so far (user + system). */
double rel_cpu_seconds(void);

/* Resident set size now and at its peak, in KiB (0 where unknown). */
long rel_rss_kib(void);
long rel_peak_rss_kib(void);

/* The highest descriptor number open now (-1 where unknown). */
int rel_highest_fd(void);

/* Descriptors open now (-1 where unknown). */
int rel_open_fds(void);

/* Print "FIGURE name value" for docs/reliability.md. */
void rel_figure(const char *name, double value);

/* A raw TCP client connected to 127.0.0.1:port (blocking). */
tofu_socket rel_raw_connect(uint16_t port);

/* The port of a "tcp|IP|PORT" address. */
uint16_t rel_port_of(const char *bound);

/* Send all of buf on a blocking socket; 1 on success. */
int rel_send_all(tofu_socket s, const void *buf, size_t n);

/* Send as much of buf as a non-blocking socket takes now; returns the bytes
 * sent (the socket must be non-blocking). */
size_t rel_send_some(tofu_socket s, const void *buf, size_t n);

/* Encode a frame header into out[16]. */
void rel_frame(uint8_t out[16], unsigned opcode, uint64_t id, uint16_t hlen, uint16_t blen);

/* Whether the engine closed s: recv returns 0 or an error within the
 * deadline (a blocking socket with a receive timeout). */
int rel_closed_by_peer(tofu_socket s);

/* A working echo round trip over an already connected pair of channels. */
void rel_echo_once(tofu_engine *ec, tofu_group *gc, uint16_t cch, tofu_engine *es, tofu_group *gs,
                   unsigned seed);

/* A server application on its own thread: answers HelloRequest with
 * HelloResponse, echoes each Request as its Response, answers ByeRequest;
 * puts everything else. Counts requests and errors (a request seen twice, a
 * post refused). Start with plat_thread_start(rel_echo_main, &server) after
 * setting e and g; stop by setting stop and joining. */
typedef struct rel_echo_server {
  tofu_engine *e;
  tofu_group *g;
  atomic_int stop;
  atomic_int errors;
  atomic_long requests;
  int track; /* remember request ids to catch one delivered twice */
  uint64_t *seen;
  size_t nseen, cap;
  atomic_long hellos;                                   /* HelloRequests answered */
  atomic_long closed_by[TOFU_STATUS_UNKNOWN_ERROR + 1]; /* channel_closed notices, by cause */
} rel_echo_server;
void rel_echo_main(void *arg);

#endif /* TOFU_TEST_RELIABILITY_SUITE_H */
