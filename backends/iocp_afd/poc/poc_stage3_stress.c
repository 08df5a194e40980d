/* Stage 3: many clients at once through one port and one thread. A server
 * loop keeps exactly one AFD poll pending per socket (receive, or send while
 * its output is blocked), takes packets in batches, and echoes everything;
 * client threads check every byte. Shows that per-socket state routed by
 * ApcContext, with one shared key, keeps many sockets apart under load. */
#include "poc.h"

#define STRESS_CLIENTS 24
#define STRESS_ROUNDS 150
#define STRESS_MAX_MSG 6000

typedef struct conn {
  nt_io_status_block iosb;
  afd_poll_info info;
  SOCKET sock;
  HANDLE base;
  char buf[65536];
  int pending; /* bytes received and not yet echoed */
  int is_listener;
} conn;

static struct sockaddr_in stress_addr;
static volatile LONG stress_bytes_checked;

static DWORD WINAPI stress_client(void *arg) {
  unsigned seed = (unsigned)(uintptr_t)arg * 2654435761u;
  SOCKET s = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
  if (connect(s, (struct sockaddr *)&stress_addr, sizeof stress_addr) != 0)
    return 1;
  char out[STRESS_MAX_MSG], in[STRESS_MAX_MSG]; /* each thread its own, on its stack */
  for (int r = 0; r < STRESS_ROUNDS; r++) {
    seed = seed * 1103515245u + 12345u;
    int len = 1 + (int)(seed % STRESS_MAX_MSG);
    for (int i = 0; i < len; i++)
      out[i] = (char)(seed >> (i % 24));
    if (send(s, out, len, 0) != len)
      return 2;
    for (int got = 0; got < len;) {
      int n = recv(s, in + got, len - got, 0);
      if (n <= 0)
        return 3;
      got += n;
    }
    if (memcmp(in, out, len) != 0)
      return 4;
    InterlockedExchangeAdd(&stress_bytes_checked, len);
  }
  closesocket(s);
  return 0;
}

static void conn_poll(conn *c, ULONG events) {
  nt_status st = afd_poll(c->base, c->base, events, &c->info, &c->iosb, c);
  if (st != NT_STATUS_PENDING && !NT_SUCCESS(st))
    poc_check(0, "poll failed 0x%lx", (unsigned long)st);
}

static conn *conn_new(HANDLE port, SOCKET s) {
  conn *c = calloc(1, sizeof *c);
  c->sock = s;
  c->base = poc_base(s);
  if (CreateIoCompletionPort(c->base, port, 1, 0) == NULL)
    poc_check(0, "bind to port");
  return c;
}

/* Echo what is buffered; poll for SEND if it blocks, else for more input. */
static int conn_pump(conn *c) {
  for (;;) {
    while (c->pending > 0) {
      int n = send(c->sock, c->buf, c->pending, 0);
      if (n < 0) {
        if (WSAGetLastError() != WSAEWOULDBLOCK)
          return -1;
        conn_poll(c, AFD_POLL_SEND | AFD_POLL_ABORT);
        return 0;
      }
      memmove(c->buf, c->buf + n, c->pending - n);
      c->pending -= n;
    }
    int n = recv(c->sock, c->buf, sizeof c->buf, 0);
    if (n == 0)
      return -1; /* the client is done */
    if (n < 0) {
      if (WSAGetLastError() != WSAEWOULDBLOCK)
        return -1;
      conn_poll(c, AFD_POLL_RECEIVE | AFD_POLL_DISCONNECT | AFD_POLL_ABORT);
      return 0;
    }
    c->pending = n;
  }
}

int main(void) {
  poc_init("stage 3: several clients under stress through one port");
  HANDLE port = poc_port();
  SOCKET l = poc_listener(&stress_addr);
  conn *lc = conn_new(port, l);
  lc->is_listener = 1;
  conn_poll(lc, AFD_POLL_ACCEPT);

  HANDLE threads[STRESS_CLIENTS];
  for (int i = 0; i < STRESS_CLIENTS; i++)
    threads[i] = CreateThread(NULL, 0, stress_client, (void *)(uintptr_t)(i + 1), 0, NULL);

  int accepted = 0, finished = 0;
  unsigned long packets = 0, batches = 0, max_batch = 0;
  int64_t start = poc_now_ms();
  nt_completion entries[64];
  while (finished < STRESS_CLIENTS) {
    ULONG n = poc_take(port, entries, 64, 10000);
    if (n == 0)
      poc_check(0, "progress within 10 s (%d of %d clients finished)", finished, STRESS_CLIENTS);
    batches++;
    packets += n;
    if (n > max_batch)
      max_batch = n;
    for (ULONG i = 0; i < n; i++) {
      conn *c = entries[i].apc_context;
      if (c->is_listener) {
        SOCKET s;
        while ((s = accept(l, NULL, NULL)) != INVALID_SOCKET) {
          poc_nonblocking(s);
          conn *nc = conn_new(port, s);
          accepted++;
          if (conn_pump(nc) < 0) {
            closesocket(s);
            free(nc);
            finished++;
          }
        }
        conn_poll(lc, AFD_POLL_ACCEPT);
      } else if (conn_pump(c) < 0) {
        /* No poll is pending on c: its packet was just taken. */
        closesocket(c->sock);
        free(c);
        finished++;
      }
    }
  }
  int64_t took = poc_now_ms() - start;
  int ok = 1;
  for (int i = 0; i < STRESS_CLIENTS; i++) {
    DWORD code = 1;
    WaitForSingleObject(threads[i], INFINITE);
    GetExitCodeThread(threads[i], &code);
    CloseHandle(threads[i]);
    ok &= code == 0;
  }
  poc_check(accepted == STRESS_CLIENTS, "%d clients accepted", accepted);
  poc_check(ok, "every client verified every echoed byte (%ld bytes)", (long)stress_bytes_checked);
  printf("     %lu packets in %lu batches (largest %lu) in %lld ms\n", packets, batches, max_batch,
         (long long)took);
  /* The listener's poll is still pending: cancel it and wait for the packet
   * before freeing its state. */
  nt_io_status_block cancel;
  nt.cancel_io_file_ex(lc->base, &lc->iosb, &cancel);
  ULONG n = poc_take(port, entries, 64, 2000);
  poc_check(n == 1 && entries[0].apc_context == lc && entries[0].iosb.status == NT_STATUS_CANCELLED,
            "the listener's cancelled poll comes back as STATUS_CANCELLED");
  free(lc);
  closesocket(l);
  nt.close(port);
  printf("# stage 3 passed\n");
  return 0;
}
