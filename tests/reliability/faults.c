/* tofu reliability suite — the fault plan, its generator, the socket-shim and
 * allocation seams (the backend seam is fault_backend.c), and the accounting
 * of what the engines' writes handed to the kernel. */
#include "faults.h"

#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "platform/event.h"
#include "platform/net.h"
#include "platform/thread.h"
#include "tofu/tofu.h"
#include "wire.h"

static fault_plan plan;
static atomic_int active;
static atomic_uint_fast64_t generation;
static atomic_uint_fast64_t threads_seen;
static _Thread_local int exempt, subject;
static _Thread_local uint64_t rng, rng_generation;

static atomic_uint_fast64_t n_wouldblock, n_shortio, n_reset, n_nomem, n_early, n_spurious, n_delay,
    n_waitfail, n_prim, setup_calls;

static void written_reset(void);
static void prims_reset(void);

void faults_start(const fault_plan *p) {
  written_reset();
  prims_reset();
  plan = *p;
  atomic_store(&n_wouldblock, 0);
  atomic_store(&n_shortio, 0);
  atomic_store(&n_reset, 0);
  atomic_store(&n_nomem, 0);
  atomic_store(&n_early, 0);
  atomic_store(&n_spurious, 0);
  atomic_store(&n_delay, 0);
  atomic_store(&n_waitfail, 0);
  atomic_store(&n_prim, 0);
  atomic_store(&setup_calls, 0);
  atomic_fetch_add(&generation, 1);
  atomic_store(&active, 1);
}

void faults_stop(void) {
  atomic_store(&active, 0);
}

void faults_exempt_thread(void) {
  exempt = 1;
}

void faults_subject_thread(int on) {
  subject = on;
}

uint64_t faults_setup_calls(void) {
  return atomic_load(&setup_calls);
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
  out->prim = atomic_load(&n_prim);
}

