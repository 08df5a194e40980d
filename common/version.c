#include "tofu/version.h"

const char *tofu_version(void) {
  return TOFU_VERSION_STRING;
}
