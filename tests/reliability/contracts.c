/* tofu — the reliability suite: promises of tofu.h that no other case held
 * the library to (each was found by a mutant that survived the suite,
 * docs/reliability.md, "Mutation testing"):
 *   - contract_options_zeroed: a tofu_options with its size set and every
 *     other field 0 means every default ("0 = default" field by field), and
 *     a negative timeout stays "no limit";
 *   - contract_null_accessors: the accessors given a NULL message (or NULL
 *     out-parameters) set what they document and touch nothing else;
 *   - contract_handles_released: the descriptors an engine and a group's
 *     OS handle take are closed by the destroys (counted on Linux);
 *   - contract_address_text: an address as text, IPv6 scope included;
 *   - contract_net_bounds: net_resolve and net_sendv at their bounds, a text
 *     of its own for each socket error;
 *   - contract_wait_unbounded: a wait without a limit blocks, it does not
 *     poll;
 *   - contract_request_deadlines: each request keeps its own deadline. */
#include <stdio.h>
#include <string.h>
#ifndef _WIN32
#include <fcntl.h>
#include <poll.h>
#endif

#include "address.h"
#include "engine_state.h"
#include "suite.h"

void case_contract_options_zeroed(void) {
  tofu_options o;
  memset(&o, 0, sizeof o);
  o.size = sizeof o;
  tofu_engine *e = NULL;
  ck_assert_int_eq(tofu_engine_create(&o, &e), TOFU_OK);
  /* What the engine took: the defaults tofu_options_default names. */
  tofu_options d;
  tofu_options_default(&d);
  ck_assert_uint_eq(e->opts.max_memory, d.max_memory);
  ck_assert_int_eq(e->opts.connect_timeout_ms, d.connect_timeout_ms);
  ck_assert_int_eq(e->opts.frame_timeout_ms, d.frame_timeout_ms);
  ck_assert_uint_eq(e->opts.max_channels, d.max_channels);
  ck_assert_uint_eq(e->opts.max_frame, d.max_frame);
  ck_assert_int_eq(e->opts.request_timeout_ms, 0);
  ck_assert_int_eq(d.connect_timeout_ms, 10000);
  ck_assert_int_eq(d.frame_timeout_ms, 10000);
  ck_assert_uint_eq(d.max_memory, 64u * 1024u * 1024u);
  ck_assert_uint_eq(d.max_channels, 65534);
  ck_assert_uint_eq(d.max_frame, TOFU_MAX_FRAME);
  tofu_engine_stats st = {.size = sizeof st};
  ck_assert_int_eq(tofu_engine_get_stats(e, &st), TOFU_OK);
  ck_assert_uint_eq(st.memory_limit, d.max_memory);
  ck_assert_uint_eq(st.messages_live, 0); /* initial_messages 0 is none, not the default */

  /* And it works: a frame begun is not cut at once (frame_timeout_ms 0 is
   * ten seconds, not zero), a hello and a request are served. */
  tofu_group *gs = et_group(e), *gc = et_group(e);
  char bound[256];
  et_listen(e, gs, "tcp|127.0.0.1|0", bound, sizeof bound);
  tofu_socket p = rel_raw_connect(rel_port_of(bound));
  uint8_t f[16 + 8];
  rel_frame(f, TOFU_OP_HELLO_REQUEST, 1, 8, 0);
  memcpy(f + 16, "who:z\r\n ", 8);
  ck_assert(rel_send_all(p, f, 10)); /* a header begun */
  uint16_t cch, sch;
  et_connect(e, gc, gs, e, bound, &cch, &sch);
  tofu_message *m = et_msg(e, TOFU_OP_REQUEST, cch, 100, 3);
  et_post(gc, &m);
  m = et_expect(gs, TOFU_OP_REQUEST, TOFU_ORIGIN_APPLICATION, TOFU_STATUS_SUCCESS);
  tofu_msg_header(m)->opcode = TOFU_OP_RESPONSE;
  et_post(gs, &m);
  m = et_expect(gc, TOFU_OP_RESPONSE, TOFU_ORIGIN_APPLICATION, TOFU_STATUS_SUCCESS);
  ck_assert(et_body_ok(m, 100, 3));
  tofu_put(e, &m);
  mono_sleep_ms(300);
  ck_assert_int_eq(tofu_engine_get_stats(e, &st), TOFU_OK);
  ck_assert_uint_eq(st.frame_timeouts, 0);
  ck_assert(rel_send_all(p, f + 10, sizeof f - 10)); /* the hello ends, late but in time */
  m = et_expect(gs, TOFU_OP_HELLO_REQUEST, TOFU_ORIGIN_APPLICATION, TOFU_STATUS_SUCCESS);
  tofu_put(e, &m);
  net_close(p);
  tofu_group_destroy(gc);
  tofu_group_destroy(gs);
  et_assert_all_returned(e);
  tofu_engine_destroy(e);

  /* Field by field: a negative timeout stays "none", limits above what the
   * engine can reach are that, and max_frame must hold a header. */
  memset(&o, 0, sizeof o);
  o.size = sizeof o;
  o.connect_timeout_ms = -1;
  o.frame_timeout_ms = -1;
  o.request_timeout_ms = -1;
  o.max_channels = 1000000;
  o.max_frame = TOFU_MAX_FRAME + 1;
  ck_assert_int_eq(tofu_engine_create(&o, &e), TOFU_OK);
  ck_assert_int_eq(e->opts.connect_timeout_ms, -1);
  ck_assert_int_eq(e->opts.frame_timeout_ms, -1);
  ck_assert_int_eq(e->opts.request_timeout_ms, -1);
  ck_assert_uint_eq(e->opts.max_channels, 65534);
  ck_assert_uint_eq(e->opts.max_frame, TOFU_MAX_FRAME);
  tofu_engine_destroy(e);
  o.max_frame = TOFU_HEADER_SIZE; /* the smallest that holds a frame */
  ck_assert_int_eq(tofu_engine_create(&o, &e), TOFU_OK);
  ck_assert_uint_eq(e->opts.max_frame, TOFU_HEADER_SIZE);
  tofu_engine_destroy(e);
  o.max_frame = TOFU_HEADER_SIZE - 1;
  e = (tofu_engine *)&o; /* must be cleared */
  ck_assert_int_eq(tofu_engine_create(&o, &e), TOFU_EINVAL);
  ck_assert_ptr_null(e);
  o.max_frame = 0;
  o.size = 0;
  ck_assert_int_eq(tofu_engine_create(&o, &e), TOFU_EINVAL);
}

