/* chan_listen — see chan_listen.h. */
#include "chan_listen.h"

#include <stdlib.h>
#include <string.h>

#include "outbox.h"
#include "platform/clock.h"
#include "platform/net.h"

/* Connections accepted per readiness report. */
#define ACCEPTS_PER_EVENT 64
#define LISTEN_BACKLOG 1024

/* Bind and listen at the first of the WelcomeRequest's TCP addresses that
 * binds, or at its UDS path. For TCP, a->host becomes the IP bound (so the
 * WelcomeResponse names an address, not a name) and a->port the port. */
static int open_socket(channel *ch, address *a, const tofu_message *welcome) {
  int rc = NET_EOTHER;
  if (a->kind == ADDR_TCP) {
    for (int i = 0; i < welcome->naddrs; i++) {
      if (i > 0) {
        net_close(ch->sock);
        ch->sock = TOFU_INVALID_SOCKET;
      }
      rc = net_tcp_socket_for(&welcome->addrs[i], &ch->sock);
      if (rc == NET_OK)
        rc = net_tcp_bind(ch->sock, &welcome->addrs[i], &a->port);
      if (rc == NET_OK) {
        net_addr_ip_text(&welcome->addrs[i], a->host, sizeof a->host);
        break;
      }
    }
  } else {
    rc = net_uds_socket(&ch->sock);
    if (rc != NET_OK)
      return rc;
    /* A socket file left by an earlier run would make bind fail. */
    net_uds_unlink(a->path);
    rc = net_uds_bind(ch->sock, a->path);
    if (rc == NET_OK) {
      ch->uds_path = malloc(strlen(a->path) + 1);
      if (ch->uds_path)
        strcpy(ch->uds_path, a->path);
    }
  }
  if (rc == NET_OK)
    rc = net_listen(ch->sock, LISTEN_BACKLOG);
  if (rc == NET_OK)
    rc = net_set_nonblocking(ch->sock);
  return rc;
}

void chan_listen_open(tofu_engine *e, tofu_message *welcome) {
  address a;
  tofu_group *g = welcome->group;
  channel *ch = channel_new_for(e, welcome, CH_LISTENER);
  if (!ch)
    return;
  channel_set_state(ch, CH_LISTENING);
  ch->first_id = welcome->hdr.message_id;
  int status = TOFU_STATUS_SUCCESS;
  if (address_from_message(welcome, TOFU_HDR_LISTEN_ON, 0, &a) != TOFU_OK)
    status = TOFU_STATUS_WRONG_ADDRESS;
  else if (a.kind == ADDR_TCP && welcome->naddrs == 0) /* the name did not resolve */
    status = TOFU_STATUS_INVALID_ADDRESS;
  else if (open_socket(ch, &a, welcome) != NET_OK)
    status = TOFU_STATUS_LISTEN_FAILED;
  else if (channel_register(ch) != TOFU_OK)
    status = TOFU_STATUS_LISTEN_FAILED;
  if (status != TOFU_STATUS_SUCCESS) {
    outbox_hand_back(e, g, welcome, status);
    channel_close(ch, status, NULL);
    return;
  }
  ch->transport = a.kind;
  /* The answer names the address really bound (the port, when 0 was asked). */
  char value[NET_UDS_PATH_MAX + 300];
  address_format(&a, value, sizeof(value));
  tofu_message *m = welcome;
  m->hdr.opcode = TOFU_OP_WELCOME_RESPONSE;
  msg_hand_back(m, TOFU_STATUS_SUCCESS);
  uint32_t keep = m->th_len;
  m->th_len = 0;
  if (tofu_msg_add_header(m, TOFU_HDR_LISTEN_ON, value) != TOFU_OK)
    m->th_len = keep;
  outbox_deliver(e, g, m);
  channel_rearm(ch);
}

/* A connection the engine does not take: closed before anything is read
 * from it, the listener goes on. Counted first, so that a peer that sees the
 * close finds it counted. */
static void refuse(tofu_engine *e, tofu_socket s) {
  atomic_fetch_add(&e->channels_refused, 1);
  net_close(s);
}

static void accept_one(channel *lch, tofu_socket s) {
  tofu_engine *e = lch->engine;
  if (atomic_load_explicit(&e->channels_open, memory_order_relaxed) >= e->opts.max_channels) {
    refuse(e, s);
    return;
  }
  uint16_t n = chan_num_alloc(&e->nums);
  if (n == 0) {
    refuse(e, s);
    return;
  }
  channel *ch = channel_new(e, n, CH_IO, lch->group);
  if (!ch) {
    chan_num_free(&e->nums, n);
    refuse(e, s);
    return;
  }
  channel_set_state(ch, CH_ACCEPTED);
  ch->sock = s;
  ch->transport = lch->transport;
  if (ch->transport == ADDR_TCP)
    (void)net_set_nodelay(s);
  if (channel_register(ch) != TOFU_OK) {
    channel_close(ch, TOFU_STATUS_ACCEPT_FAILED, NULL);
    return;
  }
  /* A peer that connects and never says hello (or trickles its HelloRequest)
   * must not hold a descriptor forever: the connect timeout applies to it
   * too. Until its HelloRequest is delivered the group knows nothing of it,
   * so the close is silent. */
  if (e->opts.connect_timeout_ms >= 0 &&
      !channel_add_timer_or_close(ch, clock_now_ms() + e->opts.connect_timeout_ms, TIMER_CONNECT))
    return;
  channel_rearm(ch);
}

void chan_listen_event(channel *ch, unsigned events) {
  (void)events;
  ch->armed = 0;
  for (int i = 0; i < ACCEPTS_PER_EVENT; i++) {
    tofu_socket s;
    int rc = net_accept(ch->sock, &s);
    if (rc == NET_EWOULDBLOCK)
      break;
    if (rc == NET_ECONNRESET)
      continue; /* the client gave up before we took it */
    if (rc != NET_OK) {
      /* Out of descriptors or similar: do not spin on a listener that stays
       * readable; look again a little later. */
      if (channel_add_timer(ch, clock_now_ms() + 100, TIMER_LISTEN) != TOFU_OK)
        channel_rearm(ch);
      return;
    }
    accept_one(ch, s);
  }
  channel_rearm(ch);
}
