/* tofu — the engine suite: unit tests of the wire codec, the pool, the
 * queues and the timers heap, the options and the memory a channel costs. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "channel.h"
#include "mailbox.h"
#include "msgq.h"
#include "pool.h"
#include "requests.h"
#include "suite.h"
#include "timers.h"
#include "wire.h"

/* A stream of frames: sizes chosen to cover empty, small and largest parts. */
typedef struct frame_spec {
  unsigned opcode;
  size_t th, body;
} frame_spec;

static const frame_spec specs[] = {
    {TOFU_OP_HELLO_REQUEST, 30, 0}, {TOFU_OP_REQUEST, 0, 0},         {TOFU_OP_RESPONSE, 0, 5},
    {TOFU_OP_SIGNAL, 7, 0},         {TOFU_OP_REQUEST, 65535, 65535}, {TOFU_OP_BYE_REQUEST, 1, 1},
};
#define NSPECS (sizeof specs / sizeof specs[0])

static uint8_t pat(size_t frame, size_t i) {
  return (uint8_t)(frame * 13u + i * 5u + 1u);
}

/* Encode the frames of specs[from..to) into one buffer. */
static uint8_t *encode_stream(size_t from, size_t to, size_t *len) {
  size_t total = 0;
  for (size_t f = from; f < to; f++)
    total += WIRE_HEADER_SIZE + specs[f].th + specs[f].body;
  uint8_t *buf = malloc(total), *p = buf;
  ck_assert_ptr_nonnull(buf);
  for (size_t f = from; f < to; f++) {
    wire_header h = {(uint16_t)(f + 1),
                     wire_proto(specs[f].opcode, 0, (unsigned)(f & 1)),
                     (uint8_t)f,
                     0x0102030405060708ull + f,
                     (uint16_t)specs[f].th,
                     (uint16_t)specs[f].body};
    wire_encode_header(&h, p);
    p += WIRE_HEADER_SIZE;
    for (size_t i = 0; i < specs[f].th + specs[f].body; i++)
      *p++ = pat(f, i);
  }
  *len = total;
  return buf;
}

typedef struct sink {
  size_t frames;
  size_t first;
  uint8_t *th, *body;
} sink;

/* Feed bytes in pieces of the given sizes and check every frame. */
static void decode_pieces(const uint8_t *buf, size_t len, size_t first, const size_t *cuts,
                          size_t ncuts, sink *s) {
  wire_decoder d;
  wire_decoder_init(&d);
  size_t pos = 0, c = 0;
  while (pos <= len) {
    size_t piece = c < ncuts ? cuts[c++] : len - pos;
    if (pos + piece > len)
      piece = len - pos;
    size_t off = 0;
    for (;;) {
      size_t used;
      wire_event ev = wire_decoder_feed(&d, buf + pos + off, piece - off, &used);
      off += used;
      if (ev == WIRE_NEED_MORE)
        break;
      ck_assert_int_ne(ev, WIRE_INVALID);
      if (ev == WIRE_HEADER) {
        size_t f = first + s->frames;
        ck_assert_uint_eq(wire_opcode(d.header.proto), specs[f].opcode);
        ck_assert_uint_eq(wire_more(d.header.proto), f & 1);
        ck_assert_uint_eq(d.header.status, f);
        ck_assert_uint_eq(d.header.channel, f + 1);
        ck_assert(d.header.message_id == 0x0102030405060708ull + f);
        ck_assert_uint_eq(d.header.headers_len, specs[f].th);
        ck_assert_uint_eq(d.header.body_len, specs[f].body);
        wire_decoder_set_dest(&d, specs[f].th ? s->th : NULL, specs[f].body ? s->body : NULL);
        continue;
      }
      size_t f = first + s->frames;
      /* Plain loops: a check assertion per byte would be slow. */
      size_t bad = 0;
      for (size_t i = 0; i < specs[f].th; i++)
        bad += s->th[i] != pat(f, i);
      for (size_t i = 0; i < specs[f].body; i++)
        bad += s->body[i] != pat(f, specs[f].th + i);
      ck_assert_uint_eq(bad, 0);
      s->frames++;
    }
    pos += piece;
    if (piece == 0 && pos == len)
      break;
  }
}

void case_wire_header_layout(void) {
  wire_header h = {0xA1B2, wire_proto(TOFU_OP_WELCOME_RESPONSE, 1, 1),
                   22,     0x1122334455667788ull,
                   0xC3D4, 0xE5F6};
  uint8_t b[WIRE_HEADER_SIZE];
  wire_encode_header(&h, b);
  const uint8_t want[WIRE_HEADER_SIZE] = {0xA1, 0xB2, 0x39, 22,   0x11, 0x22, 0x33, 0x44,
                                          0x55, 0x66, 0x77, 0x88, 0xC3, 0xD4, 0xE5, 0xF6};
  ck_assert_mem_eq(b, want, WIRE_HEADER_SIZE);
  wire_header back;
  wire_decode_header(b, &back);
  ck_assert(back.channel == h.channel && back.proto == h.proto && back.status == h.status);
  ck_assert(back.message_id == h.message_id && back.headers_len == h.headers_len &&
            back.body_len == h.body_len);
  ck_assert_uint_eq(wire_opcode(0x39), 9);
  ck_assert_uint_eq(wire_origin(0x39), 1);
  ck_assert_uint_eq(wire_more(0x39), 1);
  ck_assert_str_eq(tofu_status_name(TOFU_STATUS_CHANNEL_CLOSED), "channel_closed");
  ck_assert_str_eq(tofu_status_name(TOFU_STATUS_CONNECT_FAILED), "connect_failed");
  ck_assert_str_eq(tofu_status_name(200), "unknown_error");
}