/* Every status and opcode has a name of its own, never empty. */
static void names_distinct(void) {
  for (int a = 0; a <= TOFU_STATUS_TIMEOUT; a++) {
    ck_assert_msg(tofu_status_name(a)[0] != '\0', "status %d has an empty name", a);
    for (int b = a + 1; b <= TOFU_STATUS_TIMEOUT; b++)
      ck_assert_msg(strcmp(tofu_status_name(a), tofu_status_name(b)) != 0,
                    "statuses %d and %d are both \"%s\"", a, b, tofu_status_name(a));
  }
  for (int a = 0; a < TOFU_OPCODE_COUNT; a++) {
    ck_assert_str_ne(tofu_opcode_name(a), "invalid");
    for (int b = a + 1; b < TOFU_OPCODE_COUNT; b++)
      ck_assert_str_ne(tofu_opcode_name(a), tofu_opcode_name(b));
  }
  ck_assert_str_eq(tofu_status_name(TOFU_STATUS_NOT_ALLOWED), "not_allowed");
}

void case_contract_null_accessors(void) {
  names_distinct();
  const char *s = "untouched";
  size_t len = 12345;
  ck_assert_ptr_null(tofu_msg_headers(NULL, &len));
  ck_assert_uint_eq(len, 0);
  len = 12345;
  ck_assert_ptr_null(tofu_msg_body(NULL, &len));
  ck_assert_uint_eq(len, 0);
  len = 12345;
  ck_assert_ptr_null(tofu_msg_body_mut(NULL, &len));
  ck_assert_uint_eq(len, 0);
  len = 12345;
  ck_assert_int_eq(tofu_msg_find_header(NULL, "a", &s, &len), 0);
  ck_assert_str_eq(s, "untouched");
  ck_assert_uint_eq(len, 12345);
  ck_assert_int_eq(tofu_msg_set_timeout(NULL, 5), TOFU_EINVAL);
  tofu_msg_reset(NULL);
  ck_assert_int_eq(tofu_msg_set_headers(NULL, "a:b\r\n", 5), TOFU_EINVAL);
  ck_assert_int_eq(tofu_msg_append_body(NULL, "x", 1), TOFU_EINVAL);
  ck_assert_int_eq(tofu_msg_add_header(NULL, "a", "b"), TOFU_EINVAL);
  char url[32] = "untouched";
  ck_assert_int_eq(tofu_listen_address(NULL, url, sizeof url), TOFU_EINVAL);
  ck_assert_str_eq(url, "untouched");
  ck_assert(tofu_group_os_handle(NULL) == TOFU_INVALID_OS_HANDLE);
  tofu_message *m = (tofu_message *)&len;
  ck_assert_int_eq(tofu_receive(NULL, 0, 0, &m), TOFU_EINVAL);
  tofu_engine_stats st;
  memset(&st, 0xA5, sizeof st);
  st.size = sizeof st;
  ck_assert_int_eq(tofu_engine_get_stats(NULL, &st), TOFU_EINVAL);
  ck_assert_uint_eq(st.size, sizeof st); /* nothing written */
  ck_assert_uint_eq(st.memory_used, (size_t)0xA5A5A5A5A5A5A5A5ull);

  /* A real message: NULL out-parameters are allowed, the others are set. */
  tofu_engine *e = et_engine(0);
  m = tofu_get(e, TOFU_ALWAYS);
  ck_assert_int_eq(tofu_msg_set_body(m, "body", 4), TOFU_OK);
  ck_assert_int_eq(tofu_msg_add_header(m, "name", " value "), TOFU_OK);
  ck_assert_ptr_nonnull(tofu_msg_body(m, NULL));
  ck_assert_ptr_nonnull(tofu_msg_body_mut(m, NULL));
  ck_assert_ptr_nonnull(tofu_msg_headers(m, NULL));
  ck_assert_int_eq(tofu_msg_find_header(m, "name", NULL, NULL), 1);
  ck_assert_int_eq(tofu_msg_find_header(m, "name", &s, &len), 1);
  ck_assert_uint_eq(len, 5);
  ck_assert_int_eq(memcmp(s, "value", 5), 0);
  s = "untouched";
  len = 12345;
  ck_assert_int_eq(tofu_msg_find_header(m, "other", &s, &len), 0);
  ck_assert_str_eq(s, "untouched");
  ck_assert_uint_eq(len, 12345);
  ck_assert_int_eq(tofu_msg_find_header(m, NULL, &s, &len), 0);
  const char *h = tofu_msg_headers(m, &len);
  ck_assert_uint_eq(len, 14);
  ck_assert_int_eq(memcmp(h, "name: value \r\n", 14), 0);
  ck_assert_int_eq(memcmp(tofu_msg_body(m, &len), "body", 4), 0);
  ck_assert_uint_eq(len, 4);
  /* An empty message: its lengths are 0 whatever its pointers. */
  tofu_msg_reset(m);
  len = 12345;
  (void)tofu_msg_headers(m, &len);
  ck_assert_uint_eq(len, 0);
  len = 12345;
  (void)tofu_msg_body(m, &len);
  ck_assert_uint_eq(len, 0);
  ck_assert_int_eq(tofu_msg_find_header(m, "name", &s, &len), 0);
  tofu_put(e, &m);
  tofu_engine_destroy(e);
}