const fault_plan *faults_plan(void) {
  return atomic_load(&active) && (!exempt || subject) ? &plan : NULL;
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

/* An allocation (prim 0) or a primitive (prim 1) is being made: 1 if it
 * must fail, by the plan's schedule (fail_nth) or else by its chance. The
 * plan is read only once faults_plan has seen it active. */
static int setup_fails(int prim) {
  const fault_plan *p = faults_plan();
  if (!p)
    return 0;
  uint64_t n = atomic_fetch_add(&setup_calls, 1) + 1;
  if (p->fail_nth)
    return n == p->fail_nth;
  return faults_roll(prim ? p->prim : p->nomem);
}

/* ---- the platform's primitives ------------------------------------------
 *
 * A primitive whose making is failed is not made at all: its memory is
 * zeroed (an event's handles set to -1), so that a library that takes the
 * failure for success goes on, rather than hanging on garbage, until it
 * releases the object; its address is kept (a fixed table, reset by faults_start; a
 * spin lock, since the mutexes are what is being wrapped) until something is
 * made there again. Releasing such an object (fini, join, close) is the
 * error a library that took the failure for success makes sooner or later:
 * it is recorded, and the real release is skipped (it would act on nothing made).
 * Every thread counts in prims_live, a plan active or not. */

#define PRIM_FAILED_MAX 256

static atomic_flag prim_lock = ATOMIC_FLAG_INIT;
static const void *prim_failed[PRIM_FAILED_MAX];
static int prim_bad;
static char prim_why[160];
static atomic_int_fast64_t prims_live;

static void prim_lock_take(void) {
  while (atomic_flag_test_and_set(&prim_lock))
    plat_thread_yield();
}

static void prim_lock_give(void) {
  atomic_flag_clear(&prim_lock);
}

static void prim_trouble_locked(const char *what, const void *at) {
  if (prim_bad)
    return;
  prim_bad = 1;
  snprintf(prim_why, sizeof prim_why, "%s (at %p)", what, at);
}

static void prims_reset(void) {
  prim_lock_take();
  memset(prim_failed, 0, sizeof prim_failed);
  prim_bad = 0;
  prim_why[0] = '\0';
  prim_lock_give();
}

/* Its making failed: clear it and remember where it is. */
static int prim_fail(void *at, size_t size, int fill, const char *kind) {
  memset(at, fill, size);
  atomic_fetch_add(&n_prim, 1);
  prim_lock_take();
  int i = 0;
  while (i < PRIM_FAILED_MAX && prim_failed[i] && prim_failed[i] != at)
    i++;
  if (i < PRIM_FAILED_MAX)
    prim_failed[i] = at;
  else
    prim_trouble_locked(kind, at); /* the table is full: say so rather than miss one */
  prim_lock_give();
  return TOFU_ESYSTEM;
}

/* Made (rc TOFU_OK): counted, and no longer a failed one. */
static int prim_made(const void *at, int rc) {
  if (rc != TOFU_OK)
    return rc;
  atomic_fetch_add(&prims_live, 1);
  prim_lock_take();
  for (int i = 0; i < PRIM_FAILED_MAX; i++)
    if (prim_failed[i] == at)
      prim_failed[i] = NULL;
  prim_lock_give();
  return rc;
}

/* About to be released: 1 if it really was made (release it), 0 if its
 * making failed (recorded as the error). */
static int prim_release(const void *at, const char *what) {
  int failed = 0;
  prim_lock_take();
  for (int i = 0; i < PRIM_FAILED_MAX; i++)
    if (prim_failed[i] == at)
      failed = 1;
  if (failed)
    prim_trouble_locked(what, at);
  prim_lock_give();
  if (!failed)
    atomic_fetch_sub(&prims_live, 1);
  return !failed;
}

int64_t faults_prims_live(void) {
  return (int64_t)atomic_load(&prims_live);
}

const char *faults_prim_error(void) {
  prim_lock_take();
  const char *why = prim_bad ? prim_why : NULL;
  prim_lock_give();
  return why;
}

int __real_plat_mutex_init(plat_mutex *m);
int __wrap_plat_mutex_init(plat_mutex *m);
void __real_plat_mutex_fini(plat_mutex *m);
void __wrap_plat_mutex_fini(plat_mutex *m);
int __real_plat_cond_init(plat_cond *c);
int __wrap_plat_cond_init(plat_cond *c);
void __real_plat_cond_fini(plat_cond *c);
void __wrap_plat_cond_fini(plat_cond *c);
int __real_plat_thread_start(plat_thread *t, plat_thread_fn fn, void *arg);
int __wrap_plat_thread_start(plat_thread *t, plat_thread_fn fn, void *arg);
void __real_plat_thread_join(plat_thread *t);
void __wrap_plat_thread_join(plat_thread *t);
int __real_plat_event_open(plat_event *ev);
int __wrap_plat_event_open(plat_event *ev);
void __real_plat_event_close(plat_event *ev);
void __wrap_plat_event_close(plat_event *ev);

/* Timed condition waits, counted per thread (a wait without a limit must
 * not turn into a loop of short timed ones). */
static _Thread_local uint64_t timed_waits;

int __real_plat_cond_wait_until(plat_cond *c, plat_mutex *m, int64_t deadline_ms);
int __wrap_plat_cond_wait_until(plat_cond *c, plat_mutex *m, int64_t deadline_ms);

int __wrap_plat_cond_wait_until(plat_cond *c, plat_mutex *m, int64_t deadline_ms) {
  timed_waits++;
  return __real_plat_cond_wait_until(c, m, deadline_ms);
}

uint64_t faults_timed_waits_here(void) {
  return timed_waits;
}

int __wrap_plat_mutex_init(plat_mutex *m) {
  if (setup_fails(1))
    return prim_fail(m, sizeof *m, 0, "too many failed primitives");
  return prim_made(m, __real_plat_mutex_init(m));
}

void __wrap_plat_mutex_fini(plat_mutex *m) {
  if (prim_release(m, "a mutex whose init failed was finalised"))
    __real_plat_mutex_fini(m);
}

int __wrap_plat_cond_init(plat_cond *c) {
  if (setup_fails(1))
    return prim_fail(c, sizeof *c, 0, "too many failed primitives");
  return prim_made(c, __real_plat_cond_init(c));
}

void __wrap_plat_cond_fini(plat_cond *c) {
  if (prim_release(c, "a condition variable whose init failed was finalised"))
    __real_plat_cond_fini(c);
}

int __wrap_plat_thread_start(plat_thread *t, plat_thread_fn fn, void *arg) {
  if (setup_fails(1))
    return prim_fail(t, sizeof *t, 0, "too many failed primitives");
  return prim_made(t, __real_plat_thread_start(t, fn, arg));
}

void __wrap_plat_thread_join(plat_thread *t) {
  if (prim_release(t, "a thread that failed to start was joined"))
    __real_plat_thread_join(t);
}

int __wrap_plat_event_open(plat_event *ev) {
  if (setup_fails(1))
    return prim_fail(ev, sizeof *ev, 0xFF, "too many failed primitives");
  return prim_made(ev, __real_plat_event_open(ev));
}

void __wrap_plat_event_close(plat_event *ev) {
  if (prim_release(ev, "an event whose open failed was closed"))
    __real_plat_event_close(ev);
}

/* ---- what reached the kernel --------------------------------------------
 *
 * While a plan is active, every byte that net_sendv hands to the kernel is
 * followed, per socket, through tofu's frames (a 16-byte header, then
 * headers_len + body_len bytes), and the message id of every Request whose
 * frame was written, wholly or partly, goes into the written set. A frame
 * counts from its first byte accepted; its header is then read ahead from the
 * buffers the engine passed (before a short write cut them), and checked
 * against the accepted bytes once they are all in.
 *
 * The Reactors of both engines write at the same time: one mutex guards the
 * tables. Nothing here allocates (malloc may be failing on purpose): the
 * tables are fixed, and running out of room, or a stream that stops making
 * sense as frames, is recorded as the accounting's error, which the test
 * asserts is absent. A socket is followed from its first write after
 * faults_start (the flows open every connection after it) and forgotten when
 * it is closed (net_close is wrapped too: the OS reuses the number). */

#define ACCT_SOCKETS 64
#define ACCT_IDS 4096 /* a power of two */
#define ACCT_IDS_MAX (ACCT_IDS / 4 * 3)

typedef struct acct_stream {
  tofu_socket s;
  int used;
  uint8_t hbuf[WIRE_HEADER_SIZE]; /* the current frame's header bytes accepted so far */
  size_t hgot;
  size_t skip; /* the current frame's payload bytes still to come */
  int ahead;   /* the current frame's header was read ahead, into ahead_h */
  wire_header ahead_h;
} acct_stream;

static plat_mutex acct_mu;
static atomic_int acct_ready;
static atomic_int acct_streams_used;
static acct_stream acct_streams[ACCT_SOCKETS];
static uint64_t written_ids[ACCT_IDS]; /* 0 = empty: message ids start at 1 */
static size_t written_count;
static int acct_failed;
static char acct_why[192];

/* Record the first trouble since faults_start. Called with acct_mu held. */
static void acct_trouble(const char *what, unsigned long long a, unsigned long long b) {
  if (acct_failed)
    return;
  acct_failed = 1;
  snprintf(acct_why, sizeof acct_why, "%s (%llu, %llu)", what, a, b);
}

static void written_reset(void) {
  if (!atomic_load(&acct_ready)) {
    if (plat_mutex_init(&acct_mu) != TOFU_OK)
      abort(); /* the test thread, before any Reactor can take the lock */
    atomic_store(&acct_ready, 1);
  }
  plat_mutex_lock(&acct_mu);
  memset(acct_streams, 0, sizeof acct_streams);
  memset(written_ids, 0, sizeof written_ids);
  written_count = 0;
  acct_failed = 0;
  acct_why[0] = '\0';
  atomic_store(&acct_streams_used, 0);
  plat_mutex_unlock(&acct_mu);
}

static size_t id_slot(uint64_t id) {
  return (size_t)((id * 0x9E3779B97F4A7C15ull) >> 52) & (ACCT_IDS - 1);
}

static void written_add(uint64_t id) {
  size_t i = id_slot(id);
  while (written_ids[i] != 0) {
    if (written_ids[i] == id)
      return;
    i = (i + 1) & (ACCT_IDS - 1);
  }
  if (written_count >= ACCT_IDS_MAX) {
    acct_trouble("the written-request table is full", (unsigned long long)ACCT_IDS_MAX,
                 (unsigned long long)id);
    return;
  }
  written_ids[i] = id;
  written_count++;
}

int faults_request_written(uint64_t message_id) {
  if (!atomic_load(&acct_ready) || message_id == 0)
    return 0;
  int found = 0;
  plat_mutex_lock(&acct_mu);
  for (size_t i = id_slot(message_id); written_ids[i] != 0; i = (i + 1) & (ACCT_IDS - 1)) {
    if (written_ids[i] == message_id) {
      found = 1;
      break;
    }
  }
  plat_mutex_unlock(&acct_mu);
  return found;
}

const char *faults_accounting_error(void) {
  if (!atomic_load(&acct_ready))
    return NULL;
  plat_mutex_lock(&acct_mu);
  const char *why = acct_failed ? acct_why : NULL;
  plat_mutex_unlock(&acct_mu);
  return why;
}

static acct_stream *stream_find(tofu_socket s, int create) {
  acct_stream *free_slot = NULL;
  for (int i = 0; i < ACCT_SOCKETS; i++) {
    if (acct_streams[i].used && acct_streams[i].s == s)
      return &acct_streams[i];
    if (!acct_streams[i].used && !free_slot)
      free_slot = &acct_streams[i];
  }
  if (!create)
    return NULL;
  if (!free_slot) {
    acct_trouble("the socket table is full", (unsigned long long)ACCT_SOCKETS,
                 (unsigned long long)s);
    return NULL;
  }
  memset(free_slot, 0, sizeof *free_slot);
  free_slot->s = s;
  free_slot->used = 1;
  atomic_fetch_add(&acct_streams_used, 1);
  return free_slot;
}

/* Copy up to n bytes found at offset off of the buffers; returns how many. */
static size_t iov_copy(const net_iov *iov, int count, size_t off, uint8_t *dst, size_t n) {
  size_t got = 0;
  for (int i = 0; i < count && got < n; i++) {
    if (off >= iov[i].len) {
      off -= iov[i].len;
      continue;
    }
    size_t take = iov[i].len - off;
    if (take > n - got)
      take = n - got;
    memcpy(dst + got, (const uint8_t *)iov[i].base + off, take);
    got += take;
    off = 0;
  }
  return got;
}

/* A frame's first byte was accepted at offset off of the call's buffers. */
static void frame_starts(acct_stream *st, const net_iov *orig, int ocount, size_t off) {
  uint8_t h[WIRE_HEADER_SIZE];
  st->ahead = iov_copy(orig, ocount, off, h, sizeof h) == sizeof h;
  if (!st->ahead)
    return; /* recorded once the header is accepted whole */
  wire_decode_header(h, &st->ahead_h);
  if (wire_opcode(st->ahead_h.proto) == TOFU_OP_REQUEST)
    written_add(st->ahead_h.message_id);
}

/* The current frame's header has been accepted whole. */
static void header_done(acct_stream *st) {
  wire_header h;
  wire_decode_header(st->hbuf, &h);
  unsigned op = wire_opcode(h.proto);
  if (!wire_opcode_travels(op) || (h.proto & 0xc0u))
    acct_trouble("lost track of the frames on a socket: socket, proto", (unsigned long long)st->s,
                 (unsigned long long)h.proto);
  if (st->ahead && (h.proto != st->ahead_h.proto || h.message_id != st->ahead_h.message_id ||
                    h.headers_len != st->ahead_h.headers_len || h.body_len != st->ahead_h.body_len))
    acct_trouble("a header accepted differs from the one read ahead: socket, message id",
                 (unsigned long long)st->s, (unsigned long long)h.message_id);
  if (!st->ahead && op == TOFU_OP_REQUEST)
    written_add(h.message_id);
  st->skip = (size_t)h.headers_len + h.body_len;
  st->hgot = 0;
  st->ahead = 0;
}

/* The kernel accepted the first w bytes of pass[0..npass) (a prefix of
 * orig[0..ocount), the buffers the engine gave). */
static void acct_written(tofu_socket s, const net_iov *pass, int npass, size_t w,
                         const net_iov *orig, int ocount) {
  plat_mutex_lock(&acct_mu);
  acct_stream *st = stream_find(s, 1);
  size_t done = 0;
  for (int i = 0; st && i < npass && done < w; i++) {
    const uint8_t *b = pass[i].base;
    size_t len = pass[i].len < w - done ? pass[i].len : w - done;
    size_t k = 0;
    while (k < len) {
      if (st->skip) {
        size_t t = st->skip < len - k ? st->skip : len - k;
        st->skip -= t;
        k += t;
        continue;
      }
      if (st->hgot == 0)
        frame_starts(st, orig, ocount, done + k);
      size_t t = WIRE_HEADER_SIZE - st->hgot;
      if (t > len - k)
        t = len - k;
      memcpy(st->hbuf + st->hgot, b + k, t);
      st->hgot += t;
      k += t;
      if (st->hgot == WIRE_HEADER_SIZE)
        header_done(st);
    }
    done += len;
  }
  plat_mutex_unlock(&acct_mu);
}

static void acct_forget(tofu_socket s) {
  /* A stream is made by the thread that writes the socket, which is the one
   * that closes it: if there is one for s, this thread counted it. */
  if (atomic_load(&acct_streams_used) == 0)
    return;
  plat_mutex_lock(&acct_mu);
  acct_stream *st = stream_find(s, 0);
  if (st) {
    st->used = 0;
    atomic_fetch_sub(&acct_streams_used, 1);
  }
  plat_mutex_unlock(&acct_mu);
}

/* ---- the socket shim --------------------------------------------------- */

ptrdiff_t __real_net_recv(tofu_socket s, void *buf, size_t len);
ptrdiff_t __wrap_net_recv(tofu_socket s, void *buf, size_t len);
ptrdiff_t __real_net_sendv(tofu_socket s, const net_iov *iov, int count);
ptrdiff_t __wrap_net_sendv(tofu_socket s, const net_iov *iov, int count);
int __real_net_accept(tofu_socket listener, tofu_socket *out);
int __wrap_net_accept(tofu_socket listener, tofu_socket *out);
void __real_net_close(tofu_socket s);
void __wrap_net_close(tofu_socket s);

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
  const net_iov *pass = iov;
  int npass = count;
  net_iov cut[NET_IOV_MAX];
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
      int n = 0;
      for (int i = 0; i < count && want > 0; i++) {
        cut[n] = iov[i];
        if (cut[n].len > want)
          cut[n].len = want;
        want -= cut[n].len;
        if (cut[n].len)
          n++;
      }
      pass = cut;
      npass = n;
    }
  }
  ptrdiff_t w = __real_net_sendv(s, pass, npass);
  if (w > 0 && atomic_load(&active))
    acct_written(s, pass, npass, (size_t)w, iov, count);
  return w;
}

