/* tofu — the reliability suite: the case table and main. */
#include <stdio.h>

#include "suite.h"

static const runner_case reliability_cases[] = {
#define TOFU_CASE(name, requirements) {#name, case_##name, requirements},
#include "cases.h"
#undef TOFU_CASE
};

/* This suite's own requirements; 1 if met, else 0 with the reason. */
static int own_requirements_met(unsigned req, char *why, size_t n) {
#ifdef _WIN32
  if (req & REQ_POSIX) {
    snprintf(why, n, "POSIX only (rlimits, fork, /proc)");
    return 0;
  }
#endif
  if ((req & REQ_NOMEM) && !faults_nomem_supported()) {
    snprintf(why, n, "allocation failures are injected by the POSIX link only (--wrap=malloc)");
    return 0;
  }
  if ((req & REQ_NATIVE_NET) && runner_under_wine()) {
    snprintf(why, n, "too slow under Wine's network emulation");
    return 0;
  }
  if ((req & REQ_RLIMIT) && rel_env("TOFU_REL_NO_RLIMIT", 0)) {
    snprintf(why, n,
             "TOFU_REL_NO_RLIMIT: the descriptor limit belongs to the tool running us "
             "(valgrind refuses setrlimit)");
    return 0;
  }
  return 1;
}

int main(int argc, char **argv) {
  int count = (int)(sizeof reliability_cases / sizeof reliability_cases[0]);
  faults_exempt_thread();
  /* Checked for every case, run alone or all together. */
  return runner_main_own(argc, argv, "reliability", reliability_cases, count, own_requirements_met);
}
