/* tofu — the engine conformance suite: the case table and main. */
#include "suite.h"

static const runner_case engine_cases[] = {
#define TOFU_CASE(name, requirements) {#name, case_##name, requirements},
#include "cases.h"
#undef TOFU_CASE
};

int main(int argc, char **argv) {
  return runner_main(argc, argv, "engine", engine_cases,
                     (int)(sizeof engine_cases / sizeof engine_cases[0]));
}