/* Whether a descriptor is readable now (Linux: the case needs /proc). */
static int fd_ready(tofu_os_handle h) {
#ifdef _WIN32
  (void)h;
  return 0;
#else
  struct pollfd p = {h, POLLIN, 0};
  return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
#endif
}

void case_contract_handles_released(void) {
  int fds0 = rel_open_fds();
  tofu_engine *e = et_engine(0);
  int fds_engine = rel_open_fds();
  ck_assert_int_gt(fds_engine, fds0); /* the poller's own descriptors */
  tofu_group *g = et_group(e);
  ck_assert_int_eq(rel_open_fds(), fds_engine); /* a group takes none until asked */
  tofu_os_handle h = tofu_group_os_handle(g);
  ck_assert(h != TOFU_INVALID_OS_HANDLE);
  ck_assert_int_eq(rel_open_fds(), fds_engine + 1);
  ck_assert(!fd_ready(h)); /* made on an empty queue: not ready */
#ifndef _WIN32
  /* Not inherited by a child's exec, and never blocks the event loop that
   * reads it. */
  ck_assert(fcntl(h, F_GETFD) & FD_CLOEXEC);
  ck_assert(fcntl(h, F_GETFL) & O_NONBLOCK);
#endif
  tofu_message *m = tofu_get(e, TOFU_ALWAYS);
  ck_assert_int_eq(tofu_update_receiver(g, &m), TOFU_OK);
  ck_assert(fd_ready(h));
  m = tofu_wait_receive(g, 0);
  ck_assert_ptr_nonnull(m);
  tofu_put(e, &m);
  ck_assert(!fd_ready(h));
  ck_assert(tofu_group_os_handle(g) == h); /* one per group, made once */
  ck_assert_int_eq(rel_open_fds(), fds_engine + 1);
  tofu_group_destroy(g);
  ck_assert_int_eq(rel_open_fds(), fds_engine); /* tofu_group_destroy closes it */

  /* Groups left to the engine's destroy, with handles, a listener and a
   * connection: every descriptor goes with it. */
  tofu_group *gs = et_group(e), *gc = et_group(e);
  ck_assert(tofu_group_os_handle(gs) != TOFU_INVALID_OS_HANDLE);
  ck_assert(tofu_group_os_handle(gc) != TOFU_INVALID_OS_HANDLE);
  char bound[256];
  et_listen(e, gs, "tcp|127.0.0.1|0", bound, sizeof bound);
  uint16_t cch, sch;
  et_connect(e, gc, gs, e, bound, &cch, &sch);
  ck_assert_int_eq(rel_open_fds(), fds_engine + 2 + 3); /* two handles, listener, two ends */
  tofu_engine_destroy(e);
  ck_assert_int_eq(rel_open_fds(), fds0);
}

