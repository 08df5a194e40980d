#include "timers.h"

#include <stdlib.h>

#include "tofu/error.h"

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

static void swap(timer_entry *a, timer_entry *b) {
  timer_entry x = *a;
  *a = *b;
  *b = x;
}

static void sift_up(timers *t, size_t i) {
  while (i > 0) {
    size_t p = (i - 1) / 2;
    if (!before(&t->v[i], &t->v[p]))
      break;
    swap(&t->v[i], &t->v[p]);
    i = p;
  }
}

static void sift_down(timers *t, size_t i) {
  for (;;) {
    size_t l = 2 * i + 1, r = l + 1, m = i;
    if (l < t->n && before(&t->v[l], &t->v[m]))
      m = l;
    if (r < t->n && before(&t->v[r], &t->v[m]))
      m = r;
    if (m == i)
      break;
    swap(&t->v[i], &t->v[m]);
    i = m;
  }
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
  timer_entry *e = &t->v[t->n];
  *e = *entry;
  e->seq = t->seq++;
  sift_up(t, t->n++);
  return TOFU_OK;
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
  t->v[0] = t->v[--t->n];
  if (t->n)
    sift_down(t, 0);
  return 1;
}

void timers_remove_if(timers *t, int (*match)(const timer_entry *, void *),
                      void (*removed)(const timer_entry *, void *), void *arg) {
  size_t keep = 0;
  for (size_t i = 0; i < t->n; i++) {
    if (match(&t->v[i], arg))
      removed(&t->v[i], arg);
    else
      t->v[keep++] = t->v[i];
  }
  t->n = keep;
  for (size_t i = t->n / 2; i-- > 0;)
    sift_down(t, i);
}
