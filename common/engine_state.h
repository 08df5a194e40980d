/* engine_state — the state of an engine and of a group, which the public
 * API (engine.c, quick.c), the Reactor (reactor.c), the channels and the
 * outbox share. Who may touch a field is part of its declaration:
 *   - set while the engine or group is created, read-only after: any thread;
 *   - "shared": any thread, under the lock or through the atomic it names;
 *   - the `reactor` member: the Reactor thread alone (and the thread that
 *     creates or destroys the engine, while no Reactor runs).
 * Declarations only: each job's functions are in its own header. */
#ifndef TOFU_ENGINE_STATE_H
#define TOFU_ENGINE_STATE_H

#include <stdatomic.h>
#include <stdint.h>

#include "chan_num.h"
#include "mailbox.h"
#include "msgq.h"
#include "platform/thread.h"
#include "pool.h"
#include "timers.h"
#include "tofu/poller.h"
#include "tofu/tofu.h"

struct channel;

/* Bytes the Reactor reads from a socket at once. */
#define ENGINE_READ_BUF 65536

/* The index of open requests and tombstones (requests.h): an open-addressed
 * table of (key, record), the key mixing the id and the channel, so that a
 * lookup reads the table and the one record it finds, never the cold
 * records of other requests; records that found no room in it (the pool
 * refused a larger table) wait on a list. */
#define REQ_SMALL_SLOTS 64
typedef struct req_slot {
  uint64_t key;
  req_node *node; /* NULL: the slot is free */
} req_slot;
typedef struct req_index {
  req_slot *slots; /* `small`, or a larger array charged to the pool */
  size_t mask;     /* slots - 1 (a power of two) */
  size_t used;     /* slots in use */
  size_t count;    /* records: open requests and tombstones, in the table or not */
  size_t tombstones;
  req_node *overflow;  /* records kept outside the table, linked by hnext */
  size_t grow_refused; /* count when the pool last refused a larger table */
  req_slot small[REQ_SMALL_SLOTS];
} req_index;

/* A group's Reactor-only state. */
typedef struct group_reactor {
  int dead;            /* destroy started: nothing more is delivered */
  int pool_notice_out; /* a pool_empty notice was sent this episode */
  msgq outbox;         /* delivered this pass, handed to mb at its end */
  struct tofu_group *next_outbox;
  int in_outbox; /* on the engine's list of groups with an outbox */
} group_reactor;

struct tofu_group {
  /* Set at create. */
  tofu_engine *engine;
  tofu_message *destroy_cmd; /* made at create, so destroy cannot fail; taken by destroy */

  /* Shared. */
  mailbox mb;                    /* the receive queue: its own lock */
  atomic_int update_pending;     /* a receiver_update notice is queued */
  int destroyed;                 /* under engine.in_mu: the Reactor is done with it */
  struct tofu_group *next_group; /* the engine's list, under engine.groups_mu */

  group_reactor reactor;
};

/* An engine's Reactor-only state. */
typedef struct engine_reactor {
  struct channel *table;       /* uthash: every channel, for walking them all */
  struct channel **slots[256]; /* number -> channel: block number >> 8, entry number & 255 */
  struct channel *paused;      /* channels waiting for memory, oldest first */
  struct channel *paused_tail; /* the newest of them */
  struct channel *zombies;     /* closed this pass; freed at its end */
  struct channel *dirty;       /* channels with new messages to flush */
  tofu_group *outboxes;        /* groups with messages delivered this pass */
  timers timers;
  uint64_t serial; /* the last channel serial given */
  uint8_t *rbuf;
  /* The read block (pool.h) the Reactor receives into, so that the bodies
   * of whole frames stay where they were read; rbuf when it has none. */
  struct pool_block *block;
  int no_block; /* no block could be had in this pass: read into rbuf */
  /* Read-ahead: the bytes a channel had read past a frame header when no
   * memory was left for the frame, kept here (ENGINE_READ_BUF bytes) until it
   * resumes. One channel at most holds it: while stash_owner is set, every
   * channel reads no further than the end of its current frame part, so that
   * it can pause with nothing read ahead. */
  uint8_t *stash;
  size_t stash_len;
  struct channel *stash_owner;
  req_index requests; /* requests.h */
  int64_t now_ms;     /* the clock when this Reactor pass began */
  int wait_fails_row; /* failed waits since the last one that worked */
} engine_reactor;

struct tofu_engine {
  /* Set at create. */
  const tofu_poller_ops *ops;
  tofu_poller *poller;
  tofu_options opts;
  int net_started;
  int locks_made; /* in_mu, ctl_cv, nums and groups_mu are initialised */
  plat_thread thread;
  int thread_started;

  /* Shared. */
  pool pool; /* its own locks (pool.h) */
  atomic_int stop;
  /* A message came back while the Reactor waited for memory. Stored by the
   * putting thread before it loads `sleeping`, like in_pending below. */
  atomic_int released;

  /* The inbound queue: posts, timers, group destruction (msg_cmd). */
  plat_mutex in_mu;
  plat_cond ctl_cv; /* group destruction done */
  msgq in_q;        /* under in_mu */
  /* in_q is not empty: set by a post after it queued, cleared by the Reactor
   * when it takes the queue. With `sleeping` (the Reactor is in, or about to
   * enter, a wait that may block) it lets a post skip the poller's notify
   * while the Reactor is awake and will see the queue anyway. Both are
   * sequentially consistent: the poster stores in_pending (a put that
   * frees memory: released) then loads sleeping, the Reactor stores sleeping
   * then loads in_pending and released, so at least one of them sees the
   * other. */
  atomic_int in_pending;
  atomic_int sleeping;

  chan_nums nums; /* its own lock */

  plat_mutex groups_mu;
  tofu_group *groups; /* under groups_mu */

  /* Statistics, read by tofu_engine_stats. */
  atomic_uint_fast64_t loops;
  atomic_uint_fast64_t reads_paused;
  atomic_size_t channels_open;
  atomic_uint_fast64_t wait_failures;
  atomic_uint_fast64_t channels_refused;
  atomic_uint_fast64_t frame_timeouts;
  atomic_uint_fast64_t frames_refused;
  atomic_size_t requests_open; /* stored by the Reactor, not added to */
  atomic_uint_fast64_t requests_expired;
  atomic_uint_fast64_t responses_late;

  engine_reactor reactor;
};

#endif /* TOFU_ENGINE_STATE_H */
