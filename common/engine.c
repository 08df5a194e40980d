/* engine — the public API: engines, groups, posting and receiving. The
 * Reactor is reached only through reactor.h. */
#include "engine.h"

#include <stdlib.h>
#include <string.h>

#include "address.h"
#include "platform/clock.h"
#include "platform/net.h"
#include "reactor.h"
#include "requests.h"

#define DEFAULT_INITIAL_MESSAGES 16
#define DEFAULT_MAX_MEMORY (64u * 1024u * 1024u)
#define DEFAULT_CONNECT_TIMEOUT_MS 10000
#define DEFAULT_FRAME_TIMEOUT_MS 10000
#define DEFAULT_MAX_CHANNELS 65534u

static atomic_uint_fast64_t next_message_id = 1;

void tofu_options_default(tofu_options *opts) {
  if (!opts)
    return;
  memset(opts, 0, sizeof(*opts));
  opts->size = sizeof(*opts);
  opts->initial_messages = DEFAULT_INITIAL_MESSAGES;
  opts->max_memory = DEFAULT_MAX_MEMORY;
  opts->connect_timeout_ms = DEFAULT_CONNECT_TIMEOUT_MS;
  opts->frame_timeout_ms = DEFAULT_FRAME_TIMEOUT_MS;
  opts->max_channels = DEFAULT_MAX_CHANNELS;
  opts->max_frame = TOFU_MAX_FRAME;
  opts->max_message = TOFU_MAX_BODY;
}

/* The options as the engine keeps them: 0 means the default, and a limit
 * above what the engine can reach means the same as that. Returns
 * TOFU_EINVAL for a max_frame no frame fits, or a max_message above
 * TOFU_MAX_MESSAGE_LIMIT. */
static int options_settle(tofu_options *o) {
  if (o->max_memory == 0)
    o->max_memory = DEFAULT_MAX_MEMORY;
  if (o->connect_timeout_ms == 0)
    o->connect_timeout_ms = DEFAULT_CONNECT_TIMEOUT_MS;
  if (o->frame_timeout_ms == 0)
    o->frame_timeout_ms = DEFAULT_FRAME_TIMEOUT_MS;
  if (o->max_channels == 0 || o->max_channels > DEFAULT_MAX_CHANNELS)
    o->max_channels = DEFAULT_MAX_CHANNELS;
  if (o->max_frame == 0 || o->max_frame > TOFU_MAX_FRAME)
    o->max_frame = TOFU_MAX_FRAME;
  if (o->max_message < TOFU_MAX_BODY)
    o->max_message = TOFU_MAX_BODY;
  if (o->max_message > TOFU_MAX_MESSAGE_LIMIT)
    return TOFU_EINVAL;
  return o->max_frame < TOFU_HEADER_SIZE ? TOFU_EINVAL : TOFU_OK;
}

/* ---- Engine ------------------------------------------------------------- */

/* The engine's locks, all or none. */
static int engine_locks_init(tofu_engine *e) {
  if (plat_mutex_init(&e->in_mu) != TOFU_OK)
    return TOFU_ESYSTEM;
  if (plat_cond_init(&e->ctl_cv) != TOFU_OK)
    goto undo_in_mu;
  if (chan_num_init(&e->nums) != TOFU_OK)
    goto undo_ctl_cv;
  if (plat_mutex_init(&e->groups_mu) != TOFU_OK)
    goto undo_nums;
  e->locks_made = 1;
  return TOFU_OK;
undo_nums:
  chan_num_fini(&e->nums);
undo_ctl_cv:
  plat_cond_fini(&e->ctl_cv);
undo_in_mu:
  plat_mutex_fini(&e->in_mu);
  return TOFU_ESYSTEM;
}

/* Undo what tofu_engine_create sets up before the pool (the last step of
 * both a failed create and a destroy). */
static void engine_free(tofu_engine *e) {
  if (e->net_started)
    net_cleanup();
  if (e->locks_made) {
    plat_mutex_fini(&e->in_mu);
    plat_cond_fini(&e->ctl_cv);
    chan_num_fini(&e->nums);
    plat_mutex_fini(&e->groups_mu);
  }
  free(e);
}