void case_wire_decode_byte_by_byte(void) {
  size_t len;
  uint8_t *buf = encode_stream(0, NSPECS, &len);
  sink s = {0, 0, malloc(65535), malloc(65535)};
  size_t *ones = malloc(len * sizeof(size_t));
  for (size_t i = 0; i < len; i++)
    ones[i] = 1;
  decode_pieces(buf, len, 0, ones, len, &s);
  ck_assert_uint_eq(s.frames, NSPECS);
  free(ones);
  free(s.th);
  free(s.body);
  free(buf);
}

void case_wire_split_every_boundary(void) {
  /* Two small frames split into three pieces at every pair of boundaries. */
  size_t len;
  uint8_t *buf = encode_stream(0, 4, &len);
  sink s = {0, 0, malloc(65535), malloc(65535)};
  for (size_t a = 0; a <= len; a++) {
    for (size_t b = a; b <= len; b++) {
      size_t cuts[2] = {a, b - a};
      s.frames = 0;
      decode_pieces(buf, len, 0, cuts, 2, &s);
      ck_assert_uint_eq(s.frames, 4);
    }
  }
  free(buf);
  /* The largest frame in two pieces: split at every byte of the header and
   * around each part boundary, and every 257 bytes elsewhere. */
  buf = encode_stream(4, 5, &len);
  for (size_t a = 0; a <= len;
       a += (a < 100 || (a > 65500 && a < 65600) || a > len - 100) ? 1 : 257) {
    size_t cuts[1] = {a};
    s.frames = 0;
    decode_pieces(buf, len, 4, cuts, 1, &s);
    ck_assert_uint_eq(s.frames, 1);
  }
  free(buf);
  free(s.th);
  free(s.body);
}

/* Fed exactly wire_decoder_part_rest bytes at a time (as the Reactor reads
 * while another channel holds the read-ahead), the decoder ends every part
 * on an event and never takes a byte of the next part; it is idle between
 * frames only. */
void case_wire_part_rest(void) {
  size_t len;
  uint8_t *buf = encode_stream(0, NSPECS, &len);
  static uint8_t th[65535], body[65535];
  wire_decoder d;
  wire_decoder_init(&d);
  ck_assert(wire_decoder_idle(&d));
  ck_assert_uint_eq(wire_decoder_part_rest(&d), WIRE_HEADER_SIZE);
  size_t pos = 0, frames = 0;
  /* A header taken in two reads: not idle after the first byte. */
  size_t used;
  ck_assert_int_eq(wire_decoder_feed(&d, buf, 1, &used), WIRE_NEED_MORE);
  ck_assert(!wire_decoder_idle(&d));
  ck_assert_uint_eq(wire_decoder_part_rest(&d), WIRE_HEADER_SIZE - 1);
  pos = 1;
  while (pos < len) {
    size_t want = wire_decoder_part_rest(&d);
    ck_assert_uint_gt(want, 0);
    ck_assert_uint_le(pos + want, len);
    wire_event ev = wire_decoder_feed(&d, buf + pos, want, &used);
    ck_assert_uint_eq(used, want);
    pos += used;
    if (ev == WIRE_HEADER) {
      ck_assert(!wire_decoder_idle(&d));
      ck_assert_uint_eq(wire_decoder_part_rest(&d), 0); /* waits for its buffers */
      wire_decoder_set_dest(&d, th, body);
      const wire_header *h = &d.header;
      ck_assert_uint_eq(wire_decoder_part_rest(&d), (size_t)h->headers_len + h->body_len);
      if (h->headers_len + h->body_len == 0)
        ev = wire_decoder_feed(&d, buf + pos, 0, &used);
      else
        continue;
    }
    ck_assert_int_eq(ev, WIRE_FRAME);
    ck_assert(wire_decoder_idle(&d));
    frames++;
  }
  ck_assert_uint_eq(frames, NSPECS);
  free(buf);
}

void case_wire_invalid_opcode(void) {
  for (unsigned op = 0; op < 16; op++) {
    wire_header h = {1, wire_proto(op, 0, 0), 0, 1, 0, 0};
    uint8_t b[WIRE_HEADER_SIZE];
    wire_encode_header(&h, b);
    wire_decoder d;
    wire_decoder_init(&d);
    size_t used;
    wire_event ev = wire_decoder_feed(&d, b, sizeof b, &used);
    int travels = op <= TOFU_OP_BYE_SIGNAL; /* Welcome* are local; 10-15 are not opcodes */
    ck_assert_int_eq(ev, travels ? WIRE_HEADER : WIRE_INVALID);
    ck_assert_uint_eq(used, WIRE_HEADER_SIZE);
  }
}

