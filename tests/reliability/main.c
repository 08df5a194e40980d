/* tofu — the reliability suite: the case table and main. */
#include <stdio.h>
#include <string.h>

#include "rel.h"

#define REL_OWN_REQS (REQ_POSIX | REQ_NOMEM | REQ_NATIVE_NET | REQ_RLIMIT)

static runner_case rel_cases[] = {
#define TOFU_CASE(name, requirements) {#name, case_##name, requirements},
#include "rel_cases.h"
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
  int count = (int)(sizeof rel_cases / sizeof rel_cases[0]);
  faults_exempt_thread();
  for (int i = 0; i < count; i++) {
    unsigned own = rel_cases[i].requirements & REL_OWN_REQS;
    rel_cases[i].requirements &= ~REL_OWN_REQS;
    char why[256];
    if (argc == 2 && strcmp(argv[1], rel_cases[i].name) == 0 &&
        !own_requirements_met(own, why, sizeof why)) {
      printf("backend: %s\nSKIP %s: %s\n", tofu_backend_name(), rel_cases[i].name, why);
      return RUNNER_SKIP_STATUS;
    }
  }
  return runner_main(argc, argv, "reliability", rel_cases, count);
}
