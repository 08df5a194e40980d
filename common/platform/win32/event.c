/* platform/win32/event — see platform/event.h. */
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <windows.h>

#include "platform/event.h"
#include "tofu/error.h"

int plat_event_open(plat_event *ev) {
  HANDLE h = CreateEventW(NULL, TRUE, FALSE, NULL); /* manual reset, cleared */
  if (!h)
    return TOFU_ESYSTEM;
  ev->wait_handle = ev->write_end = (intptr_t)h;
  return TOFU_OK;
}

void plat_event_close(plat_event *ev) {
  CloseHandle((HANDLE)ev->wait_handle);
  ev->wait_handle = ev->write_end = 0;
}

void plat_event_set(plat_event *ev) {
  SetEvent((HANDLE)ev->wait_handle);
}

void plat_event_clear(plat_event *ev) {
  ResetEvent((HANDLE)ev->wait_handle);
}