void case_pool_hard_limit(void) {
  pool p;
  size_t limit = 10 * sizeof(tofu_message) + 4096;
  ck_assert_int_eq(pool_init(&p, 1000, limit), TOFU_ELIMIT);
  ck_assert_int_eq(pool_init(&p, 2, limit), TOFU_OK);
  tofu_message *m[16];
  int n = 0;
  /* pool_only gives the two free messages, then NULL. */
  m[n++] = pool_get(&p, 0);
  m[n++] = pool_get(&p, 0);
  ck_assert_ptr_nonnull(m[0]);
  ck_assert_ptr_nonnull(m[1]);
  ck_assert_ptr_null(pool_get(&p, 0));
  /* always allocates more while the limit allows. */
  while (n < 10)
    ck_assert_ptr_nonnull(m[n++] = pool_get(&p, 1));
  size_t used, lim, live, nfree;
  pool_counts(&p, &used, &lim, &live, &nfree);
  ck_assert_uint_eq(used, 10 * sizeof(tofu_message));
  ck_assert_uint_eq(live, 10);
  /* Buffer growth is charged: 8 KiB does not fit in the 4 KiB left... */
  uint8_t big[8192] = {0};
  ck_assert_int_eq(tofu_msg_set_body(m[0], big, sizeof big), TOFU_ELIMIT);
  ck_assert_int_eq(tofu_msg_set_body(m[0], big, 1000), TOFU_OK);
  /* ...and a free message's buffers are released to make room. */
  pool_put(&p, m[0]);
  ck_assert_int_eq(tofu_msg_set_body(m[1], big, 4000), TOFU_OK);
  pool_counts(&p, &used, &lim, &live, &nfree);
  ck_assert_uint_le(used, lim);
  /* Now the limit is reached: the free message comes back, then NULL. */
  m[0] = pool_get(&p, 1);
  ck_assert_ptr_nonnull(m[0]);
  ck_assert_ptr_null(pool_get(&p, 1));
  for (int i = 0; i < n; i++)
    pool_put(&p, m[i]);
  pool_counts(&p, &used, &lim, &live, &nfree);
  ck_assert_uint_eq(nfree, live);
  pool_fini(&p);
}

/* A frame's two buffers are charged together: one that does not fit leaves
 * nothing grown behind (a paused channel retried on a full pool must not
 * make and drop a 64 KiB buffer each time). */
void case_pool_frame_all_or_nothing(void) {
  pool p;
  size_t limit = 4 * sizeof(tofu_message) + 100000;
  ck_assert_int_eq(pool_init(&p, 2, limit), TOFU_OK);
  size_t used0, used, lim, live, nfree;
  pool_counts(&p, &used0, &lim, &live, &nfree);
  /* 65535 of text headers would fit, 65535 more of body would not. */
  ck_assert_ptr_null(pool_get_sized(&p, 65535, 65535));
  ck_assert_ptr_null(pool_reactor_get_sized(&p, 65535, 65535));
  pool_reactor_spill(&p);
  pool_counts(&p, &used, &lim, &live, &nfree);
  ck_assert_uint_eq(used, used0);
  tofu_message *m = pool_reactor_get_sized(&p, 30000, 60000);
  ck_assert_ptr_nonnull(m);
  pool_counts(&p, &used, &lim, &live, &nfree);
  ck_assert_uint_ge(used, used0 + 90000);
  ck_assert_uint_le(used, lim);
  pool_put(&p, m);
  pool_reactor_spill(&p);
  pool_fini(&p);
}

/* A message whose body buffer does not suit the frame it is taken for (a
 * body buffer, a frame of text headers only) gives that buffer up when
 * nothing else can make room: the frame gets the message, charged for its
 * headers alone, and the pool stays under its limit. */
void case_pool_frame_own_buffers(void) {
  pool p;
  ck_assert_int_eq(pool_init(&p, 0, 1u << 20), TOFU_OK);
  tofu_message *m = pool_reactor_get_sized(&p, 0, 30000);
  ck_assert_ptr_nonnull(m);
  ck_assert_uint_ge(m->body_cap, 30000);
  pool_reactor_put(&p, m); /* to the Reactor's cache, its buffer kept */
  size_t used, lim, live, nfree;
  pool_counts(&p, &used, &lim, &live, &nfree);
  p.limit = used + 500; /* no free message to trim: only m's own buffer can go */
  tofu_message *t = pool_reactor_get_sized(&p, 1000, 0);
  ck_assert_ptr_eq(t, m);
  ck_assert_uint_ge(t->th_cap, 1000);
  ck_assert_uint_eq(t->body_cap, 0);
  pool_counts(&p, &used, &lim, &live, &nfree);
  ck_assert_uint_le(used, lim);
  pool_reactor_put(&p, t);
  pool_reactor_spill(&p);
  pool_fini(&p);
}

