/* iocp_afd — the Windows backend: one completion port per poller, one AFD
 * poll per armed socket (see sock.h), wakeups as hand-made packets.
 *
 * wait() is the only place packets are taken from the port, so it is also
 * where the memory of deregistered sockets is released: their last packet is
 * the proof that the kernel has let go of it.
 *
 * Only packets this poller posted are dispatched. Every overlapped operation
 * on a registered socket completes on our port with our key, the
 * application's own (WSARecv, AcceptEx, ...) included, and its ApcContext is
 * then the application's OVERLAPPED. So a socket packet counts as ours only
 * when its ApcContext is the tag of a sock in by_tag; anything else is
 * counted (tofu_poller_stats.foreign_packets) and dropped without being
 * dereferenced. Tags are odd and, on 64-bit Windows, above the user address
 * space: no OVERLAPPED address can be one, however the application's memory
 * is reused. They are never reused within a poller, so a late packet of a
 * freed sock cannot be taken for its successor's either.
 */
#include "tofu/poller.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "iocp_afd.h"
#include "nt.h"
#include "port.h"
#include "sock.h"
#include "ws.h"

/* Packets taken per NtRemoveIoCompletionEx call; more ready sockets than
 * this are reported by the next wait. */
#define IOCP_BATCH 256
/* How long close() waits for the packets of cancelled polls. A cancel is
 * answered at once; this only bounds the damage of an OS that never answers
 * (the socks are then leaked, never freed under the kernel's feet). */
#define IOCP_CLOSE_DRAIN_100NS (10 * 10000000LL)
/* While draining, a cancel that failed is tried again this often. */
#define IOCP_CLOSE_RETRY_100NS (50 * 10000LL)

/* Tags: the top bit set (no user-mode address has it on 64-bit Windows) and
 * the low bit set (no OVERLAPPED, which holds pointers, sits at an odd
 * address); the bits between count. */
#define IOCP_TAG_HIGH ((uintptr_t)1 << (sizeof(uintptr_t) * 8 - 1))
#define IOCP_TAG_COUNT_MAX ((IOCP_TAG_HIGH - 1) >> 1)

struct tofu_poller {
  port port;
  sock_state *by_socket;    /* registered socks, keyed by SOCKET (uthash) */
  sock_state *by_tag;       /* every sock not yet freed, keyed by tag (uthash) */
  sock_state *zombies;      /* deregistered socks waiting for their packet */
  uintptr_t tag_count;      /* the count part of the last tag handed out */
  uint64_t foreign_packets; /* packets dropped as not ours */
};

#ifdef _MSC_VER
/* uthash 2.3.0's HASH_FIND tests `if ((1) != 0)` when HASH_BLOOM is off. */
#pragma warning(push)
#pragma warning(disable : 4127)
#endif
static sock_state *find_by_socket(tofu_poller *p, SOCKET key) {
  sock_state *s = NULL;
  HASH_FIND(hh, p->by_socket, &key, sizeof key, s);
  return s;
}

static sock_state *find_by_tag(tofu_poller *p, uintptr_t tag) {
  sock_state *s = NULL;
  HASH_FIND(hh_tag, p->by_tag, &tag, sizeof tag, s);
  return s;
}
#ifdef _MSC_VER
#pragma warning(pop)
#endif

/* A tag that no sock of this poller has: in practice the next count, since
 * the count would take centuries to wrap; the lookup keeps that a promise. */
static uintptr_t next_tag(tofu_poller *p) {
  uintptr_t tag;
  do {
    p->tag_count = p->tag_count >= IOCP_TAG_COUNT_MAX ? 1 : p->tag_count + 1;
    tag = IOCP_TAG_HIGH | (p->tag_count << 1) | 1u;
  } while (find_by_tag(p, tag) != NULL);
  return tag;
}

/* The sock's last packet has come (or it never had a poll): release it. */
static void sock_release(tofu_poller *p, sock_state *s) {
  HASH_DELETE(hh_tag, p->by_tag, s);
  sock_free(s);
}

static volatile LONG iocp_close_leaks;

int iocp_afd_test_close_leaks(void) {
  return (int)InterlockedCompareExchange(&iocp_close_leaks, 0, 0);
}

static void zombie_add(tofu_poller *p, sock_state *s) {
  s->zombie_prev = NULL;
  s->zombie_next = p->zombies;
  if (p->zombies != NULL)
    p->zombies->zombie_prev = s;
  p->zombies = s;
}

