/* url — the URLs of the quick API (tofu_connect, tofu_listen,
 * tofu_listen_address) and the address header values they stand for:
 *   tcp://HOST:PORT    <-> tcp|HOST|PORT
 *   tcp://[IPV6]:PORT  <-> tcp|IPV6|PORT
 *   tcp://:PORT        <-> tcp||PORT          (listening: every IPv4 interface)
 *   unix:///abs/path   <-> uds|/abs/path
 *   unix:rel/path      <-> uds|rel/path
 * The header value is then checked by address_parse, as any posted one. */
#ifndef TOFU_URL_H
#define TOFU_URL_H

#include <stddef.h>

/* The longest URL accepted, without its NUL. */
#define URL_MAX 511

/* Turn url into an address header value in out[n] (NUL-terminated).
 * Returns TOFU_OK, or TOFU_EINVAL for a URL of no known form. */
int url_to_address(const char *url, char *out, size_t n);

/* Turn an address header value (len bytes) into a URL in out[n]. Returns
 * TOFU_OK, TOFU_EINVAL (not an address value) or TOFU_ELIMIT (out too
 * short). */
int url_from_address(const char *v, size_t len, char *out, size_t n);

#endif /* TOFU_URL_H */
