/* tofu — the library's version. CMakeLists.txt reads it from here, so this is
 * the one place it is written. */
#ifndef TOFU_VERSION_H
#define TOFU_VERSION_H

#include "tofu/api.h"

#define TOFU_VERSION_MAJOR 0
#define TOFU_VERSION_MINOR 1
#define TOFU_VERSION_PATCH 0
#define TOFU_VERSION_STRING "0.1.0"

#ifdef __cplusplus
extern "C" {
#endif

/* The version of the library linked in, as "MAJOR.MINOR.PATCH" (compare with
 * TOFU_VERSION_STRING to detect a header/library mismatch). */
TOFU_API const char *tofu_version(void);

#ifdef __cplusplus
}
#endif

#endif /* TOFU_VERSION_H */