static void zombie_remove(tofu_poller *p, sock_state *s) {
  if (s->zombie_prev != NULL)
    s->zombie_prev->zombie_next = s->zombie_next;
  else
    p->zombies = s->zombie_next;
  if (s->zombie_next != NULL)
    s->zombie_next->zombie_prev = s->zombie_prev;
}

static int iocp_open(tofu_poller **out) {
  if (out == NULL)
    return TOFU_EINVAL;
  int rc = nt_init();
  if (rc != TOFU_OK)
    return rc;
  tofu_poller *p = calloc(1, sizeof *p);
  if (p == NULL)
    return TOFU_ENOMEM;
  rc = ws_startup();
  if (rc != TOFU_OK) {
    free(p);
    return rc;
  }
  rc = port_open(&p->port);
  if (rc != TOFU_OK) {
    ws_cleanup();
    free(p);
    return rc;
  }
  *out = p;
  return TOFU_OK;
}

/* One dequeued packet. Returns the event to report in *ev, or 0. */
static int iocp_take(tofu_poller *p, const nt_completion *c, tofu_poll_event *ev) {
  if (c->key == PORT_KEY_NOTIFY) {
    port_take_notify(&p->port);
    ev->token = NULL;
    ev->events = TOFU_POLL_WAKEUP;
    return 1;
  }
  /* The ApcContext is only a number until by_tag says it is one of ours. */
  sock_state *s = NULL;
  if (c->key == PORT_KEY_SOCKET)
    s = find_by_tag(p, (uintptr_t)c->apc_context);
  if (s == NULL || !sock_packet_due(s)) {
    p->foreign_packets++;
    return 0;
  }
  unsigned report = 0;
  if (sock_feed(s, &c->iosb, &report) == SOCK_FREE) {
    zombie_remove(p, s);
    sock_release(p, s);
    return 0;
  }
  if (report == 0)
    return 0;
  ev->token = s->token;
  ev->events = report;
  return 1;
}

static void iocp_close(tofu_poller *p) {
  if (p == NULL)
    return;
  sock_state *s, *tmp;
  HASH_ITER(hh, p->by_socket, s, tmp) {
    HASH_DEL(p->by_socket, s);
    if (sock_deregister(s) == SOCK_FREE)
      sock_release(p, s);
    else
      zombie_add(p, s);
  }
  /* Every cancelled poll still owns its sock until its packet is dequeued:
   * take packets until the last zombie is gone, however many waits that
   * needs (a wait may come back early and empty, and other packets may come
   * first), but no longer than the deadline. A cancel that failed is tried
   * again between waits. */
  int64_t deadline = port_clock_100ns() + IOCP_CLOSE_DRAIN_100NS;
  nt_completion entries[64];
  while (p->zombies != NULL) {
    int64_t left = deadline - port_clock_100ns();
    if (left <= 0)
      break; /* leaked, never freed under the kernel */
    for (sock_state *z = p->zombies; z != NULL; z = z->zombie_next)
      (void)sock_cancel(z);
    ULONG n = 0;
    int64_t slice = left < IOCP_CLOSE_RETRY_100NS ? left : IOCP_CLOSE_RETRY_100NS;
    if (port_dequeue(&p->port, entries, 64, slice, &n) != TOFU_OK)
      break;
    for (ULONG i = 0; i < n; i++) {
      tofu_poll_event ignored;
      (void)iocp_take(p, &entries[i], &ignored);
    }
  }
  /* What is left in by_tag now is leaked on purpose; only the table goes. */
  InterlockedExchange(&iocp_close_leaks, (LONG)HASH_CNT(hh_tag, p->by_tag));
  HASH_CLEAR(hh_tag, p->by_tag);
  port_close(&p->port);
  ws_cleanup();
  free(p);
}

