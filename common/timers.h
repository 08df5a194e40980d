/* timers — the Reactor's deadlines in a binary min-heap. The nearest one is
 * the poller's wait timeout. Entries are removed when they fire; a stale
 * entry (its channel gone) is recognised by its key when it fires. */
#ifndef TOFU_TIMERS_H
#define TOFU_TIMERS_H

#include <stddef.h>
#include <stdint.h>

enum {
  TIMER_CONNECT = 1,
  TIMER_APP = 2,
  TIMER_LISTEN = 3,
  TIMER_RETRY = 4,
  TIMER_FRAME = 5,
  TIMER_REQUEST = 6
};

struct tofu_message;

typedef struct timer_entry {
  int64_t due_ms;
  uint64_t seq; /* ties fire in insertion order */
  int kind;     /* TIMER_*: which member of `of` is set */
  union {
    struct tofu_message *msg; /* TIMER_APP: the message to deliver */
    /* Every other kind: the channel's number and serial (a number is reused,
     * a serial is not: an entry whose channel has another serial is stale). */
    struct {
      uint16_t number;
      uint64_t serial;
    } channel;
  } of;
} timer_entry;

typedef struct timers {
  timer_entry *v;
  size_t n, cap;
  uint64_t seq;
} timers;

void timers_init(timers *t);
void timers_fini(timers *t);

/* Add the entry (its due_ms, kind and `of`; seq is given here). Returns
 * TOFU_OK or TOFU_ENOMEM. */
int timers_add(timers *t, const timer_entry *entry);

/* Milliseconds until the nearest deadline (0 if passed), or -1 if none. */
int timers_timeout(const timers *t, int64_t now_ms);

/* Pop the nearest entry if it is due; returns 1 and fills *out, else 0. */
int timers_pop_due(timers *t, int64_t now_ms, timer_entry *out);

/* Remove every entry for which match(entry, arg) is true, passing each to
 * removed(entry, arg). */
void timers_remove_if(timers *t, int (*match)(const timer_entry *, void *),
                      void (*removed)(const timer_entry *, void *), void *arg);

#endif /* TOFU_TIMERS_H */
