/* stats — the copy-out rule of tofu_poller_stats (tofu/poller.h): the caller
 * says in out->size how many bytes it has room for; the backend writes the
 * fields that fit and sets size to what it wrote. */
#ifndef TOFU_POSIX_STATS_H
#define TOFU_POSIX_STATS_H

#include "tofu/poller.h"

/* Copy the counted values into out as far as out->size allows. TOFU_OK, or
 * TOFU_EINVAL for a NULL out or one too small for its size field. */
int stats_copy(const tofu_poller_stats *counted, tofu_poller_stats *out);

#endif /* TOFU_POSIX_STATS_H */