/* The Reactor's cache goes back to the pool as one run of messages and is
 * taken again run by run: the message put last comes first, a thread that
 * takes the head of a run leaves the rest a run, trimming reaches inside a
 * run, and nothing is lost or counted twice. */
void case_pool_runs(void) {
  pool p;
  /* Room for three 16 KiB bodies (16000 rounds to 16384) and eight structs. */
  size_t limit = 8 * sizeof(tofu_message) + 3 * 16384;
  ck_assert_int_eq(pool_init(&p, 0, limit), TOFU_OK);
  size_t used, lim, live, nfree;
  tofu_message *m[3];
  for (int i = 0; i < 3; i++)
    ck_assert_ptr_nonnull(m[i] = pool_reactor_get_sized(&p, 0, 16000));
  /* The limit: a fourth struct is made but gets no body, and stays free. */
  ck_assert_ptr_null(pool_reactor_get_sized(&p, 0, 16000));
  for (int i = 0; i < 3; i++)
    pool_reactor_put(&p, m[i]);
  pool_reactor_spill(&p);
  pool_counts(&p, &used, &lim, &live, &nfree);
  ck_assert_uint_eq(live, 4);
  ck_assert_uint_eq(nfree, 4);
  /* The refill takes the spill back, the message put last first. */
  tofu_message *a = pool_reactor_get_sized(&p, 0, 16000);
  ck_assert_ptr_eq(a, m[2]);
  pool_counts(&p, &used, &lim, &live, &nfree);
  ck_assert_uint_eq(nfree, 3); /* the ones left in the cache count as free */
  pool_reactor_put(&p, a);
  pool_reactor_spill(&p);
  /* Another thread takes the head of the run, then the next one. */
  tofu_message *b1 = pool_get(&p, 0), *b2 = pool_get(&p, 0);
  ck_assert_ptr_eq(b1, m[2]);
  ck_assert_ptr_eq(b2, m[1]);
  /* 32 KiB for b1 fit only once m[0], inside the rest of the run, gives up
   * its buffer. */
  static uint8_t big[30000];
  ck_assert_int_eq(tofu_msg_set_body(b1, big, sizeof big), TOFU_OK);
  ck_assert_uint_eq(m[0]->body_cap, 0);
  pool_counts(&p, &used, &lim, &live, &nfree);
  ck_assert_uint_le(used, lim);
  ck_assert_uint_eq(nfree, 2);
  /* The rest of the run is still a run: the Reactor takes it whole. */
  tofu_message *c = pool_reactor_get_sized(&p, 0, 100);
  ck_assert_ptr_eq(c, m[0]);
  pool_counts(&p, &used, &lim, &live, &nfree);
  ck_assert_uint_eq(nfree, 1); /* the struct without a body, in the cache */
  pool_put(&p, b1);
  pool_put(&p, b2);
  pool_reactor_put(&p, c);
  pool_reactor_spill(&p);
  pool_counts(&p, &used, &lim, &live, &nfree);
  ck_assert_uint_eq(live, 4);
  ck_assert_uint_eq(nfree, 4);
  ck_assert_uint_le(used, lim);
  for (int i = 0; i < 4; i++)
    ck_assert_ptr_nonnull(pool_get(&p, 0));
  ck_assert_ptr_null(pool_get(&p, 0));
  pool_fini(&p);

  /* Two spills of 20: a refill takes the newer run alone (16 or more), the
   * older stays on the free list, and 40 gets give 40 messages, each once. */
  ck_assert_int_eq(pool_init(&p, 0, 1u << 20), TOFU_OK);
  tofu_message *got[40];
  for (int i = 0; i < 40; i++)
    ck_assert_ptr_nonnull(got[i] = pool_reactor_get_sized(&p, 0, 10));
  for (int r = 0; r < 2; r++) {
    for (int i = 0; i < 20; i++)
      pool_reactor_put(&p, got[20 * r + i]);
    pool_reactor_spill(&p);
  }
  for (int i = 0; i < 20; i++)
    ck_assert_ptr_nonnull(got[i] = pool_reactor_get_sized(&p, 0, 10));
  pool_counts(&p, &used, &lim, &live, &nfree);
  ck_assert_uint_eq(live, 40);
  ck_assert_uint_eq(nfree, 20);
  for (int i = 20; i < 40; i++)
    ck_assert_ptr_nonnull(got[i] = pool_reactor_get_sized(&p, 0, 10));
  ck_assert_ptr_null(pool_get(&p, 0)); /* all 40 are out */
  for (int i = 0; i < 40; i++)
    for (int j = i + 1; j < 40; j++)
      ck_assert_ptr_ne(got[i], got[j]);
  pool_counts(&p, &used, &lim, &live, &nfree);
  ck_assert_uint_eq(live, 40);
  for (int i = 0; i < 40; i++)
    pool_reactor_put(&p, got[i]);
  pool_reactor_spill(&p);
  pool_counts(&p, &used, &lim, &live, &nfree);
  ck_assert_uint_eq(nfree, 40);
  pool_fini(&p);
}

