/* reactor — see reactor.h. */
#include "reactor.h"

#include <stdlib.h>
#include <string.h>

#include "chan_connect.h"
#include "chan_listen.h"
#include "chan_recv.h"
#include "chan_send.h"
#include "channel.h"
#include "outbox.h"
#include "requests.h"
#include "platform/clock.h"

#define EVENTS_PER_WAIT 256

/* A wait that fails (a broken poller: the backend retries interruptions
 * itself) is retried after a pause that doubles from 1 ms up to
 * WAIT_BACKOFF_MAX_MS, so that a failure that persists costs a few calls a
 * second, not a core; after WAIT_FAILS_NOTICE failures in a row every group
 * is told, once, with a Signal of status communication_failed. */
#define WAIT_BACKOFF_MAX_MS 100
#define WAIT_FAILS_NOTICE 8

/* ---- Posts -------------------------------------------------------------- */

static void post_to_channel(tofu_engine *e, tofu_message *m) {
  channel *ch = channel_find(e, m->hdr.channel);
  unsigned op = m->hdr.opcode;
  if (!ch) {
    outbox_hand_back(e, m->group, m, TOFU_STATUS_INVALID_CHANNEL_NUMBER);
    return;
  }
  if (ch->group != m->group) {
    outbox_hand_back(e, m->group, m, TOFU_STATUS_INVALID_GROUP);
    return;
  }
  if (op == TOFU_OP_BYE_SIGNAL && ch->kind == CH_IO) {
    chan_send_abort(ch, m);
    return;
  }
  if (op == TOFU_OP_BYE_SIGNAL || (ch->kind == CH_LISTENER && op == TOFU_OP_BYE_REQUEST)) {
    channel_close(ch, TOFU_STATUS_CHANNEL_CLOSED, m);
    return;
  }
  if (ch->kind == CH_LISTENER) {
    outbox_hand_back(e, m->group, m, TOFU_STATUS_NOT_ALLOWED);
    return;
  }
  msgq_push(&ch->sendq, m);
  if (m->due_ms && channel_add_timer_by(ch, m->due_ms, TIMER_REQUEST) != TOFU_OK) {
    channel_close(ch, TOFU_STATUS_ALLOCATION_FAILED, NULL);
    return;
  }
  channel_mark_dirty(ch);
}

static void dispatch_post(tofu_engine *e, tofu_message *m) {
  switch (m->hdr.opcode) {
  case TOFU_OP_WELCOME_REQUEST:
    chan_listen_open(e, m);
    break;
  case TOFU_OP_HELLO_REQUEST:
    chan_connect_start(e, m);
    break;
  default:
    post_to_channel(e, m);
    break;
  }
}

/* ---- Readiness --------------------------------------------------------- */

/* An open connection's report: read, then write, then arm it again. */
static void connection_event(channel *ch, unsigned events) {
  ch->armed = 0;
  if (events & (TOFU_POLL_READABLE | TOFU_POLL_HANGUP | TOFU_POLL_ERROR))
    chan_recv_event(ch, events);
  if (!ch->closed && (events & TOFU_POLL_WRITABLE))
    chan_send_flush(ch);
  if (!ch->closed)
    channel_rearm(ch);
}

static void channel_event(channel *ch, unsigned events) {
  if (ch->kind == CH_LISTENER)
    chan_listen_event(ch, events);
  else if (ch->state == CH_CONNECTING)
    chan_connect_event(ch, events);
  else
    connection_event(ch, events);
}

/* ---- Groups ------------------------------------------------------------- */

static int timer_of_group(const timer_entry *t, void *arg) {
  return t->kind == TIMER_APP && t->of.msg->group == arg;
}

static void drop_timer(const timer_entry *t, void *arg) {
  tofu_group *g = arg;
  pool_put(&g->engine->pool, t->of.msg);
}

static void destroy_group(tofu_engine *e, tofu_group *g) {
  channel *ch, *tmp;
  /* What was delivered before goes to the receive queue (freed with the
   * group); the group leaves the outbox list before it is freed. */
  outbox_flush(e);
  g->reactor.dead = 1;
  HASH_ITER(hh, e->reactor.table, ch, tmp) {
    if (ch->group == g)
      channel_close(ch, TOFU_STATUS_CHANNEL_CLOSED, NULL);
  }
  timers_remove_if(&e->reactor.timers, timer_of_group, drop_timer, g);
  plat_mutex_lock(&e->in_mu);
  g->destroyed = 1;
  plat_cond_broadcast(&e->ctl_cv);
  plat_mutex_unlock(&e->in_mu);
}

