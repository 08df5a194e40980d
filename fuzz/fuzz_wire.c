/* Fuzz target: the incremental frame decoder (common/wire.c).
 *
 * Input: 4 bytes that seed the chunk sizes, then a byte stream. The stream is
 * decoded twice: fed whole, and fed in chunks of random sizes (1 byte to all
 * that is left). Both runs must report the same frames with the same bytes
 * and stop at the same place, every byte given must be accounted for, and
 * the decoder must never write outside the buffers it was given (ASan). */
#include <string.h>

#include "fuzz.h"
#include "wire.h"

typedef struct decode_result {
  unsigned frames;
  uint64_t digest; /* of every header and payload byte, in order */
  int invalid;
  size_t consumed;
} decode_result;

static uint64_t mix(uint64_t h, const uint8_t *p, size_t n) {
  for (size_t i = 0; i < n; i++)
    h = (h ^ p[i]) * 0x100000001b3ull;
  return h;
}

static uint32_t next_chunk(uint32_t *state) {
  *state ^= *state << 13;
  *state ^= *state >> 17;
  *state ^= *state << 5;
  return *state;
}

static void decode(const uint8_t *in, size_t n, uint32_t chunk_seed, decode_result *r) {
  wire_decoder d;
  wire_decoder_init(&d);
  memset(r, 0, sizeof *r);
  r->digest = 0xcbf29ce484222325ull;
  uint8_t *th = NULL, *body = NULL;
  size_t pos = 0;
  uint32_t state = chunk_seed | 1u;
  int pending_frame = 0; /* a frame without payload completes with n == 0 */
  while (pos < n || pending_frame) {
    size_t left = n - pos;
    size_t chunk = left;
    if (chunk_seed && left > 1) {
      uint32_t x = next_chunk(&state);
      chunk = (x & 3) == 0 ? 1 : 1 + x % left; /* one byte at a time a quarter of the time */
    }
    size_t used = 0;
    wire_event ev = wire_decoder_feed(&d, in + pos, chunk, &used);
    FUZZ_CHECK(used <= chunk);
    pos += used;
    pending_frame = 0;
    if (ev == WIRE_INVALID) {
      r->invalid = 1;
      break;
    }
    if (ev == WIRE_NEED_MORE) {
      FUZZ_CHECK(used == chunk);
      continue;
    }
    if (ev == WIRE_HEADER) {
      FUZZ_CHECK(wire_decoder_wants_dest(&d));
      FUZZ_CHECK(wire_opcode_travels(wire_opcode(d.header.proto)));
      uint8_t hb[WIRE_HEADER_SIZE];
      wire_encode_header(&d.header, hb);
      r->digest = mix(r->digest, hb, sizeof hb);
      /* Exact sizes, so that ASan sees any write past them. */
      th = d.header.headers_len ? malloc(d.header.headers_len) : NULL;
      body = d.header.body_len ? malloc(d.header.body_len) : NULL;
      wire_decoder_set_dest(&d, th, body);
      FUZZ_CHECK(!wire_decoder_wants_dest(&d));
      pending_frame = d.header.headers_len == 0 && d.header.body_len == 0;
      continue;
    }
    /* WIRE_FRAME */
    r->frames++;
    if (th)
      r->digest = mix(r->digest, th, d.header.headers_len);
    if (body)
      r->digest = mix(r->digest, body, d.header.body_len);
    free(th);
    free(body);
    th = body = NULL;
  }
  free(th);
  free(body);
  r->consumed = pos;
}

int fuzz_wire_one(const uint8_t *data, size_t size) {
  if (size < 4)
    return 0;
  uint32_t seed = (uint32_t)data[0] | (uint32_t)data[1] << 8 | (uint32_t)data[2] << 16 |
                  (uint32_t)data[3] << 24;
  decode_result whole, split;
  decode(data + 4, size - 4, 0, &whole);
  decode(data + 4, size - 4, seed ? seed : 1, &split);
  FUZZ_CHECK(whole.frames == split.frames);
  FUZZ_CHECK(whole.digest == split.digest);
  FUZZ_CHECK(whole.invalid == split.invalid);
  FUZZ_CHECK(whole.consumed == split.consumed);
  /* Encoding what was decoded gives the same 16 bytes back. */
  if (size - 4 >= WIRE_HEADER_SIZE) {
    wire_header h;
    uint8_t again[WIRE_HEADER_SIZE];
    wire_decode_header(data + 4, &h);
    wire_encode_header(&h, again);
    FUZZ_CHECK(memcmp(again, data + 4, WIRE_HEADER_SIZE) == 0);
  }
  return 0;
}

#ifdef TOFU_LIBFUZZER
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  return fuzz_wire_one(data, size);
}
#endif