/* The text of an address, as tofu_listen_address and the ~listen_on header
 * give it: an IPv6 scope as its number after '%', cut to the buffer. */
void case_contract_address_text(void) {
  net_addr a;
  memset(&a, 0, sizeof a);
  a.family = NET_INET6;
  a.ip[0] = 0xfe;
  a.ip[1] = 0x80;
  a.ip[15] = 1;
  char buf[NET_ADDR_TEXT];
  a.scope = 3;
  net_addr_ip_text(&a, buf, sizeof buf);
  ck_assert_str_eq(buf, "fe80::1%3");
  a.scope = 4294967295u;
  net_addr_ip_text(&a, buf, sizeof buf);
  ck_assert_str_eq(buf, "fe80::1%4294967295");
  a.scope = 0;
  net_addr_ip_text(&a, buf, sizeof buf);
  ck_assert_str_eq(buf, "fe80::1");
  a.scope = 12;
  net_addr_ip_text(&a, buf, 5); /* cut, still terminated */
  ck_assert_str_eq(buf, "fe80");
  memset(&a, 0, sizeof a);
  a.family = NET_INET4;
  a.ip[0] = 127;
  a.ip[3] = 1;
  net_addr_ip_text(&a, buf, sizeof buf);
  ck_assert_str_eq(buf, "127.0.0.1");
  strcpy(buf, "untouched");
  net_addr_ip_text(&a, buf, 0);
  ck_assert_str_eq(buf, "untouched");
}

/* The socket layer's bounds: net_resolve looks at out[0..n) only (a
 * sentinel just before the array, equal to the answer, must not make it a
 * duplicate), and net_sendv takes 1 to NET_IOV_MAX buffers, both ends
 * included. */
