/* Helpers shared by the example programs: small conveniences over the header
 * form of the API (the quick API of tofu.h covers URLs). Header-only so that each example stays one
 * file to read. */
#ifndef TOFU_EXAMPLE_UTIL_H
#define TOFU_EXAMPLE_UTIL_H

#include <stdio.h>
#include <string.h>

#include "tofu/tofu.h"

/* A message with an opcode, a channel and a text header (name may be NULL). */
static inline tofu_message *example_msg(tofu_engine *e, int opcode, uint16_t ch, const char *name,
                                        const char *value) {
  tofu_message *m = tofu_get(e, TOFU_ALWAYS);
  if (!m)
    return NULL;
  tofu_msg_header(m)->opcode = (uint8_t)opcode;
  tofu_msg_header(m)->channel = ch;
  if (name && tofu_msg_add_header(m, name, value) != TOFU_OK) {
    tofu_put(e, &m);
    return NULL;
  }
  return m;
}

#endif /* TOFU_EXAMPLE_UTIL_H */
