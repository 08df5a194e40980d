/* requests — see requests.h. */
#include "requests.h"

#include <stddef.h>
#include <stdlib.h>

#include "outbox.h"

static tofu_message *message_of(req_node *n) {
  return (tofu_message *)(void *)((char *)n - offsetof(tofu_message, req));
}

static size_t bucket_of(const req_index *ix, uint16_t number, uint64_t id) {
  uint64_t h = (id ^ ((uint64_t)number << 48)) * UINT64_C(0x9E3779B97F4A7C15);
  return (size_t)(h >> 32) & (ix->nbuckets - 1);
}

void requests_init(req_index *ix) {
  ix->buckets = ix->small;
  ix->nbuckets = REQ_SMALL_BUCKETS;
  ix->count = ix->tombstones = ix->grow_refused = 0;
}

static void publish_open(tofu_engine *e) {
  const req_index *ix = &e->reactor.requests;
  atomic_store_explicit(&e->requests_open, ix->count - ix->tombstones, memory_order_relaxed);
}

/* Move every record to a table of n buckets (the small one, or an array
 * charged to the pool by the caller). */
static void rehash(req_index *ix, req_node **to, size_t n) {
  req_node **from = ix->buckets;
  size_t from_n = ix->nbuckets;
  for (size_t i = 0; i < n; i++)
    to[i] = NULL;
  ix->buckets = to;
  ix->nbuckets = n;
  for (size_t i = 0; i < from_n; i++) {
    req_node *r = from[i];
    while (r) {
      req_node *next = r->hnext;
      size_t b = bucket_of(ix, r->channel, r->id);
      r->hnext = to[b];
      to[b] = r;
      r = next;
    }
  }
}

static void release_table(tofu_engine *e, req_node **table, size_t n) {
  if (table == e->reactor.requests.small)
    return;
  free(table);
  pool_uncharge(&e->pool, n * sizeof(*table));
}

/* Twice the buckets when the chains grow past two records on average. A
 * pool that refuses the memory leaves the table as it is (longer chains,
 * nothing lost) until the count has doubled again. */
static void maybe_grow(tofu_engine *e) {
  req_index *ix = &e->reactor.requests;
  if (ix->count <= 2 * ix->nbuckets || ix->count < 2 * ix->grow_refused)
    return;
  size_t n = ix->nbuckets * 2;
  req_node **to = NULL;
  if (pool_charge(&e->pool, n * sizeof(*to)) == TOFU_OK) {
    to = malloc(n * sizeof(*to));
    if (!to)
      pool_uncharge(&e->pool, n * sizeof(*to));
  }
  if (!to) {
    ix->grow_refused = ix->count;
    return;
  }
  req_node **from = ix->buckets;
  size_t from_n = ix->nbuckets;
  rehash(ix, to, n);
  release_table(e, from, from_n);
  ix->grow_refused = 0;
}

static void index_add(tofu_engine *e, channel *ch, req_node *r) {
  req_index *ix = &e->reactor.requests;
  size_t b = bucket_of(ix, r->channel, r->id);
  r->hnext = ix->buckets[b];
  ix->buckets[b] = r;
  r->next = NULL;
  r->prev = ch->req_last;
  if (ch->req_last)
    ch->req_last->next = r;
  else
    ch->req_first = r;
  ch->req_last = r;
  ix->count++;
  if (r->tombstone)
    ix->tombstones++;
  maybe_grow(e);
}

static void index_remove(tofu_engine *e, channel *ch, req_node *r) {
  req_index *ix = &e->reactor.requests;
  req_node **pp = &ix->buckets[bucket_of(ix, r->channel, r->id)];
  while (*pp != r)
    pp = &(*pp)->hnext;
  *pp = r->hnext;
  if (r->prev)
    r->prev->next = r->next;
  else
    ch->req_first = r->next;
  if (r->next)
    r->next->prev = r->prev;
  else
    ch->req_last = r->prev;
  ix->count--;
  if (r->tombstone)
    ix->tombstones--;
  if (ix->count == 0 && ix->buckets != ix->small) {
    req_node **from = ix->buckets;
    size_t from_n = ix->nbuckets;
    rehash(ix, ix->small, REQ_SMALL_BUCKETS);
    release_table(e, from, from_n);
  }
}

static req_node *index_find(const req_index *ix, uint16_t number, uint64_t id) {
  req_node *r = ix->buckets[bucket_of(ix, number, id)];
  while (r && (r->id != id || r->channel != number))
    r = r->hnext;
  return r;
}

void requests_fini(tofu_engine *e) {
  req_index *ix = &e->reactor.requests;
  release_table(e, ix->buckets, ix->nbuckets);
  requests_init(ix);
}

int requests_opens(const tofu_message *m) {
  unsigned op = m->hdr.opcode;
  return !m->hdr.more &&
         (op == TOFU_OP_REQUEST || op == TOFU_OP_HELLO_REQUEST || op == TOFU_OP_BYE_REQUEST);
}

static void hand_back(tofu_engine *e, channel *ch, tofu_message *m, int status) {
  outbox_hand_back(e, m->group ? m->group : ch->group, m, status);
}

