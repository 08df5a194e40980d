/* tofu — the reliability suite: shared helpers (see suite.h). */
#ifndef _WIN32
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "suite.h"
#include <stdatomic.h>
#include "wire.h"

#ifdef _WIN32
#include <winsock2.h>
#include <windows.h>
#include <psapi.h>
#else
#include <dirent.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#endif

long rel_env(const char *name, long def) {
  const char *v = getenv(name);
  if (!v || !*v)
    return def;
  return strtol(v, NULL, 10);
}

double rel_cpu_seconds(void) {
#ifdef _WIN32
  FILETIME c, x, k, u;
  if (!GetProcessTimes(GetCurrentProcess(), &c, &x, &k, &u))
    return 0;
  ULARGE_INTEGER ku, uu;
  ku.LowPart = k.dwLowDateTime;
  ku.HighPart = k.dwHighDateTime;
  uu.LowPart = u.dwLowDateTime;
  uu.HighPart = u.dwHighDateTime;
  return (double)(ku.QuadPart + uu.QuadPart) / 1e7;
#else
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
#endif
}

long rel_rss_kib(void) {
#ifdef _WIN32
  PROCESS_MEMORY_COUNTERS pmc;
  if (!GetProcessMemoryInfo(GetCurrentProcess(), &pmc, sizeof pmc))
    return 0;
  return (long)(pmc.WorkingSetSize / 1024);
#else
  long pages = 0, rss = 0;
  FILE *f = fopen("/proc/self/statm", "r");
  if (!f)
    return 0;
  if (fscanf(f, "%ld %ld", &pages, &rss) != 2)
    rss = 0;
  fclose(f);
  return rss * (sysconf(_SC_PAGESIZE) / 1024);
#endif
}

long rel_peak_rss_kib(void) {
#ifdef _WIN32
  return 0;
#else
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;
#endif
}

int rel_highest_fd(void) {
#ifdef _WIN32
  return -1;
#else
  DIR *d = opendir("/proc/self/fd");
  if (!d)
    return -1;
  int high = -1;
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    int fd = atoi(de->d_name);
    if (fd > high && fd != dirfd(d))
      high = fd;
  }
  closedir(d);
  return high;
#endif
}

int rel_open_fds(void) {
#ifdef _WIN32
  return -1;
#else
  DIR *d = opendir("/proc/self/fd");
  if (!d)
    return -1;
  int n = 0;
  while (readdir(d))
    n++;
  closedir(d);
  return n - 3; /* ".", ".." and the directory's own descriptor */
#endif
}

void rel_figure(const char *name, double value) {
  printf("FIGURE %s %.3f\n", name, value);
}

tofu_socket rel_raw_connect(uint16_t port) {
  tofu_socket s;
  ck_assert_int_eq(net_tcp_socket(&s), NET_OK);
  ck_assert_int_eq(net_tcp_connect_loopback(s, port), NET_OK);
  return s;
}

uint16_t rel_port_of(const char *bound) {
  const char *bar = strrchr(bound, '|');
  ck_assert_ptr_nonnull(bar);
  return (uint16_t)atoi(bar + 1);
}

int rel_send_all(tofu_socket s, const void *buf, size_t n) {
  const uint8_t *p = buf;
  while (n > 0) {
    ptrdiff_t w = net_send(s, p, n);
    if (w <= 0)
      return 0;
    p += w;
    n -= (size_t)w;
  }
  return 1;
}

size_t rel_send_some(tofu_socket s, const void *buf, size_t n) {
  const uint8_t *p = buf;
  size_t sent = 0;
  while (sent < n) {
    ptrdiff_t w = net_send(s, p + sent, n - sent);
    if (w <= 0)
      break;
    sent += (size_t)w;
  }
  return sent;
}

void rel_frame(uint8_t out[16], unsigned opcode, uint64_t id, uint16_t hlen, uint16_t blen) {
  wire_header h = {1, wire_proto(opcode, 0, 0), 0, id, hlen, blen};
  wire_encode_header(&h, out);
}

