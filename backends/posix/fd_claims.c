/* fd_claims — see fd_claims.h.
 *
 * One byte per descriptor number, up to the highest one claimed, behind one
 * mutex that only register, deregister and close take (never arm, wait or
 * notify). The array is freed whenever the last claim goes, so a process that
 * has closed every poller holds nothing. A poller's fd_table is its own,
 * touched by its owning thread only, and takes no lock. */
#if defined(__linux__)
#define _GNU_SOURCE
#else
#define _POSIX_C_SOURCE 200809L
#endif

#include "fd_claims.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tofu/error.h"

static pthread_mutex_t claims_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned char *claimed; /* claimed[fd] is 1 while a poller holds fd */
static int claimed_cap;
static int claimed_count;

/* Grow the array *arr of *cap elements of `elem` bytes, the new ones
 * zeroed, until index fd exists. */
static int reserve(void **arr, int *cap, size_t elem, int fd) {
  if (fd < *cap)
    return TOFU_OK;
  int ncap = *cap ? *cap : 64;
  while (ncap <= fd)
    ncap = ncap > INT32_MAX / 2 ? fd + 1 : ncap * 2;
  unsigned char *grown = realloc(*arr, (size_t)ncap * elem);
  if (grown == NULL)
    return TOFU_ENOMEM;
  memset(grown + (size_t)*cap * elem, 0, (size_t)(ncap - *cap) * elem);
  *arr = grown;
  *cap = ncap;
  return TOFU_OK;
}

int fd_claim(int fd) {
  pthread_mutex_lock(&claims_lock);
  void *arr = claimed;
  int rc = reserve(&arr, &claimed_cap, 1, fd);
  claimed = arr;
  if (rc == TOFU_OK && claimed[fd]) {
    rc = TOFU_EUNSERVABLE;
  } else if (rc == TOFU_OK) {
    claimed[fd] = 1;
    claimed_count++;
  }
  pthread_mutex_unlock(&claims_lock);
  return rc;
}

void fd_release(int fd) {
  pthread_mutex_lock(&claims_lock);
  if (fd >= 0 && fd < claimed_cap && claimed[fd]) {
    claimed[fd] = 0;
    if (--claimed_count == 0) {
      free(claimed);
      claimed = NULL;
      claimed_cap = 0;
    }
  }
  pthread_mutex_unlock(&claims_lock);
}

/* ---- One poller's handles ------------------------------------------------ */

int fd_table_add(fd_table *t, int fd, size_t size, void **handle) {
  if (fd < 0)
    return TOFU_EINVAL;
  if (fd < t->cap && t->slot[fd] != NULL)
    return TOFU_EEXIST;
  void *arr = t->slot;
  int rc = reserve(&arr, &t->cap, sizeof *t->slot, fd);
  t->slot = arr;
  if (rc != TOFU_OK)
    return rc;
  void *h = calloc(1, size);
  if (h == NULL)
    return TOFU_ENOMEM;
  rc = fd_claim(fd);
  if (rc != TOFU_OK) {
    free(h);
    return rc;
  }
  *(int *)h = fd; /* the handle's first member */
  t->slot[fd] = h;
  *handle = h;
  return TOFU_OK;
}

void fd_table_remove(fd_table *t, int fd) {
  if (fd < 0 || fd >= t->cap || t->slot[fd] == NULL)
    return;
  fd_release(fd);
  free(t->slot[fd]);
  t->slot[fd] = NULL;
}

void fd_table_fini(fd_table *t) {
  for (int fd = 0; fd < t->cap; fd++)
    fd_table_remove(t, fd);
  free(t->slot);
  t->slot = NULL;
  t->cap = 0;
}