int tofu_engine_create(const tofu_options *opts, tofu_engine **out) {
  if (!out)
    return TOFU_EINVAL;
  *out = NULL;
  tofu_options o;
  tofu_options_default(&o);
  if (opts) {
    /* The fields that fit in opts->size; the defaults for the rest. A larger
     * struct (a newer header) may only add fields left zero. */
    size_t n = opts->size;
    if (n < sizeof(o.size))
      return TOFU_EINVAL;
    for (size_t i = sizeof(o); i < n; i++)
      if (((const unsigned char *)opts)[i] != 0)
        return TOFU_EUNSUPPORTED;
    memcpy(&o, opts, n < sizeof(o) ? n : sizeof(o));
    o.size = sizeof(o);
  }
  if (options_settle(&o) != TOFU_OK)
    return TOFU_EINVAL;
  tofu_engine *e = calloc(1, sizeof(*e));
  if (!e)
    return TOFU_ENOMEM;
  e->opts = o;
  e->ops = tofu_poller_backend();
  msgq_init(&e->in_q);
  timers_init(&e->reactor.timers);
  requests_init(&e->reactor.requests);
  atomic_init(&e->stop, 0);
  atomic_init(&e->released, 0);
  atomic_init(&e->in_pending, 0);
  atomic_init(&e->sleeping, 0);
  int rc = engine_locks_init(e);
  if (rc == TOFU_OK)
    rc = net_init() == NET_OK ? TOFU_OK : TOFU_ESYSTEM;
  if (rc == TOFU_OK) {
    e->net_started = 1;
    rc = pool_init(&e->pool, o.initial_messages, o.max_memory);
    if (rc == TOFU_OK)
      pool_set_max_message(&e->pool, o.max_message);
  }
  if (rc != TOFU_OK) {
    engine_free(e);
    return rc;
  }
  rc = e->ops->open(&e->poller);
  if (rc == TOFU_OK)
    rc = reactor_start(e);
  if (rc != TOFU_OK) {
    tofu_engine_destroy(e);
    return rc;
  }
  *out = e;
  return TOFU_OK;
}

static void group_free(tofu_group *g) {
  tofu_engine *e = g->engine;
  msgq left;
  msgq_init(&left);
  mailbox_drain(&g->mb, &left);
  tofu_message *m;
  while ((m = msgq_pop(&left)) != NULL)
    pool_put(&e->pool, m);
  if (g->destroy_cmd)
    pool_put(&e->pool, g->destroy_cmd);
  mailbox_fini(&g->mb);
  free(g);
}

void tofu_engine_destroy(tofu_engine *e) {
  if (!e)
    return;
  if (e->locks_made) {
    /* The threads waiting on its groups return first. */
    plat_mutex_lock(&e->groups_mu);
    for (tofu_group *g = e->groups; g; g = g->next_group)
      mailbox_close(&g->mb);
    plat_mutex_unlock(&e->groups_mu);
  }
  reactor_stop(e);
  reactor_teardown(e);
  tofu_group *g = e->groups;
  while (g) {
    tofu_group *next = g->next_group;
    group_free(g);
    g = next;
  }
  if (e->ops && e->poller)
    e->ops->close(e->poller);
  pool_fini(&e->pool); /* frees every message still alive */
  engine_free(e);
}

int tofu_engine_get_stats(tofu_engine *e, tofu_engine_stats *out) {
  if (!e || !out || out->size < sizeof(out->size))
    return TOFU_EINVAL;
  size_t n = out->size < sizeof(*out) ? out->size : sizeof(*out);
  tofu_engine_stats s;
  memset(&s, 0, sizeof s);
  pool_counts(&e->pool, &s.memory_used, &s.memory_limit, &s.messages_live, &s.messages_free);
  s.reactor_loops = atomic_load(&e->loops);
  s.reads_paused = atomic_load(&e->reads_paused);
  s.channels = atomic_load(&e->channels_open);
  s.wait_failures = atomic_load(&e->wait_failures);
  s.channels_refused = atomic_load(&e->channels_refused);
  s.frame_timeouts = atomic_load(&e->frame_timeouts);
  s.frames_refused = atomic_load(&e->frames_refused);
  s.requests_open = atomic_load(&e->requests_open);
  s.requests_expired = atomic_load(&e->requests_expired);
  s.responses_late = atomic_load(&e->responses_late);
  pool_block_counts(&e->pool, &s.memory_blocks, &s.memory_blocks_free);
  s.size = n;
  memcpy(out, &s, n);
  return TOFU_OK;
}

/* ---- Messages ----------------------------------------------------------- */

tofu_message *tofu_get(tofu_engine *e, tofu_alloc strategy) {
  if (!e)
    return NULL;
  return pool_get(&e->pool, strategy == TOFU_ALWAYS);
}

/* A message goes back to the pool it came from, whichever engine is named:
 * the engine is in the signature for symmetry with tofu_get. */
void tofu_put(tofu_engine *e, tofu_message **msg) {
  (void)e;
  if (!msg || !*msg)
    return;
  pool_put((*msg)->pool, *msg);
  *msg = NULL;
}

/* ---- Groups ------------------------------------------------------------- */

