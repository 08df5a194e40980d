/* channel — see channel.h. */
#include "channel.h"

#include <stdlib.h>
#include <string.h>

#include "outbox.h"
#include "platform/net.h"
#include "requests.h"
#include "tofu_assert.h"

channel *channel_new(tofu_engine *e, uint16_t number, chan_kind kind, tofu_group *g) {
  channel *ch = calloc(1, sizeof(*ch));
  if (!ch)
    return NULL;
  ch->notice = pool_notice_new(&e->pool);
  if (!ch->notice) {
    free(ch);
    return NULL;
  }
  ch->engine = e;
  ch->number = number;
  ch->serial = ++e->reactor.serial;
  ch->kind = kind;
  ch->group = g;
  ch->sock = TOFU_INVALID_SOCKET;
  for (int i = 0; i < CH_TIMERS; i++)
    ch->timer_at[i] = TIMERS_NONE;
  msgq_init(&ch->sendq);
  wire_decoder_init(&ch->dec);
  channel **block = e->reactor.slots[number >> 8];
  if (!block)
    block = e->reactor.slots[number >> 8] = calloc(256, sizeof(*block));
  if (block)
    HASH_ADD(hh, e->reactor.table, number, sizeof(ch->number), ch);
  if (!block || !ch->hh.tbl) { /* the tables could not grow: not added */
    pool_put(&e->pool, ch->notice);
    free(ch);
    return NULL;
  }
  block[number & 255] = ch;
  atomic_fetch_add(&e->channels_open, 1);
  return ch;
}

channel *channel_new_for(tofu_engine *e, tofu_message *request, chan_kind kind) {
  channel *ch = channel_new(e, request->hdr.channel, kind, request->group);
  if (!ch) {
    chan_num_free(&e->nums, request->hdr.channel);
    outbox_hand_back(e, request->group, request, TOFU_STATUS_ALLOCATION_FAILED);
  }
  return ch;
}

/* By array, not by hash: one lookup per post, so it is on the hot path. */
channel *channel_find(tofu_engine *e, uint16_t number) {
  channel **block = e->reactor.slots[number >> 8];
  return block ? block[number & 255] : NULL;
}

void channel_table_free(tofu_engine *e) {
  for (int i = 0; i < 256; i++) {
    free(e->reactor.slots[i]);
    e->reactor.slots[i] = NULL;
  }
}

#ifndef NDEBUG
static int step_allowed(chan_state from, chan_state to) {
  switch (to) {
  case CH_CONNECTING:
    return from == CH_NEW || from == CH_BACKLOG;
  case CH_BACKLOG:
    return from == CH_CONNECTING;
  case CH_HELLO_SENT:
    return from == CH_CONNECTING;
  case CH_OPEN:
    return from == CH_ACCEPTED || from == CH_HELLO_SENT;
  case CH_ACCEPTED:
  case CH_LISTENING:
    return from == CH_NEW;
  case CH_NEW:
    break;
  }
  return 0;
}
#endif

void channel_set_state(channel *ch, chan_state to) {
  TOFU_ASSERT(!ch->closed);
  TOFU_ASSERT(step_allowed(ch->state, to));
  TOFU_ASSERT((to == CH_LISTENING) == (ch->kind == CH_LISTENER));
  ch->state = to;
}

int channel_register(channel *ch) {
  tofu_engine *e = ch->engine;
  int rc = e->ops->register_socket(e->poller, ch->sock, ch, &ch->handle);
  if (rc != TOFU_OK)
    ch->handle = NULL;
  return rc;
}

void channel_drop_socket(channel *ch) {
  if (ch->handle)
    ch->engine->ops->deregister(ch->engine->poller, ch->handle);
  ch->handle = NULL;
  ch->armed = 0;
  net_close(ch->sock);
  ch->sock = TOFU_INVALID_SOCKET;
}

static unsigned wanted_interest(const channel *ch) {
  if (ch->kind == CH_LISTENER)
    return TOFU_POLL_READABLE;
  if (ch->state == CH_CONNECTING)
    return TOFU_POLL_WRITABLE;
  if (ch->state == CH_BACKLOG)
    return 0; /* an unconnected socket reports a hang-up: wait for the timer */
  /* Paused for memory: not reading, but still listening for a reset
   * (chan_recv_event), unless a hang-up without an error was heard already. */
  unsigned want = TOFU_POLL_READABLE;
  if (ch->paused)
    want = ch->hangup_heard ? 0u : TOFU_POLL_HANGUP;
  if (!msgq_empty(&ch->sendq))
    want |= TOFU_POLL_WRITABLE;
  return want;
}

void channel_rearm(channel *ch) {
  if (ch->closed || !ch->handle)
    return;
  unsigned want = wanted_interest(ch);
  if (want == ch->armed)
    return;
  if (ch->engine->ops->arm(ch->engine->poller, ch->handle, want) == TOFU_OK)
    ch->armed = want;
  else
    channel_close(ch, TOFU_STATUS_COMMUNICATION_FAILED, NULL);
}

int channel_status_of_net(int net_err, int fallback) {
  return (net_err == NET_ECONNRESET || net_err == NET_EPIPE) ? TOFU_STATUS_PEER_DISCONNECTED
                                                             : fallback;
}

static int timer_slot(int kind) {
  switch (kind) {
  case TIMER_CONNECT:
    return CH_TIMER_CONNECT;
  case TIMER_FRAME:
    return CH_TIMER_FRAME;
  case TIMER_REQUEST:
    return CH_TIMER_REQUEST;
  default: /* TIMER_RETRY, TIMER_LISTEN */
    return CH_TIMER_RETRY;
  }
}