void case_contract_net_bounds(void) {
  net_addr arr[1 + NET_RESOLVE_MAX];
  memset(arr, 0, sizeof arr);
  ck_assert_int_eq(net_resolve("127.0.0.1", 7099, 0, &arr[0], 1), 1);
  /* arr[0] now holds the answer: it is the sentinel before &arr[1]. */
  ck_assert_int_eq(net_resolve("127.0.0.1", 7099, 0, &arr[1], NET_RESOLVE_MAX), 1);
  ck_assert_int_eq(memcmp(&arr[1], &arr[0], sizeof arr[0]), 0);

  /* Each error has its own text. */
  for (int e1 = NET_EOTHER; e1 <= NET_OK; e1++)
    for (int e2 = e1 + 1; e2 <= NET_OK; e2++)
      ck_assert_msg(strcmp(net_strerror(e1), net_strerror(e2)) != 0, "%d and %d both read \"%s\"",
                    e1, e2, net_strerror(e1));

  tofu_socket a, b;
  ck_assert_int_eq(pair_open(PAIR_TCP, &a, &b), NET_OK);
  static char bytes[NET_IOV_MAX];
  net_iov iov[NET_IOV_MAX + 1];
  for (int i = 0; i <= NET_IOV_MAX; i++) {
    if (i < NET_IOV_MAX)
      bytes[i] = (char)('a' + i % 26);
    iov[i].base = &bytes[i % NET_IOV_MAX];
    iov[i].len = 1;
  }
  ck_assert_int_eq(net_sendv(a, iov, NET_IOV_MAX), NET_IOV_MAX);
  ck_assert_int_eq(net_sendv(a, iov, 1), 1);
  ck_assert_int_eq(net_sendv(a, iov, NET_IOV_MAX + 1), NET_EOTHER);
  ck_assert_int_eq(net_sendv(a, iov, 0), NET_EOTHER);
  char got[NET_IOV_MAX + 1];
  size_t n = 0;
  uint64_t until = mono_now_ms() + ET_DEADLINE_MS;
  while (n < sizeof got && mono_now_ms() < until) {
    ptrdiff_t r = net_recv(b, got + n, sizeof got - n);
    if (r > 0)
      n += (size_t)r;
    else
      mono_sleep_ms(1);
  }
  ck_assert_uint_eq(n, sizeof got);
  ck_assert_int_eq(memcmp(got, bytes, NET_IOV_MAX), 0);
  ck_assert_int_eq(got[NET_IOV_MAX], bytes[0]);
  pair_close(a, b);
}

/* A wait without a limit blocks until its message comes: it does not turn
 * into a loop of short timed waits (counted on the waiting thread). */
typedef struct unbounded_wait {
  tofu_group *g;
  uint64_t id;
  tofu_message *got;
  uint64_t timed_waits;
} unbounded_wait;

static void wait_reply_forever(void *arg) {
  unbounded_wait *w = arg;
  faults_exempt_thread();
  uint64_t t0 = faults_timed_waits_here();
  w->got = tofu_wait_reply(w->g, w->id, -1);
  w->timed_waits = faults_timed_waits_here() - t0;
}

void case_contract_wait_unbounded(void) {
  tofu_engine *e = et_engine(0);
  tofu_group *g = et_group(e);
  for (int round = 0; round < 2; round++) {
    /* Round 1: something else is queued first, which the wait must pass. */
    if (round == 1) {
      tofu_message *other = tofu_get(e, TOFU_ALWAYS);
      tofu_msg_header(other)->message_id = 7;
      ck_assert_int_eq(tofu_update_receiver(g, &other), TOFU_OK);
    }
    unbounded_wait w = {g, 999, NULL, 0};
    plat_thread t;
    ck_assert_int_eq(plat_thread_start(&t, wait_reply_forever, &w), TOFU_OK);
    mono_sleep_ms(200);
    tofu_message *m = tofu_get(e, TOFU_ALWAYS);
    tofu_msg_header(m)->message_id = 999;
    ck_assert_int_eq(tofu_update_receiver(g, &m), TOFU_OK);
    plat_thread_join(&t);
    ck_assert_ptr_nonnull(w.got);
    ck_assert(tofu_msg_header(w.got)->message_id == 999);
    tofu_put(e, &w.got);
    ck_assert_msg(w.timed_waits == 0, "round %d: %llu timed waits in a wait without a limit", round,
                  (unsigned long long)w.timed_waits);
  }
  tofu_message *m = tofu_wait_receive(g, 0);
  ck_assert_ptr_nonnull(m); /* the other message stayed queued */
  ck_assert(tofu_msg_header(m)->message_id == 7);
  tofu_put(e, &m);
  tofu_group_destroy(g);
  tofu_engine_destroy(e);
}

/* Each request keeps its own deadline: a later one posted behind an earlier
 * one on the same channel does not push the earlier one back. */
