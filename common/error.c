#include "tofu/error.h"

const char *tofu_strerror(int err) {
  switch (err) {
  case TOFU_OK:
    return "success";
  case TOFU_EINVAL:
    return "invalid argument";
  case TOFU_ENOMEM:
    return "out of memory";
  case TOFU_EEXIST:
    return "socket already registered with this poller";
  case TOFU_ESYSTEM:
    return "operating-system call failed (see errno or WSAGetLastError)";
  case TOFU_ENOBASEHANDLE:
    return "no base socket handle: a non-IFS Layered Service Provider hides the socket from AFD";
  case TOFU_EUNSUPPORTED:
    return "not supported on this platform or backend";
  case TOFU_ELIMIT:
    return "limit reached";
  case TOFU_EMESSAGE:
    return "message refused; its status byte says why";
  case TOFU_EUNSERVABLE:
    return "this poller cannot serve the socket: registered with another poller, or bound to "
           "another completion port, or opened for synchronous I/O";
  case TOFU_ETIMEDOUT:
    return "timed out";
  case TOFU_ECLOSED:
    return "the group is being destroyed";
  default:
    return "unknown tofu error";
  }
}
