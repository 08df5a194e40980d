/* requests — see requests.h. */
#include "requests.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "outbox.h"

static tofu_message *message_of(req_node *n) {
  return (tofu_message *)(void *)((char *)n - offsetof(tofu_message, req));
}

/* A record's key: its id mixed with its channel's number. Ids are often
 * consecutive numbers, and often the same on every channel (a peer that
 * counts its own): both must spread. Two records may share a key; a lookup
 * checks the record it finds. */
static uint64_t key_of(uint16_t number, uint64_t id) {
  return id ^ ((uint64_t)number * UINT64_C(0xD6E8FEB86659FD93));
}

/* A key's home slot. */
static size_t home_of(const req_index *ix, uint64_t key) {
  return (size_t)((key * UINT64_C(0x9E3779B97F4A7C15)) >> 32) & ix->mask;
}

void requests_init(req_index *ix) {
  memset(ix->small, 0, sizeof ix->small);
  ix->slots = ix->small;
  ix->mask = REQ_SMALL_SLOTS - 1;
  ix->used = ix->count = ix->tombstones = ix->grow_refused = 0;
  ix->overflow = NULL;
}

static void publish_open(tofu_engine *e) {
  const req_index *ix = &e->reactor.requests;
  atomic_store_explicit(&e->requests_open, ix->count - ix->tombstones, memory_order_relaxed);
}

/* Put r in a free slot of the table (there is one). */
static void table_put(req_index *ix, req_node *r) {
  uint64_t key = key_of(r->channel, r->id);
  size_t i = home_of(ix, key);
  while (ix->slots[i].node)
    i = (i + 1) & ix->mask;
  ix->slots[i].key = key;
  ix->slots[i].node = r;
  ix->used++;
}

static void release_table(tofu_engine *e, req_slot *table, size_t n) {
  if (table == e->reactor.requests.small)
    return;
  free(table);
  pool_uncharge(&e->pool, n * sizeof(*table));
}

/* Move every record of the table, and those waiting outside it while there
 * is room, to `to` (n slots: the small table or an array charged to the
 * pool). */
static void rehash(tofu_engine *e, req_slot *to, size_t n) {
  req_index *ix = &e->reactor.requests;
  req_slot *from = ix->slots;
  size_t from_n = ix->mask + 1;
  memset(to, 0, n * sizeof(*to));
  ix->slots = to;
  ix->mask = n - 1;
  ix->used = 0;
  for (size_t i = 0; i < from_n; i++)
    if (from[i].node)
      table_put(ix, from[i].node);
  while (ix->overflow && 2 * (ix->used + 1) <= n) {
    req_node *r = ix->overflow;
    ix->overflow = r->hnext;
    table_put(ix, r);
  }
  release_table(e, from, from_n);
}

/* Room for one more record in the table at most half full: twice the
 * slots, charged to the pool. Returns 0 when the pool refuses (and then not
 * asked again until the count has doubled). */
static int grow(tofu_engine *e) {
  req_index *ix = &e->reactor.requests;
  if (ix->grow_refused && ix->count < 2 * ix->grow_refused)
    return 0;
  size_t n = 2 * (ix->mask + 1);
  req_slot *to = NULL;
  if (pool_charge(&e->pool, n * sizeof(*to)) == TOFU_OK) {
    to = malloc(n * sizeof(*to));
    if (!to)
      pool_uncharge(&e->pool, n * sizeof(*to));
  }
  if (!to) {
    ix->grow_refused = ix->count;
    return 0;
  }
  ix->grow_refused = 0;
  rehash(e, to, n);
  return 1;
}

/* A table more than half full grows; one the pool will not let grow takes
 * records up to seven eighths full, then keeps the rest on a list: slower
 * to search, but nothing is refused. */
static void index_put(tofu_engine *e, req_node *r) {
  req_index *ix = &e->reactor.requests;
  size_t n = ix->mask + 1;
  if (2 * (ix->used + 1) > n && !grow(e) && 8 * (ix->used + 1) > 7 * n) {
    r->hnext = ix->overflow;
    ix->overflow = r;
    return;
  }
  table_put(ix, r);
}

