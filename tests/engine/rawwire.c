/* tofu — the engine suite's raw peer (see rawwire.h). */
#include "rawwire.h"

#include <stdio.h>
#include <string.h>

void rw_read_exact(tofu_socket s, uint8_t *buf, size_t len) {
  size_t off = 0;
  while (off < len) {
    ptrdiff_t n = net_recv(s, buf + off, len - off);
    ck_assert_msg(n > 0, "the engine closed or failed after %zu of %zu bytes", off, len);
    off += (size_t)n;
  }
}

void rw_send_all(tofu_socket s, const uint8_t *b, size_t len) {
  size_t off = 0;
  while (off < len) {
    ptrdiff_t n = net_send(s, b + off, len - off);
    ck_assert_int_gt(n, 0);
    off += (size_t)n;
  }
}

void rw_read_header(tofu_socket s, uint8_t b[16], rw_header *h) {
  rw_read_exact(s, b, 16);
  h->channel = (uint16_t)(b[0] << 8 | b[1]);
  h->opcode = b[2] & 0x0f;
  h->origin = b[2] >> 4 & 1;
  h->more = b[2] >> 5 & 1;
  h->status = b[3];
  h->id = 0;
  for (int i = 4; i < 12; i++)
    h->id = h->id << 8 | b[i];
  h->th_len = (size_t)(b[12] << 8 | b[13]);
  h->body_len = (size_t)(b[14] << 8 | b[15]);
}

size_t rw_encode(uint8_t *out, uint16_t ch, unsigned op, unsigned more, uint64_t id, const char *th,
                 const uint8_t *body, size_t bl) {
  size_t tl = strlen(th);
  out[0] = (uint8_t)(ch >> 8);
  out[1] = (uint8_t)ch;
  out[2] = (uint8_t)(op | more << 5);
  out[3] = 0;
  for (int i = 0; i < 8; i++)
    out[4 + i] = (uint8_t)(id >> (56 - 8 * i));
  out[12] = (uint8_t)(tl >> 8);
  out[13] = (uint8_t)tl;
  out[14] = (uint8_t)(bl >> 8);
  out[15] = (uint8_t)bl;
  memcpy(out + 16, th, tl);
  if (bl)
    memcpy(out + 16 + tl, body, bl);
  return 16 + tl + bl;
}

tofu_socket rw_accept_client(tofu_engine *e, tofu_group *g, char *addr, size_t addr_len,
                             tofu_header *hello) {
  tofu_socket l, s;
  uint16_t port;
  ck_assert_int_eq(net_tcp_socket(&l), NET_OK);
  ck_assert_int_eq(net_tcp_bind_loopback(l, &port), NET_OK);
  ck_assert_int_eq(net_listen(l, 4), NET_OK);
  snprintf(addr, addr_len, "tcp|127.0.0.1|%u", (unsigned)port);
  *hello = et_post_hello(e, g, addr);
  int rc;
  while ((rc = net_accept(l, &s)) == NET_EWOULDBLOCK) /* l is blocking: not expected */
    ;
  ck_assert_int_eq(rc, NET_OK);
  net_close(l);
  ck_assert_int_eq(net_set_blocking(s), NET_OK);
  return s;
}
