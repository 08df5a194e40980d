/* tofu — the engine conformance suite: case prototypes; the helpers (et_*)
 * are tests/support/engines.h. */
#ifndef TOFU_TEST_ENGINE_SUITE_H
#define TOFU_TEST_ENGINE_SUITE_H

#include <check.h>
#include <stddef.h>
#include <stdint.h>

#include "engines.h"
#include "monoclock.h"
#include "platform/net.h"
#include "platform/thread.h"
#include "pairs.h"
#include "runner.h"
#include "tofu/tofu.h"

#define TOFU_CASE(name, requirements) void case_##name(void);
#include "cases.h"
#undef TOFU_CASE

#endif /* TOFU_TEST_ENGINE_SUITE_H */
