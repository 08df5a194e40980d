/* tofu — the poller conformance suite: shared helpers (see suite.h). */
#include "suite.h"

#include <stdio.h>
#include <string.h>

const char *pt_bits(unsigned bits) {
  static char ring[4][80];
  static unsigned next;
  static const struct {
    unsigned bit;
    const char *name;
  } names[] = {{TOFU_POLL_READABLE, "READABLE"},
               {TOFU_POLL_WRITABLE, "WRITABLE"},
               {TOFU_POLL_HANGUP, "HANGUP"},
               {TOFU_POLL_ERROR, "ERROR"},
               {TOFU_POLL_WAKEUP, "WAKEUP"}};
  char *out = ring[next++ % 4];
  out[0] = '\0';
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
    if (bits & names[i].bit) {
      if (out[0] != '\0')
        strcat(out, "|");
      strcat(out, names[i].name);
      bits &= ~names[i].bit;
    }
  }
  if (bits != 0)
    snprintf(out + strlen(out), 20, "%s0x%x", out[0] ? "|" : "", bits);
  if (out[0] == '\0')
    strcpy(out, "0");
  return out;
}

tofu_poller *pt_open(void) {
  tofu_poller *p = NULL;
  int rc = PT_OPS->open(&p);
  ck_assert_msg(rc == TOFU_OK, "open failed: %s", tofu_strerror(rc));
  ck_assert_ptr_nonnull(p);
  return p;
}

tofu_poll_handle *pt_register(tofu_poller *p, tofu_socket s, void *token) {
  tofu_poll_handle *h = NULL;
  int rc = PT_OPS->register_socket(p, s, token, &h);
  ck_assert_msg(rc == TOFU_OK, "register_socket failed: %s", tofu_strerror(rc));
  ck_assert_ptr_nonnull(h);
  return h;
}

void pt_arm(tofu_poller *p, tofu_poll_handle *h, unsigned interest) {
  int rc = PT_OPS->arm(p, h, interest);
  ck_assert_msg(rc == TOFU_OK, "arm(%s) failed: %s", pt_bits(interest), tofu_strerror(rc));
}

void pt_deregister(tofu_poller *p, tofu_poll_handle *h) {
  int rc = PT_OPS->deregister(p, h);
  ck_assert_msg(rc == TOFU_OK, "deregister failed: %s", tofu_strerror(rc));
}

void pt_pair(pair_transport t, tofu_socket *a, tofu_socket *b) {
  int rc = pair_open(t, a, b);
  ck_assert_msg(rc == NET_OK, "could not make a connected %s pair: %s (os error %d)", pair_name(t),
                net_strerror(rc), net_os_error());
}

void pt_send(tofu_socket s, const void *buf, size_t len) {
  ptrdiff_t n = net_send(s, buf, len);
  ck_assert_msg(n == (ptrdiff_t)len, "send of %u bytes returned %ld (%s)", (unsigned)len, (long)n,
                n < 0 ? net_strerror((int)n) : "short");
}

size_t pt_recv_available(tofu_socket s, int *eof) {
  char buf[4096];
  size_t total = 0;
  if (eof != NULL)
    *eof = 0;
  for (;;) {
    ptrdiff_t n = net_recv(s, buf, sizeof buf);
    if (n == NET_EWOULDBLOCK)
      return total;
    if (n == 0) {
      ck_assert_msg(eof != NULL, "unexpected end of stream after %u bytes", (unsigned)total);
      *eof = 1;
      return total;
    }
    ck_assert_msg(n > 0, "recv failed: %s (os error %d)", net_strerror((int)n), net_os_error());
    total += (size_t)n;
  }
}

int pt_wait(tofu_poller *p, tofu_poll_event *ev, int max, int timeout_ms) {
  int n = PT_OPS->wait(p, ev, max, timeout_ms);
  ck_assert_msg(n >= 0, "wait failed: %s", tofu_strerror(n));
  ck_assert_msg(n <= max, "wait returned %d events for max %d", n, max);
  return n;
}

/* Milliseconds left until deadline (a mono_now_ms value), never negative. */
static int pt_left(uint64_t deadline) {
  uint64_t now = mono_now_ms();
  return now >= deadline ? 0 : (int)(deadline - now);
}

