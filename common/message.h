/* message — the engine's view of a tofu_message: buffers, pool accounting and
 * the links the queues and the Reactor use. The public accessors
 * (tofu_msg_*) live in message.c; the buffers are grown and freed by the
 * pool (pool_reserve_*), which does all the accounting. */
#ifndef TOFU_MESSAGE_H
#define TOFU_MESSAGE_H

#include <stddef.h>
#include <stdint.h>

#include "platform/net.h"
#include "tofu/tofu.h"

struct pool;
struct pool_block;

/* A request's entry in the engine's index of the requests its channels
 * wrote and have not seen answered (requests.h): inside the request's own
 * message while it is open, or a tombstone of its own once its deadline
 * handed the request back. */
typedef struct req_node {
  struct req_node *hnext;       /* the index's overflow list (records outside its table) */
  struct req_node *prev, *next; /* the channel's list, oldest first */
  uint64_t id;
  uint16_t channel;
  uint8_t tombstone; /* handed back at its deadline: its Response would be late */
  uint8_t indexed;   /* in the index's table (or its overflow list), not only in the list */
} req_node;

enum {
  MSG_NOTICE = 1u << 0, /* made outside the pool's limit; freed when put */
  MSG_RAW = 1u << 1,    /* on a send queue: the rest of a frame, its body written as it is */
  /* Set while a message is free in the pool (its free list, the Reactor's
   * cache, the idle notices), so that a second put of the same message
   * (through a copy of the pointer) is ignored, and a post or a change of a
   * message that was put back is refused (msg_in_pool). */
  MSG_IN_POOL = 1u << 15,
};

/* Whether m is free in its pool: the application put it back (and may hold
 * a stale copy of the pointer), so it must not be posted or changed. */

/* What a message asks of the Reactor when it travels the inbound queue (its
 * `cmd`): every command code there is. */
typedef enum msg_cmd {
  MSG_CMD_POST = 0,      /* tofu_post: to a channel, or a Welcome/HelloRequest */
  MSG_CMD_TIMER,         /* tofu_post_timer: back to its group at due_ms */
  MSG_CMD_DESTROY_GROUP, /* tofu_group_destroy: the group's destroy_cmd */
} msg_cmd;

/* The fields every message on the hot path touches come first, within its
 * first two cache lines (with the default allocator's alignment, three):
 * a message crosses between cores at every hand-off, and each further line
 * is one more miss. The request record, the pool's bookkeeping and the
 * addresses of a hello come after. */
struct tofu_message {
  tofu_header hdr;
  uint8_t *th;
  uint32_t th_len, th_cap;
  uint8_t *body;
  uint32_t body_len, body_cap;
  struct tofu_message *next; /* queue link (one queue at a time) */
  unsigned flags;
  /* Set by tofu_post / tofu_post_timer for the Reactor. */
  msg_cmd cmd;
  tofu_group *group;
  struct pool *pool;
  union {
    /* A timer's due time while it travels; a posted request's deadline (0:
     * none) from its post until it is answered or handed back. */
    int64_t due_ms;
    /* On the pool's free list, in the message heading a run: the run's
     * last message (the two are never needed at once). */
    struct tofu_message *run_end;
  };
  int timeout_ms; /* tofu_msg_set_timeout: 0 = the engine's request_timeout_ms */
  /* Bytes before body, inside the block, that are the message's too: its
   * frame's header and text headers as they came (16 + their length), or 0
   * when the header was not read in place. A frame without text headers is
   * sent from there, its header written in front of its body: one piece
   * (chan_send.c). */
  uint32_t headroom;
  /* Bound to a read block (pool.h): body points into it, body_cap is the
   * bound length, and the message's own body buffer waits in own_body. */
  struct pool_block *block;
  int naddrs; /* addrs below */
  /* On the pool's free list, in the message that heads a run of messages
   * freed together: their count (and run_end above, the last of them). */
  uint32_t run_n;
  size_t charged; /* bytes charged to the pool for this message */
  uint8_t *own_body;
  uint32_t own_cap;

  req_node req; /* while the request is open (requests.h) */

  struct tofu_message *all_prev, *all_next; /* the pool's list of live messages */
  /* A TCP HelloRequest's or WelcomeRequest's address, looked up by tofu_post
   * on the posting thread so that the Reactor never blocks on a name lookup:
   * naddrs addresses, tried in order; 0 when the name did not resolve (the
   * Reactor then hands the request back with invalid_address). */
  net_addr addrs[NET_RESOLVE_MAX];
};

static inline int msg_in_pool(const struct tofu_message *m) {
  return (m->flags & MSG_IN_POOL) != 0;
}

/* The capacity of m's own body buffer, bound to a read block or not. */
static inline uint32_t msg_own_body_cap(const struct tofu_message *m) {
  return m->block ? m->own_cap : m->body_cap;
}

/* A Signal from the engine (origin engine) with a status, for a channel (0
 * for none): the engine's notices (pool_empty, receiver_update,
 * communication_failed). Made outside the pool's limit; NULL if malloc
 * fails. */
tofu_message *msg_signal_notice(struct pool *p, uint16_t channel, int status);

/* Set origin engine and a status: how the engine hands a message back. */
void msg_hand_back(tofu_message *m, int status);

#endif /* TOFU_MESSAGE_H */
