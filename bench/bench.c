/* bench — the shared command line, cases, checks and output. */
#ifndef _WIN32
#define _POSIX_C_SOURCE 200809L
#endif
#include "bench.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifdef _WIN32
#include <direct.h>
#include <process.h>
#include <windows.h>
#include <psapi.h>
#else
#include <sys/resource.h>
#include <unistd.h>
#endif

/* ---- Time ---------------------------------------------------------------- */

#ifdef _WIN32
int64_t bench_now_ns(void) {
  LARGE_INTEGER f, t;
  QueryPerformanceFrequency(&f);
  QueryPerformanceCounter(&t);
  /* Whole seconds and the rest apart, so that the product cannot overflow. */
  return t.QuadPart / f.QuadPart * 1000000000 + t.QuadPart % f.QuadPart * 1000000000 / f.QuadPart;
}
#else
int64_t bench_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}
#endif

void bench_clock_start(bench_clock *k, const bench_case *c) {
  int64_t now = bench_now_ns();
  k->start_ns = now + (int64_t)(c->warmup * 1e9);
  k->end_ns = k->start_ns + (int64_t)(c->seconds * 1e9);
  k->first_ns = k->last_ns = 0;
}

/* ---- Latency samples ----------------------------------------------------- */

void bench_samples_add(bench_samples *s, int64_t ns) {
  if (s->n == s->cap) {
    size_t cap = s->cap ? s->cap * 2 : 65536;
    uint32_t *p = realloc(s->ns, cap * sizeof *p);
    if (!p)
      return; /* a sample fewer; the percentiles stay meaningful */
    s->ns = p;
    s->cap = cap;
  }
  s->ns[s->n++] = ns < 0 ? 0 : ns > UINT32_MAX ? UINT32_MAX : (uint32_t)ns;
}

static int cmp_u32(const void *a, const void *b) {
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return x < y ? -1 : x > y;
}

void bench_samples_finish(bench_samples *s, bench_result *r) {
  if (s->n) {
    qsort(s->ns, s->n, sizeof *s->ns, cmp_u32);
    r->p50_us = s->ns[(s->n - 1) / 2] / 1000.0;
    r->p99_us = s->ns[(size_t)((double)(s->n - 1) * 0.99)] / 1000.0;
  }
  free(s->ns);
  memset(s, 0, sizeof *s);
}

/* ---- Frames -------------------------------------------------------------- */

void bench_put_header(uint8_t out[BENCH_HDR], unsigned opcode, uint64_t id, uint16_t th_len,
                      uint16_t body_len) {
  out[0] = 0;
  out[1] = 1; /* a channel number; the receiver ignores it */
  out[2] = (uint8_t)(opcode & 0x0fu);
  out[3] = 0;
  for (int i = 0; i < 8; i++)
    out[4 + i] = (uint8_t)(id >> (56 - 8 * i));
  out[12] = (uint8_t)(th_len >> 8);
  out[13] = (uint8_t)th_len;
  out[14] = (uint8_t)(body_len >> 8);
  out[15] = (uint8_t)body_len;
}

static uint8_t *templates[3];
static size_t template_sizes[3];

const uint8_t *bench_body_template(size_t size) {
  for (int i = 0; i < 3; i++) {
    if (templates[i] && template_sizes[i] == size)
      return templates[i];
  }
  for (int i = 0; i < 3; i++) {
    if (!templates[i]) {
      uint8_t *t = malloc(size ? size : 1);
      if (!t)
        return NULL;
      for (size_t j = 0; j < size; j++)
        t[j] = (uint8_t)(j * 7 + 3);
      templates[i] = t;
      template_sizes[i] = size;
      return t;
    }
  }
  /* More than three sizes in one process: replace the first. */
  free(templates[0]);
  templates[0] = NULL;
  return bench_body_template(size);
}

int bench_conn_check(bench_conn *c, size_t want_len, size_t body_len, const uint8_t *body,
                     uint64_t id) {
  if (body_len != want_len || body_len < 8)
    return 1;
  uint64_t seq = bench_body_seq(body);
  uint64_t bit = 1ull << (seq & 63);
  if (seq >= c->sent || c->sent - seq > 64 || !(c->out & bit) || id != seq + 1)
    return 1;
  c->out &= ~bit;
  c->back++;
  return 0;
}

/* ---- Helpers ------------------------------------------------------------- */

void bench_raise_fd_limit(void) {
#ifndef _WIN32
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
#endif
}

