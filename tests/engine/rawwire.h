/* tofu — the engine suite's raw peer: frames written and read by hand from
 * the wire format (docs/wire-format.md), as a Zig tofu node does, and never
 * through wire.c, so that the engine's codec is checked against an encoding
 * of its own. Used by large.c and zig.c. */
#ifndef TOFU_TEST_ENGINE_RAWWIRE_H
#define TOFU_TEST_ENGINE_RAWWIRE_H

#include "suite.h"

/* A frame's 16-byte binary header, decoded (big-endian fields). */
typedef struct rw_header {
  uint16_t channel;
  unsigned opcode, origin, more;
  uint8_t status;
  uint64_t id;
  size_t th_len, body_len;
} rw_header;

/* len bytes from a blocking socket; fails the case if the engine closes or
 * fails first. */
void rw_read_exact(tofu_socket s, uint8_t *buf, size_t len);

/* All of b to a blocking socket; fails the case on an error. */
void rw_send_all(tofu_socket s, const uint8_t *b, size_t len);

/* The next 16 bytes of s into b, decoded into h. */
void rw_read_header(tofu_socket s, uint8_t b[16], rw_header *h);

/* The frame (channel ch, opcode op, more, id, text headers th, body of bl
 * bytes; origin application, status 0) into out, which has room for
 * 16 + strlen(th) + bl bytes; returns that length. */
size_t rw_encode(uint8_t *out, uint16_t ch, unsigned op, unsigned more, uint64_t id, const char *th,
                 const uint8_t *body, size_t bl);

/* A raw listener on 127.0.0.1 and e's client connected to it: posts the
 * client's HelloRequest on g (its header in *hello, the address it connects
 * to in addr) and returns the accepted socket, blocking, with the
 * HelloRequest still unread. */
tofu_socket rw_accept_client(tofu_engine *e, tofu_group *g, char *addr, size_t addr_len,
                             tofu_header *hello);

#endif /* TOFU_TEST_ENGINE_RAWWIRE_H */
