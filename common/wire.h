/* wire — tofu's frame format: a 16-byte big-endian header, then the text
 * headers, then the body. Encoding of the header and an incremental decoder
 * that accepts input split at any byte boundary. */
#ifndef TOFU_WIRE_H
#define TOFU_WIRE_H

#include <stddef.h>
#include <stdint.h>

#define WIRE_HEADER_SIZE 16

/* The header as it is on the wire, unpacked. */
typedef struct wire_header {
  uint16_t channel;
  uint8_t proto; /* bits 0-3 opcode, bit 4 origin, bit 5 more, bits 6-7 internal */
  uint8_t status;
  uint64_t message_id;
  uint16_t headers_len;
  uint16_t body_len;
} wire_header;

static inline unsigned wire_opcode(uint8_t proto) {
  return proto & 0x0fu;
}
static inline unsigned wire_origin(uint8_t proto) {
  return (proto >> 4) & 1u;
}
static inline unsigned wire_more(uint8_t proto) {
  return (proto >> 5) & 1u;
}
static inline uint8_t wire_proto(unsigned opcode, unsigned origin, unsigned more) {
  return (uint8_t)((opcode & 0x0fu) | ((origin & 1u) << 4) | ((more & 1u) << 5));
}

/* Whether a frame with this opcode may travel between peers: opcodes 0-7
 * (Request, Response, Signal, Hello*, Bye*); WelcomeRequest and
 * WelcomeResponse are local, 10-15 are not opcodes. */
int wire_opcode_travels(unsigned opcode);

void wire_encode_header(const wire_header *h, uint8_t out[WIRE_HEADER_SIZE]);
void wire_decode_header(const uint8_t in[WIRE_HEADER_SIZE], wire_header *h);

/* What wire_decoder_feed found. */
typedef enum wire_event {
  WIRE_NEED_MORE = 0, /* every byte given was consumed; feed more */
  WIRE_HEADER = 1,    /* a header is complete (decoder.header); call wire_decoder_set_dest */
  WIRE_FRAME = 2,     /* the frame's text headers and body are in the destination buffers */
  WIRE_INVALID = 3    /* the header breaks the rules (opcode that does not travel) */
} wire_event;

typedef struct wire_decoder {
  uint8_t hbuf[WIRE_HEADER_SIZE];
  size_t hgot;          /* header bytes collected */
  int state;            /* internal */
  wire_header header;   /* valid from WIRE_HEADER until the next frame starts */
  uint8_t *headers_dst; /* where the text headers go (header.headers_len bytes) */
  uint8_t *body_dst;    /* where the body goes (header.body_len bytes) */
  size_t got;           /* payload bytes copied so far */
} wire_decoder;

void wire_decoder_init(wire_decoder *d);

/* Give the buffers for the frame whose header was just reported. They must
 * hold header.headers_len and header.body_len bytes (NULL when 0). A body
 * destination that is where the body's bytes will be fed from (the body
 * left in place in the read buffer) is not copied. */
void wire_decoder_set_dest(wire_decoder *d, uint8_t *headers_dst, uint8_t *body_dst);

/* Whether the decoder waits for wire_decoder_set_dest. */
int wire_decoder_wants_dest(const wire_decoder *d);

/* Consume bytes from in[0..n) and stop at the first event; *used receives how
 * many bytes were consumed. After WIRE_HEADER the caller must set the
 * destination before feeding again (a frame without payload then completes
 * with WIRE_FRAME even when n == 0). After WIRE_INVALID the decoder must not
 * be fed again. */
wire_event wire_decoder_feed(wire_decoder *d, const uint8_t *in, size_t n, size_t *used);

/* Reading a body straight into its destination (no copy through a read
 * buffer): the part of the current frame's body still missing, as *dst and
 * the returned length; 0 when the decoder is not inside a body. After the
 * caller wrote n (<= that length) bytes at *dst, wire_decoder_body_filled
 * records them and returns WIRE_FRAME if the frame is complete, else
 * WIRE_NEED_MORE. */
size_t wire_decoder_body_span(const wire_decoder *d, uint8_t **dst);
wire_event wire_decoder_body_filled(wire_decoder *d, size_t n);

/* Whether the decoder stands between frames (no byte of a next frame taken
 * yet). */
int wire_decoder_idle(const wire_decoder *d);

/* How many bytes the decoder takes before its next event: the rest of the
 * header, or the rest of the frame's payload (0 for a frame without payload
 * waiting for wire_decoder_set_dest). A read of at most this many bytes can
 * end a frame part but never reaches into the next one. */
size_t wire_decoder_part_rest(const wire_decoder *d);

#endif /* TOFU_WIRE_H */