int tofu_group_create(tofu_engine *e, tofu_group **out) {
  if (!e || !out)
    return TOFU_EINVAL;
  *out = NULL;
  tofu_group *g = calloc(1, sizeof(*g));
  if (!g)
    return TOFU_ENOMEM;
  g->engine = e;
  msgq_init(&g->reactor.outbox);
  atomic_init(&g->update_pending, 0);
  g->destroy_cmd = pool_notice_new(&e->pool);
  if (!g->destroy_cmd) {
    free(g);
    return TOFU_ENOMEM;
  }
  int rc = mailbox_init(&g->mb);
  if (rc != TOFU_OK) {
    pool_put(&e->pool, g->destroy_cmd);
    free(g);
    return rc;
  }
  plat_mutex_lock(&e->groups_mu);
  g->next_group = e->groups;
  e->groups = g;
  plat_mutex_unlock(&e->groups_mu);
  *out = g;
  return TOFU_OK;
}

void tofu_group_destroy(tofu_group *g) {
  if (!g)
    return;
  tofu_engine *e = g->engine;
  mailbox_close(&g->mb); /* the threads waiting on g return first */
  reactor_remove_group(e, g);

  plat_mutex_lock(&e->groups_mu);
  tofu_group **pp = &e->groups;
  while (*pp && *pp != g)
    pp = &(*pp)->next_group;
  if (*pp)
    *pp = g->next_group;
  plat_mutex_unlock(&e->groups_mu);
  group_free(g);
}

/* The checks tofu_post makes before the message leaves the caller. For a
 * WelcomeRequest or HelloRequest, *a receives the parsed address. */
static int post_check(const tofu_message *m, address *a) {
  const tofu_header *h = &m->hdr;
  unsigned op = h->opcode;
  if (op >= TOFU_OPCODE_COUNT)
    return TOFU_STATUS_INVALID_OP_CODE;
  if (op == TOFU_OP_WELCOME_RESPONSE)
    return TOFU_STATUS_NOT_ALLOWED;
  if (op == TOFU_OP_RESPONSE && h->message_id == 0)
    return TOFU_STATUS_INVALID_MESSAGE_ID;
  if (h->more && op > TOFU_OP_SIGNAL)
    return TOFU_STATUS_INVALID_MORE_USAGE;
  if (m->th_len > TOFU_MAX_TEXT_HEADERS)
    return TOFU_STATUS_INVALID_HEADERS_LEN;
  /* A body larger than one frame's travels in parts, which only these
   * opcodes may have (tofu_options.max_message). */
  if (m->body_len > TOFU_MAX_BODY && (m->body_len > m->pool->max_message || op > TOFU_OP_SIGNAL))
    return TOFU_STATUS_INVALID_BODY_LEN;
  if (op == TOFU_OP_WELCOME_REQUEST || op == TOFU_OP_HELLO_REQUEST) {
    if (h->channel != TOFU_CHANNEL_UNASSIGNED)
      return TOFU_STATUS_INVALID_CHANNEL_NUMBER;
    int connect = op == TOFU_OP_HELLO_REQUEST;
    if (address_from_message(m, connect ? TOFU_HDR_CONNECT_TO : TOFU_HDR_LISTEN_ON, connect, a) !=
        TOFU_OK)
      return TOFU_STATUS_WRONG_ADDRESS;
    return TOFU_STATUS_SUCCESS;
  }
  if (h->channel == TOFU_CHANNEL_UNASSIGNED || h->channel == TOFU_CHANNEL_RESERVED)
    return TOFU_STATUS_INVALID_CHANNEL_NUMBER;
  return TOFU_STATUS_SUCCESS;
}

/* Everything tofu_post does before the message leaves the caller: the
 * checks, the channel number, the address lookup, the id. TOFU_OK, or the
 * error tofu_post returns (the message is then still the caller's). */
static int post_prepare(tofu_group *g, tofu_message *m, tofu_header *out) {
  tofu_engine *e = g->engine;
  if (msg_in_pool(m))
    return TOFU_EINVAL; /* put back already: a stale pointer */
  address a;
  int st = post_check(m, &a);
  if (st != TOFU_STATUS_SUCCESS) {
    m->hdr.status = (uint8_t)st;
    return TOFU_EMESSAGE;
  }
  unsigned op = m->hdr.opcode;
  if (op == TOFU_OP_WELCOME_REQUEST || op == TOFU_OP_HELLO_REQUEST) {
    uint16_t n = chan_num_alloc(&e->nums);
    if (n == 0)
      return TOFU_ELIMIT;
    m->hdr.channel = n;
  }
  m->naddrs = 0;
  if ((op == TOFU_OP_HELLO_REQUEST || op == TOFU_OP_WELCOME_REQUEST) && a.kind == ADDR_TCP) {
    int n = net_resolve(a.host, a.port, op == TOFU_OP_WELCOME_REQUEST, m->addrs, NET_RESOLVE_MAX);
    m->naddrs = n > 0 ? n : 0;
  }
  if (m->hdr.message_id == 0)
    m->hdr.message_id = atomic_fetch_add(&next_message_id, 1);
  m->due_ms = 0;
  if (op == TOFU_OP_REQUEST || op == TOFU_OP_BYE_REQUEST) {
    int t = m->timeout_ms ? m->timeout_ms : e->opts.request_timeout_ms;
    if (t > 0)
      m->due_ms = clock_now_ms() + t;
  }
  m->hdr.status = TOFU_STATUS_SUCCESS;
  m->hdr.origin = TOFU_ORIGIN_APPLICATION; /* a message handed back may be posted again */
  m->group = g;
  m->cmd = MSG_CMD_POST;
  if (out)
    *out = m->hdr;
  return TOFU_OK;
}

