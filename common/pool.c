/* pool — message memory and its accounting, all of it: the limit, the free
 * lists, the buffers of every message and the Reactor's cache. */
#include "pool.h"

#include <stdlib.h>
#include <string.h>

#include "platform/cpu.h"

#define MSG_BASE_COST sizeof(tofu_message)

/* Messages moved from the free list to the Reactor's cache at once, and the
 * most the cache holds before it spills early. */
#define RCACHE_REFILL 16
#define RCACHE_MAX 128

static void all_link(pool *p, tofu_message *m) {
  m->all_prev = NULL;
  m->all_next = p->all;
  if (p->all)
    p->all->all_prev = m;
  p->all = m;
}

/* Free both buffers of m and return their capacity in bytes; the caller
 * takes it off the charges. */
static size_t drop_buffers(tofu_message *m) {
  size_t freed = (size_t)m->th_cap + m->body_cap;
  free(m->th);
  free(m->body);
  m->th = m->body = NULL;
  m->th_cap = m->body_cap = 0;
  m->th_len = m->body_len = 0;
  return freed;
}

#define BLOCK_COST (sizeof(pool_block) + POOL_BLOCK_SIZE)

/* Release free read blocks, then the buffers of free messages, until
 * `bytes` more fit. Called with mu held. */
static void trim_locked(pool *p, size_t bytes) {
  while (p->free_blocks && p->used + bytes > p->limit) {
    pool_block *b = p->free_blocks;
    p->free_blocks = b->next;
    free(b);
    p->used -= BLOCK_COST;
    p->nblocks--;
  }
  for (tofu_message *m = p->free_list; m && p->used + bytes > p->limit; m = m->next) {
    size_t freed = drop_buffers(m);
    m->charged -= freed;
    p->used -= freed;
  }
}

/* Put the run first..last of n messages (linked) at the head of the free
 * list. Called with mu held. */
static void push_run_locked(pool *p, tofu_message *first, tofu_message *last, size_t n) {
  last->next = p->free_list;
  first->run_end = last;
  first->run_n = (uint32_t)n;
  p->free_list = first;
  p->nfree += n;
}

/* Take the first free message; NULL if none. The rest of its run, if any,
 * is headed by the next one. Called with mu held. */
static tofu_message *take_free_locked(pool *p) {
  tofu_message *m = p->free_list;
  if (!m)
    return NULL;
  p->free_list = m->next;
  if (m->run_n > 1) {
    m->next->run_end = m->run_end;
    m->next->run_n = m->run_n - 1;
  }
  p->nfree--;
  return m;
}

static int charge_locked(pool *p, size_t bytes) {
  if (p->used + bytes > p->limit)
    trim_locked(p, bytes);
  if (p->used + bytes > p->limit)
    return TOFU_ELIMIT;
  p->used += bytes;
  return TOFU_OK;
}

static size_t round_cap(size_t need, size_t max) {
  size_t cap = 64;
  while (cap < need)
    cap <<= 1;
  if (cap > max)
    cap = max;
  return cap < need ? need : cap;
}

/* Grow *buf from *cap to hold need bytes (keeping len bytes), charging the
 * pool. */
static int grow(tofu_message *m, uint8_t **buf, uint32_t *cap, uint32_t len, size_t need,
                size_t max) {
  pool *p = m->pool;
  if (need <= *cap)
    return TOFU_OK;
  if (need > max)
    return TOFU_ELIMIT;
  size_t ncap = round_cap(need, max);
  plat_mutex_lock(&p->mu);
  if (charge_locked(p, ncap - *cap) != TOFU_OK) {
    /* Rounding up may be what does not fit: try the exact need. */
    ncap = need;
    if (charge_locked(p, ncap - *cap) != TOFU_OK) {
      plat_mutex_unlock(&p->mu);
      return TOFU_ELIMIT;
    }
  }
  plat_mutex_unlock(&p->mu);
  size_t extra = ncap - *cap;
  /* A buffer larger than one frame's (a message being joined, max_message)
   * grows in place where the allocator can (for large blocks it moves pages
   * rather than copying them), so that growing does not hold the old buffer
   * and the new one at once; smaller ones are made anew, their bytes copied. */
  int large = *cap > TOFU_MAX_BODY;
  uint8_t *nb = large ? realloc(*buf, ncap) : malloc(ncap);
  if (!nb) {
    plat_mutex_lock(&p->mu);
    p->used -= extra;
    plat_mutex_unlock(&p->mu);
    return TOFU_ENOMEM;
  }
  if (!large) {
    if (len)
      memcpy(nb, *buf, len);
    free(*buf);
  }
  *buf = nb;
  *cap = (uint32_t)ncap;
  m->charged += extra;
  return TOFU_OK;
}