void reactor_remove_group(tofu_engine *e, tofu_group *g) {
  tofu_message *cmd = g->destroy_cmd;
  g->destroy_cmd = NULL;
  cmd->cmd = MSG_CMD_DESTROY_GROUP;
  cmd->group = g;
  reactor_submit(e, cmd);
  plat_mutex_lock(&e->in_mu);
  while (!g->destroyed)
    plat_cond_wait(&e->ctl_cv, &e->in_mu);
  plat_mutex_unlock(&e->in_mu);
  pool_put(&e->pool, cmd);
}

/* ---- The inbound queue ------------------------------------------------- */

void reactor_submit(tofu_engine *e, tofu_message *m) {
  plat_mutex_lock(&e->in_mu);
  int was_empty = msgq_empty(&e->in_q);
  msgq_push(&e->in_q, m);
  plat_mutex_unlock(&e->in_mu);
  if (!was_empty)
    return; /* the post that made the queue non-empty did what is needed */
  atomic_store(&e->in_pending, 1);
  if (atomic_load(&e->sleeping))
    e->ops->notify(e->poller);
}

void reactor_submit_all(tofu_engine *e, msgq *q) {
  if (msgq_empty(q))
    return;
  plat_mutex_lock(&e->in_mu);
  int was_empty = msgq_empty(&e->in_q);
  msgq_take_all(&e->in_q, q);
  plat_mutex_unlock(&e->in_mu);
  if (!was_empty)
    return;
  atomic_store(&e->in_pending, 1);
  if (atomic_load(&e->sleeping))
    e->ops->notify(e->poller);
}

static void drain_inbound(tofu_engine *e) {
  msgq batch;
  if (!atomic_exchange(&e->in_pending, 0))
    return; /* nothing posted since the last take: no lock */
  msgq_init(&batch);
  plat_mutex_lock(&e->in_mu);
  msgq_take_all(&batch, &e->in_q);
  plat_mutex_unlock(&e->in_mu);
  tofu_message *m;
  while ((m = msgq_pop(&batch)) != NULL) {
    switch (m->cmd) {
    case MSG_CMD_TIMER: {
      timer_entry t = {.due_ms = m->due_ms, .kind = TIMER_APP, .of.msg = m};
      if (timers_add(&e->reactor.timers, &t) != TOFU_OK)
        outbox_hand_back(e, m->group, m, TOFU_STATUS_ALLOCATION_FAILED);
      break;
    }
    case MSG_CMD_DESTROY_GROUP:
      destroy_group(e, m->group);
      break;
    default:
      dispatch_post(e, m);
      break;
    }
  }
}

/* The connect timeout covers the connect and the hello: a channel this
 * engine connects is done once its HelloRequest is answered; an accepted one
 * once the peer's HelloRequest came. */
static int connect_pending(channel *ch) {
  switch (ch->state) {
  case CH_CONNECTING:
  case CH_BACKLOG:
  case CH_ACCEPTED:
  case CH_HELLO_SENT:
    return 1;
  case CH_OPEN: /* a Zig peer may send other frames before its HelloResponse */
    return requests_hello_open(ch);
  default:
    return 0;
  }
}

/* Every request of ch past its deadline goes back (timeout), written or
 * queued; the timer is set again for the nearest deadline left. */
static void deadlines_passed(channel *ch) {
  int64_t now = ch->engine->reactor.now_ms, next = 0;
  if (requests_expire(ch, now, &next) != TOFU_OK || chan_send_expire(ch, now, &next) != TOFU_OK ||
      (next && channel_add_timer_by(ch, next, TIMER_REQUEST) != TOFU_OK))
    channel_close(ch, TOFU_STATUS_ALLOCATION_FAILED, NULL);
}

