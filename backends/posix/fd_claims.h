/* fd_claims — the descriptors that some poller of this process holds, and
 * each poller's table of its own handles by descriptor, shared by the POSIX
 * backends (poll, epoll).
 *
 * The contract (docs/backend-contract.md, "Ownership") has every backend
 * refuse a socket that another poller holds, with TOFU_EUNSERVABLE. iocp_afd
 * gets that from the kernel (a handle binds to one completion port); on POSIX
 * nothing in the kernel knows which poller a descriptor belongs to, so the
 * backends keep one process-wide set, claimed by register_socket and released
 * by deregister and close. A poller's own second registration of a socket is
 * TOFU_EEXIST, found in its fd_table before the claim is asked for. */
#ifndef TOFU_FD_CLAIMS_H
#define TOFU_FD_CLAIMS_H

#include <stddef.h>

/* Claim fd for the calling poller: TOFU_OK, TOFU_EUNSERVABLE when a poller
 * holds it already, TOFU_ENOMEM. fd >= 0. Any thread. */
int fd_claim(int fd);

/* Give fd back (a no-op if it is not claimed). Any thread. */
void fd_release(int fd);

/* The handles one poller holds, by descriptor: how a POSIX backend finds its
 * own second registration of a socket (TOFU_EEXIST) and tells a handle of
 * its own from any other pointer. A handle is the backend's own struct,
 * allocated here zeroed; its first member is its descriptor, an int, which
 * the table sets and reads through the handle pointer (a pointer to a
 * struct, converted, points to its first member), so that one check serves
 * every backend. The table owns the handle and the claim of its descriptor.
 * Used by the poller's owning thread only. */
typedef struct fd_table {
  void **slot; /* slot[fd]: the handle registered for fd, or NULL */
  int cap;
} fd_table;

/* A new zeroed handle of `size` bytes (at least an int) for fd, its first
 * member set to fd, stored in t, with fd claimed: TOFU_OK, TOFU_EINVAL
 * (fd < 0), TOFU_EEXIST (t holds fd already), TOFU_EUNSERVABLE (another
 * poller holds it), TOFU_ENOMEM. */
int fd_table_add(fd_table *t, int fd, size_t size, void **handle);

/* Whether handle (NULL, or a pointer the caller was given as a handle) is
 * one that t holds: what arm and deregister ask first (inline: every arm
 * asks). */
static inline int fd_table_owns(const fd_table *t, const void *handle) {
  if (handle == NULL)
    return 0;
  int fd = *(const int *)handle;
  return fd >= 0 && fd < t->cap && t->slot[fd] == handle;
}

/* Take fd's handle out of t: the claim released, the handle freed. */
void fd_table_remove(fd_table *t, int fd);

/* Remove every handle, then free the table itself. */
void fd_table_fini(fd_table *t);

#endif /* TOFU_FD_CLAIMS_H */
