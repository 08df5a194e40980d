/* bench — what every benchmark program shares: the command line, the list of
 * cases, the measuring window, the echo checks, the frame format and the
 * output lines. The workload is /work/shared/BENCH.md; docs/performance.md
 * describes the method.
 *
 * Each program supplies one function that runs one case (an echo side and a
 * load side in this process, each on its own thread or engine) and fills a
 * bench_result; bench_main does the rest. */
#ifndef TOFU_BENCH_H
#define TOFU_BENCH_H

#include <stddef.h>
#include <stdint.h>

/* ---- Cases and results --------------------------------------------------- */

enum { BENCH_PINGPONG = 0, BENCH_STREAM = 1 };
enum { BENCH_TCP = 0, BENCH_UDS = 1 };

typedef struct bench_case {
  int scenario;   /* BENCH_PINGPONG / BENCH_STREAM */
  int transport;  /* BENCH_TCP / BENCH_UDS */
  size_t size;    /* body bytes, S (at least 8: the sequence number) */
  int conns;      /* C (1 for pingpong) */
  int window;     /* W (1 for pingpong) */
  double seconds; /* measuring window */
  double warmup;
  const char *uds_path; /* a fresh socket path in a private temp dir */
} bench_case;

typedef struct bench_result {
  uint64_t echoes; /* echoes checked inside the measuring window */
  double elapsed;  /* the measuring window as it really was, seconds */
  uint64_t errors; /* failed checks, lost connections, setup failures */
  double p50_us;   /* pingpong only */
  double p99_us;   /* pingpong only */
  char note[256];  /* extra facts for the comment line (pool, window clipping) */
} bench_result;

/* Run one case: returns 0, or -1 if it could not run at all (errors > 0). */
typedef int (*bench_run_fn)(const bench_case *c, bench_result *r);

/* Parse the command line, raise the descriptor limit, run every selected
 * case through run and print one line per result. `impl` is the first column
 * (e.g. "tofu-poll"); `layout` says where echo and load run (printed once).
 * Returns the process exit status (1 if any case had errors). */
int bench_main(int argc, char **argv, const char *impl, const char *layout, bench_run_fn run);

/* ---- Time ---------------------------------------------------------------- */

int64_t bench_now_ns(void);

/* The measuring window: before start_ns is warm-up, after end_ns is over. */
typedef struct bench_clock {
  int64_t start_ns, end_ns;
  int64_t first_ns, last_ns; /* first and last echo counted, for the rate */
} bench_clock;

void bench_clock_start(bench_clock *k, const bench_case *c);

/* 0 warm-up, 1 measuring, 2 over. */
static inline int bench_phase(const bench_clock *k, int64_t now) {
  return now < k->start_ns ? 0 : now < k->end_ns ? 1 : 2;
}

/* ---- Latency samples (pingpong) ------------------------------------------ */

typedef struct bench_samples {
  uint32_t *ns; /* round trips, nanoseconds (clamped) */
  size_t n, cap;
} bench_samples;

void bench_samples_add(bench_samples *s, int64_t ns);
/* Sort and fill r->p50_us / p99_us, then free. */
void bench_samples_finish(bench_samples *s, bench_result *r);

/* ---- Frames: tofu's 16-byte header, then the body ----------------------- */

#define BENCH_HDR 16
#define BENCH_OP_REQUEST 0
#define BENCH_OP_RESPONSE 1
#define BENCH_OP_HELLO_REQUEST 3
#define BENCH_OP_HELLO_RESPONSE 4

void bench_put_header(uint8_t out[BENCH_HDR], unsigned opcode, uint64_t id, uint16_t th_len,
                      uint16_t body_len);

static inline unsigned bench_hdr_opcode(const uint8_t *h) {
  return h[2] & 0x0fu;
}
static inline uint64_t bench_hdr_id(const uint8_t *h) {
  uint64_t v = 0;
  for (int i = 4; i < 12; i++)
    v = (v << 8) | h[i];
  return v;
}
static inline size_t bench_hdr_th_len(const uint8_t *h) {
  return ((size_t)h[12] << 8) | h[13];
}
static inline size_t bench_hdr_body_len(const uint8_t *h) {
  return ((size_t)h[14] << 8) | h[15];
}
static inline size_t bench_frame_len(const uint8_t *h) {
  return BENCH_HDR + bench_hdr_th_len(h) + bench_hdr_body_len(h);
}
/* Turn a Request (or HelloRequest) header into its answer, in place. */
static inline void bench_hdr_answer(uint8_t *h) {
  unsigned op = h[2] & 0x0fu;
  unsigned to = op == BENCH_OP_HELLO_REQUEST ? BENCH_OP_HELLO_RESPONSE : BENCH_OP_RESPONSE;
  h[2] = (uint8_t)((h[2] & 0xf0u) | to);
}

/* The body: the sequence number (8 bytes, little-endian), then a fixed
 * pattern. bench_body_template gives the pattern for a size (shared, never
 * freed); writing a body is writing its first 8 bytes. */
const uint8_t *bench_body_template(size_t size);
static inline void bench_body_set_seq(uint8_t *body, uint64_t seq) {
  for (int i = 0; i < 8; i++)
    body[i] = (uint8_t)(seq >> (8 * i));
}
static inline uint64_t bench_body_seq(const uint8_t *body) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--)
    v = (v << 8) | body[i];
  return v;
}

/* ---- The load side's bookkeeping, per connection ------------------------- */

/* Echoes may come back in any order inside the window (a multi-threaded echo
 * side may reorder), so each connection keeps a bitmap of what is out. */
typedef struct bench_conn {
  uint64_t sent;   /* next sequence number */
  uint64_t out;    /* bit (seq % 64): that sequence number is in flight */
  uint64_t back;   /* echoes checked */
  int64_t sent_at; /* pingpong: when the last request went out */
} bench_conn;

/* The sequence number for the next request (and marks it in flight). */
static inline uint64_t bench_conn_next(bench_conn *c) {
  uint64_t s = c->sent++;
  c->out |= 1ull << (s & 63);
  return s;
}

/* Check one echo: its body length, its sequence number (in flight, not seen
 * twice) and its message id (seq + 1). Returns 0 if good, 1 if not. */
int bench_conn_check(bench_conn *c, size_t want_len, size_t body_len, const uint8_t *body,
                     uint64_t id);

/* ---- Small portable helpers ---------------------------------------------- */

/* Soft RLIMIT_NOFILE raised to the hard limit (no-op where there is none). */
void bench_raise_fd_limit(void);
/* Peak resident set of this process in KiB (0 where unknown). */
long bench_peak_rss_kb(void);

#endif /* TOFU_BENCH_H */
