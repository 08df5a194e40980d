/* stats — see stats.h. */
#include "stats.h"

#include <string.h>

int stats_copy(const tofu_poller_stats *counted, tofu_poller_stats *out) {
  if (out == NULL || out->size < sizeof out->size)
    return TOFU_EINVAL;
  tofu_poller_stats s = *counted;
  s.size = out->size < sizeof s ? out->size : sizeof s;
  memcpy(out, &s, s.size);
  return TOFU_OK;
}
