/* fd_claims — the descriptors that some poller of this process holds, shared
 * by the POSIX backends (poll, epoll).
 *
 * The contract (docs/backend-contract.md, "Ownership") has every backend
 * refuse a socket that another poller holds, with TOFU_EUNSERVABLE. iocp_afd
 * gets that from the kernel (a handle binds to one completion port); on POSIX
 * nothing in the kernel knows which poller a descriptor belongs to, so the
 * backends keep one process-wide set, claimed by register_socket and released
 * by deregister and close. A poller's own second registration of a socket is
 * TOFU_EEXIST, found by the backend before it asks here. */
#ifndef TOFU_FD_CLAIMS_H
#define TOFU_FD_CLAIMS_H

/* Claim fd for the calling poller: TOFU_OK, TOFU_EUNSERVABLE when a poller
 * holds it already, TOFU_ENOMEM. fd >= 0. Any thread. */
int fd_claim(int fd);

/* Give fd back (a no-op if it is not claimed). Any thread. */
void fd_release(int fd);

#endif /* TOFU_FD_CLAIMS_H */
