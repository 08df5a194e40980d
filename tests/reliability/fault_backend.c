/* tofu reliability suite — a backend that wraps the real one (test-only).
 *
 * The engine asks tofu_poller_backend() for its table; this binary is linked
 * with --wrap=tofu_poller_backend, so it gets the table below, which forwards
 * every call to the real backend and keeps its own handle records so that it
 * can inject, when a fault plan is active:
 *   - early returns: wait returns 0 at once (an interrupted wait);
 *   - spurious reports: an armed handle is reported with its armed interest
 *     although nothing may be ready, or a wakeup nobody asked for;
 *   - delayed reports: a real report is held back and returned by the next
 *     wait;
 *   - failed waits: wait returns TOFU_ESYSTEM, as a broken poller would.
 * It also counts the engines' notify calls, plan or no plan.
 * It never reports a handle after its deregister, as the contract demands. */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "faults.h"
#include "tofu/poller.h"

typedef struct fb_handle {
  tofu_poll_handle *real;
  void *token;
  unsigned armed;
  struct fb_handle *prev, *next;
} fb_handle;

typedef struct fb_poller {
  tofu_poller *real;
  fb_handle *handles;
  int nhandles;
  tofu_poll_event *held; /* token = fb_handle */
  int nheld, held_cap;
} fb_poller;

const tofu_poller_ops *__real_tofu_poller_backend(void);
const tofu_poller_ops *__wrap_tofu_poller_backend(void);

static const tofu_poller_ops *real_ops(void) {
  return __real_tofu_poller_backend();
}

static int fb_open(tofu_poller **out) {
  if (!out)
    return TOFU_EINVAL;
  fb_poller *p = calloc(1, sizeof *p);
  if (!p)
    return TOFU_ENOMEM;
  int rc = real_ops()->open(&p->real);
  if (rc != TOFU_OK) {
    free(p);
    return rc;
  }
  *out = (tofu_poller *)p;
  return TOFU_OK;
}

static void fb_close(tofu_poller *tp) {
  fb_poller *p = (fb_poller *)tp;
  if (!p)
    return;
  real_ops()->close(p->real);
  while (p->handles) {
    fb_handle *h = p->handles;
    p->handles = h->next;
    free(h);
  }
  free(p->held);
  free(p);
}

static int fb_register(tofu_poller *tp, tofu_socket sock, void *token, tofu_poll_handle **out) {
  fb_poller *p = (fb_poller *)tp;
  if (!p || !out)
    return TOFU_EINVAL;
  fb_handle *h = calloc(1, sizeof *h);
  if (!h)
    return TOFU_ENOMEM;
  int rc = real_ops()->register_socket(p->real, sock, h, &h->real);
  if (rc != TOFU_OK) {
    free(h);
    return rc;
  }
  h->token = token;
  h->next = p->handles;
  if (p->handles)
    p->handles->prev = h;
  p->handles = h;
  p->nhandles++;
  *out = (tofu_poll_handle *)h;
  return TOFU_OK;
}

static int fb_deregister(tofu_poller *tp, tofu_poll_handle *th) {
  fb_poller *p = (fb_poller *)tp;
  fb_handle *h = (fb_handle *)th;
  if (!p || !h)
    return TOFU_EINVAL;
  int rc = real_ops()->deregister(p->real, h->real);
  /* A report held for this handle must never come out now. */
  int k = 0;
  for (int i = 0; i < p->nheld; i++)
    if (p->held[i].token != h)
      p->held[k++] = p->held[i];
  p->nheld = k;
  if (h->prev)
    h->prev->next = h->next;
  else
    p->handles = h->next;
  if (h->next)
    h->next->prev = h->prev;
  p->nhandles--;
  free(h);
  return rc;
}

static int fb_arm(tofu_poller *tp, tofu_poll_handle *th, unsigned interest) {
  fb_poller *p = (fb_poller *)tp;
  fb_handle *h = (fb_handle *)th;
  if (!p || !h)
    return TOFU_EINVAL;
  int rc = real_ops()->arm(p->real, h->real, interest);
  if (rc == TOFU_OK)
    h->armed = interest;
  return rc;
}

