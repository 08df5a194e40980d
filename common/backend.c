/* The name of the backend compiled in (tofu.h), from its table (poller.h). */
#include "tofu/poller.h"
#include "tofu/tofu.h"

const char *tofu_backend_name(void) {
  return tofu_poller_backend()->name;
}
