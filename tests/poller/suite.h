/* tofu — the poller conformance suite: case prototypes and shared helpers.
 *
 * Helpers named pt_* assert with check (ck_assert_*) and so fail the case on
 * their own; they must be called from the case's thread. Waiting is always on
 * the poller with a deadline; a check that something does NOT happen uses a
 * short bounded wait (PT_QUIET_MS). */
#ifndef TOFU_TEST_POLLER_SUITE_H
#define TOFU_TEST_POLLER_SUITE_H

#include <check.h>
#include <stddef.h>
#include <stdint.h>

#include "monoclock.h"
#include "platform/net.h"
#include "platform/thread.h"
#include "pairs.h"
#include "runner.h"
#include "tofu/poller.h"
#include "tofu/tofu.h"

#define TOFU_CASE(name, requirements) void case_##name(void);
#include "cases.h"
#undef TOFU_CASE

/* How long an expected event may take before the case fails. */
#define PT_DEADLINE_MS 5000
/* How long to watch for an event that must not come. */
#define PT_QUIET_MS 100

#define PT_R TOFU_POLL_READABLE
#define PT_W TOFU_POLL_WRITABLE
#define PT_H TOFU_POLL_HANGUP
#define PT_E TOFU_POLL_ERROR

/* Assert that reported bits are exactly the expected ones. */
#define PT_ASSERT_BITS(got, want)                                                                  \
  do {                                                                                             \
    unsigned pt_got_ = (got), pt_want_ = (want);                                                   \
    ck_assert_msg(pt_got_ == pt_want_, "expected %s, got %s", pt_bits(pt_want_),                   \
                  pt_bits(pt_got_));                                                               \
  } while (0)

/* The backend under test. */
#define PT_OPS (tofu_poller_backend())

/* A distinct token for small integers (never NULL for n >= 1). */
#define PT_TOKEN(n) ((void *)(uintptr_t)(n))

/* "READABLE|HANGUP", "0" for none; from a small ring of static buffers. */
const char *pt_bits(unsigned bits);

tofu_poller *pt_open(void);
tofu_poll_handle *pt_register(tofu_poller *p, tofu_socket s, void *token);
void pt_arm(tofu_poller *p, tofu_poll_handle *h, unsigned interest);
void pt_deregister(tofu_poller *p, tofu_poll_handle *h);

/* A connected non-blocking pair; the case fails if it cannot be made. */
void pt_pair(pair_transport t, tofu_socket *a, tofu_socket *b);

/* Send all of buf (a few bytes; never expected to block). */
void pt_send(tofu_socket s, const void *buf, size_t len);

/* Receive until would-block; returns the byte count (end of stream is
 * reported through *eof when eof is not NULL; otherwise it fails the case). */
size_t pt_recv_available(tofu_socket s, int *eof);

/* One wait call; fails the case on a negative result. */
int pt_wait(tofu_poller *p, tofu_poll_event *ev, int max, int timeout_ms);

/* Wait up to timeout_ms for the one event of token and return its bits, or 0
 * if none came. Fails the case on an event of any other token, a wakeup, or
 * token reported twice in one wait. */
unsigned pt_expect(tofu_poller *p, void *token, int timeout_ms);

/* Assert that one wait of ms milliseconds reports nothing. */
void pt_expect_none(tofu_poller *p, int ms);

/* Wait up to timeout_ms until every token in tokens[0..n) has been reported
 * once; bits[i] receives token i's bits (0 if it never came). Fails the case
 * on unknown tokens, wakeups, or a token reported twice. Returns how many
 * tokens were reported. */
int pt_gather(tofu_poller *p, void *const *tokens, unsigned *bits, int n, int timeout_ms);

/* Make the socket of handle h readable with data that has certainly arrived:
 * send len bytes from its peer, arm h for READABLE and wait for exactly that
 * report. h is disarmed afterwards (the report is consumed). Sockets never
 * move between pollers for this: the contract does not promise that a socket
 * registered with one poller can later be registered with another. */
void pt_make_readable(tofu_poller *p, tofu_poll_handle *h, void *token, tofu_socket peer,
                      const void *buf, size_t len);

/* A case's poller and its connected pairs: a-b always, c-d when reg asks for
 * it. pt_setup opens the pairs (of transport t), then the poller, then
 * registers the sockets reg names: a under PT_TOKEN(1), b under PT_TOKEN(2),
 * c under PT_TOKEN(3), d under PT_TOKEN(4). pt_teardown deregisters every
 * handle still set, closes the poller, then every socket still open; a case
 * that deregisters or closes one itself sets its field to NULL or
 * TOFU_INVALID_SOCKET (or to what it registered in its place). */
typedef struct pt_fixture {
  tofu_poller *p;
  tofu_socket a, b, c, d;
  tofu_poll_handle *ha, *hb, *hc, *hd; /* NULL: not registered */
} pt_fixture;

#define PT_REG_A 0x1u
#define PT_REG_B 0x2u
#define PT_REG_C 0x4u
#define PT_REG_D 0x8u
#define PT_PAIR_CD 0x10u /* open c-d (implied by PT_REG_C or PT_REG_D) */

void pt_setup(pt_fixture *f, pair_transport t, unsigned reg);
void pt_teardown(pt_fixture *f);

/* Wait up to PT_DEADLINE_MS for one report of a and one of b (both armed)
 * and assert that they carry exactly want_a and want_b. */
void pt_expect_ab(const pt_fixture *f, unsigned want_a, unsigned want_b);

#endif /* TOFU_TEST_POLLER_SUITE_H */
