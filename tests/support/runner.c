/* tofu tests — the generic case runner (see runner.h). */
#ifndef _WIN32
#define _POSIX_C_SOURCE 200809L
#endif

#include "runner.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef _WIN32
#include <windows.h>
#else
#include <sys/resource.h>
#endif

#include "platform/net.h"
#include "tofu/poller.h"
#include "tofu/tofu.h"

enum { RUNNER_PASS, RUNNER_FAIL, RUNNER_SKIP };

/* The case the one check test of the runner calls. */
static const runner_case *runner_current;

START_TEST(runner_trampoline) {
  /* check's loop index, marked unused only for GCC and Clang: MSVC's /W4
   * would call it an unreferenced parameter (C4100). */
  (void)_i;
  runner_current->fn();
}
END_TEST

static int runner_probe_uds(char *why, size_t n) {
  tofu_socket s;
  int rc = net_uds_socket(&s);
  if (rc == NET_OK) {
    net_close(s);
    return 1;
  }
  if (rc == NET_EAFNOSUPPORT)
    snprintf(why, n,
             "AF_UNIX sockets are not supported on this system: socket(AF_UNIX) failed with "
             "'address family not supported' (os error %d; Wine has no AF_UNIX, it fails with "
             "WSAEAFNOSUPPORT)",
             net_os_error());
  else
    snprintf(why, n, "socket(AF_UNIX) failed: %s (os error %d)", net_strerror(rc), net_os_error());
  return 0;
}

static int runner_probe_signals(char *why, size_t n) {
#ifdef _WIN32
  snprintf(why, n, "no POSIX signals on Windows");
  return 0;
#else
  (void)why;
  (void)n;
  return 1;
#endif
}

/* runner_main started the socket layer before any probe runs. */
static int runner_probe_localhost(char *why, size_t n) {
  net_addr a[NET_RESOLVE_MAX];
  int got = net_resolve("localhost", 1, 0, a, NET_RESOLVE_MAX);
  for (int i = 0; i < got; i++)
    if (a[i].family == NET_INET4)
      return 1;
  snprintf(why, n, "the name localhost does not resolve to IPv4 here (no hosts-file entry)");
  return 0;
}

static int runner_probe_ipv6(char *why, size_t n) {
  net_addr a;
  tofu_socket l = TOFU_INVALID_SOCKET, c = TOFU_INVALID_SOCKET;
  int ok = net_resolve("::1", 0, 1, &a, 1) == 1 && net_tcp_socket_for(&a, &l) == NET_OK &&
           net_tcp_bind(l, &a, &a.port) == NET_OK && net_listen(l, 1) == NET_OK &&
           net_tcp_socket_for(&a, &c) == NET_OK && net_tcp_connect(c, &a) == NET_OK;
  net_close(c);
  net_close(l);
  if (!ok)
    snprintf(why, n, "no IPv6 loopback here (a TCP socket cannot listen on ::1 and be reached)");
  return ok;
}

static int runner_probe_localhost6(char *why, size_t n) {
  net_addr a[NET_RESOLVE_MAX];
  int got = net_resolve("localhost", 1, 0, a, NET_RESOLVE_MAX);
  int v4_later = 0;
  for (int i = 1; i < got; i++)
    v4_later |= a[i].family == NET_INET4;
  if (got >= 2 && a[0].family == NET_INET6 && v4_later && runner_probe_ipv6(why, n))
    return 1;
  snprintf(why, n, "the name localhost does not resolve to ::1 first and 127.0.0.1 after it here");
  return 0;
}

static int runner_probe_linux(char *why, size_t n) {
#ifdef __linux__
  (void)why;
  (void)n;
  return 1;
#else
  snprintf(why, n, "the case checks Linux-only kernel behaviour");
  return 0;
#endif
}

static int runner_probe_windows(char *why, size_t n) {
#ifdef _WIN32
  (void)why;
  (void)n;
  return 1;
#else
  snprintf(why, n,
           "the case checks Windows behaviour (I/O completion ports, overlapped "
           "sockets); this system has none");
  return 0;
#endif
}

static int runner_probe_syn_drop(char *why, size_t n) {
#if defined(__linux__)
  (void)why;
  (void)n;
  return 1;
#elif defined(_WIN32)
  /* Under Wine the TCP stack is the host's; wine_get_host_version names it. */
  typedef void (*host_version_fn)(const char **sysname, const char **release);
  FARPROC proc = GetProcAddress(GetModuleHandleA("ntdll.dll"), "wine_get_host_version");
  if (proc == NULL) {
    snprintf(why, n,
             "Windows answers a connect to a listener with a full accept queue with RST "
             "(connection refused) instead of dropping the SYN, so that connect never hangs");
    return 0;
  }
  host_version_fn host_version;
  memcpy(&host_version, &proc, sizeof host_version);
  const char *sysname = NULL, *release = NULL;
  host_version(&sysname, &release);
  if (sysname != NULL && strcmp(sysname, "Linux") == 0)
    return 1;
  snprintf(why, n,
           "Wine on %s: whether its TCP drops new SYNs at a full accept queue (so that a "
           "connect hangs) is verified on Linux hosts only",
           sysname ? sysname : "an unknown host");
  return 0;
#else
  snprintf(why, n,
           "whether a full accept queue drops new SYNs (so that a connect hangs) is "
           "verified on Linux only");
  return 0;
#endif
}