int channel_add_timer(channel *ch, int64_t due_ms, int kind) {
  if (ch->closed)
    return TOFU_OK; /* its entries are gone with it, and stay gone */
  timer_entry t = {.due_ms = due_ms,
                   .at = &ch->timer_at[timer_slot(kind)],
                   .kind = kind,
                   .of.channel = {ch->number, ch->serial}};
  return timers_set(&ch->engine->reactor.timers, &t);
}

int channel_add_timer_by(channel *ch, int64_t due_ms, int kind) {
  int64_t pending = timers_due(&ch->engine->reactor.timers, &ch->timer_at[timer_slot(kind)]);
  if (pending && pending <= due_ms)
    return TOFU_OK;
  return channel_add_timer(ch, due_ms, kind);
}

/* Its entries leave the heap with it. */
static void cancel_timers(channel *ch) {
  for (int i = 0; i < CH_TIMERS; i++)
    timers_cancel(&ch->engine->reactor.timers, &ch->timer_at[i]);
}

int channel_add_timer_or_close(channel *ch, int64_t due_ms, int kind) {
  if (channel_add_timer(ch, due_ms, kind) == TOFU_OK)
    return 1;
  channel_close(ch, TOFU_STATUS_ALLOCATION_FAILED, NULL);
  return 0;
}

void channel_mark_dirty(channel *ch) {
  if (ch->in_dirty || ch->closed)
    return;
  ch->in_dirty = 1;
  ch->next_dirty = ch->engine->reactor.dirty;
  ch->engine->reactor.dirty = ch;
}

void channel_pause(channel *ch) {
  tofu_engine *e = ch->engine;
  TOFU_ASSERT(!ch->paused);
  ch->paused = 1;
  ch->next_paused = NULL;
  ch->prev_paused = e->reactor.paused_tail;
  if (e->reactor.paused_tail)
    e->reactor.paused_tail->next_paused = ch;
  else
    e->reactor.paused = ch;
  e->reactor.paused_tail = ch;
}

void channel_unpause(channel *ch) {
  tofu_engine *e = ch->engine;
  if (!ch->paused)
    return;
  if (ch->prev_paused)
    ch->prev_paused->next_paused = ch->next_paused;
  else
    e->reactor.paused = ch->next_paused;
  if (ch->next_paused)
    ch->next_paused->prev_paused = ch->prev_paused;
  else
    e->reactor.paused_tail = ch->prev_paused;
  ch->next_paused = ch->prev_paused = NULL;
  ch->paused = 0;
  ch->hangup_heard = 0;
  /* Whatever it read ahead is its own no more: a resume feeds it from the
   * stash first, a close drops it. */
  if (e->reactor.stash_owner == ch)
    e->reactor.stash_owner = NULL;
}

/* The group learns of the channel only once its HelloRequest is delivered
 * (accepted connections) or once it posted the Welcome/HelloRequest. */
static int group_knows(const channel *ch) {
  return ch->state != CH_ACCEPTED;
}

void channel_close(channel *ch, int cause, tofu_message *closing) {
  tofu_engine *e = ch->engine;
  if (ch->closed) {
    if (closing)
      pool_put(&e->pool, closing);
    return;
  }
  ch->closed = 1;
  channel_unpause(ch);
  cancel_timers(ch);

  requests_close(ch, cause); /* written before anything still queued */
  tofu_message *m;
  while ((m = msgq_pop(&ch->sendq)) != NULL) {
    if (m->flags & MSG_RAW) { /* the rest of a frame handed back already */
      m->flags &= ~(unsigned)MSG_RAW;
      pool_put(&e->pool, m);
      continue;
    }
    outbox_hand_back(e, m->group ? m->group : ch->group, m, cause);
  }
  if (ch->joining && ch->joining != ch->rx)
    pool_put(&e->pool, ch->joining);
  ch->joining = NULL;
  if (ch->rx) {
    pool_put(&e->pool, ch->rx);
    ch->rx = NULL;
  }

  channel_drop_socket(ch);
  if (ch->uds_path)
    net_uds_unlink(ch->uds_path);

  tofu_message *note = closing ? closing : ch->notice;
  if (note == ch->notice)
    ch->notice = NULL;
  if (group_knows(ch)) {
    memset(&note->hdr, 0, sizeof(note->hdr));
    note->hdr.opcode = TOFU_OP_SIGNAL;
    note->hdr.channel = ch->number;
    note->hdr.message_id = ch->first_id;
    note->th_len = 0;
    note->body_len = 0;
    msg_hand_back(note, TOFU_STATUS_CHANNEL_CLOSED);
    (void)tofu_msg_add_header(note, TOFU_HDR_CAUSE, tofu_status_name(cause));
    outbox_deliver(e, ch->group, note);
  } else {
    pool_put(&e->pool, note);
  }

  HASH_DEL(e->reactor.table, ch);
  e->reactor.slots[ch->number >> 8][ch->number & 255] = NULL;
  chan_num_free(&e->nums, ch->number);
  atomic_fetch_sub(&e->channels_open, 1);
  ch->next_zombie = e->reactor.zombies;
  e->reactor.zombies = ch;
}

void channel_reap(tofu_engine *e) {
  channel *ch = e->reactor.zombies;
  e->reactor.zombies = NULL;
  while (ch) {
    channel *next = ch->next_zombie;
    for (int i = 0; i < CH_TIMERS; i++) /* the heap keeps no pointer into it */
      TOFU_ASSERT(ch->timer_at[i] == TIMERS_NONE);
    if (ch->notice)
      pool_put(&e->pool, ch->notice);
    free(ch->uds_path);
    free(ch);
    ch = next;
  }
}
