/* address — the values of the address headers: "tcp|IP|PORT" and
 * "uds|PATH". */
#ifndef TOFU_ADDRESS_H
#define TOFU_ADDRESS_H

#include <stddef.h>
#include <stdint.h>

#include "platform/net.h"
#include "tofu/tofu.h"

enum { ADDR_TCP = 1, ADDR_UDS = 2 };

typedef struct address {
  int kind;
  char host[256]; /* ADDR_TCP: IP or name; "" = all interfaces (listen only) */
  uint16_t port;
  char path[NET_UDS_PATH_MAX + 1]; /* ADDR_UDS */
} address;

/* Parse len bytes of a header value. for_connect: a host and a non-zero port
 * are required. Returns TOFU_OK or TOFU_EINVAL. */
int address_parse(const char *v, size_t len, int for_connect, address *out);

/* Parse the address header `name` of a message. Returns TOFU_OK or
 * TOFU_EINVAL (absent or malformed). */
int address_from_message(const tofu_message *m, const char *name, int for_connect, address *out);

/* Format as a header value into buf (NUL-terminated). */
void address_format(const address *a, char *buf, size_t n);

#endif /* TOFU_ADDRESS_H */