static void fire_timers(tofu_engine *e) {
  timer_entry t;
  while (timers_pop_due(&e->reactor.timers, e->reactor.now_ms, &t)) {
    if (t.kind == TIMER_APP) {
      outbox_deliver(e, t.of.msg->group, t.of.msg);
      continue;
    }
    channel *ch = channel_find(e, t.of.channel.number);
    if (!ch || ch->serial != t.of.channel.serial)
      continue; /* a guard: a channel's entries leave the heap when it closes */
    if (t.kind == TIMER_CONNECT && connect_pending(ch))
      channel_close(ch, TOFU_STATUS_CONNECT_FAILED, NULL); /* silent for CH_ACCEPTED */
    else if (t.kind == TIMER_REQUEST)
      deadlines_passed(ch);
    else if (t.kind == TIMER_RETRY && ch->state == CH_BACKLOG)
      chan_connect_retry(ch);
    else if (t.kind == TIMER_LISTEN)
      channel_rearm(ch);
    else if (t.kind == TIMER_FRAME)
      chan_recv_frame_timer(ch);
  }
}

/* Memory came back: every paused channel whose frame now fits resumes, the
 * oldest first. A channel that does not fit stays where it is, and a frame
 * as large or larger is not tried after it in this pass, so a small frame
 * (a newcomer's HelloRequest) is not held up behind a large one. Channels
 * that pause again during the walk join the end and wait for the next. */
static void resume_paused(tofu_engine *e) {
  if (!e->reactor.paused || !atomic_exchange(&e->released, 0))
    return;
  /* Ask to be woken by the next put before trying, so none is missed. */
  pool_want_release(&e->pool);
  channel *last = e->reactor.paused_tail;
  size_t too_big = (size_t)-1;
  for (channel *ch = e->reactor.paused; ch;) {
    channel *next = ch->next_paused;
    int end = ch == last;
    (void)chan_recv_resume(ch, &too_big);
    if (end)
      break;
    ch = next;
  }
}

static void flush_dirty(tofu_engine *e) {
  while (e->reactor.dirty) {
    channel *ch = e->reactor.dirty;
    e->reactor.dirty = ch->next_dirty;
    ch->in_dirty = 0;
    if (!ch->closed)
      chan_send_flush(ch);
  }
}

static void tell_groups(tofu_engine *e, int status) {
  plat_mutex_lock(&e->groups_mu);
  for (tofu_group *g = e->groups; g; g = g->next_group) {
    /* A group in the list is alive until the Reactor has run its destroy
     * command, which it cannot be doing now. */
    tofu_message *n = msg_signal_notice(&e->pool, 0, status);
    if (!n)
      break;
    outbox_deliver(e, g, n);
  }
  plat_mutex_unlock(&e->groups_mu);
}

static void wait_failed(tofu_engine *e) {
  atomic_fetch_add(&e->wait_failures, 1);
  int row = ++e->reactor.wait_fails_row;
  if (row == WAIT_FAILS_NOTICE)
    tell_groups(e, TOFU_STATUS_COMMUNICATION_FAILED);
  /* 1, 2, 4, ..., 64 ms, then WAIT_BACKOFF_MAX_MS. */
  plat_sleep_ms(row >= 8 ? WAIT_BACKOFF_MAX_MS : 1 << (row - 1));
}

/* A message came back to the pool while channels waited for memory. A put
 * made by the Reactor itself needs no wakeup: it retries its paused channels
 * at the end of the pass, and `sleeping` is 0 then. */
static void on_release(void *arg) {
  tofu_engine *e = arg;
  atomic_store(&e->released, 1);
  if (atomic_load(&e->sleeping))
    e->ops->notify(e->poller);
}

/* After a pass that delivered messages to a group, the Reactor stays
 * runnable for a few yields before it parks: the application's answer to
 * what was just delivered often comes meanwhile, and then the post needs no
 * notify and the Reactor no wake-up (docs/performance.md, "History": issue 15, first round).
 * Bounded, so an engine with nothing to do parks within microseconds.
 * Overridable at build time for measurements. */
#ifndef TOFU_REACTOR_YIELDS
#define TOFU_REACTOR_YIELDS 16
#endif

/* 1 when a post (or a put that frees memory) came during the yields. */
static int yield_before_park(tofu_engine *e) {
  for (int i = 0; i < TOFU_REACTOR_YIELDS; i++) {
    if (atomic_load(&e->in_pending) || (e->reactor.paused && atomic_load(&e->released)))
      return 1;
    plat_thread_yield();
  }
  return 0;
}

/* Before the Reactor parks, a read block that nothing is bound to goes back
 * to the pool's free list: an idle engine holds no memory that the limit
 * could trim for the application, and a pool the application filled
 * meanwhile is full for the next frame too. */
