/* Stage 4: who owns the AFD_POLL_INFO and the IO_STATUS_BLOCK, and what the
 * completion key can carry. Shows that after NtCancelIoFileEx and after
 * closesocket the poll's packet still arrives later, refers to the per-socket
 * block through its ApcContext, and that the kernel writes the result into
 * that block at completion time (so it must still be live then). Shows also
 * that a handle keeps the key of its first binding: a second
 * CreateIoCompletionPort on it fails, so the key cannot name per-socket state
 * that is recreated when a socket is registered again. */
#include "poc.h"

#define POISON 0xA5

typedef struct pinned {
  nt_io_status_block iosb;
  afd_poll_info info;
} pinned;

static pinned *pinned_new(void) {
  pinned *p = malloc(sizeof *p);
  memset(p, POISON, sizeof *p);
  return p;
}

int main(void) {
  poc_init("stage 4: pinned per-socket state surviving cancel and close");
  HANDLE port = poc_port();
  struct sockaddr_in addr;
  SOCKET l = poc_listener(&addr);
  SOCKET c, s;
  poc_pair(l, &addr, &c, &s);
  HANDLE base = poc_base(s);
  poc_check(CreateIoCompletionPort(base, port, 1, 0) != NULL, "bound with key 1");
  nt_completion e[4];

  /* 1. Cancel: the packet comes after the cancel call returns. */
  pinned *a = pinned_new();
  nt_status st = afd_poll(base, base, AFD_POLL_RECEIVE, &a->info, &a->iosb, a);
  poc_check(st == NT_STATUS_PENDING, "poll A pending on an idle socket");
  memset(&a->info.handles[0].events, POISON, sizeof a->info.handles[0].events);
  nt_io_status_block cancel_iosb;
  st = nt.cancel_io_file_ex(base, &a->iosb, &cancel_iosb);
  poc_check(NT_SUCCESS(st), "NtCancelIoFileEx(A) returns 0x%lx", (unsigned long)st);
  ULONG n = poc_take(port, e, 4, 2000);
  poc_check(n == 1 && e[0].apc_context == a, "A's packet still arrives, ApcContext = A's block");
  poc_check(e[0].iosb.status == NT_STATUS_CANCELLED, "with STATUS_CANCELLED (0x%lx)",
            (unsigned long)e[0].iosb.status);
  poc_check(a->iosb.status == NT_STATUS_CANCELLED,
            "and the kernel wrote A's iosb at completion: the block had to be live");
  free(a); /* only now */

  /* 2. Close with a poll pending: the packet outlives the socket. */
  pinned *b = pinned_new();
  st = afd_poll(base, base, AFD_POLL_RECEIVE | AFD_POLL_DISCONNECT, &b->info, &b->iosb, b);
  poc_check(st == NT_STATUS_PENDING, "poll B pending");
  b->info.handles[0].events = 0;
  b->info.number_of_handles = 0xA5A5;
  closesocket(s);
  n = poc_take(port, e, 4, 2000);
  poc_check(n == 1 && e[0].apc_context == b, "after closesocket B's packet arrives, refers to B");
  printf("     status 0x%lx, handles %lu, events 0x%lx\n", (unsigned long)b->iosb.status,
         (unsigned long)b->info.number_of_handles, (unsigned long)b->info.handles[0].events);
  poc_check(b->iosb.status != (nt_status)0xA5A5A5A5 && b->iosb.status != NT_STATUS_PENDING,
            "B's iosb was written after the socket was gone");
  poc_check(b->iosb.status == NT_STATUS_CANCELLED ||
                (b->info.number_of_handles != 0xA5A5 &&
                 (b->info.handles[0].events & AFD_POLL_LOCAL_CLOSE)),
            "as LOCAL_CLOSE (unasked) or STATUS_CANCELLED");
  free(b);

  /* 3. Key design: a handle is bound once, with one key. */
  SOCKET s2 = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
  HANDLE base2 = poc_base(s2);
  poc_check(CreateIoCompletionPort(base2, port, 2, 0) != NULL, "new socket bound with key 2");
  HANDLE again = CreateIoCompletionPort(base2, port, 3, 0);
  DWORD err = GetLastError();
  poc_check(again == NULL, "binding it again with key 3 fails (error %lu)", (unsigned long)err);
  nt_file_completion_information info;
  info.port = port;
  info.key = (void *)(uintptr_t)3;
  nt_io_status_block iosb;
  st = nt.set_information_file(base2, &iosb, &info, sizeof info,
                               NT_FILE_REPLACE_COMPLETION_INFORMATION);
  printf("     FileReplaceCompletionInformation -> 0x%lx (%s)\n", (unsigned long)st,
         NT_SUCCESS(st) ? "supported: the key can be moved" : "not supported here");
  nt.set_io_completion(port, (void *)(uintptr_t)9, NULL, 0, 0);
  n = poc_take(port, e, 4, 1000);
  poc_check(n == 1 && e[0].key == (void *)(uintptr_t)9, "port still healthy");

  /* 4. Two generations on one socket: a cancelled old poll and a new one
   * pending together are told apart by ApcContext alone. */
  SOCKET c3, s3;
  poc_pair(l, &addr, &c3, &s3);
  HANDLE base3 = poc_base(s3);
  CreateIoCompletionPort(base3, port, 1, 0);
  pinned *old = pinned_new(), *young = pinned_new();
  poc_check(afd_poll(base3, base3, AFD_POLL_RECEIVE, &old->info, &old->iosb, old) ==
                NT_STATUS_PENDING,
            "old poll pending");
  nt.cancel_io_file_ex(base3, &old->iosb, &cancel_iosb);
  poc_check(afd_poll(base3, base3, AFD_POLL_RECEIVE, &young->info, &young->iosb, young) ==
                NT_STATUS_PENDING,
            "new poll pending before the old packet is taken");
  send(c3, "x", 1, 0);
  int seen_old = 0, seen_young = 0;
  for (int i = 0; i < 2; i++) {
    n = poc_take(port, e, 4, 2000);
    for (ULONG j = 0; j < n; j++) {
      if (e[j].apc_context == old)
        seen_old = e[j].iosb.status == NT_STATUS_CANCELLED;
      if (e[j].apc_context == young)
        seen_young = (young->info.handles[0].events & AFD_POLL_RECEIVE) != 0;
    }
    if (seen_old && seen_young)
      break;
  }
  poc_check(seen_old && seen_young,
            "old packet: CANCELLED for the old block; new packet: RECEIVE for the new one");
  free(old);
  free(young);

  /* 5. A handle bound to another port (here: a second port) can still be
   * polled for this port: issue the poll on a socket bound here (an anchor)
   * and name the other socket inside the request. */
  HANDLE other = poc_port();
  SOCKET c5, s5;
  poc_pair(l, &addr, &c5, &s5);
  HANDLE base5 = poc_base(s5);
  CreateIoCompletionPort(base5, other, 1, 0);
  SOCKET anchor = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
  HANDLE anchor_base = poc_base(anchor);
  CreateIoCompletionPort(anchor_base, port, 1, 0);
  pinned *via = pinned_new();
  poc_check(afd_poll(anchor_base, base5, AFD_POLL_RECEIVE, &via->info, &via->iosb, via) ==
                NT_STATUS_PENDING,
            "poll of a socket bound elsewhere, issued on an anchor bound here, is pending");
  send(c5, "y", 1, 0);
  n = poc_take(port, e, 4, 2000);
  poc_check(n == 1 && e[0].apc_context == via && (via->info.handles[0].events & AFD_POLL_RECEIVE),
            "its packet arrives at the anchor's port, reporting the named socket's RECEIVE");
  poc_check(poc_take(other, e, 4, 100) == 0, "nothing arrives at the socket's own port");
  free(via);
  closesocket(anchor);
  closesocket(c5);
  closesocket(s5);
  nt.close(other);
  closesocket(c3);
  closesocket(s3);
  closesocket(s2);
  closesocket(c);
  closesocket(l);
  nt.close(port);
  printf("# stage 4 passed\n");
  return 0;
}
