/* timers — the Reactor's deadlines in a binary min-heap. The nearest one is
 * the poller's wait timeout. An entry leaves when it fires or when its owner
 * cancels it: an entry may carry a back-reference (`at`), a place of its
 * owner's where the heap keeps the entry's current position, so that the
 * owner can move it (timers_set) or take it out (timers_cancel) in
 * O(log n). A channel's entries carry one, and the channel cancels them when
 * it closes: the heap holds no entry of a closed channel. The storage
 * shrinks as the heap empties. */
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

/* The back-reference of an entry not in the heap. */
#define TIMERS_NONE ((size_t)-1)

struct tofu_message;

typedef struct timer_entry {
  int64_t due_ms;
  uint64_t seq; /* ties fire in insertion order */
  size_t *at;   /* NULL, or where the heap writes this entry's position
                 * (TIMERS_NONE once it has left the heap) */
  int kind;     /* TIMER_*: which member of `of` is set */
  union {
    struct tofu_message *msg; /* TIMER_APP: the message to deliver */
    /* Every other kind: the channel's number and serial (a number is reused,
     * a serial is not). */
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

/* Add the entry (its due_ms, at, kind and `of`; seq is given here). Returns
 * TOFU_OK or TOFU_ENOMEM (and then *entry->at is left as it was). */
int timers_add(timers *t, const timer_entry *entry);

/* The entry whose back-reference is entry->at (not NULL): if *at is a
 * position in the heap, that entry becomes this one (moved to its due_ms,
 * after the others due then); else it is added. Returns TOFU_OK or
 * TOFU_ENOMEM. */
int timers_set(timers *t, const timer_entry *entry);

/* When the entry whose back-reference is at is due; 0 if it is not in the
 * heap. */
int64_t timers_due(const timers *t, const size_t *at);

/* Take out the entry whose back-reference is at, if *at is in the heap;
 * *at becomes TIMERS_NONE. */
void timers_cancel(timers *t, size_t *at);

/* Milliseconds until the nearest deadline (0 if passed), or -1 if none. */
int timers_timeout(const timers *t, int64_t now_ms);

/* Pop the nearest entry if it is due; returns 1 and fills *out (its *at is
 * TIMERS_NONE now), else 0. */
int timers_pop_due(timers *t, int64_t now_ms, timer_entry *out);

/* Remove every entry for which match(entry, arg) is true, passing each to
 * removed(entry, arg). */
void timers_remove_if(timers *t, int (*match)(const timer_entry *, void *),
                      void (*removed)(const timer_entry *, void *), void *arg);

#endif /* TOFU_TIMERS_H */