/* Take r out of the table (backward-shift deletion: the records after it
 * in its run move up, so that no search stops early), or off the list. */
static void index_take(req_index *ix, req_node *r) {
  size_t i = home_of(ix, key_of(r->channel, r->id));
  while (ix->slots[i].node && ix->slots[i].node != r)
    i = (i + 1) & ix->mask;
  if (!ix->slots[i].node) {
    req_node **pp = &ix->overflow;
    while (*pp != r)
      pp = &(*pp)->hnext;
    *pp = r->hnext;
    return;
  }
  for (size_t j = i;;) {
    j = (j + 1) & ix->mask;
    if (!ix->slots[j].node)
      break;
    size_t k = home_of(ix, ix->slots[j].key);
    /* Move j to the hole unless its home lies cyclically in (i, j]. */
    if ((j > i) ? (k <= i || k > j) : (k <= i && k > j)) {
      ix->slots[i] = ix->slots[j];
      i = j;
    }
  }
  ix->slots[i].node = NULL;
  ix->used--;
}

/* A record joins its channel's list only; the table gets it when an answer
 * on the channel does not match the oldest record (index_find). */
static void index_add(tofu_engine *e, channel *ch, req_node *r) {
  req_index *ix = &e->reactor.requests;
  r->indexed = 0;
  if (!ch->req_unindexed)
    ch->req_unindexed = r;
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
}

static void index_remove(tofu_engine *e, channel *ch, req_node *r) {
  req_index *ix = &e->reactor.requests;
  if (r->indexed)
    index_take(ix, r);
  if (ch->req_unindexed == r)
    ch->req_unindexed = r->next; /* those after it are not indexed either */
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
  if (ix->count == 0 && ix->slots != ix->small)
    rehash(e, ix->small, REQ_SMALL_SLOTS);
}

/* ch's record for id. Answers mostly come in the order their requests went
 * out: the channel's oldest record is looked at first, and then only is the
 * table needed: the records of the channel not in it yet go in (each at
 * most once), and the search is made there. */
static req_node *index_find(tofu_engine *e, channel *ch, uint64_t id) {
  req_index *ix = &e->reactor.requests;
  req_node *r = ch->req_first;
  if (!r || r->id == id)
    return r;
  for (r = ch->req_unindexed; r; r = r->next) {
    index_put(e, r);
    r->indexed = 1;
  }
  ch->req_unindexed = NULL;
  uint64_t key = key_of(ch->number, id);
  for (size_t i = home_of(ix, key); ix->slots[i].node; i = (i + 1) & ix->mask) {
    req_node *n = ix->slots[i].node;
    if (ix->slots[i].key == key && n->id == id && n->channel == ch->number)
      return n;
  }
  for (r = ix->overflow; r; r = r->hnext)
    if (r->id == id && r->channel == ch->number)
      return r;
  return NULL;
}

void requests_fini(tofu_engine *e) {
  req_index *ix = &e->reactor.requests;
  release_table(e, ix->slots, ix->mask + 1);
  requests_init(ix);
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
  req_node *r = index_find(e, ch, id);
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

tofu_message *requests_take_answered(channel *ch, unsigned op, uint64_t id, size_t headers_len,
                                     size_t body_len) {
  req_node *r = ch->req_first;
  if (!r || r->id != id || r->tombstone || !requests_answering(op))
    return NULL;
  tofu_message *m = message_of(r);
  if (headers_len > m->th_cap || body_len > msg_own_body_cap(m))
    return NULL;
  index_remove(ch->engine, ch, r);
  publish_open(ch->engine);
  pool_reactor_reuse(m);
  return m;
}

/* The HelloRequest is the first frame a connecting channel writes: while it
 * is open, it is the channel's oldest record. */
static req_node *open_hello(channel *ch) {
  req_node *r = ch->req_first;
  return r && r->id == ch->first_id && !r->tombstone &&
                 message_of(r)->hdr.opcode == TOFU_OP_HELLO_REQUEST
             ? r
             : NULL;
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
