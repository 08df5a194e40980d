/* fd_claims — see fd_claims.h.
 *
 * One byte per descriptor number, up to the highest one claimed, behind one
 * mutex that only register, deregister and close take (never arm, wait or
 * notify). The array is freed whenever the last claim goes, so a process that
 * has closed every poller holds nothing. */
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

/* Under claims_lock: make claimed[fd] exist. */
static int reserve(int fd) {
  if (fd < claimed_cap)
    return TOFU_OK;
  int cap = claimed_cap ? claimed_cap : 64;
  while (cap <= fd)
    cap = cap > INT32_MAX / 2 ? fd + 1 : cap * 2;
  unsigned char *grown = realloc(claimed, (size_t)cap);
  if (grown == NULL)
    return TOFU_ENOMEM;
  memset(grown + claimed_cap, 0, (size_t)(cap - claimed_cap));
  claimed = grown;
  claimed_cap = cap;
  return TOFU_OK;
}

int fd_claim(int fd) {
  pthread_mutex_lock(&claims_lock);
  int rc = reserve(fd);
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