/* ---- Read blocks ------------------------------------------------------- */

static void block_free_locked(pool *p, pool_block *b) {
  b->next = p->free_blocks;
  p->free_blocks = b;
}

/* Drop one reference to b; 1 when it was the last (the caller frees it). */
static int block_unref(pool_block *b) {
  return atomic_fetch_sub_explicit(&b->refs, 1, memory_order_acq_rel) == 1;
}

pool_block *pool_block_get(pool *p) {
  plat_mutex_lock(&p->mu);
  pool_block *b = p->free_blocks;
  if (b) {
    p->free_blocks = b->next;
  } else if (charge_locked(p, BLOCK_COST) == TOFU_OK) {
    b = malloc(BLOCK_COST);
    if (b)
      p->nblocks++;
    else
      p->used -= BLOCK_COST;
  }
  plat_mutex_unlock(&p->mu);
  if (b) {
    b->next = NULL;
    b->used = 0;
    atomic_init(&b->refs, 1);
  }
  return b;
}

void pool_block_release(pool *p, pool_block *b) {
  if (!block_unref(b))
    return;
  plat_mutex_lock(&p->mu);
  block_free_locked(p, b);
  plat_mutex_unlock(&p->mu);
}

void pool_bind_body(tofu_message *m, pool_block *b, uint8_t *body, size_t len, size_t headroom) {
  m->own_body = m->body;
  m->own_cap = m->body_cap;
  m->body = body;
  m->body_cap = (uint32_t)len;
  m->block = b;
  m->headroom = (uint32_t)headroom;
  atomic_fetch_add_explicit(&b->refs, 1, memory_order_relaxed);
}

/* End m's binding: its own body buffer back in place. Returns the block,
 * whose reference the caller drops. */
static pool_block *unbind(tofu_message *m) {
  pool_block *b = m->block;
  m->body = m->own_body;
  m->body_cap = m->own_cap;
  m->own_body = NULL;
  m->own_cap = 0;
  m->block = NULL;
  m->headroom = 0;
  return b;
}

/* A bound body that must grow moves to m's own buffer, which grows to cap;
 * the binding ends once its bytes are copied. Unchanged on failure. */
static int unbind_to_grow(tofu_message *m, size_t cap, size_t max) {
  uint8_t *bytes = m->body;
  uint32_t len = m->body_len, bound = m->body_cap, room = m->headroom;
  pool_block *b = unbind(m);
  int rc = grow(m, &m->body, &m->body_cap, 0, cap, max);
  if (rc != TOFU_OK) {
    m->own_body = m->body;
    m->own_cap = m->body_cap;
    m->body = bytes;
    m->body_cap = bound;
    m->block = b;
    m->headroom = room;
    return rc;
  }
  if (len)
    memcpy(m->body, bytes, len);
  pool_block_release(m->pool, b);
  return TOFU_OK;
}

static size_t growth(uint32_t cap, size_t need) {
  return need > cap ? need - cap : 0;
}

/* Whether a frame's two buffers could grow to hl and bl bytes now. Checked
 * before either grows, so that a frame that does not fit allocates nothing:
 * a paused channel retried while the pool is full costs one lock, not a
 * buffer made and dropped. To make room, free messages' buffers are
 * released first, then m's own if they do not suit the frame (a message
 * with a large body, taken for a frame of text headers only): m is a free
 * message too, until the frame has it. */
static int frame_fits(tofu_message *m, size_t hl, size_t bl) {
  pool *p = m->pool;
  size_t need = growth(m->th_cap, hl) + growth(m->body_cap, bl);
  if (need == 0)
    return 1;
  plat_mutex_lock(&p->mu);
  if (p->used + need > p->limit)
    trim_locked(p, need);
  if (p->used + need > p->limit && (m->th_cap || m->body_cap)) {
    size_t freed = drop_buffers(m);
    m->charged -= freed;
    p->used -= freed;
    need = hl + bl;
  }
  int fits = p->used + need <= p->limit;
  plat_mutex_unlock(&p->mu);
  return fits;
}