int tofu_post(tofu_group *g, tofu_message **msg, tofu_header *out) {
  if (!g || !msg || !*msg)
    return TOFU_EINVAL;
  tofu_message *m = *msg;
  int rc = post_prepare(g, m, out);
  if (rc != TOFU_OK)
    return rc;
  *msg = NULL;
  reactor_submit(g->engine, m);
  return TOFU_OK;
}

int tofu_post_many(tofu_group *g, tofu_message **msgs, size_t n, tofu_header *out, size_t *posted) {
  if (posted)
    *posted = 0;
  if (!g || (!msgs && n > 0))
    return TOFU_EINVAL;
  msgq batch;
  msgq_init(&batch);
  int rc = TOFU_OK;
  size_t i = 0;
  for (; i < n; i++) {
    if (!msgs[i]) {
      rc = TOFU_EINVAL;
      break;
    }
    rc = post_prepare(g, msgs[i], out ? &out[i] : NULL);
    if (rc != TOFU_OK)
      break;
    msgq_push(&batch, msgs[i]);
    msgs[i] = NULL;
  }
  if (posted)
    *posted = i;
  reactor_submit_all(g->engine, &batch);
  return rc;
}

int tofu_post_timer(tofu_group *g, tofu_message **msg, int delay_ms) {
  if (!g || !msg || !*msg || delay_ms < 0 || msg_in_pool(*msg))
    return TOFU_EINVAL;
  tofu_message *m = *msg;
  m->group = g;
  m->cmd = MSG_CMD_TIMER;
  m->due_ms = clock_now_ms() + delay_ms;
  *msg = NULL;
  reactor_submit(g->engine, m);
  return TOFU_OK;
}

enum { MSG_UPDATE_NOTICE = 1u << 8 };

void group_took(tofu_group *g, tofu_message *m) {
  if (m && (m->flags & MSG_UPDATE_NOTICE)) {
    m->flags &= ~(unsigned)MSG_UPDATE_NOTICE;
    atomic_store(&g->update_pending, 0);
  }
}

static int same_id(const tofu_message *m, void *arg) {
  return m->hdr.message_id == *(const uint64_t *)arg;
}

int tofu_receive(tofu_group *g, uint64_t message_id, int timeout_ms, tofu_message **out) {
  if (!g || !out)
    return TOFU_EINVAL;
  int why;
  tofu_message *m = message_id ? mailbox_wait_match(&g->mb, same_id, &message_id, timeout_ms, &why)
                               : mailbox_wait(&g->mb, timeout_ms, &why);
  *out = m;
  if (m)
    group_took(g, m); /* g is not touched after a close: m is NULL then */
  return why;
}

int tofu_receive_many(tofu_group *g, tofu_message **msgs, size_t max, int timeout_ms, size_t *got) {
  if (got)
    *got = 0;
  if (!g || !msgs || !got || max == 0)
    return TOFU_EINVAL;
  int why;
  size_t n = mailbox_wait_many(&g->mb, msgs, max, timeout_ms, &why);
  for (size_t i = 0; i < n; i++)
    group_took(g, msgs[i]); /* g is not touched after a close: n is 0 then */
  *got = n;
  return why;
}

tofu_message *tofu_wait_receive(tofu_group *g, int timeout_ms) {
  tofu_message *m = NULL;
  (void)tofu_receive(g, 0, timeout_ms, &m);
  return m;
}

int tofu_update_receiver(tofu_group *g, tofu_message **msg) {
  if (!g)
    return TOFU_EINVAL;
  if (msg && *msg) {
    if (msg_in_pool(*msg))
      return TOFU_EINVAL;
    mailbox_put(&g->mb, *msg);
    *msg = NULL;
    return TOFU_OK;
  }
  if (atomic_exchange(&g->update_pending, 1))
    return TOFU_OK; /* one is queued already */
  tofu_message *n = msg_signal_notice(&g->engine->pool, 0, TOFU_STATUS_RECEIVER_UPDATE);
  if (!n) {
    atomic_store(&g->update_pending, 0);
    return TOFU_ENOMEM;
  }
  n->flags |= MSG_UPDATE_NOTICE;
  mailbox_put(&g->mb, n);
  return TOFU_OK;
}
