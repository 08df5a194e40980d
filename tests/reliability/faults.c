/* tofu reliability suite — the fault plan, its generator, and the socket-shim
 * and allocation seams (the backend seam is fault_backend.c). */
#include "faults.h"

#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "platform/net.h"

static fault_plan plan;
static atomic_int active;
static atomic_uint_fast64_t generation;
static atomic_uint_fast64_t threads_seen;
static _Thread_local int exempt;
static _Thread_local uint64_t rng, rng_generation;

static atomic_uint_fast64_t n_wouldblock, n_shortio, n_reset, n_nomem, n_early, n_spurious, n_delay,
    n_waitfail;

void faults_start(const fault_plan *p) {
  plan = *p;
  atomic_store(&n_wouldblock, 0);
  atomic_store(&n_shortio, 0);
  atomic_store(&n_reset, 0);
  atomic_store(&n_nomem, 0);
  atomic_store(&n_early, 0);
  atomic_store(&n_spurious, 0);
  atomic_store(&n_delay, 0);
  atomic_store(&n_waitfail, 0);
  atomic_fetch_add(&generation, 1);
  atomic_store(&active, 1);
}

void faults_stop(void) {
  atomic_store(&active, 0);
}

void faults_exempt_thread(void) {
  exempt = 1;
}

void faults_counts(fault_counts *out) {
  out->wouldblock = atomic_load(&n_wouldblock);
  out->shortio = atomic_load(&n_shortio);
  out->reset = atomic_load(&n_reset);
  out->nomem = atomic_load(&n_nomem);
  out->early = atomic_load(&n_early);
  out->spurious = atomic_load(&n_spurious);
  out->delay = atomic_load(&n_delay);
  out->waitfail = atomic_load(&n_waitfail);
}

const fault_plan *faults_plan(void) {
  return atomic_load(&active) && !exempt ? &plan : NULL;
}

uint32_t faults_rand(void) {
  uint64_t g = atomic_load(&generation);
  if (rng_generation != g) {
    /* Each thread draws its own sequence from the plan's seed. */
    rng_generation = g;
    rng = plan.seed * 0x9E3779B97F4A7C15ull +
          atomic_fetch_add(&threads_seen, 1) * 0xD1B54A32D192ED03ull;
    if (rng == 0)
      rng = 1;
  }
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return (uint32_t)(rng >> 32);
}

int faults_roll(unsigned per_mille) {
  if (per_mille == 0 || !faults_plan())
    return 0;
  return faults_rand() % 1000u < per_mille;
}

/* ---- the socket shim --------------------------------------------------- */

ptrdiff_t __real_net_recv(tofu_socket s, void *buf, size_t len);
ptrdiff_t __wrap_net_recv(tofu_socket s, void *buf, size_t len);
ptrdiff_t __real_net_sendv(tofu_socket s, const net_iov *iov, int count);
ptrdiff_t __wrap_net_sendv(tofu_socket s, const net_iov *iov, int count);
int __real_net_accept(tofu_socket listener, tofu_socket *out);
int __wrap_net_accept(tofu_socket listener, tofu_socket *out);

static size_t short_len(size_t len) {
  return faults_rand() % 2 ? 1 : 1 + faults_rand() % len;
}

ptrdiff_t __wrap_net_recv(tofu_socket s, void *buf, size_t len) {
  const fault_plan *p = faults_plan();
  if (p) {
    if (faults_roll(p->reset)) {
      atomic_fetch_add(&n_reset, 1);
      return NET_ECONNRESET;
    }
    if (faults_roll(p->wouldblock)) {
      atomic_fetch_add(&n_wouldblock, 1);
      return NET_EWOULDBLOCK;
    }
    if (len > 1 && faults_roll(p->shortio)) {
      atomic_fetch_add(&n_shortio, 1);
      len = short_len(len);
    }
  }
  return __real_net_recv(s, buf, len);
}

ptrdiff_t __wrap_net_sendv(tofu_socket s, const net_iov *iov, int count) {
  const fault_plan *p = faults_plan();
  if (p) {
    if (faults_roll(p->reset)) {
      atomic_fetch_add(&n_reset, 1);
      return NET_ECONNRESET;
    }
    if (faults_roll(p->wouldblock)) {
      atomic_fetch_add(&n_wouldblock, 1);
      return NET_EWOULDBLOCK;
    }
    size_t total = 0;
    for (int i = 0; i < count; i++)
      total += iov[i].len;
    if (total > 1 && faults_roll(p->shortio)) {
      atomic_fetch_add(&n_shortio, 1);
      size_t want = short_len(total);
      net_iov cut[NET_IOV_MAX];
      int n = 0;
      for (int i = 0; i < count && want > 0; i++) {
        cut[n] = iov[i];
        if (cut[n].len > want)
          cut[n].len = want;
        want -= cut[n].len;
        if (cut[n].len)
          n++;
      }
      return __real_net_sendv(s, cut, n);
    }
  }
  return __real_net_sendv(s, iov, count);
}

int __wrap_net_accept(tofu_socket listener, tofu_socket *out) {
  const fault_plan *p = faults_plan();
  if (p && faults_roll(p->wouldblock)) {
    atomic_fetch_add(&n_wouldblock, 1);
    *out = TOFU_INVALID_SOCKET;
    return NET_EWOULDBLOCK;
  }
  return __real_net_accept(listener, out);
}

/* ---- allocation (POSIX builds link with --wrap=malloc,calloc,realloc) --- */

#ifndef _WIN32
void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *old, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *old, size_t n);

static int fail_alloc(void) {
  const fault_plan *p = faults_plan();
  if (p && faults_roll(p->nomem)) {
    atomic_fetch_add(&n_nomem, 1);
    return 1;
  }
  return 0;
}

void *__wrap_malloc(size_t n) {
  return fail_alloc() ? NULL : __real_malloc(n);
}

void *__wrap_calloc(size_t n, size_t size) {
  return fail_alloc() ? NULL : __real_calloc(n, size);
}

void *__wrap_realloc(void *old, size_t n) {
  return fail_alloc() ? NULL : __real_realloc(old, n);
}

int faults_nomem_supported(void) {
  return 1;
}
#else
int faults_nomem_supported(void) {
  return 0;
}
#endif

void faults_note_early(void) {
  atomic_fetch_add(&n_early, 1);
}
void faults_note_spurious(void) {
  atomic_fetch_add(&n_spurious, 1);
}
void faults_note_delay(void) {
  atomic_fetch_add(&n_delay, 1);
}
void faults_note_waitfail(void) {
  atomic_fetch_add(&n_waitfail, 1);
}
