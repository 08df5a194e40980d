/* tofu tests — listeners and connected pairs (see pairs.h). */
#ifndef _WIN32
#define _POSIX_C_SOURCE 200809L
#endif

#include "pairs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef _WIN32
#include <windows.h>
#define PAIR_SEP "\\"
#else
#include <unistd.h>
#define PAIR_SEP "/"
#endif

const char *pair_name(pair_transport t) {
  return t == PAIR_TCP ? "tcp" : "uds";
}

/* Make a private directory for one AF_UNIX socket; 0 on failure. */
static int pair_make_dir(char *dir, size_t n) {
#ifdef _WIN32
  static volatile LONG counter;
  char tmp[MAX_PATH + 1];
  DWORD len = GetTempPathA(sizeof tmp, tmp);
  if (len == 0 || len > MAX_PATH)
    return 0;
  for (int attempt = 0; attempt < 100; attempt++) {
    int w = snprintf(dir, n, "%stofu-%lu-%ld", tmp, (unsigned long)GetCurrentProcessId(),
                     (long)InterlockedIncrement(&counter));
    if (w < 0 || (size_t)w >= n)
      return 0;
    if (CreateDirectoryA(dir, NULL))
      return 1;
  }
  return 0;
#else
  /* A short base keeps the path inside sun_path (108 bytes). */
  const char *base = getenv("TMPDIR");
  if (base == NULL || base[0] == '\0' || strlen(base) > 60)
    base = "/tmp";
  int w = snprintf(dir, n, "%s/tofu-XXXXXX", base);
  if (w < 0 || (size_t)w >= n)
    return 0;
  return mkdtemp(dir) != NULL;
#endif
}

static void pair_remove_path(const char *path, const char *dir) {
#ifdef _WIN32
  DeleteFileA(path);
  RemoveDirectoryA(dir);
#else
  unlink(path);
  rmdir(dir);
#endif
}

static int pair_socket(pair_transport t, tofu_socket *out) {
  return t == PAIR_TCP ? net_tcp_socket(out) : net_uds_socket(out);
}

int pair_listen(pair_transport t, pair_listener *l) {
  memset(l, 0, sizeof *l);
  l->transport = t;
  int rc = pair_socket(t, &l->sock);
  if (rc != NET_OK)
    return rc;
  if (t == PAIR_TCP) {
    rc = net_tcp_bind_loopback(l->sock, &l->port);
  } else if (!pair_make_dir(l->dir, sizeof l->dir)) {
    rc = NET_EOTHER;
  } else {
    int w = snprintf(l->path, sizeof l->path, "%s" PAIR_SEP "s", l->dir);
    rc = (w < 0 || (size_t)w >= sizeof l->path) ? NET_EOTHER : net_uds_bind(l->sock, l->path);
  }
  if (rc == NET_OK)
    rc = net_listen(l->sock, 128);
  if (rc != NET_OK)
    pair_unlisten(l);
  return rc;
}

void pair_unlisten(pair_listener *l) {
  net_close(l->sock);
  l->sock = TOFU_INVALID_SOCKET;
  if (l->transport == PAIR_UDS && l->dir[0] != '\0')
    pair_remove_path(l->path, l->dir);
  l->dir[0] = '\0';
}

int pair_connect(const pair_listener *l, int nonblocking, tofu_socket *client) {
  int rc = pair_socket(l->transport, client);
  if (rc != NET_OK)
    return rc;
  if (nonblocking)
    rc = net_set_nonblocking(*client);
  if (rc == NET_OK && l->transport == PAIR_TCP)
    rc = net_set_nodelay(*client);
  if (rc == NET_OK)
    rc = l->transport == PAIR_TCP ? net_tcp_connect_loopback(*client, l->port)
                                  : net_uds_connect(*client, l->path);
  if (rc != NET_OK && rc != NET_EINPROGRESS) {
    net_close(*client);
    *client = TOFU_INVALID_SOCKET;
  }
  return rc;
}

int pair_open(pair_transport t, tofu_socket *a, tofu_socket *b) {
  pair_listener l;
  *a = *b = TOFU_INVALID_SOCKET;
  int rc = pair_listen(t, &l);
  if (rc != NET_OK)
    return rc;
  /* Blocking connect and accept: both ends are fully connected on return. */
  rc = pair_connect(&l, 0, a);
  if (rc == NET_OK)
    rc = net_accept(l.sock, b);
  if (rc == NET_OK)
    rc = net_set_nonblocking(*a);
  if (rc == NET_OK && t == PAIR_TCP)
    rc = net_set_nodelay(*b);
  pair_unlisten(&l);
  if (rc != NET_OK) {
    pair_close(*a, *b);
    *a = *b = TOFU_INVALID_SOCKET;
  }
  return rc;
}

void pair_close(tofu_socket a, tofu_socket b) {
  net_close(a);
  net_close(b);
}
