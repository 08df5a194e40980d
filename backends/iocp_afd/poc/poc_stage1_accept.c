/* Stage 1: accept readiness through AFD_POLL on the listener's own base
 * handle. Shows that the poll is issued on the socket itself (no \Device\Afd
 * helper), stays pending while nothing happens, and completes through the
 * port the handle is bound to, with our ApcContext and the ACCEPT event
 * written back into the same buffer that was the input. */
#include "poc.h"

int main(void) {
  poc_init("stage 1: accept readiness through AFD_POLL on the base handle");
  HANDLE port = poc_port();
  struct sockaddr_in addr;
  SOCKET l = poc_listener(&addr);
  HANDLE base = poc_base(l);
  poc_check(CreateIoCompletionPort(base, port, 1, 0) != NULL,
            "the listener's base handle is bound to the port (key 1)");

  static afd_poll_info info; /* static: outlives every packet of this program */
  static nt_io_status_block iosb;
  static int context;
  nt_status st = afd_poll(base, base, AFD_POLL_ACCEPT, &info, &iosb, &context);
  poc_check(st == NT_STATUS_PENDING, "IOCTL_AFD_POLL on an idle listener is pending (0x%lx)",
            (unsigned long)st);
  nt_completion c[4];
  poc_check(poc_take(port, c, 4, 200) == 0, "no packet while nobody connects (200 ms)");

  SOCKET client = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
  poc_check(connect(client, (struct sockaddr *)&addr, sizeof addr) == 0, "a client connects");
  ULONG n = poc_take(port, c, 4, 2000);
  poc_check(n == 1, "one packet arrives");
  poc_check(c[0].key == (void *)(uintptr_t)1, "with the key the handle was bound with");
  poc_check(c[0].apc_context == &context, "with the ApcContext of the poll");
  poc_check(c[0].iosb.status == 0 && iosb.status == 0, "status success, also in our iosb");
  poc_check(info.number_of_handles == 1 && (info.handles[0].events & AFD_POLL_ACCEPT),
            "the output in the input buffer: 1 handle, events 0x%lx include ACCEPT",
            (unsigned long)info.handles[0].events);
  poc_check(afd_events_to_tofu(info.handles[0].events, 1) == 1, "mapped to TOFU_POLL_READABLE");

  /* Level state: a poll issued while a connection is still pending
   * completes at once. */
  st = afd_poll(base, base, AFD_POLL_ACCEPT, &info, &iosb, &context);
  poc_check(NT_SUCCESS(st), "a new poll with the connection still pending (0x%lx)",
            (unsigned long)st);
  n = poc_take(port, c, 4, 2000);
  poc_check(n == 1 && (info.handles[0].events & AFD_POLL_ACCEPT),
            "completes at once: readiness is level state at poll time");

  SOCKET s = accept(l, NULL, NULL);
  poc_check(s != INVALID_SOCKET, "accept succeeds without blocking");
  st = afd_poll(base, base, AFD_POLL_ACCEPT, &info, &iosb, &context);
  poc_check(st == NT_STATUS_PENDING, "after accept, a new poll is pending again");
  poc_check(poc_take(port, c, 4, 100) == 0, "and stays quiet");
  closesocket(client);
  closesocket(s);
  closesocket(l);
  n = poc_take(port, c, 4, 2000);
  poc_check(n == 1 && c[0].apc_context == &context,
            "closing the listener completes the pending poll (events 0x%lx, status 0x%lx)",
            (unsigned long)info.handles[0].events, (unsigned long)c[0].iosb.status);
  nt.close(port);
  printf("# stage 1 passed\n");
  return 0;
}