/* tofu_options_default fills every field, 0 means the default, a max_frame
 * no frame fits is refused, and a program built before the frame deadline
 * and the limits existed (a shorter size) gets their defaults, whatever its
 * struct holds past its size. */
void case_options_defaults(void) {
  tofu_options o;
  memset(&o, 0xff, sizeof o);
  tofu_options_default(&o);
  ck_assert_uint_eq(o.size, sizeof o);
  ck_assert_uint_eq(o.initial_messages, 16);
  ck_assert_uint_eq(o.max_memory, 64u << 20);
  ck_assert_int_eq(o.connect_timeout_ms, 10000);
  ck_assert_int_eq(o.frame_timeout_ms, 10000);
  ck_assert_uint_eq(o.max_channels, 65534);
  ck_assert_uint_eq(o.max_frame, TOFU_MAX_FRAME);
  tofu_engine *e;
  memset(&o, 0, sizeof o);
  o.size = sizeof o;
  ck_assert_int_eq(tofu_engine_create(&o, &e), TOFU_OK);
  tofu_engine_destroy(e);
  for (size_t bad = 1; bad < TOFU_HEADER_SIZE; bad++) {
    o.max_frame = bad;
    e = (tofu_engine *)&o;
    ck_assert_int_eq(tofu_engine_create(&o, &e), TOFU_EINVAL);
    ck_assert_ptr_null(e);
  }
  o.size = offsetof(tofu_options, frame_timeout_ms); /* an older program */
  ck_assert_int_eq(tofu_engine_create(&o, &e), TOFU_OK);
  tofu_engine_destroy(e);
  o.size = sizeof o;
  o.max_frame = TOFU_HEADER_SIZE;
  o.max_channels = 1u << 30;
  o.frame_timeout_ms = -1;
  ck_assert_int_eq(tofu_engine_create(&o, &e), TOFU_OK);
  tofu_engine_destroy(e);
}

/* The backend's record of one socket, with its share of the poller's
 * arrays, at most (poll: a 24-byte handle and three 8-byte slots; iocp_afd:
 * a 224-byte record and its entry in the poller's map). The reliability
 * suite measures the whole cost where it can count allocations
 * (reliability.limits_half_frames). */
#define BACKEND_RECORD_MAX 256

/* What a channel costs outside max_memory stays within the figure tofu.h
 * documents: its state, its channel_closed notice, three timer entries
 * (connect and hello, frame, nearest request deadline), its slot in the
 * channel table and share of the hash buckets, the backend's record. */
void case_channel_overhead(void) {
  size_t table = sizeof(channel *) + 2 * sizeof(UT_hash_bucket);
  size_t total =
      sizeof(channel) + sizeof(tofu_message) + 3 * sizeof(timer_entry) + table + BACKEND_RECORD_MAX;
  printf("channel %zu, notice %zu, timer entries 3 x %zu, table %zu, backend at most %d: %zu "
         "(bound %d)\n",
         sizeof(channel), sizeof(tofu_message), sizeof(timer_entry), table, BACKEND_RECORD_MAX,
         total, TOFU_CHANNEL_OVERHEAD);
  ck_assert_uint_le(total, TOFU_CHANNEL_OVERHEAD);
}

void case_message_limits(void) {
  tofu_engine *e = et_engine(0);
  tofu_message *m = tofu_get(e, TOFU_ALWAYS);
  static uint8_t big[65536];
  ck_assert_int_eq(tofu_msg_set_body(m, big, 65535), TOFU_OK);
  ck_assert_int_eq(tofu_msg_append_body(m, big, 1), TOFU_ELIMIT);
  ck_assert_int_eq(tofu_msg_set_body(m, big, 65536), TOFU_ELIMIT);
  size_t len;
  tofu_msg_body(m, &len);
  ck_assert_uint_eq(len, 65535); /* unchanged */
  ck_assert_int_eq(tofu_msg_set_headers(m, big, 65536), TOFU_ELIMIT);
  ck_assert_int_eq(tofu_msg_add_header(m, "a:b", "x"), TOFU_EINVAL);
  ck_assert_int_eq(tofu_msg_add_header(m, "a", "x\r\n"), TOFU_EINVAL);
  ck_assert_int_eq(tofu_msg_add_header(m, "", "x"), TOFU_EINVAL);
  ck_assert_int_eq(tofu_msg_add_header(m, "name", "  value "), TOFU_OK);
  ck_assert_int_eq(tofu_msg_add_header(m, "other", "v2"), TOFU_OK);
  const char *v;
  ck_assert(tofu_msg_find_header(m, "name", &v, &len));
  ck_assert(len == 5 && memcmp(v, "value", 5) == 0);
  ck_assert(tofu_msg_find_header(m, "other", &v, &len));
  ck_assert(len == 2 && memcmp(v, "v2", 2) == 0);
  ck_assert(!tofu_msg_find_header(m, "nam", &v, &len));
  const char *raw = tofu_msg_headers(m, &len);
  /* Written as tofu (Zig) writes them: no space after the colon. */
  ck_assert(len == strlen("name:  value \r\nother:v2\r\n"));
  ck_assert(memcmp(raw, "name:  value \r\nother:v2\r\n", len) == 0);
  tofu_put(e, &m);
  ck_assert_ptr_null(m);
  tofu_put(e, &m); /* NULL is a no-op */
  et_assert_all_returned(e);
  tofu_engine_destroy(e);
}