int runner_raise_fd_limit(long want) {
#ifdef _WIN32
  (void)want; /* no per-process limit on sockets */
  return 1;
#else
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
    return 0;
  if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < (rlim_t)want) {
    rl.rlim_cur =
        rl.rlim_max == RLIM_INFINITY || rl.rlim_max > (rlim_t)want ? (rlim_t)want : rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    getrlimit(RLIMIT_NOFILE, &rl);
  }
  return rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= (rlim_t)want;
#endif
}

static int runner_probe_many_fds(char *why, size_t n) {
  runner_raise_fd_limit(RUNNER_MANY_FDS + 64); /* room for the suite's own descriptors */
  if (runner_raise_fd_limit(RUNNER_MANY_FDS))
    return 1;
  snprintf(why, n, "needs %d open descriptors, more than RLIMIT_NOFILE's hard limit allows",
           RUNNER_MANY_FDS);
  return 0;
}

int runner_under_wine(void) {
#ifdef _WIN32
  /* Wine's ntdll exports wine_get_version; Windows' does not. */
  HMODULE ntdll = GetModuleHandleA("ntdll.dll");
  return ntdll != NULL && GetProcAddress(ntdll, "wine_get_version") != NULL;
#else
  return 0;
#endif
}

static runner_own_requirements runner_own;

/* 1 if every requirement of c is met; else 0 with the reason in why. */
static int runner_requirements_met(const runner_case *c, char *why, size_t n) {
  if (runner_own && !runner_own(c->requirements, why, n))
    return 0;
  if ((c->requirements & REQ_UDS) && !runner_probe_uds(why, n))
    return 0;
  if ((c->requirements & REQ_SIGNALS) && !runner_probe_signals(why, n))
    return 0;
  if ((c->requirements & REQ_LINUX) && !runner_probe_linux(why, n))
    return 0;
  if ((c->requirements & REQ_LOCALHOST) && !runner_probe_localhost(why, n))
    return 0;
  if ((c->requirements & REQ_IPV6) && !runner_probe_ipv6(why, n))
    return 0;
  if ((c->requirements & REQ_LOCALHOST6) && !runner_probe_localhost6(why, n))
    return 0;
  if ((c->requirements & REQ_WINDOWS) && !runner_probe_windows(why, n))
    return 0;
  if ((c->requirements & REQ_SYN_DROP) && !runner_probe_syn_drop(why, n))
    return 0;
  if ((c->requirements & REQ_MANY_FDS) && !runner_probe_many_fds(why, n))
    return 0;
  return 1;
}

static int runner_run_case(const char *suite, const runner_case *c) {
  char why[512];
  if (!runner_requirements_met(c, why, sizeof why)) {
    printf("SKIP %s: %s\n", c->name, why);
    return RUNNER_SKIP;
  }

  runner_current = c;
  Suite *s = suite_create(suite);
  TCase *tc = tcase_create(c->name);
  tcase_set_timeout(tc, RUNNER_CASE_TIMEOUT);
  tcase_add_test(tc, runner_trampoline);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);

  /* A forked child would flush a copy of anything still buffered. */
  fflush(stdout);
  fflush(stderr);
  srunner_run_all(sr, CK_SILENT);

  int failed = srunner_ntests_failed(sr);
  if (failed > 0) {
    TestResult **results = srunner_failures(sr);
    for (int i = 0; i < failed; i++)
      printf("FAIL %s: %s:%d: %s\n", c->name, tr_lfile(results[i]), tr_lno(results[i]),
             tr_msg(results[i]));
    free(results);
  } else {
    printf("PASS %s\n", c->name);
  }
  srunner_free(sr);
  return failed > 0 ? RUNNER_FAIL : RUNNER_PASS;
}

int runner_main(int argc, char **argv, const char *suite, const runner_case *cases, int count) {
  return runner_main_own(argc, argv, suite, cases, count, NULL);
}

int runner_main_own(int argc, char **argv, const char *suite, const runner_case *cases, int count,
                    runner_own_requirements own) {
  runner_own = own;
  /* Unbuffered: the output of a case and of a forked child interleave in order. */
  setvbuf(stdout, NULL, _IONBF, 0);

  if (argc == 2 && strcmp(argv[1], "--list") == 0) {
    for (int i = 0; i < count; i++)
      printf("%s\n", cases[i].name);
    return 0;
  }
  if (argc > 2 || (argc == 2 && argv[1][0] == '-')) {
    fprintf(stderr, "usage: %s [--list | <case>]\n", argv[0]);
    return 2;
  }

  printf("backend: %s\n", tofu_backend_name());
  if (net_init() != NET_OK) {
    printf("FAIL %s: the socket layer could not be started (os error %d)\n", suite, net_os_error());
    return 1;
  }

  int status = 0;
  if (argc == 2) {
    const runner_case *c = NULL;
    for (int i = 0; i < count && c == NULL; i++)
      if (strcmp(cases[i].name, argv[1]) == 0)
        c = &cases[i];
    if (c == NULL) {
      fprintf(stderr, "%s: no case named '%s' (see --list)\n", suite, argv[1]);
      status = 2;
    } else {
      int r = runner_run_case(suite, c);
      status = r == RUNNER_PASS ? 0 : r == RUNNER_SKIP ? RUNNER_SKIP_STATUS : 1;
    }
  } else {
    int tally[3] = {0, 0, 0};
    for (int i = 0; i < count; i++)
      tally[runner_run_case(suite, &cases[i])]++;
    printf("%d passed, %d failed, %d skipped\n", tally[RUNNER_PASS], tally[RUNNER_FAIL],
           tally[RUNNER_SKIP]);
    status = tally[RUNNER_FAIL] > 0 ? 1 : 0;
  }
  net_cleanup();
  return status;
}
