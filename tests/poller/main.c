/* tofu — the poller conformance suite: the case table and main. */
#include "suite.h"

static const runner_case poller_cases[] = {
#define TOFU_CASE(name, requirements) {#name, case_##name, requirements},
#include "cases.h"
#undef TOFU_CASE
};

int main(int argc, char **argv) {
  return runner_main(argc, argv, "poller", poller_cases,
                     (int)(sizeof poller_cases / sizeof poller_cases[0]));
}
