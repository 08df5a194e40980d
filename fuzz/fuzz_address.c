/* Fuzz target: the address parser (common/address.c).
 *
 * Input: one byte of flags (bit 0: parse for connect), then a header value.
 * A value accepted must describe a usable address (terminated strings of
 * allowed lengths, a port and a host when connecting), and formatting it and
 * parsing the result must give the same address back. */
#include <string.h>

#include "address.h"
#include "fuzz.h"

int fuzz_address_one(const uint8_t *data, size_t size) {
  if (size < 1)
    return 0;
  int for_connect = data[0] & 1;
  /* A copy of exactly the value's size: ASan sees any read past it. */
  size_t n = size - 1;
  char *v = malloc(n ? n : 1);
  FUZZ_CHECK(v != NULL);
  memcpy(v, data + 1, n);
  address a;
  if (address_parse(v, n, for_connect, &a) == TOFU_OK) {
    FUZZ_CHECK(a.kind == ADDR_TCP || a.kind == ADDR_UDS);
    if (a.kind == ADDR_TCP) {
      FUZZ_CHECK(memchr(a.host, '\0', sizeof a.host) != NULL);
      if (for_connect)
        FUZZ_CHECK(a.port != 0 && a.host[0] != '\0');
    } else {
      const char *nul = memchr(a.path, '\0', sizeof a.path);
      FUZZ_CHECK(nul != NULL);
      size_t pl = (size_t)(nul - a.path);
      FUZZ_CHECK(pl > 0 && pl <= NET_UDS_PATH_MAX);
    }
    char buf[NET_UDS_PATH_MAX + 300];
    address_format(&a, buf, sizeof buf);
    address b;
    FUZZ_CHECK(address_parse(buf, strlen(buf), for_connect, &b) == TOFU_OK);
    FUZZ_CHECK(b.kind == a.kind && b.port == a.port && strcmp(b.host, a.host) == 0 &&
               strcmp(b.path, a.path) == 0);
  }
  free(v);
  return 0;
}

#ifdef TOFU_LIBFUZZER
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  return fuzz_address_one(data, size);
}
#endif
