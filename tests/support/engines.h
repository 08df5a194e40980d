/* tofu tests — engines, groups, listeners, connections and messages, for the
 * suites that test through the engine (engine, reliability).
 *
 * Helpers named et_* assert with check and so fail the case on their own;
 * call them from the case's thread. Waiting is always on a group's receive
 * queue with a deadline, never a sleep. */
#ifndef TOFU_TEST_ENGINES_H
#define TOFU_TEST_ENGINES_H

#include <check.h>
#include <stddef.h>
#include <stdint.h>

#include "pairs.h"
#include "tofu/tofu.h"

/* How long an expected message may take before the case fails. */
#define ET_DEADLINE_MS 5000

/* A promised bound in milliseconds ("within 1 s of the kill"), as a case
 * asserts it: ms times TOFU_TEST_TIME_SCALE (an integer, default 1). The
 * valgrind leg, which runs everything tens of times slower, sets it; the
 * native legs assert the bound itself. */
uint64_t et_bound_ms(uint64_t ms);
/* How long to watch for a message that must not come. */
#define ET_QUIET_MS 200

/* An engine with the given memory limit (0 = default). */
tofu_engine *et_engine(size_t max_memory);

/* An engine with default options but this connect timeout. */
tofu_engine *et_engine_connect_timeout(int connect_timeout_ms);

/* Post a HelloRequest from g whose ~connect_to is addr; returns its header. */
tofu_header et_post_hello(tofu_engine *e, tofu_group *g, const char *addr);
tofu_group *et_group(tofu_engine *e);

/* The next message of g; fails the case if none comes in time. */
tofu_message *et_recv(tofu_group *g);

/* The next message of g, which must have this opcode, origin and status. */
tofu_message *et_expect(tofu_group *g, int opcode, int origin, int status);
/* A fresh message with this id put straight into g's receive queue
 * (tofu_update_receiver), as if it had arrived. */
void et_queue_id(tofu_engine *e, tofu_group *g, uint64_t id);

/* et_expect with its own deadline (ms) instead of ET_DEADLINE_MS. */
tofu_message *et_expect_within(tofu_group *g, int ms, int opcode, int origin, int status);

/* An address for a UDS listener in a private directory; et_uds_done removes
 * the directory. */
void et_uds_path(pair_listener *hold, char *addr, size_t n);
void et_uds_done(pair_listener *hold);

/* Listen at addr ("tcp|127.0.0.1|0" or "uds|PATH"); returns the listener's
 * channel and writes the bound address to bound (n bytes). */
uint16_t et_listen(tofu_engine *e, tofu_group *g, const char *addr, char *bound, size_t n);

/* Connect client group gc to the address a listener of gs listens on and
 * complete the hello; returns the channel numbers of both sides. */
void et_connect(tofu_engine *ec, tofu_group *gc, tofu_group *gs, tofu_engine *es, const char *addr,
                uint16_t *client_ch, uint16_t *server_ch);

/* Post a message; the post must be accepted. Returns its header. */
tofu_header et_post(tofu_group *g, tofu_message **m);

/* A message with opcode, channel and a body of len bytes (pattern seeded by
 * seed), from e's pool. */
tofu_message *et_msg(tofu_engine *e, int opcode, uint16_t ch, size_t len, unsigned seed);

/* Whether the body holds the pattern et_msg wrote. */
int et_body_ok(const tofu_message *m, size_t len, unsigned seed);

/* Every message of e is back in its pool (nothing leaked or held). */
void et_assert_all_returned(tofu_engine *e);

#endif /* TOFU_TEST_ENGINES_H */