int rel_closed_by_peer(tofu_socket s) {
#ifdef _WIN32
  DWORD ms = ET_DEADLINE_MS;
  setsockopt((SOCKET)s, SOL_SOCKET, SO_RCVTIMEO, (const char *)&ms, sizeof ms);
#else
  struct timeval tv = {ET_DEADLINE_MS / 1000, 0};
  setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
#endif
  uint8_t buf[256];
  for (;;) {
    ptrdiff_t r = net_recv(s, buf, sizeof buf);
    if (r == 0 || r == NET_ECONNRESET || r == NET_EPIPE)
      return 1;
    if (r < 0)
      return 0; /* the timeout: still open */
  }
}

void rel_echo_once(tofu_engine *ec, tofu_group *gc, uint16_t cch, tofu_engine *es, tofu_group *gs,
                   unsigned seed) {
  tofu_message *m = et_msg(ec, TOFU_OP_REQUEST, cch, 100 + seed % 1000, seed);
  tofu_header h = et_post(gc, &m);
  m = et_expect(gs, TOFU_OP_REQUEST, TOFU_ORIGIN_APPLICATION, TOFU_STATUS_SUCCESS);
  ck_assert(et_body_ok(m, 100 + seed % 1000, seed));
  tofu_msg_header(m)->opcode = TOFU_OP_RESPONSE;
  et_post(gs, &m);
  m = et_expect(gc, TOFU_OP_RESPONSE, TOFU_ORIGIN_APPLICATION, TOFU_STATUS_SUCCESS);
  ck_assert(tofu_msg_header(m)->message_id == h.message_id);
  ck_assert(et_body_ok(m, 100 + seed % 1000, seed));
  tofu_put(ec, &m);
  (void)es;
}

/* ---- the echo server ---- */

static int seen_before(rel_echo_server *s, uint64_t id) {
  for (size_t i = 0; i < s->nseen; i++)
    if (s->seen[i] == id)
      return 1;
  if (s->nseen == s->cap) {
    s->cap = s->cap ? s->cap * 2 : 256;
    s->seen = realloc(s->seen, s->cap * sizeof *s->seen);
  }
  s->seen[s->nseen++] = id;
  return 0;
}

/* A channel_closed notice: count it under its ~cause. */
static void count_closed(rel_echo_server *s, const tofu_message *m) {
  const char *v;
  size_t len;
  if (!tofu_msg_find_header(m, TOFU_HDR_CAUSE, &v, &len))
    return;
  for (int st = 0; st <= TOFU_STATUS_UNKNOWN_ERROR; st++) {
    const char *name = tofu_status_name(st);
    if (strlen(name) == len && memcmp(name, v, len) == 0) {
      atomic_fetch_add(&s->closed_by[st], 1);
      return;
    }
  }
}

void rel_echo_main(void *arg) {
  rel_echo_server *s = arg;
  faults_exempt_thread();
  while (!atomic_load(&s->stop)) {
    tofu_message *m = tofu_wait_receive(s->g, 20);
    if (!m)
      continue;
    tofu_header *h = tofu_msg_header(m);
    int answer = 0;
    if (h->origin == TOFU_ORIGIN_ENGINE && h->status == TOFU_STATUS_CHANNEL_CLOSED)
      count_closed(s, m);
    if (h->origin == TOFU_ORIGIN_APPLICATION) {
      switch (h->opcode) {
      case TOFU_OP_HELLO_REQUEST:
        h->opcode = TOFU_OP_HELLO_RESPONSE;
        atomic_fetch_add(&s->hellos, 1);
        answer = 1;
        break;
      case TOFU_OP_REQUEST:
        if (s->track && seen_before(s, h->message_id))
          atomic_fetch_add(&s->errors, 1); /* delivered twice */
        atomic_fetch_add(&s->requests, 1);
        h->opcode = TOFU_OP_RESPONSE;
        answer = 1;
        break;
      case TOFU_OP_BYE_REQUEST:
        h->opcode = TOFU_OP_BYE_RESPONSE;
        answer = 1;
        break;
      default:
        break;
      }
    }
    if (answer && tofu_post(s->g, &m, NULL) != TOFU_OK)
      atomic_fetch_add(&s->errors, 1);
    tofu_put(s->e, &m);
  }
}