static int reserve_frame(tofu_message *m, size_t hl, size_t bl) {
  if (hl <= m->th_cap && bl <= m->body_cap)
    return 1; /* the common case: a message reused for a frame of its size */
  return frame_fits(m, hl, bl) && pool_reserve_headers(m, hl) == TOFU_OK &&
         pool_reserve_body(m, bl) == TOFU_OK;
}

int pool_reserve_joined(tofu_message *m, size_t hl, size_t bl) {
  pool *p = m->pool;
  size_t need = growth(m->th_cap, hl) + growth(m->body_cap, bl);
  if (need) {
    plat_mutex_lock(&p->mu);
    if (p->used + need > p->limit)
      trim_locked(p, need);
    int fits = p->used + need <= p->limit;
    plat_mutex_unlock(&p->mu);
    if (!fits)
      return 0;
  }
  return pool_reserve_headers(m, hl) == TOFU_OK && pool_reserve_body(m, bl) == TOFU_OK;
}

int pool_reserve_headers(tofu_message *m, size_t cap) {
  return grow(m, &m->th, &m->th_cap, m->th_len, cap, TOFU_MAX_TEXT_HEADERS);
}

int pool_reserve_body(tofu_message *m, size_t cap) {
  /* A body that fits one frame rounds up no further than one frame does. */
  size_t max = cap <= TOFU_MAX_BODY ? TOFU_MAX_BODY : m->pool->body_max;
  if (m->block && cap > m->body_cap)
    return unbind_to_grow(m, cap, max);
  return grow(m, &m->body, &m->body_cap, m->body_len, cap, max);
}

/* A new empty message, charged and linked. Called with mu held. */
static tofu_message *new_locked(pool *p) {
  if (charge_locked(p, MSG_BASE_COST) != TOFU_OK)
    return NULL;
  tofu_message *m = calloc(1, sizeof(*m));
  if (!m) {
    p->used -= MSG_BASE_COST;
    return NULL;
  }
  m->pool = p;
  m->charged = MSG_BASE_COST;
  all_link(p, m);
  p->nlive++; /* notices are not counted */
  return m;
}

int pool_init(pool *p, size_t initial, size_t limit) {
  memset(p, 0, sizeof(*p));
  if (plat_mutex_init(&p->mu) != TOFU_OK)
    return TOFU_ESYSTEM;
  p->limit = limit;
  pool_set_max_message(p, TOFU_MAX_BODY);
  atomic_init(&p->want_release, 0);
  atomic_init(&p->ncached, 0);
  if (initial > limit / MSG_BASE_COST) {
    plat_mutex_fini(&p->mu);
    return TOFU_ELIMIT;
  }
  plat_mutex_lock(&p->mu);
  for (size_t i = 0; i < initial; i++) {
    tofu_message *m = new_locked(p);
    if (!m) {
      plat_mutex_unlock(&p->mu);
      pool_fini(p);
      return TOFU_ENOMEM;
    }
    m->flags |= MSG_IN_POOL;
    push_run_locked(p, m, m, 1);
  }
  plat_mutex_unlock(&p->mu);
  return TOFU_OK;
}

void pool_set_max_message(pool *p, size_t max_message) {
  /* A cut frame's rest: at most every part's header, the text headers and
   * the body. */
  size_t parts = max_message / TOFU_MAX_BODY + 1;
  p->max_message = max_message;
  p->body_max = max_message + parts * TOFU_HEADER_SIZE + TOFU_MAX_TEXT_HEADERS;
}

void pool_fini(pool *p) {
  tofu_message *m = p->all;
  while (m) {
    tofu_message *n = m->all_next;
    if (m->block) { /* never put back */
      pool_block *b = unbind(m);
      if (block_unref(b))
        block_free_locked(p, b);
    }
    drop_buffers(m);
    free(m);
    m = n;
  }
  /* Every block is free now: the Reactor let go of its own at teardown. */
  while (p->free_blocks) {
    pool_block *b = p->free_blocks;
    p->free_blocks = b->next;
    free(b);
  }
  p->nblocks = 0;
  p->all = NULL;
  p->free_list = NULL;
  p->notice_free = NULL;
  p->rcache = p->rcache_tail = NULL;
  p->rcache_n = 0;
  p->nfree = p->nlive = 0;
  p->used = 0;
  plat_mutex_fini(&p->mu);
}