static void let_go_of_block(tofu_engine *e) {
  pool_block *b = e->reactor.block;
  if (b && atomic_load_explicit(&b->refs, memory_order_acquire) == 1) {
    e->reactor.block = NULL;
    pool_block_release(&e->pool, b);
  }
}

static void reactor_main(void *arg) {
  tofu_engine *e = arg;
  tofu_poll_event ev[EVENTS_PER_WAIT];
  int delivered = 0, waited = 1;
  while (!atomic_load(&e->stop)) {
    int timeout = timers_timeout(&e->reactor.timers, clock_now_ms());
    /* Work that came while yielding is taken at once, without asking the
     * poller (a system call that would find nothing, most of the time); the
     * next pass asks it, so sockets wait one pass at most. */
    int skip = 0;
    if (timeout != 0 && delivered && yield_before_park(e)) {
      timeout = 0;
      skip = waited;
    }
    waited = !skip;
    if (timeout != 0) {
      /* From here a post (or a put that frees memory) must notify; one that
       * came before is seen now. */
      let_go_of_block(e);
      atomic_store(&e->sleeping, 1);
      if (atomic_load(&e->in_pending) || (e->reactor.paused && atomic_load(&e->released)))
        timeout = 0;
    }
    int n = skip ? 0 : e->ops->wait(e->poller, ev, EVENTS_PER_WAIT, timeout);
    atomic_store(&e->sleeping, 0);
    e->reactor.now_ms = clock_now_ms();
    e->reactor.no_block = 0;
    if (n < 0) {
      wait_failed(e);
      n = 0;
    } else {
      e->reactor.wait_fails_row = 0;
    }
    atomic_fetch_add(&e->loops, 1);
    for (int i = 0; i < n; i++) {
      channel *ch = ev[i].token;
      if (ch && !ch->closed)
        channel_event(ch, ev[i].events);
    }
    drain_inbound(e);
    fire_timers(e);
    resume_paused(e);
    flush_dirty(e);
    channel_reap(e);
    pool_reactor_spill(&e->pool);
    delivered = e->reactor.outboxes != NULL;
    outbox_flush(e);
  }
}

int reactor_start(tofu_engine *e) {
  e->reactor.rbuf = malloc(ENGINE_READ_BUF);
  e->reactor.stash = malloc(ENGINE_READ_BUF);
  if (!e->reactor.rbuf || !e->reactor.stash)
    return TOFU_ENOMEM; /* freed by reactor_teardown */
  e->reactor.now_ms = clock_now_ms();
  e->pool.on_release = on_release;
  e->pool.release_arg = e;
  int rc = plat_thread_start(&e->thread, reactor_main, e);
  if (rc == TOFU_OK)
    e->thread_started = 1;
  return rc;
}

void reactor_stop(tofu_engine *e) {
  if (!e->thread_started)
    return;
  atomic_store(&e->stop, 1);
  e->ops->notify(e->poller);
  plat_thread_join(&e->thread);
  e->thread_started = 0;
}

static int any_timer(const timer_entry *t, void *arg) {
  (void)t;
  (void)arg;
  return 1;
}

static void free_timer(const timer_entry *t, void *arg) {
  tofu_engine *e = arg;
  if (t->kind == TIMER_APP)
    pool_put(&e->pool, t->of.msg);
}

void reactor_teardown(tofu_engine *e) {
  channel *ch, *tmp;
  e->pool.on_release = NULL;
  outbox_flush(e); /* into the receive queues, freed with the groups */
  /* Messages still in the inbound queue: freed with the pool. */
  HASH_ITER(hh, e->reactor.table, ch, tmp) {
    if (ch->group)
      ch->group->reactor.dead = 1;
    channel_close(ch, TOFU_STATUS_SHUTDOWN_STARTED, NULL);
  }
  e->reactor.dirty = NULL;
  e->reactor.paused = e->reactor.paused_tail = NULL;
  e->reactor.stash_owner = NULL;
  channel_reap(e);
  outbox_flush(e); /* hand-backs to groups that were not closing */
  pool_reactor_spill(&e->pool);
  timers_remove_if(&e->reactor.timers, any_timer, free_timer, e);
  timers_fini(&e->reactor.timers);
  channel_table_free(e);
  requests_fini(e);
  if (e->reactor.block)
    pool_block_release(&e->pool, e->reactor.block);
  e->reactor.block = NULL;
  free(e->reactor.rbuf);
  e->reactor.rbuf = NULL;
  free(e->reactor.stash);
  e->reactor.stash = NULL;
}
