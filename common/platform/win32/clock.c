/* platform/win32 — platform/clock.h on QueryPerformanceCounter.
 * GetTickCount64 would do for milliseconds but moves in steps of the timer
 * interrupt (about 15.6 ms), coarser than the engine's timers. */
#include "platform/clock.h"

#include "platform/thread.h"

static plat_once freq_once = PLAT_ONCE_INIT;
static int64_t freq; /* counts per second; fixed at boot */

static void read_frequency(void) {
  LARGE_INTEGER f;
  QueryPerformanceFrequency(&f);
  freq = f.QuadPart;
}

int64_t clock_now_ms(void) {
  plat_once_run(&freq_once, read_frequency);
  LARGE_INTEGER now;
  QueryPerformanceCounter(&now);
  /* Whole seconds and the rest apart: counts * 1000 would overflow after
   * some months of uptime at a 10 MHz counter. */
  return now.QuadPart / freq * 1000 + now.QuadPart % freq * 1000 / freq;
}
