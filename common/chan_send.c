/* chan_send — see chan_send.h. */
#include "chan_send.h"

#include <string.h>

#include "outbox.h"
#include "platform/net.h"
#include "requests.h"

/* Reads made after a ByeResponse went out, before the close. */
#define BYE_DRAIN_READS 8

static uint8_t frame_proto(const tofu_message *m) {
  return wire_proto(m->hdr.opcode, TOFU_ORIGIN_APPLICATION, m->hdr.more);
}

static void encode_header(const channel *ch, const tofu_message *m, uint8_t out[WIRE_HEADER_SIZE]) {
  wire_header h = {ch->number,        frame_proto(m),      m->hdr.status,
                   m->hdr.message_id, (uint16_t)m->th_len, (uint16_t)m->body_len};
  wire_encode_header(&h, out);
}

/* A body larger than one frame's (max_message) travels as parts: frames of
 * the message's id, each with at most TOFU_MAX_BODY bytes of the body,
 * `more` set on all but the last (which keeps the message's own), the text
 * headers in the first. The parts go out one after the other, nothing of
 * the channel between them. The rest of a frame (MSG_RAW) is one piece. */
static size_t parts_of(const tofu_message *m) {
  if (m->body_len <= TOFU_MAX_BODY || (m->flags & MSG_RAW))
    return 1;
  return ((size_t)m->body_len + TOFU_MAX_BODY - 1) / TOFU_MAX_BODY;
}

/* Part p's three pieces: its header (encoded into hdr), its text headers,
 * its slice of the body; the rest of a frame (MSG_RAW) is its body alone. */
static void part_pieces(const channel *ch, const tofu_message *m, size_t p,
                        uint8_t hdr[WIRE_HEADER_SIZE], const uint8_t *base[3], size_t len[3]) {
  if (m->headroom >= WIRE_HEADER_SIZE && m->th_len == 0 && !(m->flags & MSG_RAW)) {
    /* A body left in a read block, its frame's header bytes before it: the
     * new header goes there, and the frame is one piece. */
    uint8_t *room = m->body - WIRE_HEADER_SIZE;
    encode_header(ch, m, room);
    base[0] = room;
    base[1] = base[2] = NULL;
    len[0] = WIRE_HEADER_SIZE + m->body_len;
    len[1] = len[2] = 0;
    return;
  }
  if (parts_of(m) == 1) {
    encode_header(ch, m, hdr);
    base[0] = hdr;
    base[1] = m->th;
    base[2] = m->body;
    len[0] = WIRE_HEADER_SIZE;
    len[1] = m->th_len;
    len[2] = m->body_len;
    if (m->flags & MSG_RAW)
      len[0] = len[1] = 0;
    return;
  }
  size_t off = p * TOFU_MAX_BODY, bl = m->body_len - off;
  if (bl > TOFU_MAX_BODY)
    bl = TOFU_MAX_BODY;
  unsigned more = off + bl < m->body_len ? 1u : m->hdr.more;
  size_t hl = p == 0 ? m->th_len : 0;
  wire_header h = {ch->number,    wire_proto(m->hdr.opcode, TOFU_ORIGIN_APPLICATION, more),
                   m->hdr.status, m->hdr.message_id,
                   (uint16_t)hl,  (uint16_t)bl};
  wire_encode_header(&h, hdr);
  base[0] = hdr;
  base[1] = m->th;
  base[2] = m->body + off;
  len[0] = WIRE_HEADER_SIZE;
  len[1] = hl;
  len[2] = bl;
}

/* The bytes of part p on the wire. */
static size_t part_size(const tofu_message *m, size_t p) {
  if (parts_of(m) == 1)
    return (m->flags & MSG_RAW) ? m->body_len : WIRE_HEADER_SIZE + m->th_len + m->body_len;
  size_t off = p * TOFU_MAX_BODY, bl = m->body_len - off;
  return WIRE_HEADER_SIZE + (p == 0 ? m->th_len : 0) + (bl > TOFU_MAX_BODY ? TOFU_MAX_BODY : bl);
}

/* The part of m that byte `skip` of its frames falls in; *skip becomes the
 * offset in that part. Every part but the first and the last is the same
 * size, so this costs no walk. */
