/* tofu_assert — see tofu_assert.h. */
#include "tofu_assert.h"

#include <stdio.h>
#include <stdlib.h>

void tofu_assert_failed(const char *cond, const char *file, int line) {
  fprintf(stderr, "tofu: internal invariant broken at %s:%d: %s\n", file, line, cond);
  fflush(stderr);
  abort();
}