void __wrap_net_close(tofu_socket s) {
  if (s != TOFU_INVALID_SOCKET)
    acct_forget(s); /* before the number can be handed out again */
  __real_net_close(s);
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
#include <malloc.h>

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *old, size_t n);
void __real_free(void *p);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *old, size_t n);
void __wrap_free(void *p);

static atomic_uint_fast64_t alloc_bytes;
static atomic_int_fast64_t live_bytes;
static _Thread_local int live_ignored;

/* Counts what the Reactors ask for, then rolls for a failure. */
static int fail_alloc(size_t n) {
  if (!exempt)
    atomic_fetch_add_explicit(&alloc_bytes, n, memory_order_relaxed);
  if (setup_fails(0)) {
    atomic_fetch_add(&n_nomem, 1);
    return 1;
  }
  return 0;
}

static void *counted(void *p) {
  if (p && !live_ignored)
    atomic_fetch_add_explicit(&live_bytes, (int_fast64_t)malloc_usable_size(p),
                              memory_order_relaxed);
  return p;
}

static void uncounted(void *p) {
  if (p && !live_ignored)
    atomic_fetch_sub_explicit(&live_bytes, (int_fast64_t)malloc_usable_size(p),
                              memory_order_relaxed);
}

void *__wrap_malloc(size_t n) {
  return fail_alloc(n) ? NULL : counted(__real_malloc(n));
}

void *__wrap_calloc(size_t n, size_t size) {
  return fail_alloc(n * size) ? NULL : counted(__real_calloc(n, size));
}

void *__wrap_realloc(void *old, size_t n) {
  if (fail_alloc(n))
    return NULL;
  size_t was = old && !live_ignored ? malloc_usable_size(old) : 0;
  void *p = __real_realloc(old, n);
  if (p || n == 0)
    atomic_fetch_sub_explicit(&live_bytes, (int_fast64_t)was, memory_order_relaxed);
  return counted(p);
}

void __wrap_free(void *p) {
  uncounted(p);
  __real_free(p);
}

int faults_nomem_supported(void) {
  return 1;
}

uint64_t faults_alloc_bytes(void) {
  return atomic_load(&alloc_bytes);
}

int64_t faults_live_bytes(void) {
  return (int64_t)atomic_load(&live_bytes);
}

void faults_live_ignore_thread(int on) {
  live_ignored = on;
}
#else
int faults_nomem_supported(void) {
  return 0;
}

uint64_t faults_alloc_bytes(void) {
  return 0;
}

int64_t faults_live_bytes(void) {
  return 0;
}

void faults_live_ignore_thread(int on) {
  (void)on;
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
