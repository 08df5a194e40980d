/* nt — the few NT native declarations the iocp_afd backend needs.
 *
 * MinGW's headers either lack these (NtRemoveIoCompletionEx, NtSetIoCompletion,
 * NtCancelIoFileEx, FILE_IO_COMPLETION_INFORMATION, FileModeInformation) or
 * declare them in winternl.h with types that clash with winnt.h. Keeping our own names in one
 * place means no other file includes winternl.h or ntstatus.h, and the entry
 * points are looked up in ntdll.dll at run time (nt_init), so a missing export
 * is a clean TOFU_ESYSTEM instead of a loader failure.
 */
#ifndef TOFU_IOCP_NT_H
#define TOFU_IOCP_NT_H

#include <winsock2.h>
#include <windows.h>

typedef LONG nt_status;

#define NT_SUCCESS(s) ((nt_status)(s) >= 0)
/* The top two bits of an NTSTATUS are its severity: 3 is an error, 2 a
 * warning. An I/O request that returns a warning has still been queued and
 * completes like a successful one (its packet comes); only an error means
 * that nothing will follow. */
#define NT_ERROR(s) (((ULONG)(s) >> 30) == 3)
/* STATUS_TIMEOUT and STATUS_PENDING are success codes: NT_SUCCESS() is true
 * for both, so every caller that can see them tests for them by value. */
#define NT_STATUS_SUCCESS ((nt_status)0x00000000L)
#define NT_STATUS_TIMEOUT ((nt_status)0x00000102L)
#define NT_STATUS_PENDING ((nt_status)0x00000103L)
#define NT_STATUS_CANCELLED ((nt_status)0xC0000120L)
#define NT_STATUS_NOT_FOUND ((nt_status)0xC0000225L)
#define NT_STATUS_NOT_IMPLEMENTED ((nt_status)0xC0000002L)
#define NT_STATUS_INVALID_INFO_CLASS ((nt_status)0xC0000003L)

/* The kernel's IO_STATUS_BLOCK is { union { NTSTATUS Status; PVOID Pointer; };
 * ULONG_PTR Information; }. Pointer is never used here, and without the
 * union (a nameless member, which MSVC's /W4 flags as C4201) alignment still
 * puts information one pointer in: the block is two pointers long either way. */
typedef struct nt_io_status_block {
  nt_status status;
  ULONG_PTR information;
} nt_io_status_block;
_Static_assert(sizeof(nt_io_status_block) == 2 * sizeof(void *), "IO_STATUS_BLOCK layout");

/* One dequeued completion packet; same layout as the kernel's
 * FILE_IO_COMPLETION_INFORMATION (and Win32's OVERLAPPED_ENTRY). */
typedef struct nt_completion {
  void *key;         /* the completion key of the handle, or NtSetIoCompletion's */
  void *apc_context; /* the ApcContext of the request; NULL for NtSetIoCompletion's ours */
  nt_io_status_block iosb;
} nt_completion;

typedef void(NTAPI *nt_apc_routine)(void *apc_context, nt_io_status_block *iosb, ULONG reserved);

/* FileReplaceCompletionInformation (Windows 8.1+): moves a handle to another
 * completion port or key, which CreateIoCompletionPort cannot do twice. */
#define NT_FILE_REPLACE_COMPLETION_INFORMATION 61
typedef struct nt_file_completion_information {
  HANDLE port;
  void *key;
} nt_file_completion_information;

/* FileModeInformation: a ULONG of the handle's FILE_* open options. A
 * handle opened for synchronous I/O (a socket made without
 * WSA_FLAG_OVERLAPPED) has one of the two SYNCHRONOUS bits; every request on
 * it waits inside the call until it completes. */
#define NT_FILE_MODE_INFORMATION 16
#define NT_FILE_SYNCHRONOUS_IO_ALERT 0x00000010UL
#define NT_FILE_SYNCHRONOUS_IO_NONALERT 0x00000020UL

#define NT_IO_COMPLETION_ALL_ACCESS 0x001F0003UL

typedef struct nt_api {
  nt_status(NTAPI *create_io_completion)(HANDLE *port, ACCESS_MASK access, void *attributes,
                                         ULONG concurrency);
  nt_status(NTAPI *set_io_completion)(HANDLE port, void *key, void *apc_context, nt_status status,
                                      ULONG_PTR information);
  nt_status(NTAPI *remove_io_completion_ex)(HANDLE port, nt_completion *entries, ULONG count,
                                            ULONG *removed, LARGE_INTEGER *timeout,
                                            BOOLEAN alertable);
  nt_status(NTAPI *device_io_control_file)(HANDLE file, HANDLE event, nt_apc_routine apc,
                                           void *apc_context, nt_io_status_block *iosb, ULONG code,
                                           void *in, ULONG in_len, void *out, ULONG out_len);
  nt_status(NTAPI *cancel_io_file_ex)(HANDLE file, nt_io_status_block *request,
                                      nt_io_status_block *iosb);
  nt_status(NTAPI *set_information_file)(HANDLE file, nt_io_status_block *iosb, void *info,
                                         ULONG len, int info_class);
  nt_status(NTAPI *query_information_file)(HANDLE file, nt_io_status_block *iosb, void *info,
                                           ULONG len, int info_class);
  nt_status(NTAPI *close)(HANDLE handle);
  ULONG(NTAPI *status_to_dos_error)(nt_status status);
} nt_api;

/* The resolved entry points; valid once nt_init() has returned TOFU_OK. */
extern nt_api nt;

/* Resolve the entry points from ntdll.dll (once per process; thread-safe).
 * Returns TOFU_OK or TOFU_ESYSTEM. */
int nt_init(void);

/* Leave the Win32 form of an NT failure where callers look for OS detail
 * (GetLastError and WSAGetLastError), and return TOFU_ESYSTEM. */
int nt_fail(nt_status status);

#endif /* TOFU_IOCP_NT_H */
