/* ws — the Winsock side of the backend: startup and the base socket handle. */
#ifndef TOFU_IOCP_WS_H
#define TOFU_IOCP_WS_H

#include "nt.h"

/* Winsock counts WSAStartup calls itself; each open poller holds one. */
int ws_startup(void);
void ws_cleanup(void);

/* The handle of the base service provider under `sock`, on which AFD polls
 * must be issued (a Layered Service Provider may wrap the socket in its own
 * handle that AFD does not know). Returns TOFU_OK, TOFU_EINVAL when sock is
 * not a socket, or TOFU_ENOBASEHANDLE when a provider refuses SIO_BASE_HANDLE
 * (a non-IFS LSP): polling it through AFD is then impossible. */
int ws_base_handle(SOCKET sock, HANDLE *base);

/* Whether AFD polls can be issued on `base` without blocking: TOFU_OK for a
 * handle opened for overlapped I/O (socket(), or WSASocket with
 * WSA_FLAG_OVERLAPPED), TOFU_EUNSERVABLE for one opened for synchronous I/O
 * (every poll issued on it would wait inside NtDeviceIoControlFile until the
 * socket became ready, i.e. block arm), TOFU_ESYSTEM when the mode cannot be
 * read. */
int ws_check_overlapped(HANDLE base);

/* Internal test hook, not part of the public API: while non-zero, every
 * ws_base_handle call fails as it does under a non-IFS LSP
 * (WSAEOPNOTSUPP), so tests can reach the TOFU_ENOBASEHANDLE path on a
 * machine without such a provider. */
void ws_test_fail_base_handle(int on);

#endif /* TOFU_IOCP_WS_H */