void case_message_body_mut(void) {
  tofu_engine *e = et_engine(0);
  tofu_message *m = tofu_get(e, TOFU_ALWAYS);
  size_t len = 99;
  tofu_msg_body_mut(m, &len);
  ck_assert_uint_eq(len, 0);
  ck_assert_ptr_null(tofu_msg_body_mut(NULL, &len));
  ck_assert_uint_eq(len, 0);
  ck_assert_int_eq(tofu_msg_set_body(m, "abcdef", 6), TOFU_OK);
  uint8_t *b = tofu_msg_body_mut(m, &len);
  ck_assert_uint_eq(len, 6);
  b[0] = 'X';
  b[5] = 'Y';
  const void *ro = tofu_msg_body(m, &len);
  ck_assert_ptr_eq(ro, b);
  ck_assert(len == 6 && memcmp(ro, "XbcdeY", 6) == 0);
  tofu_put(e, &m);
  et_assert_all_returned(e);
  tofu_engine_destroy(e);
}

void case_msgq_and_mailbox(void) {
  tofu_message a, b, c;
  msgq q, r;
  msgq_init(&q);
  msgq_init(&r);
  msgq_push(&q, &a);
  msgq_push(&q, &b);
  msgq_push_front(&q, &c);
  ck_assert_uint_eq(q.count, 3);
  msgq_take_all(&r, &q);
  ck_assert(msgq_empty(&q));
  ck_assert_ptr_eq(msgq_pop(&r), &c);
  ck_assert_ptr_eq(msgq_pop(&r), &a);
  ck_assert_ptr_eq(msgq_pop(&r), &b);
  ck_assert_ptr_null(msgq_pop(&r));

  mailbox mb;
  ck_assert_int_eq(mailbox_init(&mb), TOFU_OK);
  uint64_t t0 = mono_now_ms();
  ck_assert_ptr_null(mailbox_wait(&mb, 0, NULL));
  ck_assert_ptr_null(mailbox_wait(&mb, 50, NULL));
  ck_assert_uint_ge(mono_now_ms() - t0, 50);
  mailbox_put(&mb, &a);
  msgq_push(&q, &b);
  msgq_push(&q, &c);
  mailbox_put_all(&mb, &q);
  ck_assert_ptr_eq(mailbox_wait(&mb, -1, NULL), &a);
  ck_assert_ptr_eq(mailbox_wait(&mb, 0, NULL), &b);
  ck_assert_ptr_eq(mailbox_wait(&mb, 10, NULL), &c);
  mailbox_fini(&mb);
}

static int timers_odd_due(const timer_entry *e, void *arg) {
  (void)arg;
  return e->due_ms % 2 == 1;
}

static void timers_none_removed(const timer_entry *e, void *arg) {
  (void)e;
  (void)arg;
}

void case_timers_order(void) {
  timers t;
  timers_init(&t);
  ck_assert_int_eq(timers_timeout(&t, 0), -1);
  for (int i = 0; i < 100; i++) {
    timer_entry add = {.due_ms = (i * 37) % 50, .kind = TIMER_APP};
    ck_assert_int_eq(timers_add(&t, &add), TOFU_OK);
  }
  ck_assert_int_eq(timers_timeout(&t, -10), 10);
  timer_entry e;
  int64_t last = -1;
  int count = 0;
  while (timers_pop_due(&t, 1000, &e)) {
    ck_assert(e.due_ms >= last);
    last = e.due_ms;
    count++;
  }
  ck_assert_int_eq(count, 100);
  timers_fini(&t);
}

/* ---- The index of open requests (requests.h) ------------------------------ */

/* An engine's Reactor state without a Reactor: this thread plays it. */
typedef struct fake_reactor {
  tofu_engine *e;
  channel ch[2];
} fake_reactor;

static void fake_reactor_init(fake_reactor *f, size_t limit, size_t messages) {
  f->e = calloc(1, sizeof(*f->e));
  ck_assert_ptr_nonnull(f->e);
  ck_assert_int_eq(pool_init(&f->e->pool, messages, limit), TOFU_OK);
  requests_init(&f->e->reactor.requests);
  memset(f->ch, 0, sizeof f->ch);
  for (int i = 0; i < 2; i++) {
    f->ch[i].engine = f->e;
    f->ch[i].number = (uint16_t)(i + 1);
  }
}

static void fake_reactor_fini(fake_reactor *f) {
  requests_fini(f->e);
  pool_reactor_spill(&f->e->pool);
  pool_fini(&f->e->pool);
  free(f->e);
}

static size_t pool_used(pool *p) {
  size_t used, limit, live, nfree;
  pool_reactor_spill(p);
  pool_counts(p, &used, &limit, &live, &nfree);
  return used;
}