static size_t part_at(const tofu_message *m, size_t *skip) {
  size_t first = part_size(m, 0);
  if (*skip < first || parts_of(m) == 1)
    return 0;
  size_t rest = *skip - first, full = WIRE_HEADER_SIZE + TOFU_MAX_BODY;
  *skip = rest % full;
  return 1 + rest / full;
}

/* Describe up to NET_IOV_MAX buffers of the queued frames, starting `skip`
 * bytes into the first. */
static int gather(channel *ch, net_iov *iov, uint8_t (*hdrs)[WIRE_HEADER_SIZE], size_t *total) {
  int n = 0, f = 0;
  size_t skip = ch->sent;
  *total = 0;
  for (tofu_message *m = ch->sendq.head; m && n + 3 <= NET_IOV_MAX && f < NET_IOV_MAX / 3;
       m = m->next) {
    size_t np = parts_of(m);
    size_t p = skip ? part_at(m, &skip) : 0;
    for (; p < np && n + 3 <= NET_IOV_MAX && f < NET_IOV_MAX / 3; p++, f++) {
      const uint8_t *bases[3];
      size_t lens[3];
      part_pieces(ch, m, p, hdrs[f], bases, lens);
      for (int i = 0; i < 3; i++) {
        size_t len = lens[i];
        const uint8_t *base = bases[i];
        if (skip >= len) {
          skip -= len;
          continue;
        }
        *total += len - skip;
        if (n && (const uint8_t *)iov[n - 1].base + iov[n - 1].len == base + skip) {
          iov[n - 1].len += len - skip; /* frames read back to back go out as one piece */
        } else {
          iov[n].base = base + skip;
          iov[n].len = len - skip;
          n++;
        }
        skip = 0;
      }
    }
    if (p < np || m->hdr.opcode == TOFU_OP_BYE_RESPONSE)
      break; /* no room for the rest; nothing goes out after a ByeResponse */
  }
  return n;
}

static size_t frame_size(const tofu_message *m) {
  size_t np = parts_of(m);
  if (np == 1)
    return part_size(m, 0);
  return np * WIRE_HEADER_SIZE + m->th_len + m->body_len;
}

enum { ADVANCED, BYE_WRITTEN, ADVANCE_FAILED };

/* Take the frames fully written off the queue: a request stays open until
 * its answer (requests.h), anything else goes back to the pool. Returns
 * BYE_WRITTEN once a ByeResponse went out, ADVANCE_FAILED when a request
 * could not be kept (the channel must close). */
static int advance(channel *ch, size_t n) {
  tofu_engine *e = ch->engine;
  ch->sent += n;
  while (ch->sendq.head && ch->sent >= frame_size(ch->sendq.head)) {
    tofu_message *m = msgq_pop(&ch->sendq);
    ch->sent -= frame_size(m);
    if (requests_opens(m)) {
      if (requests_keep(ch, m) != TOFU_OK)
        return ADVANCE_FAILED;
      continue;
    }
    int bye = m->hdr.opcode == TOFU_OP_BYE_RESPONSE;
    m->flags &= ~(unsigned)MSG_RAW;
    pool_reactor_put(&e->pool, m);
    if (e->reactor.paused)
      atomic_store(&e->released, 1); /* retry the paused channels this pass */
    if (bye)
      return BYE_WRITTEN;
  }
  return ADVANCED;
}

/* After our ByeResponse: read what the peer still sent (so that closing does
 * not reset the connection under it), then close. */
static void close_after_bye(channel *ch) {
  uint8_t *buf = ch->engine->reactor.rbuf;
  for (int i = 0; i < BYE_DRAIN_READS; i++)
    if (net_recv(ch->sock, buf, ENGINE_READ_BUF) <= 0)
      break;
  channel_close(ch, TOFU_STATUS_CHANNEL_CLOSED, NULL);
}

void chan_send_flush(channel *ch) {
  net_iov iov[NET_IOV_MAX];
  uint8_t hdrs[NET_IOV_MAX / 3][WIRE_HEADER_SIZE];
  if (ch->closed || ch->state == CH_CONNECTING || ch->state == CH_BACKLOG)
    return;
  while (!msgq_empty(&ch->sendq)) {
    size_t total;
    int n = gather(ch, iov, hdrs, &total);
    ptrdiff_t w = net_sendv(ch->sock, iov, n);
    if (w == NET_EWOULDBLOCK)
      break;
    if (w < 0) {
      channel_close(ch, channel_status_of_net((int)w, TOFU_STATUS_SEND_FAILED), NULL);
      return;
    }
    int done = advance(ch, (size_t)w);
    if (done == BYE_WRITTEN) {
      close_after_bye(ch);
      return;
    }
    if (done == ADVANCE_FAILED) {
      channel_close(ch, TOFU_STATUS_ALLOCATION_FAILED, NULL);
      return;
    }
    if ((size_t)w < total)
      break; /* the socket buffer is full */
  }
  channel_rearm(ch);
}

