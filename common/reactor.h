/* reactor — the I/O thread of an engine: one loop over the poller, the
 * inbound queue and the timers. The public API (engine.c) starts and stops
 * it and hands it work only through the functions below; everything else
 * the Reactor touches is its own. */
#ifndef TOFU_REACTOR_H
#define TOFU_REACTOR_H

#include "engine_state.h"

/* Start the Reactor thread. TOFU_OK, TOFU_ENOMEM or TOFU_ESYSTEM. */
int reactor_start(tofu_engine *e);

/* Ask the Reactor thread to end and wait for it. */
void reactor_stop(tofu_engine *e);

/* Close every channel and free the Reactor's state, once its thread has
 * ended (or never started). */
void reactor_teardown(tofu_engine *e);

/* Queue a message for the Reactor (a post, a timer or a command) and wake
 * it if it may be blocked. Any thread. */
void reactor_submit(tofu_engine *e, tofu_message *m);

/* The same for a whole queue, in its order, with one lock and at most one
 * notify; q is left empty. Any thread. */
void reactor_submit_all(tofu_engine *e, msgq *q);

/* Have the Reactor close the group's channels, drop its timers and deliver
 * nothing more to it; returns once that is done. The command is the group's
 * destroy_cmd, made at create so that this cannot fail. Any thread but the
 * Reactor. */
void reactor_remove_group(tofu_engine *e, tofu_group *g);

#endif /* TOFU_REACTOR_H */
