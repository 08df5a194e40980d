/* chan_num — the local channel numbers of one engine (1..65534), taken by a
 * posting thread (WelcomeRequest, HelloRequest) or by the Reactor (an
 * accepted connection), given back by the Reactor when a channel closes.
 * Thread-safe. */
#ifndef TOFU_CHAN_NUM_H
#define TOFU_CHAN_NUM_H

#include <stdint.h>

#include "platform/thread.h"

typedef struct chan_nums {
  plat_mutex mu;
  uint8_t used[65536 / 8];
  uint32_t next;  /* where the search for a free number starts */
  uint32_t count; /* numbers in use */
} chan_nums;

/* TOFU_OK or TOFU_ESYSTEM. */
int chan_num_init(chan_nums *n);
void chan_num_fini(chan_nums *n);

/* A free number, or 0 when all are in use. Numbers are handed out moving
 * forward, so one is not reused at once after its channel closed. */
uint16_t chan_num_alloc(chan_nums *n);
void chan_num_free(chan_nums *n, uint16_t number);

#endif /* TOFU_CHAN_NUM_H */