static req_node *tombstone_new(tofu_engine *e) {
  req_node *t = NULL;
  if (pool_charge(&e->pool, sizeof(*t)) == TOFU_OK) {
    t = malloc(sizeof(*t));
    if (!t)
      pool_uncharge(&e->pool, sizeof(*t));
  }
  if (t)
    t->tombstone = 1;
  return t;
}

int requests_tombstone(channel *ch, uint64_t id) {
  req_node *t = tombstone_new(ch->engine);
  if (!t)
    return TOFU_ENOMEM;
  t->id = id;
  t->channel = ch->number;
  index_add(ch->engine, ch, t);
  return TOFU_OK;
}

/* A written request's deadline passed: a tombstone takes its place in the
 * index, and it goes back with status timeout. */
static int expire_written(channel *ch, req_node *r) {
  tofu_engine *e = ch->engine;
  req_node *t = tombstone_new(e);
  if (!t)
    return TOFU_ENOMEM;
  t->id = r->id;
  t->channel = r->channel;
  index_remove(e, ch, r);
  index_add(e, ch, t);
  atomic_fetch_add(&e->requests_expired, 1);
  hand_back(e, ch, message_of(r), TOFU_STATUS_TIMEOUT);
  return TOFU_OK;
}

int requests_keep(channel *ch, tofu_message *m) {
  tofu_engine *e = ch->engine;
  req_node *r = &m->req;
  r->id = m->hdr.message_id;
  r->channel = ch->number;
  r->tombstone = 0;
  index_add(e, ch, r);
  int rc = TOFU_OK;
  if (m->due_ms && m->due_ms <= e->reactor.now_ms)
    rc = expire_written(ch, r);
  publish_open(e);
  return rc;
}

static void drop(tofu_engine *e, channel *ch, req_node *r) {
  index_remove(e, ch, r);
  if (r->tombstone) {
    free(r);
    pool_uncharge(&e->pool, sizeof(*r));
  } else {
    pool_reactor_put(&e->pool, message_of(r));
  }
}

req_answer requests_answer(channel *ch, uint64_t id, int more) {
  tofu_engine *e = ch->engine;
  req_node *r = index_find(&e->reactor.requests, ch->number, id);
  if (!r)
    return REQ_UNSOLICITED;
  int late = r->tombstone;
  if (!more) {
    drop(e, ch, r);
    publish_open(e);
  }
  if (late)
    atomic_fetch_add(&e->responses_late, 1);
  return late ? REQ_LATE : REQ_ANSWERS;
}

static req_node *open_hello(channel *ch) {
  req_node *r = index_find(&ch->engine->reactor.requests, ch->number, ch->first_id);
  return r && !r->tombstone && message_of(r)->hdr.opcode == TOFU_OP_HELLO_REQUEST ? r : NULL;
}

int requests_hello_open(channel *ch) {
  return open_hello(ch) != NULL;
}

void requests_refused(channel *ch) {
  req_node *r = open_hello(ch);
  if (r) {
    drop(ch->engine, ch, r);
    publish_open(ch->engine);
  }
}

int requests_watch(channel *ch, int64_t due_ms) {
  if (ch->closed)
    return TOFU_OK; /* a closed channel keeps no timer entry */
  if (ch->req_timer_at && ch->req_timer_at <= due_ms)
    return TOFU_OK; /* a timer fires before it, and then looks again */
  /* The channel's one TIMER_REQUEST entry moves nearer, or is added. */
  timer_entry t = {.due_ms = due_ms,
                   .at = &ch->timer_at[CH_TIMER_REQUEST],
                   .kind = TIMER_REQUEST,
                   .of.channel = {ch->number, ch->serial}};
  if (timers_set(&ch->engine->reactor.timers, &t) != TOFU_OK)
    return TOFU_ENOMEM;
  ch->req_timer_at = due_ms;
  return TOFU_OK;
}

int requests_timer_fired(channel *ch, int64_t due_ms) {
  if (due_ms != ch->req_timer_at)
    return 0; /* not the deadline in force (the entry moves instead, so never) */
  ch->req_timer_at = 0;
  return 1;
}

int requests_expire(channel *ch, int64_t now, int64_t *next) {
  for (req_node *r = ch->req_first; r;) {
    req_node *following = r->next;
    if (!r->tombstone) {
      int64_t due = message_of(r)->due_ms;
      if (due && due <= now) {
        if (expire_written(ch, r) != TOFU_OK)
          return TOFU_ENOMEM;
      } else {
        *next = deadline_min(*next, due);
      }
    }
    r = following;
  }
  publish_open(ch->engine);
  return TOFU_OK;
}

void requests_close(channel *ch, int cause) {
  tofu_engine *e = ch->engine;
  while (ch->req_first) {
    req_node *r = ch->req_first;
    if (r->tombstone) {
      drop(e, ch, r);
      continue;
    }
    index_remove(e, ch, r);
    hand_back(e, ch, message_of(r), cause);
  }
  publish_open(e);
}