/* Keep n requests (ids base, base+1, ... on channel 1, and every third id
 * also on channel 2), answer them in a shuffled order: each is found once,
 * on its own channel, then never again; the index gives its memory back. */
static void index_round(size_t limit, size_t preallocated, int n, uint64_t base, int overflow) {
  fake_reactor f;
  fake_reactor_init(&f, limit, preallocated);
  size_t used0 = pool_used(&f.e->pool);
  enum { MAX = 4096 };
  ck_assert_int_le(n + n / 3 + 1, MAX);
  static struct {
    int ch;
    uint64_t id;
  } kept[MAX];
  int k = 0;
  for (int i = 0; i < n; i++) {
    for (int c = 0; c < (i % 3 == 0 ? 2 : 1); c++) {
      tofu_message *m = pool_get(&f.e->pool, 1);
      ck_assert_ptr_nonnull(m);
      m->hdr.opcode = TOFU_OP_REQUEST;
      m->hdr.message_id = base + (uint64_t)i;
      ck_assert(requests_opens(m));
      ck_assert_int_eq(requests_keep(&f.ch[c], m), TOFU_OK);
      kept[k].ch = c;
      kept[k].id = m->hdr.message_id;
      k++;
    }
  }
  ck_assert_uint_eq(f.e->reactor.requests.count, (size_t)k);
  /* Answered in order, the oldest first: the table is not needed. */
  ck_assert_int_eq(requests_answer(&f.ch[0], kept[0].id, 1), REQ_ANSWERS);
  ck_assert_uint_eq(f.e->reactor.requests.used, 0);
  ck_assert_ptr_null(f.e->reactor.requests.overflow);
  /* Out of order: the channel's records go in the table (the ones that do
   * not fit, outside it). */
  ck_assert_int_eq(kept[2].ch, 0);
  ck_assert_int_eq(requests_answer(&f.ch[0], kept[2].id, 1), REQ_ANSWERS);
  ck_assert_uint_gt(f.e->reactor.requests.used, 0);
  ck_assert_int_eq(f.e->reactor.requests.overflow != NULL, overflow != 0);
  if (overflow == 2) {
    /* Memory comes back (the limit is raised): once the records have
     * doubled, the table grows again and takes in every record that waited
     * outside it. The records of channel 1, answered out of order, make the
     * index ask. */
    f.e->pool.limit = 64u << 20;
    int more = k + 8;
    for (int i = 0; i < more; i++) {
      tofu_message *m = pool_get(&f.e->pool, 1);
      ck_assert_ptr_nonnull(m);
      m->hdr.opcode = TOFU_OP_REQUEST;
      m->hdr.message_id = base + 100000 + (uint64_t)i;
      ck_assert_int_eq(requests_keep(&f.ch[1], m), TOFU_OK);
      kept[k].ch = 1;
      kept[k].id = m->hdr.message_id;
      k++;
    }
    ck_assert_int_eq(requests_answer(&f.ch[1], kept[k - 1].id, 1), REQ_ANSWERS);
    ck_assert_ptr_null(f.e->reactor.requests.overflow);
    ck_assert_uint_eq(f.e->reactor.requests.used, f.e->reactor.requests.count);
  }
  srand(7);
  for (int i = k - 1; i > 0; i--) { /* a seeded shuffle */
    int j = rand() % (i + 1);
    int tc = kept[i].ch;
    uint64_t ti = kept[i].id;
    kept[i] = kept[j];
    kept[j].ch = tc;
    kept[j].id = ti;
  }
  for (int i = 0; i < k; i++) {
    channel *ch = &f.ch[kept[i].ch];
    ck_assert_int_eq(requests_answer(ch, kept[i].id, 1), REQ_ANSWERS); /* a part: stays open */
    ck_assert_int_eq(requests_answer(ch, kept[i].id, 0), REQ_ANSWERS);
    ck_assert_int_eq(requests_answer(ch, kept[i].id, 0), REQ_UNSOLICITED);
  }
  ck_assert_uint_eq(f.e->reactor.requests.count, 0);
  ck_assert_ptr_null(f.e->reactor.requests.overflow);
  ck_assert_ptr_eq(f.e->reactor.requests.slots, f.e->reactor.requests.small);
  ck_assert_ptr_null(f.ch[0].req_first);
  ck_assert_ptr_null(f.ch[1].req_last);
  /* Every message is free again and the table's bytes are given back: what
   * is charged now is the messages' alone, as many as were made. */
  size_t used, lim, live, nfree;
  pool_counts(&f.e->pool, &used, &lim, &live, &nfree);
  ck_assert_uint_eq(live, nfree);
  ck_assert_uint_eq(used, used0 + (live - preallocated) * sizeof(tofu_message));
  fake_reactor_fini(&f);
}

