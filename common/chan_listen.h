/* chan_listen — a listener: bind, listen, accept into new channels. Reactor
 * thread only. */
#ifndef TOFU_CHAN_LISTEN_H
#define TOFU_CHAN_LISTEN_H

#include "channel.h"

/* Start listening for a posted WelcomeRequest (its channel number already
 * taken); the WelcomeResponse or the request handed back goes to the group. */
void chan_listen_open(tofu_engine *e, tofu_message *welcome);

/* The poller reported the listening socket: accept what is pending. */
void chan_listen_event(channel *ch, unsigned events);

#endif /* TOFU_CHAN_LISTEN_H */
