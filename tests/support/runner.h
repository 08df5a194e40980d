/* tofu tests — a generic case runner on top of check.
 *
 * A suite lists its cases once, in an X-macro header of lines
 *     TOFU_CASE(name, REQUIREMENTS)
 * which both its main.c (through this runner) and tests/CMakeLists.txt read;
 * ctest then runs each case as its own test, `<suite>.<name>`.
 *
 * Command line of a suite program:
 *     prog <case>    run one case; exit 0 (passed), 1 (failed) or 77 (skipped)
 *     prog           run every case; the last line is "N passed, N failed, N skipped"
 *     prog --list    print the case names, one a line
 * The backend name is printed first. A case whose requirement is not met is
 * skipped with "SKIP <case>: <reason>", never counted as passed.
 *
 * check runs each case in a child process where it can fork (POSIX; set
 * CK_FORK=no to run in-process, e.g. under valgrind) and in-process on
 * Windows. Assertions (ck_assert_*) must be made from the case's own thread.
 */
#ifndef TOFU_TEST_RUNNER_H
#define TOFU_TEST_RUNNER_H

#include <stddef.h>

/* Requirements of a case; probed at run time, before the case starts. */
#define REQ_NONE 0u
#define REQ_UDS (1u << 0)        /* AF_UNIX stream sockets */
#define REQ_SIGNALS (1u << 1)    /* POSIX signals */
#define REQ_MANY_FDS (1u << 2)   /* RUNNER_MANY_FDS open descriptors */
#define REQ_LINUX (1u << 3)      /* behaviour only Linux has (named by the case) */
#define REQ_LOCALHOST (1u << 4)  /* the name "localhost" resolves to an IPv4 address */
#define REQ_IPV6 (1u << 5)       /* a TCP socket can listen on ::1 and be reached there */
#define REQ_LOCALHOST6 (1u << 6) /* "localhost" resolves to ::1 first, then to 127.0.0.1 */
#define REQ_WINDOWS (1u << 7)    /* Windows: completion ports, overlapped sockets */
/* A TCP listener whose accept queue is full drops new SYNs without an answer,
 * so a connect to it hangs: Linux does, and so does Wine on a Linux host
 * (its TCP is the host's). Windows answers them with RST; other systems are
 * not known to this project. */
#define REQ_SYN_DROP (1u << 8)

/* What REQ_MANY_FDS asks for: 1,024 socket pairs and a little room. */
#define RUNNER_MANY_FDS 2100

/* The exit status that tells ctest a case was skipped (SKIP_RETURN_CODE). */
#define RUNNER_SKIP_STATUS 77

/* Seconds check gives one case before it is failed as hung (fork mode). */
#define RUNNER_CASE_TIMEOUT 60

typedef struct runner_case {
  const char *name;
  void (*fn)(void);
  unsigned requirements;
} runner_case;

/* Raise the soft limit on open descriptors to at least want, never past the
 * hard limit. Returns 1 when want descriptors are allowed (always on
 * Windows, which has no such limit on sockets), else 0. */
int runner_raise_fd_limit(long want);

/* 1 when the program runs under Wine rather than Windows, else 0. Only for
 * the exceptions docs/backend-contract.md names as Wine's. */
int runner_under_wine(void);

/* A suite's own requirements (bits above the runner's): 1 if every bit of
 * `requirements` it knows is met, else 0 with the reason in why. */
typedef int (*runner_own_requirements)(unsigned requirements, char *why, size_t n);

/* Run the suite's cases as the command line asks; returns the exit status.
 * own (may be NULL) checks the suite's own requirement bits, for one case
 * and for all alike. */
int runner_main(int argc, char **argv, const char *suite, const runner_case *cases, int count);
int runner_main_own(int argc, char **argv, const char *suite, const runner_case *cases, int count,
                    runner_own_requirements own);

#endif /* TOFU_TEST_RUNNER_H */
