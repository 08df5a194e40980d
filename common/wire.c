#include "wire.h"

#include <string.h>

#include "tofu/tofu.h"

enum { DEC_HEADER = 0, DEC_WANT_DEST = 1, DEC_PAYLOAD = 2, DEC_BROKEN = 3 };

int wire_opcode_travels(unsigned opcode) {
  switch (opcode) {
  case TOFU_OP_REQUEST:
  case TOFU_OP_RESPONSE:
  case TOFU_OP_SIGNAL:
  case TOFU_OP_HELLO_REQUEST:
  case TOFU_OP_HELLO_RESPONSE:
  case TOFU_OP_BYE_REQUEST:
  case TOFU_OP_BYE_RESPONSE:
  case TOFU_OP_BYE_SIGNAL:
    return 1;
  default:
    return 0;
  }
}

static void put16(uint8_t *p, uint16_t v) {
  p[0] = (uint8_t)(v >> 8);
  p[1] = (uint8_t)v;
}

static uint16_t get16(const uint8_t *p) {
  return (uint16_t)((p[0] << 8) | p[1]);
}

void wire_encode_header(const wire_header *h, uint8_t out[WIRE_HEADER_SIZE]) {
  put16(out, h->channel);
  out[2] = h->proto;
  out[3] = h->status;
  for (int i = 0; i < 8; i++)
    out[4 + i] = (uint8_t)(h->message_id >> (56 - 8 * i));
  put16(out + 12, h->headers_len);
  put16(out + 14, h->body_len);
}

void wire_decode_header(const uint8_t in[WIRE_HEADER_SIZE], wire_header *h) {
  h->channel = get16(in);
  h->proto = in[2];
  h->status = in[3];
  h->message_id = 0;
  for (int i = 0; i < 8; i++)
    h->message_id = (h->message_id << 8) | in[4 + i];
  h->headers_len = get16(in + 12);
  h->body_len = get16(in + 14);
}

void wire_decoder_init(wire_decoder *d) {
  memset(d, 0, sizeof(*d));
  d->state = DEC_HEADER;
}

void wire_decoder_set_dest(wire_decoder *d, uint8_t *headers_dst, uint8_t *body_dst) {
  d->headers_dst = headers_dst;
  d->body_dst = body_dst;
  d->got = 0;
  d->state = DEC_PAYLOAD;
}

int wire_decoder_wants_dest(const wire_decoder *d) {
  return d->state == DEC_WANT_DEST;
}

/* Copy payload bytes: the text headers first, then the body. */
static size_t copy_payload(wire_decoder *d, const uint8_t *in, size_t n) {
  size_t hl = d->header.headers_len;
  size_t total = hl + d->header.body_len;
  size_t want = total - d->got;
  size_t take = n < want ? n : want;
  size_t done = 0;
  if (d->got < hl) {
    size_t part = hl - d->got;
    if (part > take)
      part = take;
    memcpy(d->headers_dst + d->got, in, part);
    d->got += part;
    done = part;
  }
  if (done < take) {
    uint8_t *dst = d->body_dst + (d->got - hl);
    if (dst != in + done) /* else the body is read in place (a bound read block) */
      memcpy(dst, in + done, take - done);
    d->got += take - done;
  }
  return take;
}

/* A whole header is in raw: decode it and say what comes next. */
static wire_event header_complete(wire_decoder *d, const uint8_t *raw) {
  wire_decode_header(raw, &d->header);
  if (!wire_opcode_travels(wire_opcode(d->header.proto))) {
    d->state = DEC_BROKEN;
    return WIRE_INVALID;
  }
  d->state = DEC_WANT_DEST;
  return WIRE_HEADER;
}

wire_event wire_decoder_feed(wire_decoder *d, const uint8_t *in, size_t n, size_t *used) {
  size_t pos = 0;
  wire_event ev = WIRE_NEED_MORE;
  switch (d->state) {
  case DEC_HEADER: {
    if (d->hgot == 0 && n >= WIRE_HEADER_SIZE) { /* whole: decode in place */
      pos = WIRE_HEADER_SIZE;
      ev = header_complete(d, in);
      break;
    }
    size_t take = WIRE_HEADER_SIZE - d->hgot;
    if (take > n)
      take = n;
    memcpy(d->hbuf + d->hgot, in, take);
    d->hgot += take;
    pos = take;
    if (d->hgot == WIRE_HEADER_SIZE) {
      d->hgot = 0;
      ev = header_complete(d, d->hbuf);
    }
    break;
  }
  case DEC_WANT_DEST:
    ev = WIRE_HEADER; /* still waiting for set_dest */
    break;
  case DEC_PAYLOAD:
    pos = copy_payload(d, in, n);
    if (d->got == (size_t)d->header.headers_len + d->header.body_len) {
      d->state = DEC_HEADER;
      ev = WIRE_FRAME;
    }
    break;
  default:
    ev = WIRE_INVALID;
    break;
  }
  *used = pos;
  return ev;
}

size_t wire_decoder_body_span(const wire_decoder *d, uint8_t **dst) {
  size_t hl = d->header.headers_len;
  if (d->state != DEC_PAYLOAD || d->got < hl)
    return 0;
  *dst = d->body_dst + (d->got - hl);
  return hl + d->header.body_len - d->got;
}

wire_event wire_decoder_body_filled(wire_decoder *d, size_t n) {
  d->got += n;
  if (d->got == (size_t)d->header.headers_len + d->header.body_len) {
    d->state = DEC_HEADER;
    return WIRE_FRAME;
  }
  return WIRE_NEED_MORE;
}

int wire_decoder_idle(const wire_decoder *d) {
  return d->state == DEC_HEADER && d->hgot == 0;
}

size_t wire_decoder_part_rest(const wire_decoder *d) {
  switch (d->state) {
  case DEC_HEADER:
    return WIRE_HEADER_SIZE - d->hgot;
  case DEC_PAYLOAD:
    return (size_t)d->header.headers_len + d->header.body_len - d->got;
  default:
    return 0;
  }
}
