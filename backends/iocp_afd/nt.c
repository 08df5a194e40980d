/* nt — resolve the NT native entry points from ntdll.dll. */
#include "nt.h"

#include <string.h>

#include "tofu/error.h"

nt_api nt;

static INIT_ONCE nt_once = INIT_ONCE_STATIC_INIT;
static BOOL nt_resolved;

/* GetProcAddress returns a generic FARPROC; going through a plain function
 * pointer type keeps -Wcast-function-type quiet without hiding a real
 * signature mismatch elsewhere. */
typedef void (*nt_proc)(void);

static nt_proc nt_lookup(HMODULE ntdll, const char *name, BOOL *ok) {
  nt_proc proc = (nt_proc)(void (*)(void))GetProcAddress(ntdll, name);
  if (proc == NULL)
    *ok = FALSE;
  return proc;
}

static BOOL CALLBACK nt_resolve(INIT_ONCE *once, void *param, void **context) {
  (void)once;
  (void)param;
  (void)context;
  HMODULE ntdll = GetModuleHandleW(L"ntdll.dll");
  if (ntdll == NULL)
    return TRUE;
  BOOL ok = TRUE;
  nt_api api;
  /* memcpy, not a cast of the field's address: each field has its own
   * function pointer type and only a copy of the bits is portable C. */
#define NT_RESOLVE(field, name)                                                                    \
  do {                                                                                             \
    nt_proc proc = nt_lookup(ntdll, name, &ok);                                                    \
    memcpy(&api.field, &proc, sizeof proc);                                                        \
  } while (0)
  NT_RESOLVE(create_io_completion, "NtCreateIoCompletion");
  NT_RESOLVE(set_io_completion, "NtSetIoCompletion");
  NT_RESOLVE(remove_io_completion_ex, "NtRemoveIoCompletionEx");
  NT_RESOLVE(device_io_control_file, "NtDeviceIoControlFile");
  NT_RESOLVE(cancel_io_file_ex, "NtCancelIoFileEx");
  NT_RESOLVE(set_information_file, "NtSetInformationFile");
  NT_RESOLVE(query_information_file, "NtQueryInformationFile");
  NT_RESOLVE(close, "NtClose");
  NT_RESOLVE(status_to_dos_error, "RtlNtStatusToDosError");
#undef NT_RESOLVE
  if (ok) {
    nt = api;
    nt_resolved = TRUE;
  }
  /* Report success to InitOnce either way: a missing export will not appear
   * on a retry, and nt_resolved tells callers what happened. */
  return TRUE;
}

int nt_init(void) {
  if (!InitOnceExecuteOnce(&nt_once, nt_resolve, NULL, NULL))
    return TOFU_ESYSTEM;
  if (!nt_resolved) {
    SetLastError(ERROR_PROC_NOT_FOUND);
    return TOFU_ESYSTEM;
  }
  return TOFU_OK;
}

int nt_fail(nt_status status) {
  DWORD error = nt.status_to_dos_error(status);
  SetLastError(error);
  WSASetLastError((int)error);
  return TOFU_ESYSTEM;
}
