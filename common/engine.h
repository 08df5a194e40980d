/* engine — what the public API's own files (engine.c, quick.c) share beyond
 * the state in engine_state.h. */
#ifndef TOFU_ENGINE_H
#define TOFU_ENGINE_H

#include "engine_state.h"

/* A receiving thread took m (may be NULL) from g's queue: clears the
 * receiver_update bookkeeping when m is that notice (engine.c; also used by
 * tofu_wait_reply). */
void group_took(tofu_group *g, tofu_message *m);

#endif /* TOFU_ENGINE_H */