static void clear_message(tofu_message *m) {
  memset(&m->hdr, 0, sizeof(m->hdr));
  m->th_len = m->body_len = 0;
  m->next = NULL;
  m->group = NULL;
  m->cmd = MSG_CMD_POST;
  m->due_ms = 0;
  m->timeout_ms = 0;
}

tofu_message *pool_get(pool *p, int always) {
  plat_mutex_lock(&p->mu);
  tofu_message *m = take_free_locked(p);
  if (m) {
    m->flags &= ~MSG_IN_POOL;
  } else if (always) {
    m = new_locked(p);
  }
  plat_mutex_unlock(&p->mu);
  if (m)
    clear_message(m);
  return m;
}

/* A body buffer larger than one frame's (a large message's, max_message)
 * is not kept for reuse: a free message keeps at most what any frame needs,
 * and the memory goes back to the limit at once. Called with mu held. */
static void drop_large_locked(pool *p, tofu_message *m) {
  if (m->body_cap <= TOFU_MAX_BODY)
    return;
  size_t freed = m->body_cap;
  free(m->body);
  m->body = NULL;
  m->body_cap = m->body_len = 0;
  m->charged -= freed;
  p->used -= freed;
}

static void push_free(pool *p, tofu_message *m) {
  plat_mutex_lock(&p->mu);
  if (m->flags & MSG_IN_POOL) { /* put twice: it is free already */
    plat_mutex_unlock(&p->mu);
    return;
  }
  if (m->block) {
    pool_block *b = unbind(m);
    if (block_unref(b))
      block_free_locked(p, b);
  }
  drop_large_locked(p, m);
  clear_message(m);
  m->flags |= MSG_IN_POOL;
  push_run_locked(p, m, m, 1);
  plat_mutex_unlock(&p->mu);
}

tofu_message *pool_get_sized(pool *p, size_t headers_len, size_t body_len) {
  tofu_message *m = pool_get(p, 1);
  if (!m)
    return NULL;
  if (!reserve_frame(m, headers_len, body_len)) {
    push_free(p, m);
    return NULL;
  }
  return m;
}

tofu_message *pool_notice_new(pool *p) {
  plat_mutex_lock(&p->mu);
  tofu_message *m = p->notice_free;
  if (m) {
    p->notice_free = m->next;
    m->flags = MSG_NOTICE;
    plat_mutex_unlock(&p->mu);
    clear_message(m);
    return m;
  }
  plat_mutex_unlock(&p->mu);
  m = calloc(1, sizeof(*m));
  if (!m)
    return NULL;
  m->pool = p;
  m->flags = MSG_NOTICE;
  plat_mutex_lock(&p->mu);
  all_link(p, m);
  plat_mutex_unlock(&p->mu);
  return m;
}

/* A notice keeps its struct for reuse (so that a second put finds it marked
 * and harmless, as for any message) and gives up its buffers at once. */
static void notice_put(pool *p, tofu_message *m) {
  plat_mutex_lock(&p->mu);
  if (!(m->flags & MSG_IN_POOL)) { /* else put twice: nothing to do */
    drop_buffers(m);
    p->used -= m->charged;
    m->charged = 0;
    clear_message(m);
    m->flags |= MSG_IN_POOL;
    m->next = p->notice_free;
    p->notice_free = m;
  }
  plat_mutex_unlock(&p->mu);
}

void pool_put(pool *p, tofu_message *m) {
  if (!m)
    return;
  if (m->flags & MSG_NOTICE)
    notice_put(p, m);
  else
    push_free(p, m);
  if (atomic_load_explicit(&p->want_release, memory_order_acquire) &&
      atomic_exchange(&p->want_release, 0) && p->on_release)
    p->on_release(p->release_arg);
}

/* ---- The Reactor's cache ----------------------------------------------- */

static void rcache_push(pool *p, tofu_message *m) {
  if (!p->rcache)
    p->rcache_tail = m;
  m->next = p->rcache;
  p->rcache = m;
  p->rcache_n++;
  atomic_store_explicit(&p->ncached, p->rcache_n, memory_order_relaxed);
}

/* Fill the empty cache (one lock) with whole runs from the head of the
 * free list, at least RCACHE_REFILL messages when there are, at most
 * RCACHE_MAX unless the first run alone is longer: one step per run. They
 * stay marked MSG_IN_POOL: they are free. */
