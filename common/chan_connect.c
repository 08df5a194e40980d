/* chan_connect — see chan_connect.h. */
#include "chan_connect.h"

#include "platform/clock.h"
#include "platform/net.h"

/* Connected: the HelloRequest at the head of the send queue goes out with
 * this pass's flush of dirty channels (chan_send_flush), which arms the
 * channel too. */
static void on_connected(channel *ch) {
  channel_set_state(ch, CH_HELLO_SENT);
  if (ch->transport == ADDR_TCP)
    (void)net_set_nodelay(ch->sock);
  channel_mark_dirty(ch);
}

/* Linux refuses a non-blocking UDS connect with EAGAIN while the listener's
 * accept queue is full. Nothing will report when there is room (an
 * unconnected socket only reports a hang-up), so the connect is tried again
 * on a timer, backing off from 1 ms to 64 ms, until it goes through or the
 * connect timeout ends it. */
#define RETRY_MAX_MS 64

static void retry_later(channel *ch) {
  if (ch->state != CH_BACKLOG)
    channel_set_state(ch, CH_BACKLOG);
  if (!channel_add_timer_or_close(ch, clock_now_ms() + ch->retry_ms, TIMER_RETRY))
    return;
  ch->retry_ms = ch->retry_ms * 2 > RETRY_MAX_MS ? RETRY_MAX_MS : ch->retry_ms * 2;
}

void chan_connect_retry(channel *ch) {
  address a;
  /* The HelloRequest heads the send queue until the connect is done. */
  int rc = address_from_message(ch->sendq.head, TOFU_HDR_CONNECT_TO, 1, &a) == TOFU_OK
               ? net_uds_connect(ch->sock, a.path)
               : NET_EOTHER;
  if (rc == NET_EWOULDBLOCK) {
    retry_later(ch);
    return;
  }
  if (rc != NET_OK && rc != NET_EINPROGRESS) {
    channel_close(ch, TOFU_STATUS_CONNECT_FAILED, NULL);
    return;
  }
  channel_set_state(ch, CH_CONNECTING);
  if (rc == NET_OK)
    on_connected(ch);
  else
    channel_rearm(ch);
}

/* Whether a connect result means the connect goes on (or is done). */
static int connect_started(const address *a, int rc) {
  return rc == NET_OK || rc == NET_EINPROGRESS || (a->kind == ADDR_UDS && rc == NET_EWOULDBLOCK);
}

/* Open, register and connect a socket to the HelloRequest's next TCP
 * address (ch->addr_next), or to its UDS path. Returns NET_OK (connected),
 * NET_EINPROGRESS, NET_EWOULDBLOCK (UDS backlog full) or a failure, after
 * which the channel holds no socket. */
static int connect_start(channel *ch, const address *a) {
  const tofu_message *hello = ch->sendq.head;
  int rc;
  if (a->kind == ADDR_TCP) {
    const net_addr *to = &hello->addrs[ch->addr_next++];
    rc = net_tcp_socket_for(to, &ch->sock);
    if (rc == NET_OK)
      rc = net_set_nonblocking(ch->sock);
    if (rc == NET_OK)
      rc = net_tcp_connect(ch->sock, to);
  } else {
    rc = net_uds_socket(&ch->sock);
    if (rc == NET_OK)
      rc = net_set_nonblocking(ch->sock);
    if (rc == NET_OK)
      rc = net_uds_connect(ch->sock, a->path);
  }
  if (connect_started(a, rc) && channel_register(ch) != TOFU_OK)
    rc = NET_EOTHER;
  if (!connect_started(a, rc)) {
    net_close(ch->sock);
    ch->sock = TOFU_INVALID_SOCKET;
  }
  return rc;
}

/* Connect to the first address that does not fail at once. Returns as
 * connect_start; a failure means every address failed. */
static int connect_first(channel *ch, const address *a) {
  int rc;
  do {
    rc = connect_start(ch, a);
  } while (!connect_started(a, rc) && a->kind == ADDR_TCP &&
           ch->addr_next < ch->sendq.head->naddrs);
  return rc;
}

/* After a connect was started: a connected socket sends its HelloRequest, a
 * connect in progress is armed for its end, a UDS backlog waits for the
 * retry timer. */
static void connect_going(channel *ch, int rc) {
  if (rc == NET_OK) {
    on_connected(ch);
    return;
  }
  if (rc == NET_EWOULDBLOCK) {
    ch->retry_ms = 1;
    retry_later(ch);
  }
  if (!ch->closed)
    channel_rearm(ch);
}

/* A started TCP connect failed: try the next address, if there is one. */
static void connect_failed(channel *ch) {
  address a;
  const tofu_message *hello = ch->sendq.head;
  if (ch->transport == ADDR_TCP && ch->addr_next < hello->naddrs &&
      address_from_message(hello, TOFU_HDR_CONNECT_TO, 1, &a) == TOFU_OK) {
    channel_drop_socket(ch);
    int rc = connect_first(ch, &a);
    if (rc == NET_OK || rc == NET_EINPROGRESS) {
      connect_going(ch, rc);
      return;
    }
  }
  channel_close(ch, TOFU_STATUS_CONNECT_FAILED, NULL);
}

void chan_connect_start(tofu_engine *e, tofu_message *hello) {
  address a;
  channel *ch = channel_new_for(e, hello, CH_IO);
  if (!ch)
    return;
  ch->first_id = hello->hdr.message_id;
  channel_set_state(ch, CH_CONNECTING);
  msgq_push(&ch->sendq, hello);
  if (address_from_message(hello, TOFU_HDR_CONNECT_TO, 1, &a) != TOFU_OK) {
    channel_close(ch, TOFU_STATUS_WRONG_ADDRESS, NULL);
    return;
  }
  ch->transport = a.kind;
  if (a.kind == ADDR_TCP && hello->naddrs == 0) { /* the name did not resolve */
    channel_close(ch, TOFU_STATUS_INVALID_ADDRESS, NULL);
    return;
  }
  int rc = connect_first(ch, &a);
  if (!connect_started(&a, rc)) {
    channel_close(ch, TOFU_STATUS_CONNECT_FAILED, NULL);
    return;
  }
  /* One deadline for the connect and the hello (reactor.c, connect_pending). */
  if (e->opts.connect_timeout_ms >= 0 &&
      !channel_add_timer_or_close(ch, clock_now_ms() + e->opts.connect_timeout_ms, TIMER_CONNECT))
    return;
  connect_going(ch, rc);
}

void chan_connect_event(channel *ch, unsigned events) {
  ch->armed = 0;
  if (net_pending_error(ch->sock) != NET_OK || (events & TOFU_POLL_ERROR)) {
    connect_failed(ch);
    return;
  }
  on_connected(ch);
}
