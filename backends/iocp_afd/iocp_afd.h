/* iocp_afd — what the backend's own tests may ask of iocp_afd.c (internal,
 * not part of the public API; the contract is include/tofu/poller.h). */
#ifndef TOFU_IOCP_BACKEND_H
#define TOFU_IOCP_BACKEND_H

/* How many socket states the last tofu_poller close had to leave behind
 * because their packets did not come before the drain's deadline (leaked on
 * purpose: the kernel may still write into them). 0 after a clean close. */
int iocp_afd_test_close_leaks(void);

#endif /* TOFU_IOCP_BACKEND_H */
