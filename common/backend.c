#include "tofu/poller.h"

const char *tofu_backend_name(void) {
  return tofu_poller_backend()->name;
}