int pt_gather(tofu_poller *p, void *const *tokens, unsigned *bits, int n, int timeout_ms) {
  int seen = 0;
  uint64_t deadline = mono_now_ms() + (uint64_t)timeout_ms;
  for (int i = 0; i < n; i++)
    bits[i] = 0;
  while (seen < n) {
    tofu_poll_event ev[64];
    int left = pt_left(deadline);
    int got = pt_wait(p, ev, 64, left);
    for (int k = 0; k < got; k++) {
      ck_assert_msg(!(ev[k].events & TOFU_POLL_WAKEUP), "unexpected wakeup (bits %s)",
                    pt_bits(ev[k].events));
      int i = 0;
      while (i < n && tokens[i] != ev[k].token)
        i++;
      ck_assert_msg(i < n, "event %s for a token that should not be reported (%p)",
                    pt_bits(ev[k].events), ev[k].token);
      ck_assert_msg(bits[i] == 0, "token %d reported twice (%s, then %s) for one arm", i,
                    pt_bits(bits[i]), pt_bits(ev[k].events));
      ck_assert_msg(ev[k].events != 0, "event with no bits for token %d", i);
      bits[i] = ev[k].events;
      seen++;
    }
    if (left == 0)
      break;
  }
  return seen;
}

unsigned pt_expect(tofu_poller *p, void *token, int timeout_ms) {
  unsigned bits;
  pt_gather(p, &token, &bits, 1, timeout_ms);
  return bits;
}

void pt_expect_none(tofu_poller *p, int ms) {
  tofu_poll_event ev[8];
  memset(ev, 0, sizeof ev);
  int n = pt_wait(p, ev, 8, ms);
  ck_assert_msg(n == 0, "expected no event within %d ms, got %d (first: %s, token %p)", ms, n,
                pt_bits(ev[0].events), ev[0].token);
}

void pt_make_readable(tofu_poller *p, tofu_poll_handle *h, void *token, tofu_socket peer,
                      const void *buf, size_t len) {
  pt_send(peer, buf, len);
  pt_arm(p, h, PT_R);
  unsigned bits = pt_expect(p, token, PT_DEADLINE_MS);
  ck_assert_msg(bits == PT_R, "data sent: expected READABLE, got %s", pt_bits(bits));
}

void pt_setup(pt_fixture *f, pair_transport t, unsigned reg) {
  f->a = f->b = f->c = f->d = TOFU_INVALID_SOCKET;
  f->ha = f->hb = f->hc = f->hd = NULL;
  pt_pair(t, &f->a, &f->b);
  if (reg & (PT_PAIR_CD | PT_REG_C | PT_REG_D))
    pt_pair(t, &f->c, &f->d);
  f->p = pt_open();
  if (reg & PT_REG_A)
    f->ha = pt_register(f->p, f->a, PT_TOKEN(1));
  if (reg & PT_REG_B)
    f->hb = pt_register(f->p, f->b, PT_TOKEN(2));
  if (reg & PT_REG_C)
    f->hc = pt_register(f->p, f->c, PT_TOKEN(3));
  if (reg & PT_REG_D)
    f->hd = pt_register(f->p, f->d, PT_TOKEN(4));
}

void pt_teardown(pt_fixture *f) {
  tofu_poll_handle **hs[] = {&f->ha, &f->hb, &f->hc, &f->hd};
  for (size_t i = 0; i < sizeof hs / sizeof hs[0]; i++) {
    if (*hs[i] != NULL)
      pt_deregister(f->p, *hs[i]);
    *hs[i] = NULL;
  }
  PT_OPS->close(f->p);
  f->p = NULL;
  pair_close(f->a, f->b);
  pair_close(f->c, f->d);
  f->a = f->b = f->c = f->d = TOFU_INVALID_SOCKET;
}

void pt_expect_ab(const pt_fixture *f, unsigned want_a, unsigned want_b) {
  void *const tokens[] = {PT_TOKEN(1), PT_TOKEN(2)};
  unsigned bits[2];
  ck_assert_int_eq(pt_gather(f->p, tokens, bits, 2, PT_DEADLINE_MS), 2);
  ck_assert_msg(bits[0] == want_a, "a: expected %s, got %s", pt_bits(want_a), pt_bits(bits[0]));
  ck_assert_msg(bits[1] == want_b, "b: expected %s, got %s", pt_bits(want_b), pt_bits(bits[1]));
}
