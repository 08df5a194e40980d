#include "address.h"

#include <stdio.h>
#include <string.h>

static int parse_port(const char *p, size_t n, uint16_t *out) {
  unsigned long v = 0;
  if (n == 0 || n > 5)
    return TOFU_EINVAL;
  for (size_t i = 0; i < n; i++) {
    if (p[i] < '0' || p[i] > '9')
      return TOFU_EINVAL;
    v = v * 10 + (unsigned long)(p[i] - '0');
  }
  if (v > 65535)
    return TOFU_EINVAL;
  *out = (uint16_t)v;
  return TOFU_OK;
}

int address_parse(const char *v, size_t len, int for_connect, address *out) {
  memset(out, 0, sizeof(*out));
  if (len > 4 && memcmp(v, "tcp|", 4) == 0) {
    const char *host = v + 4, *end = v + len;
    const char *bar = memchr(host, '|', (size_t)(end - host));
    if (!bar)
      return TOFU_EINVAL;
    size_t hl = (size_t)(bar - host);
    if (hl >= sizeof(out->host) || memchr(host, '\0', hl))
      return TOFU_EINVAL;
    if (parse_port(bar + 1, (size_t)(end - bar - 1), &out->port) != TOFU_OK)
      return TOFU_EINVAL;
    if (for_connect && (hl == 0 || out->port == 0))
      return TOFU_EINVAL;
    memcpy(out->host, host, hl);
    out->kind = ADDR_TCP;
    return TOFU_OK;
  }
  if (len > 4 && memcmp(v, "uds|", 4) == 0) {
    size_t pl = len - 4;
    if (pl == 0 || pl > NET_UDS_PATH_MAX || memchr(v + 4, '\0', pl))
      return TOFU_EINVAL;
    memcpy(out->path, v + 4, pl);
    out->kind = ADDR_UDS;
    return TOFU_OK;
  }
  return TOFU_EINVAL;
}

int address_from_message(const tofu_message *m, const char *name, int for_connect, address *out) {
  const char *v;
  size_t len;
  if (!tofu_msg_find_header(m, name, &v, &len))
    return TOFU_EINVAL;
  return address_parse(v, len, for_connect, out);
}

void address_format(const address *a, char *buf, size_t n) {
  if (a->kind == ADDR_TCP)
    snprintf(buf, n, "tcp|%s|%u", a->host, (unsigned)a->port);
  else
    snprintf(buf, n, "uds|%s", a->path);
}
