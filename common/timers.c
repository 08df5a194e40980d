/* timers — see timers.h. */
#include "timers.h"

#include <stdlib.h>

#include "tofu/error.h"

/* The storage doubles when full and halves when three quarters are unused,
 * never below this many entries. */
#define TIMERS_MIN_CAP 64

void timers_init(timers *t) {
  t->v = NULL;
  t->n = t->cap = 0;
  t->seq = 0;
}

void timers_fini(timers *t) {
  free(t->v);
  timers_init(t);
}

static int before(const timer_entry *a, const timer_entry *b) {
  return a->due_ms < b->due_ms || (a->due_ms == b->due_ms && a->seq < b->seq);
}

/* Put e at position i and tell its owner. */
static void place(timers *t, size_t i, const timer_entry *e) {
  t->v[i] = *e;
  if (e->at)
    *e->at = i;
}

/* Move e, meant for the hole at i, down to its place. */
static void sift_down(timers *t, size_t i, const timer_entry *e) {
  for (;;) {
    size_t l = 2 * i + 1, r = l + 1, m = l;
    if (l >= t->n)
      break;
    if (r < t->n && before(&t->v[r], &t->v[l]))
      m = r;
    if (!before(&t->v[m], e))
      break;
    place(t, i, &t->v[m]);
    i = m;
  }
  place(t, i, e);
}

/* Move e, meant for the hole at i, up or down to its place. */
static void sift(timers *t, size_t i, const timer_entry *e) {
  while (i > 0) {
    size_t p = (i - 1) / 2;
    if (!before(e, &t->v[p]))
      break;
    place(t, i, &t->v[p]);
    i = p;
  }
  sift_down(t, i, e);
}

static void shrink(timers *t) {
  while (t->cap > TIMERS_MIN_CAP && t->n < t->cap / 4) {
    size_t ncap = t->cap / 2;
    timer_entry *nv = realloc(t->v, ncap * sizeof(*nv));
    if (!nv)
      return; /* keep the larger array */
    t->v = nv;
    t->cap = ncap;
  }
}

/* Take out the entry at position i (its *at becomes TIMERS_NONE). */
static void take(timers *t, size_t i) {
  if (t->v[i].at)
    *t->v[i].at = TIMERS_NONE;
  timer_entry last = t->v[--t->n];
  if (i < t->n)
    sift(t, i, &last);
  shrink(t);
}

int timers_add(timers *t, const timer_entry *entry) {
  if (t->n == t->cap) {
    size_t ncap = t->cap ? t->cap * 2 : 16;
    timer_entry *nv = realloc(t->v, ncap * sizeof(*nv));
    if (!nv)
      return TOFU_ENOMEM;
    t->v = nv;
    t->cap = ncap;
  }
  timer_entry e = *entry;
  e.seq = t->seq++;
  sift(t, t->n++, &e);
  return TOFU_OK;
}

int timers_set(timers *t, const timer_entry *entry) {
  size_t i = *entry->at;
  if (i == TIMERS_NONE)
    return timers_add(t, entry);
  timer_entry e = *entry;
  e.seq = t->seq++;
  sift(t, i, &e);
  return TOFU_OK;
}

int64_t timers_due(const timers *t, const size_t *at) {
  return *at == TIMERS_NONE ? 0 : t->v[*at].due_ms;
}

void timers_cancel(timers *t, size_t *at) {
  if (*at != TIMERS_NONE)
    take(t, *at);
}

int timers_timeout(const timers *t, int64_t now_ms) {
  if (t->n == 0)
    return -1;
  int64_t d = t->v[0].due_ms - now_ms;
  if (d <= 0)
    return 0;
  return d > 0x7fffffff ? 0x7fffffff : (int)d;
}

int timers_pop_due(timers *t, int64_t now_ms, timer_entry *out) {
  if (t->n == 0 || t->v[0].due_ms > now_ms)
    return 0;
  *out = t->v[0];
  take(t, 0);
  return 1;
}

void timers_remove_if(timers *t, int (*match)(const timer_entry *, void *),
                      void (*removed)(const timer_entry *, void *), void *arg) {
  size_t keep = 0;
  for (size_t i = 0; i < t->n; i++) {
    timer_entry e = t->v[i];
    if (match(&e, arg)) {
      if (e.at)
        *e.at = TIMERS_NONE;
      removed(&e, arg);
    } else {
      place(t, keep++, &e);
    }
  }
  t->n = keep;
  for (size_t i = t->n / 2; i-- > 0;) {
    timer_entry e = t->v[i];
    sift_down(t, i, &e);
  }
  shrink(t);
}
