/* Fuzz target: the text-header parser (tofu_msg_find_header) and builder
 * (tofu_msg_add_header), common/message.c.
 *
 * Input: raw text-header bytes as a peer could send them. Looking up names
 * (fixed ones and ones taken from the input) must stay inside the buffer and
 * return a trimmed value; a header added afterwards must then be found with
 * exactly its value, whatever garbage precedes it. */
#include <string.h>

#include "fuzz.h"
#include "message.h"
#include "pool.h"
#include "tofu/tofu.h"

static int contains(const uint8_t *hay, size_t n, const char *needle) {
  size_t k = strlen(needle);
  for (size_t i = 0; i + k <= n; i++)
    if (memcmp(hay + i, needle, k) == 0)
      return 1;
  return 0;
}

static void check_found(const tofu_message *m, const char *name) {
  const char *v = NULL;
  size_t len = 0;
  if (!tofu_msg_find_header(m, name, &v, &len))
    return;
  const char *start = (const char *)m->th, *end = start + m->th_len;
  FUZZ_CHECK(v >= start && v + len <= end);
  if (len > 0) {
    FUZZ_CHECK(v[0] != ' ' && v[0] != '\t');
    FUZZ_CHECK(v[len - 1] != ' ' && v[len - 1] != '\t');
  }
}

int fuzz_headers_one(const uint8_t *data, size_t size) {
  if (size > TOFU_MAX_TEXT_HEADERS)
    return 0;
  pool p;
  if (pool_init(&p, 0, 1u << 20) != TOFU_OK)
    return 0;
  tofu_message *m = pool_get(&p, 1);
  FUZZ_CHECK(m != NULL);
  FUZZ_CHECK(tofu_msg_set_headers(m, data, size) == TOFU_OK);
  check_found(m, TOFU_HDR_CONNECT_TO);
  check_found(m, TOFU_HDR_LISTEN_ON);
  check_found(m, "");
  /* A name taken from the input: its first line up to the colon. */
  char name[64];
  size_t k = 0;
  while (k < size && k < sizeof name - 1 && data[k] != ':' && data[k] != '\0')
    k++;
  memcpy(name, data, k);
  name[k] = '\0';
  check_found(m, name);
  /* Appending a header after the garbage: found, exactly, unless a line of
   * the garbage has the same name (the first one wins) or it ends mid-line. */
  static const char value[] = "tcp|127.0.0.1|7099";
  if (tofu_msg_add_header(m, "~fuzz_probe", value) == TOFU_OK) {
    const char *v;
    size_t len;
    int found = tofu_msg_find_header(m, "~fuzz_probe", &v, &len);
    int tail_clean = size == 0 || (size >= 2 && data[size - 2] == '\r' && data[size - 1] == '\n');
    if (tail_clean && !contains(data, size, "~fuzz_probe"))
      FUZZ_CHECK(found && len == sizeof value - 1 && memcmp(v, value, len) == 0);
  }
  pool_put(&p, m);
  pool_fini(&p);
  return 0;
}

#ifdef TOFU_LIBFUZZER
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  return fuzz_headers_one(data, size);
}
#endif