static void rcache_refill(pool *p) {
  plat_mutex_lock(&p->mu);
  tofu_message *first = p->free_list, *last = NULL, *r = first;
  size_t n = 0;
  while (r && n < RCACHE_REFILL && (n == 0 || n + r->run_n <= RCACHE_MAX)) {
    last = r->run_end;
    n += r->run_n;
    r = last->next;
  }
  if (n) {
    p->free_list = r;
    last->next = NULL;
    p->nfree -= n;
    p->rcache = first;
    p->rcache_tail = last;
    p->rcache_n = n;
    atomic_store_explicit(&p->ncached, n, memory_order_relaxed);
  }
  plat_mutex_unlock(&p->mu);
}

/* The cache goes back as one run. */
void pool_reactor_spill(pool *p) {
  if (!p->rcache)
    return;
  plat_mutex_lock(&p->mu);
  push_run_locked(p, p->rcache, p->rcache_tail, p->rcache_n);
  p->rcache = p->rcache_tail = NULL;
  p->rcache_n = 0;
  atomic_store_explicit(&p->ncached, 0, memory_order_relaxed);
  plat_mutex_unlock(&p->mu);
}

tofu_message *pool_reactor_get_sized(pool *p, size_t headers_len, size_t body_len) {
  if (!p->rcache)
    rcache_refill(p);
  tofu_message *m = p->rcache;
  if (!m) /* nothing free: a new message, if the limit allows */
    return pool_get_sized(p, headers_len, body_len);
  p->rcache = m->next;
  if (p->rcache)
    plat_prefetch(&p->rcache->next); /* the next frame's message, while this one is filled */
  else
    p->rcache_tail = NULL;
  p->rcache_n--;
  atomic_store_explicit(&p->ncached, p->rcache_n, memory_order_relaxed);
  m->flags &= ~MSG_IN_POOL;
  clear_message(m);
  if (reserve_frame(m, headers_len, body_len))
    return m;
  /* Growing failed at the limit. The cache's buffers could not be trimmed to
   * make room: give them back and try the way any thread would. */
  m->flags |= MSG_IN_POOL;
  rcache_push(p, m);
  pool_reactor_spill(p);
  return pool_get_sized(p, headers_len, body_len);
}

void pool_reactor_reuse(tofu_message *m) {
  if (m->block)
    pool_block_release(m->pool, unbind(m));
  clear_message(m);
}

void pool_reactor_put(pool *p, tofu_message *m) {
  if (!m)
    return;
  if (m->flags & (MSG_NOTICE | MSG_IN_POOL)) {
    pool_put(p, m); /* the usual way: a notice, or a second put */
    return;
  }
  if (m->block)
    pool_block_release(p, unbind(m));
  if (m->body_cap > TOFU_MAX_BODY) {
    plat_mutex_lock(&p->mu);
    drop_large_locked(p, m);
    plat_mutex_unlock(&p->mu);
  }
  clear_message(m);
  m->flags |= MSG_IN_POOL;
  rcache_push(p, m);
  if (p->rcache_n >= RCACHE_MAX)
    pool_reactor_spill(p);
}

void pool_want_release(pool *p) {
  atomic_store(&p->want_release, 1);
}

void pool_counts(pool *p, size_t *used, size_t *limit, size_t *live, size_t *nfree) {
  plat_mutex_lock(&p->mu);
  *used = p->used;
  *limit = p->limit;
  *live = p->nlive;
  *nfree = p->nfree + atomic_load_explicit(&p->ncached, memory_order_relaxed);
  plat_mutex_unlock(&p->mu);
}

void pool_block_counts(pool *p, size_t *bytes, size_t *free_bytes) {
  plat_mutex_lock(&p->mu);
  size_t nfree = 0;
  for (pool_block *b = p->free_blocks; b; b = b->next)
    nfree++;
  *bytes = p->nblocks * BLOCK_COST;
  *free_bytes = nfree * BLOCK_COST;
  plat_mutex_unlock(&p->mu);
}

int pool_charge(pool *p, size_t bytes) {
  plat_mutex_lock(&p->mu);
  int rc = charge_locked(p, bytes);
  plat_mutex_unlock(&p->mu);
  return rc;
}

void pool_uncharge(pool *p, size_t bytes) {
  plat_mutex_lock(&p->mu);
  p->used -= bytes;
  plat_mutex_unlock(&p->mu);
}
