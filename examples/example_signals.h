/* Stopping an example server on SIGINT / SIGTERM (Ctrl+C or the console's
 * close on Windows), shared by tofu-echo-server and tofu-worker-server.
 *
 * example_stop_signals_block() first, before any thread starts (on POSIX
 * every thread inherits the mask, so no thread but the watcher takes them);
 * example_stop_signals_watch(stop) once the server is ready: stop() is then
 * called from an ordinary thread, not from inside a signal handler, when a
 * stop signal comes. The including file defines _POSIX_C_SOURCE first. */
#ifndef TOFU_EXAMPLE_SIGNALS_H
#define TOFU_EXAMPLE_SIGNALS_H

#ifdef _WIN32
#include <windows.h>
#else
#include <pthread.h>
#include <signal.h>
#endif

static void (*example_stop)(void);

#ifdef _WIN32
static BOOL WINAPI example_on_console(DWORD type) {
  (void)type;
  example_stop();
  return TRUE;
}

static void example_stop_signals_block(void) {}

static void example_stop_signals_watch(void (*stop)(void)) {
  example_stop = stop;
  SetConsoleCtrlHandler(example_on_console, TRUE);
}
#else
static sigset_t example_stop_set;

static void *example_signal_thread(void *arg) {
  (void)arg;
  int sig;
  sigwait(&example_stop_set, &sig);
  example_stop();
  return NULL;
}

static void example_stop_signals_block(void) {
  sigemptyset(&example_stop_set);
  sigaddset(&example_stop_set, SIGINT);
  sigaddset(&example_stop_set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &example_stop_set, NULL);
}

static void example_stop_signals_watch(void (*stop)(void)) {
  example_stop = stop;
  pthread_t t;
  pthread_create(&t, NULL, example_signal_thread, NULL);
  pthread_detach(t);
}
#endif

#endif /* TOFU_EXAMPLE_SIGNALS_H */