void case_requests_index(void) {
  /* Room to grow: the table doubles several times. */
  index_round(64u << 20, 0, 3000, 1, 0);
  /* Ids near the top of the range, so that homes wrap around the table. */
  index_round(64u << 20, 0, 500, UINT64_MAX - 600, 0);
  /* Every channel counting its own ids from 1 (the same ids on both). */
  index_round(64u << 20, 0, 2000, 1, 0);
  /* No room to grow past the small table: records wait outside it. */
  index_round(140 * sizeof(tofu_message), 140, 100, 1000, 1);
  /* The same, then room again: the records outside move into the table. */
  index_round(140 * sizeof(tofu_message), 140, 100, 1000, 2);
}

/* Every back-reference names its entry's position, and the heap is ordered. */
static void timers_check(const timers *t, size_t *const *owner, size_t owners) {
  for (size_t i = 1; i < t->n; i++) {
    const timer_entry *p = &t->v[(i - 1) / 2], *c = &t->v[i];
    ck_assert(p->due_ms < c->due_ms || (p->due_ms == c->due_ms && p->seq < c->seq));
  }
  for (size_t i = 0; i < t->n; i++)
    if (t->v[i].at)
      ck_assert_uint_eq(*t->v[i].at, i);
  for (size_t k = 0; k < owners; k++)
    if (*owner[k] != TIMERS_NONE)
      ck_assert_ptr_eq(t->v[*owner[k]].at, owner[k]);
}

/* Entries with back-references (a channel's) are moved and cancelled by
 * position; the others (application timers) are untouched by it; the heap
 * stays ordered, and its storage shrinks as it empties (the Reactor's heap
 * held every stale entry of closed channels until it fired, and its array
 * never shrank). */
void case_timers_cancel_shrink(void) {
  enum { N = 4000, APPS = 100 };
  static size_t at[N];
  static size_t *owner[N];
  timers t;
  timers_init(&t);
  for (size_t i = 0; i < N; i++) {
    at[i] = TIMERS_NONE;
    owner[i] = &at[i];
    timer_entry add = {.due_ms = (int64_t)((i * 7919) % 1000), .at = &at[i], .kind = TIMER_CONNECT};
    ck_assert_int_eq(timers_add(&t, &add), TOFU_OK);
    ck_assert_uint_ne(at[i], TIMERS_NONE);
  }
  for (int i = 0; i < APPS; i++) {
    timer_entry add = {.due_ms = 500 + i, .kind = TIMER_APP};
    ck_assert_int_eq(timers_add(&t, &add), TOFU_OK);
  }
  timers_check(&t, owner, N);
  size_t full = t.cap;
  ck_assert_uint_ge(full, N + APPS);

  /* Moved: nearer and later; still one entry each. */
  for (size_t i = 0; i < N; i += 3) {
    timer_entry mv = {.due_ms = (int64_t)((i * 31) % 1200), .at = &at[i], .kind = TIMER_REQUEST};
    ck_assert_int_eq(timers_set(&t, &mv), TOFU_OK);
  }
  ck_assert_uint_eq(t.n, N + APPS);
  timers_check(&t, owner, N);

  /* Cancelled in a scattered order, all of them; twice is harmless. */
  for (size_t k = 0; k < N; k++) {
    size_t i = (k * 2654435761u) % N;
    while (at[i] == TIMERS_NONE)
      i = (i + 1) % N;
    timers_cancel(&t, &at[i]);
    ck_assert_uint_eq(at[i], TIMERS_NONE);
    timers_cancel(&t, &at[i]);
    if (k % 97 == 0)
      timers_check(&t, owner, N);
  }
  ck_assert_uint_eq(t.n, APPS);
  timers_check(&t, owner, N);
  printf("timers: capacity %zu entries with %d, %zu with %d\n", full, N + APPS, t.cap, APPS);
  ck_assert_uint_le(t.cap, 4 * APPS);
  ck_assert_uint_lt(t.cap, full);

  /* The application timers are all there, in order. */
  timer_entry e;
  int64_t last = -1;
  int count = 0;
  while (timers_pop_due(&t, 10000, &e)) {
    ck_assert_int_eq(e.kind, TIMER_APP);
    ck_assert(e.due_ms > last);
    last = e.due_ms;
    count++;
  }
  ck_assert_int_eq(count, APPS);
  ck_assert_uint_le(t.cap, 64); /* down to the floor */

  /* remove_if keeps the back-references true. */
  for (size_t i = 0; i < 1000; i++) {
    timer_entry add = {.due_ms = (int64_t)((i * 13) % 100), .at = &at[i], .kind = TIMER_FRAME};
    ck_assert_int_eq(timers_add(&t, &add), TOFU_OK);
  }
  timers_remove_if(&t, timers_odd_due, timers_none_removed, NULL);
  ck_assert_uint_eq(t.n, 500);
  timers_check(&t, owner, 1000);
  for (size_t i = 0; i < 1000; i++)
    ck_assert((at[i] == TIMERS_NONE) == ((i * 13) % 100 % 2 == 1));
  last = -1;
  while (timers_pop_due(&t, 10000, &e)) {
    ck_assert(e.due_ms >= last);
    ck_assert_uint_eq(*e.at, TIMERS_NONE);
    last = e.due_ms;
  }
  timers_fini(&t);
}
