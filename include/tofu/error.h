/* tofu — status values returned by every tofu function that can fail.
 *
 * Functions return 0 (TOFU_OK) or a count on success and one of the negative
 * values below on failure. Where the failure came from the operating system,
 * TOFU_ESYSTEM is returned and the OS detail is left where the platform keeps
 * it (errno on POSIX, WSAGetLastError()/GetLastError() on Windows).
 */
#ifndef TOFU_ERROR_H
#define TOFU_ERROR_H

#include "tofu/api.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum tofu_error {
  TOFU_OK = 0,
  TOFU_EINVAL = -1,        /* an argument is invalid (NULL, unknown bits, out of range) */
  TOFU_ENOMEM = -2,        /* memory could not be allocated */
  TOFU_EEXIST = -3,        /* the socket is already registered with this poller */
  TOFU_ESYSTEM = -4,       /* an operating-system call failed; see errno / WSAGetLastError */
  TOFU_ENOBASEHANDLE = -5, /* Windows: SIO_BASE_HANDLE failed (a non-IFS Layered Service
                              Provider is installed); AFD polling is impossible */
  TOFU_EUNSUPPORTED = -6,  /* the platform or backend does not support the request */
  TOFU_ELIMIT = -7,        /* a configured or platform limit was reached */
  TOFU_EMESSAGE = -8,      /* the message was refused; its status byte says why */
  TOFU_EUNSERVABLE = -9    /* this poller cannot serve the socket: it is registered with
                              another poller, or (Windows) associated with another I/O
                              completion port, or opened for synchronous I/O (without
                              WSA_FLAG_OVERLAPPED). Nothing was changed: the socket is still
                              the caller's, exactly as it was */
  ,
  TOFU_ETIMEDOUT = -10, /* nothing came within the time given */
  TOFU_ECLOSED = -11    /* the group is being destroyed: do not use it again */
} tofu_error;

/* A short, static, English description of a tofu_error value (never NULL). */
TOFU_API const char *tofu_strerror(int err);

#ifdef __cplusplus
}
#endif

#endif /* TOFU_ERROR_H */
