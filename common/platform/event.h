/* platform/event — a flag another event loop can wait on: the operating
 * system's own object, ready while the flag is set (level-triggered). The
 * engine raises it while a group's receive queue holds a message
 * (tofu_group_os_handle).
 * posix/event.c: an eventfd on Linux, a non-blocking pipe elsewhere, readable
 * while set; win32/event.c: a manual-reset event, signalled while set. */
#ifndef TOFU_PLATFORM_EVENT_H
#define TOFU_PLATFORM_EVENT_H

#include <stdint.h>

typedef struct plat_event {
  intptr_t wait_handle; /* what the application waits on: an fd or a HANDLE */
  intptr_t write_end;   /* POSIX pipe: the other end; else the same as wait_handle */
} plat_event;

/* Make a cleared flag. Returns TOFU_OK or TOFU_ESYSTEM. */
int plat_event_open(plat_event *ev);
void plat_event_close(plat_event *ev);

/* Raise / lower the flag. The caller tracks whether it is set and calls each
 * only on a change (raising twice, then lowering once, must leave it clear:
 * both halves drain everything). */
void plat_event_set(plat_event *ev);
void plat_event_clear(plat_event *ev);

#endif /* TOFU_PLATFORM_EVENT_H */