long bench_peak_rss_kb(void) {
#ifdef _WIN32
  PROCESS_MEMORY_COUNTERS pmc;
  if (GetProcessMemoryInfo(GetCurrentProcess(), &pmc, sizeof pmc))
    return (long)(pmc.PeakWorkingSetSize / 1024);
  return 0;
#else
  struct rusage ru;
  return getrusage(RUSAGE_SELF, &ru) == 0 ? ru.ru_maxrss : 0;
#endif
}

/* ---- Command line -------------------------------------------------------- */

#define MAX_LIST 16

typedef struct options {
  int scenarios[2], nscen;
  int transports[2], ntrans;
  size_t sizes[MAX_LIST];
  int nsizes;
  int conns[MAX_LIST], nconns;
  int window;
  double seconds, warmup;
  int csv;
} options;

static int usage(const char *prog) {
  fprintf(stderr,
          "usage: %s [--scenario pingpong|stream|all] [--transport tcp|uds|all]\n"
          "          [--size LIST] [--conns LIST] [--window W] [--seconds T] [--warmup T] [--csv]\n"
          "LIST is comma separated, e.g. --size 64,1024,65535 --conns 1,10,100,1000.\n"
          "Defaults: all scenarios, both transports, S = 64,1024,65535, C = 1,10,100,1000,\n"
          "W = 16, 3 s measured after 0.5 s of warm-up (pingpong: C = 1, W = 1).\n",
          prog);
  return 2;
}

static int parse_list(const char *s, long *out, int max, long lo, long hi) {
  int n = 0;
  while (*s) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (end == s || errno || v < lo || v > hi || n == max)
      return -1;
    out[n++] = v;
    s = end;
    if (*s == ',')
      s++;
    else if (*s)
      return -1;
  }
  return n;
}

static int parse_options(int argc, char **argv, options *o) {
  long list[MAX_LIST];
  o->nscen = 2;
  o->scenarios[0] = BENCH_PINGPONG;
  o->scenarios[1] = BENCH_STREAM;
  o->ntrans = 2;
  o->transports[0] = BENCH_TCP;
  o->transports[1] = BENCH_UDS;
  o->nsizes = 3;
  o->sizes[0] = 64;
  o->sizes[1] = 1024;
  o->sizes[2] = 65535;
  o->nconns = 4;
  o->conns[0] = 1;
  o->conns[1] = 10;
  o->conns[2] = 100;
  o->conns[3] = 1000;
  o->window = 16;
  o->seconds = 3.0;
  o->warmup = 0.5;
  o->csv = 0;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (strcmp(a, "--csv") == 0) {
      o->csv = 1;
      continue;
    }
    if (!v)
      return -1;
    i++;
    if (strcmp(a, "--scenario") == 0) {
      if (strcmp(v, "all") == 0)
        continue;
      o->nscen = 1;
      if (strcmp(v, "pingpong") == 0)
        o->scenarios[0] = BENCH_PINGPONG;
      else if (strcmp(v, "stream") == 0)
        o->scenarios[0] = BENCH_STREAM;
      else
        return -1;
    } else if (strcmp(a, "--transport") == 0) {
      if (strcmp(v, "all") == 0)
        continue;
      o->ntrans = 1;
      if (strcmp(v, "tcp") == 0)
        o->transports[0] = BENCH_TCP;
      else if (strcmp(v, "uds") == 0)
        o->transports[0] = BENCH_UDS;
      else
        return -1;
    } else if (strcmp(a, "--size") == 0) {
      int n = parse_list(v, list, MAX_LIST, 8, 65535);
      if (n <= 0)
        return -1;
      o->nsizes = n;
      for (int k = 0; k < n; k++)
        o->sizes[k] = (size_t)list[k];
    } else if (strcmp(a, "--conns") == 0) {
      int n = parse_list(v, list, MAX_LIST, 1, 20000);
      if (n <= 0)
        return -1;
      o->nconns = n;
      for (int k = 0; k < n; k++)
        o->conns[k] = (int)list[k];
    } else if (strcmp(a, "--window") == 0) {
      int n = parse_list(v, list, 1, 1, 64);
      if (n != 1)
        return -1;
      o->window = (int)list[0];
    } else if (strcmp(a, "--seconds") == 0 || strcmp(a, "--warmup") == 0) {
      char *end;
      double d = strtod(v, &end);
      if (end == v || *end || d < 0 || d > 3600)
        return -1;
      if (a[2] == 's')
        o->seconds = d;
      else
        o->warmup = d;
    } else {
      return -1;
    }
  }
  return o->seconds > 0 ? 0 : -1;
}