static int hold(fb_poller *p, fb_handle *h, unsigned events) {
  if (p->nheld == p->held_cap) {
    int cap = p->held_cap ? p->held_cap * 2 : 16;
    tofu_poll_event *n = realloc(p->held, (size_t)cap * sizeof *n);
    if (!n)
      return 0;
    p->held = n;
    p->held_cap = cap;
  }
  p->held[p->nheld].token = h;
  p->held[p->nheld].events = events;
  p->nheld++;
  return 1;
}

static fb_handle *armed_at_random(fb_poller *p) {
  if (p->nhandles == 0)
    return NULL;
  int skip = (int)(faults_rand() % (unsigned)p->nhandles);
  fb_handle *h = p->handles;
  while (skip-- > 0 && h->next)
    h = h->next;
  return h->armed ? h : NULL;
}

static int fb_wait(tofu_poller *tp, tofu_poll_event *events, int max, int timeout_ms) {
  fb_poller *p = (fb_poller *)tp;
  if (!p || !events || max < 1 || timeout_ms < -1)
    return TOFU_EINVAL;
  const fault_plan *plan = faults_plan();
  if (plan && faults_roll(plan->early)) {
    faults_note_early();
    return 0;
  }
  if (plan && faults_roll(plan->waitfail)) {
    faults_note_waitfail();
    return TOFU_ESYSTEM;
  }
  int n = 0;
  /* Held reports first; then whatever is ready now, without blocking. */
  while (n < max && p->nheld > 0) {
    tofu_poll_event ev = p->held[0];
    memmove(p->held, p->held + 1, (size_t)(p->nheld - 1) * sizeof *p->held);
    p->nheld--;
    fb_handle *h = ev.token;
    events[n].token = h->token;
    events[n].events = ev.events;
    n++;
  }
  if (n == max)
    return n;
  int got = real_ops()->wait(p->real, events + n, max - n, n > 0 ? 0 : timeout_ms);
  if (got < 0)
    return n > 0 ? n : got;
  int k = n;
  for (int i = n; i < n + got; i++) {
    tofu_poll_event ev = events[i];
    if (ev.events & TOFU_POLL_WAKEUP) {
      events[k++] = ev;
      continue;
    }
    fb_handle *h = ev.token;
    h->armed = 0;
    if (plan && faults_roll(plan->delay) && hold(p, h, ev.events)) {
      faults_note_delay();
      continue;
    }
    events[k].token = h->token;
    events[k].events = ev.events;
    k++;
  }
  if (plan && k < max && faults_roll(plan->spurious)) {
    fb_handle *h = armed_at_random(p);
    faults_note_spurious();
    if (h) {
      events[k].token = h->token;
      events[k].events = h->armed;
      h->armed = 0;
    } else {
      events[k].token = NULL;
      events[k].events = TOFU_POLL_WAKEUP;
    }
    k++;
  }
  return k;
}

static atomic_uint_fast64_t notifies;

uint64_t faults_notify_count(void) {
  return atomic_load(&notifies);
}

static int fb_notify(tofu_poller *tp) {
  fb_poller *p = (fb_poller *)tp;
  atomic_fetch_add(&notifies, 1);
  return p ? real_ops()->notify(p->real) : TOFU_EINVAL;
}

static int fb_stats(tofu_poller *tp, tofu_poller_stats *out) {
  fb_poller *p = (fb_poller *)tp;
  return p ? real_ops()->stats(p->real, out) : TOFU_EINVAL;
}

static tofu_poller_ops fault_ops = {
    NULL, fb_open, fb_close, fb_register, fb_deregister, fb_arm, fb_wait, fb_notify, fb_stats,
};

const tofu_poller_ops *__wrap_tofu_poller_backend(void) {
  fault_ops.name = real_ops()->name;
  return &fault_ops;
}
