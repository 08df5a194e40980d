/* url — see url.h. */
#include "url.h"

#include <stdio.h>
#include <string.h>

#include "tofu/error.h"

static int fits(int w, size_t n) {
  return w >= 0 && (size_t)w < n ? TOFU_OK : TOFU_ELIMIT;
}

int url_to_address(const char *url, char *out, size_t n) {
  if (strlen(url) > URL_MAX)
    return TOFU_EINVAL;
  if (strncmp(url, "tcp://", 6) == 0) {
    const char *host = url + 6, *host_end, *colon;
    if (*host == '[') { /* an IPv6 address: [ADDR]:PORT */
      host_end = strchr(host, ']');
      if (!host_end || host_end[1] != ':' || host_end == host + 1)
        return TOFU_EINVAL;
      host++;
      colon = host_end + 1;
    } else {
      colon = strchr(host, ':');
      /* A second ':' means an IPv6 address without its brackets. */
      if (!colon || strchr(colon + 1, ':'))
        return TOFU_EINVAL;
      host_end = colon;
    }
    const char *port = colon + 1;
    if (memchr(host, '|', (size_t)(host_end - host)) ||
        memchr(host, '/', (size_t)(host_end - host)))
      return TOFU_EINVAL;
    if (*port == '\0' || strspn(port, "0123456789") != strlen(port))
      return TOFU_EINVAL;
    return fits(snprintf(out, n, "tcp|%.*s|%s", (int)(host_end - host), host, port), n) == TOFU_OK
               ? TOFU_OK
               : TOFU_EINVAL;
  }
  const char *path = NULL;
  if (strncmp(url, "unix://", 7) == 0) {
    path = url + 7;
    if (*path != '/') /* unix://host/... has no meaning here */
      return TOFU_EINVAL;
  } else if (strncmp(url, "unix:", 5) == 0) {
    path = url + 5;
  }
  if (!path || *path == '\0')
    return TOFU_EINVAL;
  return fits(snprintf(out, n, "uds|%s", path), n) == TOFU_OK ? TOFU_OK : TOFU_EINVAL;
}

int url_from_address(const char *v, size_t len, char *out, size_t n) {
  if (len > 4 && memcmp(v, "uds|", 4) == 0) {
    const char *path = v + 4;
    int w = path[0] == '/' ? snprintf(out, n, "unix://%.*s", (int)(len - 4), path)
                           : snprintf(out, n, "unix:%.*s", (int)(len - 4), path);
    return fits(w, n);
  }
  if (len > 4 && memcmp(v, "tcp|", 4) == 0) {
    const char *host = v + 4, *end = v + len;
    const char *bar = memchr(host, '|', (size_t)(end - host));
    if (!bar)
      return TOFU_EINVAL;
    int hl = (int)(bar - host), pl = (int)(end - bar - 1);
    int v6 = memchr(host, ':', (size_t)hl) != NULL;
    int w = v6 ? snprintf(out, n, "tcp://[%.*s]:%.*s", hl, host, pl, bar + 1)
               : snprintf(out, n, "tcp://%.*s:%.*s", hl, host, pl, bar + 1);
    return fits(w, n);
  }
  return TOFU_EINVAL;
}
