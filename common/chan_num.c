/* chan_num — see chan_num.h. */
#include "chan_num.h"

#include <string.h>

#include "tofu/error.h"

#define NUM_MAX 65534

int chan_num_init(chan_nums *n) {
  memset(n->used, 0, sizeof(n->used));
  n->next = 1;
  n->count = 0;
  return plat_mutex_init(&n->mu);
}

void chan_num_fini(chan_nums *n) {
  plat_mutex_fini(&n->mu);
}

uint16_t chan_num_alloc(chan_nums *n) {
  uint16_t got = 0;
  plat_mutex_lock(&n->mu);
  if (n->count < NUM_MAX) {
    for (;;) {
      uint32_t c = n->next;
      n->next = c >= NUM_MAX ? 1 : c + 1;
      if (!(n->used[c >> 3] & (1u << (c & 7)))) {
        n->used[c >> 3] |= (uint8_t)(1u << (c & 7));
        n->count++;
        got = (uint16_t)c;
        break;
      }
    }
  }
  plat_mutex_unlock(&n->mu);
  return got;
}

void chan_num_free(chan_nums *n, uint16_t number) {
  plat_mutex_lock(&n->mu);
  if (n->used[number >> 3] & (1u << (number & 7))) {
    n->used[number >> 3] &= (uint8_t) ~(1u << (number & 7));
    n->count--;
  }
  plat_mutex_unlock(&n->mu);
}
