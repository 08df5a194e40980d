/* pool — all message memory of one engine, with a hard limit in bytes.
 *
 * A message costs sizeof(tofu_message) plus the capacity of its two buffers.
 * Free messages wait on a free list; when a charge would pass the limit the
 * buffers of free messages are released first. Thread-safe. */
#ifndef TOFU_POOL_H
#define TOFU_POOL_H

#include <stdatomic.h>
#include <stddef.h>

#include "message.h"
#include "platform/thread.h"

/* A read block: memory the Reactor receives into. The body of a frame that
 * arrives whole in it is not copied out: its message is bound to the block
 * (tofu_message.block) and its body points there, so the bytes the Reactor
 * read are the bytes the application gets and the bytes written back. A
 * block lives while anything refers to it: the Reactor, while it reads into
 * it, and every message bound to it. Each message owns its bytes in the
 * block (no two overlap), so writing a body in place needs no copy; only a
 * body that grows moves to the message's own buffer (pool_reserve_body).
 * Blocks are charged to the limit whole, from when they are made until
 * they are trimmed from the free list. */
typedef struct pool_block {
  struct pool_block *next; /* the pool's free list */
  atomic_uint refs;        /* bound messages, plus 1 while the Reactor reads into it */
  size_t used;             /* bytes received into it: Reactor only, while it holds it */
} pool_block;

/* A block's size in bytes (its data, which follows the struct in the same
 * allocation), and the least room the Reactor reads into: with less left,
 * it moves on to another block. */
#define POOL_BLOCK_SIZE (128u * 1024u)
#define POOL_BLOCK_MIN_ROOM (16u * 1024u)

static inline uint8_t *pool_block_data(pool_block *b) {
  return (uint8_t *)(b + 1);
}

typedef struct pool {
  plat_mutex mu;
  /* Runs of free messages: the message heading a run knows the run's
   * length and last message (run_n, run_end), so the Reactor's cache is
   * given back and taken again in one step per run, walking no messages. A
   * message put alone is a run of one. */
  tofu_message *free_list;
  size_t nfree;
  size_t nlive;
  size_t used;  /* bytes charged */
  size_t limit; /* hard limit */
  /* The largest body a message may have (tofu_options.max_message), and
   * the largest body buffer the pool makes: max_message, or more for the
   * rest of a frame cut from a request past its deadline (chan_send.c),
   * which carries frame headers and text headers too. Set at create. */
  size_t max_message;
  size_t body_max;
  tofu_message *all;         /* every live message, free or not, notices included */
  tofu_message *notice_free; /* idle notices (no buffers), for reuse */

  /* The Reactor's cache: free messages only the Reactor touches, so that
   * the get for a received frame and the put after a frame is written take
   * no lock. Filled from free_list in batches, given back to it (spilled) at
   * the end of every Reactor pass, so that between passes every free message
   * is on free_list, trimmable, and the limit is as exact as without it. */
  tofu_message *rcache;
  tofu_message *rcache_tail; /* its last message, so that spilling walks nothing */
  size_t rcache_n;
  atomic_size_t ncached; /* rcache_n, readable by pool_counts */

  /* Read blocks nothing refers to, kept for reuse (charged); trimmed
   * before any message's buffers. */
  pool_block *free_blocks;
  size_t nblocks; /* every block made and not freed: free, held or bound */

  /* Set by the Reactor when it waits for memory; the next put calls
   * on_release(arg) once. */
  atomic_int want_release;
  void (*on_release)(void *arg);
  void *release_arg;
} pool;

/* Make a pool with `initial` empty messages. Errors: TOFU_ELIMIT (they do not
 * fit limit), TOFU_ENOMEM, TOFU_ESYSTEM. */
int pool_init(pool *p, size_t initial, size_t limit);

/* Let bodies grow to max_message bytes (pool_init sets TOFU_MAX_BODY). */
void pool_set_max_message(pool *p, size_t max_message);

/* Free every message still alive (free or not). */
void pool_fini(pool *p);

