/* sock — per-socket state and its single pending AFD poll. */
#include "sock.h"

#include <assert.h>
#include <stdlib.h>

#include "tofu/error.h"

/* The one place the state changes: each step of sock.h's diagram, and no
 * other, is asserted. */
static void sock_set_state(sock_state *s, sock_poll_state to) {
  sock_poll_state from = s->state;
  assert((from == SOCK_IDLE && (to == SOCK_POLL_PENDING || to == SOCK_CLOSED)) ||
         (from == SOCK_POLL_PENDING && (to == SOCK_CANCEL_REQUESTED || to == SOCK_IDLE)) ||
         (from == SOCK_CANCEL_REQUESTED && to == SOCK_IDLE));
  (void)from;
  s->state = to;
}

sock_state *sock_new(SOCKET sock, HANDLE base, void *token, uintptr_t tag) {
  sock_state *s = calloc(1, sizeof *s);
  if (s == NULL)
    return NULL;
  s->sock = sock;
  s->base = base;
  s->tag = tag;
  s->token = token;
  s->state = SOCK_IDLE;
  return s;
}

int sock_cancel(sock_state *s) {
  if (s->state != SOCK_POLL_PENDING)
    return TOFU_OK; /* no poll, or its cancel reached the kernel already */
  int rc = afd_cancel_poll(s->base, &s->iosb);
  /* Only a cancel that reached the kernel is waited for. A failed one leaves
   * the poll POLL_PENDING, so the next arm (or the close drain, for a zombie)
   * tries again instead of waiting for ever for a packet nobody asked for. */
  if (rc == TOFU_OK)
    sock_set_state(s, SOCK_CANCEL_REQUESTED);
  return rc;
}

void sock_free(sock_state *s) {
  /* Freeing memory the kernel may still write into would corrupt the heap
   * long after the fact; the callers guarantee the packet has arrived. */
  if (s != NULL && !sock_packet_due(s))
    free(s);
}

/* Make the pending poll ask for (at least) what the interest needs. A poll
 * that asks for more is left alone: its report is filtered, and if nothing
 * is left a new, narrower poll is issued then. A poll that asks for less is
 * cancelled; the new one is issued when the cancelled packet arrives, because
 * its iosb and poll_info are the kernel's until then. */
static int sock_update(sock_state *s) {
  if (s->deleted || s->state == SOCK_CLOSED || s->interest == 0)
    return TOFU_OK;
  ULONG wanted = afd_events_for_interest(s->interest);
  if (sock_packet_due(s)) {
    if ((s->poll_events & wanted) == wanted)
      return TOFU_OK;
    return sock_cancel(s);
  }
  nt_status status = afd_poll(s->base, s->base, wanted, &s->poll_info, &s->iosb, (void *)s->tag);
  /* Pending, finished at once, or finished with a warning: in each case the
   * request was queued and one packet is on its way. Only an error status
   * means that the request was refused and nothing will come. */
  if (NT_ERROR(status))
    return nt_fail(status);
  sock_set_state(s, SOCK_POLL_PENDING);
  s->poll_events = wanted;
  return TOFU_OK;
}

int sock_arm(sock_state *s, unsigned interest) {
  s->interest = interest;
  return sock_update(s);
}

sock_fate sock_feed(sock_state *s, const nt_io_status_block *iosb, unsigned *report) {
  *report = 0;
  ULONG asked_events = s->poll_events;
  sock_set_state(s, SOCK_IDLE); /* the packet is here: the poll is over */
  if (s->deleted)
    return SOCK_FREE;

  ULONG events = 0;
  if (iosb->status == NT_STATUS_CANCELLED) {
    events = 0;
  } else if (!NT_SUCCESS(iosb->status)) {
    /* The poll itself failed: say so rather than go quiet, and let the
     * caller's next I/O call return the detail. */
    if (s->interest != 0) {
      *report = TOFU_POLL_ERROR | s->interest;
      s->interest = 0;
    }
    return SOCK_KEEP;
  } else if (s->poll_info.number_of_handles > 0) {
    events = s->poll_info.handles[0].events;
  }

  if (events & AFD_POLL_LOCAL_CLOSE) {
    /* Closed under a live registration (the contract forbids it): there is
     * no socket left to poll, so stay silent instead of spinning. */
    sock_set_state(s, SOCK_CLOSED);
    return SOCK_KEEP;
  }

  /* A poll issued for a narrower interest (arm widened it while the packet
   * was already queued) says nothing about the new directions; readiness is
   * level state, so polling again loses nothing and reports them together. */
  ULONG wanted = afd_events_for_interest(s->interest);
  if (s->interest != 0 && (asked_events & wanted) == wanted)
    *report = afd_events_to_tofu(events, s->interest);
  if (*report != 0) {
    s->interest = 0; /* one-shot: silent until armed again */
    return SOCK_KEEP;
  }
  /* Nothing the caller asked for (a cancelled or too-wide poll): poll again
   * for exactly the current interest. */
  if (sock_update(s) != TOFU_OK && s->interest != 0) {
    *report = TOFU_POLL_ERROR | s->interest;
    s->interest = 0;
  }
  return SOCK_KEEP;
}

sock_fate sock_deregister(sock_state *s) {
  s->deleted = true;
  s->interest = 0;
  if (!sock_packet_due(s))
    return SOCK_FREE;
  /* If the cancel fails the packet still comes, at the latest with
   * LOCAL_CLOSE when the caller closes the socket; the poller's close tries
   * the cancel again. */
  (void)sock_cancel(s);
  return SOCK_KEEP;
}
