/* A program built against an installed tofu, the way a user would build one:
 * it checks that the headers and the library agree and that the backend works. */
#include <stdio.h>
#include <string.h>

#include <tofu/poller.h>
#include <tofu/tofu.h>
#include <tofu/version.h>

int main(void) {
  if (strcmp(tofu_version(), TOFU_VERSION_STRING) != 0) {
    fprintf(stderr, "consumer: header says %s, library says %s\n", TOFU_VERSION_STRING, tofu_version());
    return 1;
  }
  const tofu_poller_ops *ops = tofu_poller_backend();
  tofu_poller *p = NULL;
  int rc = ops->open(&p);
  if (rc != TOFU_OK) {
    fprintf(stderr, "consumer: open failed: %s\n", tofu_strerror(rc));
    return 1;
  }
  tofu_poll_event ev;
  int n = -1;
  if (ops->notify(p) == TOFU_OK)
    n = ops->wait(p, &ev, 1, 1000);
  ops->close(p);
  if (n != 1 || ev.events != TOFU_POLL_WAKEUP) {
    fprintf(stderr, "consumer: expected one wakeup, got %d\n", n);
    return 1;
  }
  printf("consumer: tofu %s, backend %s: ok\n", tofu_version(), tofu_backend_name());
  return 0;
}