/* A free message, or (always) a new one if the limit allows; NULL otherwise.
 * The message is empty. */
tofu_message *pool_get(pool *p, int always);

/* A message whose buffers hold headers_len and body_len bytes, or NULL when
 * the limit does not allow it (the Reactor's way to get room for a frame). */
tofu_message *pool_get_sized(pool *p, size_t headers_len, size_t body_len);

/* Give a message back. A notice gives up its buffers and waits for reuse on
 * its own list. A second put of a message that is back already is ignored. */
void pool_put(pool *p, tofu_message *m);

/* The Reactor's forms of pool_get_sized and pool_put: through its cache,
 * without locking in the common case. Reactor thread only. pool_reactor_put
 * does not call on_release: the Reactor itself is the one that waits for
 * memory, and it retries its paused channels in the same pass. */
tofu_message *pool_reactor_get_sized(pool *p, size_t headers_len, size_t body_len);
void pool_reactor_put(pool *p, tofu_message *m);
/* Make m, a live message whose buffers already hold headers_len and
 * body_len bytes, empty and ready to receive a frame of those sizes, as
 * pool_reactor_get_sized would give one: the message of a request ended by
 * the answer it is to receive (requests_take_answered). Reactor thread
 * only. */
void pool_reactor_reuse(tofu_message *m);
/* Give the cache back to the free list (one lock); every Reactor pass ends
 * with it. */
void pool_reactor_spill(pool *p);

/* A notice: a message made outside the limit (an idle one is reused). NULL
 * if malloc fails. Idle notices are only the struct and are freed by
 * pool_fini; there are never more than were in use at once. */
tofu_message *pool_notice_new(pool *p);

/* Make room in m, a message whose parts are being joined (chan_recv.c), for
 * text headers and body of headers_len and body_len bytes in all, keeping
 * what it holds. Checked before either buffer grows, as for a frame, but
 * m's own buffers are never released to make room. Returns 1, or 0 when the
 * limit does not allow it now. */
int pool_reserve_joined(tofu_message *m, size_t headers_len, size_t body_len);

/* Make sure a message's text-header / body buffer holds cap bytes, charging
 * its pool for the growth (and trimming free messages' buffers to make room).
 * Returns TOFU_OK, or TOFU_ELIMIT / TOFU_ENOMEM with the message unchanged. */
int pool_reserve_headers(tofu_message *m, size_t cap);
int pool_reserve_body(tofu_message *m, size_t cap);

/* A read block with nothing in it, held by the caller (the Reactor): one
 * from the free list, or a new one if the limit allows; NULL otherwise. */
pool_block *pool_block_get(pool *p);

/* Let go of a block: the Reactor's hold, or (through the pool) a message's.
 * The last one puts it on the free list. */
void pool_block_release(pool *p, pool_block *b);

/* Bind m, a message the Reactor is filling for a frame, to the block b:
 * its body is the len bytes at body (inside b), with headroom bytes before
 * it that are m's too (tofu_message.headroom), its own body buffer kept
 * aside until the binding ends. Reactor thread only. */
void pool_bind_body(tofu_message *m, pool_block *b, uint8_t *body, size_t len, size_t headroom);

/* Ask for one on_release call at the next put (the Reactor arms this before
 * it retries, so no put can be missed). */
void pool_want_release(pool *p);

void pool_counts(pool *p, size_t *used, size_t *limit, size_t *live, size_t *nfree);
/* Bytes charged for read blocks: all of them, and the free ones. */
void pool_block_counts(pool *p, size_t *bytes, size_t *free_bytes);

/* Charge bytes of memory that is not a message's (the index of open
 * requests, their tombstones: requests.h) to the limit, trimming free
 * messages' buffers to make room; TOFU_OK or TOFU_ELIMIT. pool_uncharge
 * gives them back. */
int pool_charge(pool *p, size_t bytes);
void pool_uncharge(pool *p, size_t bytes);

#endif /* TOFU_POOL_H */
