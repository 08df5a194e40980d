/* tofu fuzz targets: one entry point per target, named fuzz_<target>_one.
 *
 * Each target file also defines LLVMFuzzerTestOneInput when built for
 * libFuzzer (ci/fuzz.sh defines TOFU_LIBFUZZER); the reliability suite links
 * all three into one program and replays the corpora through these names
 * (tests/reliability/fuzz_replay.c). A target returns 0; a broken invariant
 * aborts, which libFuzzer and the suite both report. */
#ifndef TOFU_FUZZ_H
#define TOFU_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int fuzz_wire_one(const uint8_t *data, size_t size);
int fuzz_headers_one(const uint8_t *data, size_t size);
int fuzz_address_one(const uint8_t *data, size_t size);

/* An invariant of the code under test failed: say which, then abort. */
#define FUZZ_CHECK(cond)                                                                           \
  do {                                                                                             \
    if (!(cond)) {                                                                                 \
      fprintf(stderr, "%s:%d: fuzz invariant failed: %s\n", __FILE__, __LINE__, #cond);            \
      abort();                                                                                     \
    }                                                                                              \
  } while (0)

#endif /* TOFU_FUZZ_H */