static int iocp_register(tofu_poller *p, tofu_socket sock, void *token, tofu_poll_handle **out) {
  if (p == NULL || out == NULL || sock == TOFU_INVALID_SOCKET)
    return TOFU_EINVAL;
  SOCKET key = (SOCKET)sock;
  if (find_by_socket(p, key) != NULL)
    return TOFU_EEXIST;
  HANDLE base;
  int rc = ws_base_handle(key, &base);
  if (rc != TOFU_OK)
    return rc;
  /* Everything that can refuse the socket comes before port_bind, which
   * cannot be undone: a refused socket is left as it was. */
  rc = ws_check_overlapped(base);
  if (rc != TOFU_OK)
    return rc;
  sock_state *s = sock_new(key, base, token, next_tag(p));
  if (s == NULL)
    return TOFU_ENOMEM;
  /* The two tables could not grow: not added (HASH_NONFATAL_OOM). */
  HASH_ADD(hh_tag, p->by_tag, tag, sizeof s->tag, s);
  if (s->hh_tag.tbl == NULL) {
    sock_free(s);
    return TOFU_ENOMEM;
  }
  HASH_ADD(hh, p->by_socket, sock, sizeof s->sock, s);
  if (s->hh.tbl == NULL) {
    sock_release(p, s);
    return TOFU_ENOMEM;
  }
  rc = port_bind(&p->port, base);
  if (rc != TOFU_OK) {
    HASH_DEL(p->by_socket, s);
    sock_release(p, s);
    return rc;
  }
  *out = s;
  return TOFU_OK;
}

static int iocp_deregister(tofu_poller *p, tofu_poll_handle *h) {
  if (p == NULL || h == NULL || h->deleted)
    return TOFU_EINVAL;
  HASH_DEL(p->by_socket, h);
  if (sock_deregister(h) == SOCK_FREE)
    sock_release(p, h);
  else
    zombie_add(p, h);
  return TOFU_OK;
}

static int iocp_arm(tofu_poller *p, tofu_poll_handle *h, unsigned interest) {
  if (p == NULL || h == NULL || h->deleted || (interest & ~(unsigned)TOFU_POLL_INTEREST_MASK))
    return TOFU_EINVAL;
  return sock_arm(h, interest);
}

static int iocp_wait(tofu_poller *p, tofu_poll_event *events, int max, int timeout_ms) {
  if (p == NULL || events == NULL || max < 1 || timeout_ms < -1)
    return TOFU_EINVAL;
  nt_completion entries[IOCP_BATCH];
  ULONG batch = max < IOCP_BATCH ? (ULONG)max : IOCP_BATCH;
  int64_t deadline = timeout_ms > 0 ? port_clock_100ns() + (int64_t)timeout_ms * 10000 : 0;
  for (;;) {
    int64_t left = timeout_ms < 0 ? -1 : 0;
    if (timeout_ms > 0) {
      left = deadline - port_clock_100ns();
      if (left < 0)
        left = 0;
    }
    ULONG n = 0;
    int rc = port_dequeue(&p->port, entries, batch, left, &n);
    if (rc != TOFU_OK)
      return rc;
    int count = 0;
    for (ULONG i = 0; i < n; i++)
      count += iocp_take(p, &entries[i], &events[count]);
    if (count > 0)
      return count;
    /* Nothing to report. Packets that were taken (stale, cancelled, or a poll
     * re-issued for a narrower interest) may have queued new ones; look again
     * while time is left, and once more for a zero timeout. The timer of the
     * port may fire a little early: the deadline decides, not the timer. */
    if (timeout_ms == 0 && n == 0)
      return 0;
    if (timeout_ms > 0 && left == 0 && n == 0)
      return 0;
  }
}

static int iocp_notify(tofu_poller *p) {
  if (p == NULL)
    return TOFU_EINVAL;
  return port_notify(&p->port);
}

static int iocp_stats(tofu_poller *p, tofu_poller_stats *out) {
  if (p == NULL || out == NULL || out->size < sizeof out->size)
    return TOFU_EINVAL;
  tofu_poller_stats s;
  memset(&s, 0, sizeof s);
  s.foreign_packets = p->foreign_packets;
  s.size = out->size < sizeof s ? out->size : sizeof s;
  memcpy(out, &s, s.size);
  return TOFU_OK;
}

static const tofu_poller_ops iocp_afd_ops = {
    .name = "iocp_afd",
    .open = iocp_open,
    .close = iocp_close,
    .register_socket = iocp_register,
    .deregister = iocp_deregister,
    .arm = iocp_arm,
    .wait = iocp_wait,
    .notify = iocp_notify,
    .stats = iocp_stats,
};

const tofu_poller_ops *tofu_poller_backend(void) {
  return &iocp_afd_ops;
}
