/* Helpers shared by the example programs: address forms and small
 * conveniences. Header-only so that each example stays one file to read. */
#ifndef TOFU_EXAMPLE_UTIL_H
#define TOFU_EXAMPLE_UTIL_H

#include <stdio.h>
#include <string.h>

#include "tofu/tofu.h"

/* "tcp://HOST:PORT" -> "tcp|HOST|PORT", "tcp://[V6]:PORT" -> "tcp|V6|PORT"
 * (an IPv6 address goes in brackets, as in any URL), "unix://PATH" ->
 * "uds|PATH". Returns 0 on success, -1 if the form is not recognised. */
static inline int example_address(const char *url, char *out, size_t n) {
  if (strncmp(url, "tcp://", 6) == 0) {
    const char *hp = url + 6, *end, *colon;
    if (*hp == '[') {
      end = strchr(hp, ']');
      if (!end || end[1] != ':')
        return -1;
      hp++;
      colon = end + 1;
    } else {
      colon = strrchr(hp, ':');
      if (!colon)
        return -1;
      end = colon;
    }
    int w = snprintf(out, n, "tcp|%.*s|%s", (int)(end - hp), hp, colon + 1);
    return w > 0 && (size_t)w < n ? 0 : -1;
  }
  if (strncmp(url, "unix://", 7) == 0) {
    int w = snprintf(out, n, "uds|%s", url + 7);
    return w > 0 && (size_t)w < n ? 0 : -1;
  }
  return -1;
}

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