void chan_send_abort(channel *ch, tofu_message *bye) {
  /* Tell the peer, if that costs no wait: a connected socket, no frame half
   * written, and one write that the socket takes now (whatever it does not
   * take is lost with the connection, which closes anyway). */
  int connected = ch->state == CH_HELLO_SENT || ch->state == CH_OPEN;
  if (connected && ch->sent == 0) {
    uint8_t hdr[WIRE_HEADER_SIZE];
    encode_header(ch, bye, hdr); /* its status is success: the post set it */
    net_iov iov[3] = {{hdr, sizeof hdr}};
    int n = 1;
    if (bye->th_len)
      iov[n++] = (net_iov){bye->th, bye->th_len};
    if (bye->body_len)
      iov[n++] = (net_iov){bye->body, bye->body_len};
    (void)net_sendv(ch->sock, iov, n);
  }
  channel_close(ch, TOFU_STATUS_CHANNEL_CLOSED, bye);
}

/* The request at the head of the queue is half written and its deadline
 * passed: it goes back, and the bytes of its frame still to write stay
 * behind in a message of their own (MSG_RAW) that goes out as it is, so the
 * stream stays framed. Returns it, or NULL when no memory is left for the
 * rest. */
static tofu_message *cut_head(channel *ch) {
  tofu_message *m = ch->sendq.head;
  size_t rest = frame_size(m) - ch->sent;
  tofu_message *raw = pool_reactor_get_sized(&ch->engine->pool, 0, rest);
  if (!raw)
    return NULL;
  uint8_t hdr[WIRE_HEADER_SIZE];
  const uint8_t *pieces[3];
  size_t lens[3], skip = ch->sent, at = 0;
  for (size_t p = part_at(m, &skip); p < parts_of(m); p++) {
    part_pieces(ch, m, p, hdr, pieces, lens);
    for (int i = 0; i < 3; i++) {
      if (skip >= lens[i]) {
        skip -= lens[i];
        continue;
      }
      memcpy(raw->body + at, pieces[i] + skip, lens[i] - skip);
      at += lens[i] - skip;
      skip = 0;
    }
  }
  raw->body_len = (uint32_t)rest;
  raw->hdr.opcode = TOFU_OP_SIGNAL; /* inert: not a request, not a bye */
  raw->flags |= MSG_RAW;
  (void)msgq_pop(&ch->sendq);
  msgq_push_front(&ch->sendq, raw);
  ch->sent = 0;
  return m;
}

static void expired(channel *ch, tofu_message *m) {
  atomic_fetch_add(&ch->engine->requests_expired, 1);
  outbox_hand_back(ch->engine, m->group ? m->group : ch->group, m, TOFU_STATUS_TIMEOUT);
}

int chan_send_expire(channel *ch, int64_t now, int64_t *next) {
  msgq keep;
  msgq_init(&keep);
  tofu_message *m = ch->sendq.head;
  if (m && ch->sent > 0 && m->due_ms && m->due_ms <= now) {
    if (requests_opens(m) && requests_tombstone(ch, m->hdr.message_id) != TOFU_OK)
      return TOFU_ENOMEM;
    m = cut_head(ch);
    if (!m)
      return TOFU_ENOMEM;
    expired(ch, m);
  }
  if (ch->sent > 0 && (m = msgq_pop(&ch->sendq)) != NULL) {
    *next = deadline_min(*next, m->due_ms); /* half written: stays first */
    msgq_push(&keep, m);
  }
  while ((m = msgq_pop(&ch->sendq)) != NULL) {
    if (m->due_ms && m->due_ms <= now) {
      expired(ch, m);
      continue;
    }
    *next = deadline_min(*next, m->due_ms);
    msgq_push(&keep, m);
  }
  msgq_take_all(&ch->sendq, &keep);
  return TOFU_OK;
}