/* ---- Temp dir for Unix sockets ------------------------------------------- */

static int make_temp_dir(char *dir, size_t n) {
#ifdef _WIN32
  char base[MAX_PATH];
  DWORD len = GetTempPathA(sizeof base, base);
  if (len == 0 || len >= sizeof base)
    return -1;
  snprintf(dir, n, "%stb%lu", base, (unsigned long)GetCurrentProcessId());
  return _mkdir(dir) == 0 || errno == EEXIST ? 0 : -1;
#else
  const char *t = getenv("TMPDIR");
  snprintf(dir, n, "%s/tofu-bench-XXXXXX", t && *t && strlen(t) < 60 ? t : "/tmp");
  return mkdtemp(dir) ? 0 : -1;
#endif
}

static void remove_path(const char *p) {
  remove(p);
}

static void remove_dir(const char *d) {
#ifdef _WIN32
  _rmdir(d);
#else
  rmdir(d);
#endif
}

/* ---- Output -------------------------------------------------------------- */

static const char *scen_name(int s) {
  return s == BENCH_PINGPONG ? "pingpong" : "stream";
}
static const char *trans_name(int t) {
  return t == BENCH_TCP ? "tcp" : "uds";
}

static void print_result(const options *o, const char *impl, const bench_case *c,
                         const bench_result *r) {
  double rate = r->elapsed > 0 ? (double)r->echoes / r->elapsed : 0;
  double mb = rate * (double)c->size / 1e6;
  char p50[32] = "-", p99[32] = "-";
  if (c->scenario == BENCH_PINGPONG && r->echoes) {
    snprintf(p50, sizeof p50, "%.1f", r->p50_us);
    snprintf(p99, sizeof p99, "%.1f", r->p99_us);
  }
  long rss = bench_peak_rss_kb();
  if (o->csv) {
    printf("%s,%s,%s,%zu,%d,%.0f,%.1f,%s,%s,%llu,%llu,%ld\n", impl, scen_name(c->scenario),
           trans_name(c->transport), c->size, c->conns, rate, mb, p50, p99,
           (unsigned long long)r->errors, (unsigned long long)r->echoes, rss);
  } else {
    printf("%s %s %s %zu %d %.0f %.1f %s %s\n", impl, scen_name(c->scenario),
           trans_name(c->transport), c->size, c->conns, rate, mb, p50, p99);
    printf("# %s %s %s %zu %d: errors=%llu echoes=%llu window_s=%.3f peak_rss_kb=%ld%s%s\n", impl,
           scen_name(c->scenario), trans_name(c->transport), c->size, c->conns,
           (unsigned long long)r->errors, (unsigned long long)r->echoes, r->elapsed, rss,
           r->note[0] ? " " : "", r->note);
  }
  fflush(stdout);
}

int bench_main(int argc, char **argv, const char *impl, const char *layout, bench_run_fn run) {
  options o;
  if (parse_options(argc, argv, &o) != 0)
    return usage(argv[0]);
  bench_raise_fd_limit();
  char dir[256], path[320];
  if (make_temp_dir(dir, sizeof dir) != 0) {
    fprintf(stderr, "%s: cannot make a temp dir\n", impl);
    return 1;
  }
  snprintf(path, sizeof path, "%s/echo.sock", dir);
  if (o.csv)
    printf("impl,scenario,transport,S,C,msgs_per_s,mb_per_s,p50_us,p99_us,errors,echoes,"
           "peak_rss_kb\n");
  else
    printf("# %s: %s\n", impl, layout);
  int status = 0;
  for (int si = 0; si < o.nscen; si++) {
    for (int ti = 0; ti < o.ntrans; ti++) {
      for (int zi = 0; zi < o.nsizes; zi++) {
        int stream = o.scenarios[si] == BENCH_STREAM;
        for (int ci = 0; ci < (stream ? o.nconns : 1); ci++) {
          bench_case c = {
              o.scenarios[si],       o.transports[ti], o.sizes[zi], stream ? o.conns[ci] : 1,
              stream ? o.window : 1, o.seconds,        o.warmup,    path};
          bench_result r;
          memset(&r, 0, sizeof r);
          if (run(&c, &r) != 0 && r.errors == 0)
            r.errors = 1;
          remove_path(path);
          print_result(&o, impl, &c, &r);
          if (r.errors)
            status = 1;
        }
      }
    }
  }
  remove_dir(dir);
  return status;
}