void case_contract_request_deadlines(void) {
  tofu_engine *e = et_engine(0);
  tofu_group *gs = et_group(e), *gc = et_group(e);
  char bound[256];
  et_listen(e, gs, "tcp|127.0.0.1|0", bound, sizeof bound);
  uint16_t cch, sch;
  et_connect(e, gc, gs, e, bound, &cch, &sch);
  tofu_message *a = et_msg(e, TOFU_OP_REQUEST, cch, 10, 1);
  tofu_message *b = et_msg(e, TOFU_OP_REQUEST, cch, 10, 2);
  ck_assert_int_eq(tofu_msg_set_timeout(a, 200), TOFU_OK);
  ck_assert_int_eq(tofu_msg_set_timeout(b, 3000), TOFU_OK);
  uint64_t t0 = mono_now_ms();
  tofu_header ha = et_post(gc, &a);
  tofu_header hb = et_post(gc, &b);
  /* The server takes both and answers neither (yet). */
  tofu_message *ra = et_expect(gs, TOFU_OP_REQUEST, TOFU_ORIGIN_APPLICATION, TOFU_STATUS_SUCCESS);
  tofu_message *rb = et_expect(gs, TOFU_OP_REQUEST, TOFU_ORIGIN_APPLICATION, TOFU_STATUS_SUCCESS);
  a = tofu_wait_reply(gc, ha.message_id, 2000);
  uint64_t took = mono_now_ms() - t0;
  ck_assert_msg(a != NULL, "the 200 ms request did not come back within 2 s");
  ck_assert_int_eq(tofu_msg_header(a)->status, TOFU_STATUS_TIMEOUT);
  ck_assert_int_eq(tofu_msg_header(a)->origin, TOFU_ORIGIN_ENGINE);
  ck_assert_uint_lt(took, 1500);
  tofu_put(e, &a);
  /* The later one is still open: answered, it is delivered. */
  tofu_msg_header(rb)->opcode = TOFU_OP_RESPONSE;
  et_post(gs, &rb);
  b = tofu_wait_reply(gc, hb.message_id, ET_DEADLINE_MS);
  ck_assert_ptr_nonnull(b);
  ck_assert_int_eq(tofu_msg_header(b)->opcode, TOFU_OP_RESPONSE);
  tofu_put(e, &b);
  tofu_put(e, &ra);
  tofu_group_destroy(gc);
  tofu_group_destroy(gs);
  et_assert_all_returned(e);
  tofu_engine_destroy(e);
}

/* tofu_wait_reply for id 0 returns NULL at once (no request has id 0) and
 * takes nothing: the queued message stays for tofu_wait_receive. */
void case_contract_wait_reply_id_zero(void) {
  tofu_engine *e = et_engine(0);
  tofu_group *g = et_group(e);
  tofu_message *m = tofu_get(e, TOFU_ALWAYS);
  ck_assert_ptr_nonnull(m);
  tofu_msg_header(m)->message_id = 0;
  ck_assert_int_eq(tofu_update_receiver(g, &m), TOFU_OK);
  uint64_t t0 = mono_now_ms();
  ck_assert_ptr_null(tofu_wait_reply(g, 0, 2000));
  ck_assert_uint_lt(mono_now_ms() - t0, 1000);
  m = tofu_wait_receive(g, 0);
  ck_assert_ptr_nonnull(m);
  tofu_put(e, &m);
  tofu_engine_destroy(e);
}

/* A TCP port is 0 to 65,535 in an address's text: the top one is taken,
 * one more is refused, and a connect needs a port other than 0. */
void case_contract_address_port_range(void) {
  address a;
  const char *top = "tcp|localhost|65535";
  ck_assert_int_eq(address_parse(top, strlen(top), 1, &a), TOFU_OK);
  ck_assert_uint_eq(a.port, 65535);
  const char *over = "tcp|localhost|65536";
  ck_assert_int_eq(address_parse(over, strlen(over), 0, &a), TOFU_EINVAL);
  const char *zero = "tcp|localhost|0";
  ck_assert_int_eq(address_parse(zero, strlen(zero), 0, &a), TOFU_OK);
  ck_assert_uint_eq(a.port, 0);
  ck_assert_int_eq(address_parse(zero, strlen(zero), 1, &a), TOFU_EINVAL);
}
