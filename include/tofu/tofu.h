/* tofu — the messaging engine: engines, channel groups and messages.
 *
 * This is the header applications use. It is the C form of the tofu messaging
 * model and speaks tofu's wire format, so a C node and a Zig tofu node
 * interoperate. docs/engine.md explains the model, the message flows, the
 * statuses, backpressure and the limits; this header states the contract of
 * each function.
 *
 * In short:
 *   - An engine owns one Reactor thread (the only thread that touches
 *     sockets) and one message pool whose memory has a hard limit.
 *   - A message is a 16-byte binary header (tofu_header), text headers
 *     ("name:value\r\n" lines) and a body. Messages come from the pool
 *     (tofu_get) and go back to it (tofu_put).
 *   - A channel group has its own receive queue. tofu_post hands a message
 *     to the Reactor; tofu_wait_receive returns the next message for the
 *     group: one from a peer, or one the engine hands back with a status.
 *   - There are no callbacks. Every failure comes back as a message whose
 *     origin is TOFU_ORIGIN_ENGINE and whose status says what happened.
 *
 * Ownership: a message belongs to exactly one party at a time. tofu_post and
 * tofu_put take it (and clear the caller's pointer); tofu_get and
 * tofu_wait_receive give it. Every message posted is either delivered to the
 * peer or handed back to the posting group with a status; nothing is dropped
 * silently. Every request (Request, HelloRequest, ByeRequest) ends: it is
 * answered, or handed back with its id and a status even when it was already
 * written (its channel closed, or its deadline passed: docs/engine.md, "A
 * request's life").
 *
 * Threads: every function is safe to call from any thread, except that a
 * group or an engine must not be used while or after it is destroyed — but a
 * thread already waiting on it is woken and released (see tofu_receive).
 * Several threads may receive from one group at once (a pool of workers):
 * see tofu_receive for who gets which message.
 *
 * Errors: functions returning int return TOFU_OK (0) or a negative
 * tofu_error (tofu/error.h). Statuses (tofu_status) are the one-byte codes
 * carried in messages; they are tofu's list, value for value.
 */
#ifndef TOFU_TOFU_H
#define TOFU_TOFU_H

#include "tofu/api.h"

#include <stddef.h>
#include <stdint.h>

#include "tofu/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Wire constants --------------------------------------------------- */

#define TOFU_HEADER_SIZE 16          /* bytes of the binary header on the wire */
#define TOFU_MAX_TEXT_HEADERS 65535u /* the wire's u16 text-header length */
#define TOFU_MAX_BODY 65535u         /* the wire's u16 body length */
#define TOFU_MAX_FRAME (TOFU_HEADER_SIZE + TOFU_MAX_TEXT_HEADERS + TOFU_MAX_BODY)
#define TOFU_CHANNEL_UNASSIGNED 0u   /* a channel number not yet assigned */
#define TOFU_CHANNEL_RESERVED 65535u /* never assigned */

/* Operations: bits 0-3 of the proto byte, tofu's OpCode values. */
typedef enum tofu_opcode {
  TOFU_OP_REQUEST = 0,
  TOFU_OP_RESPONSE = 1,        /* same message id as its Request */
  TOFU_OP_SIGNAL = 2,          /* one way, no answer expected */
  TOFU_OP_HELLO_REQUEST = 3,   /* connect: text header "~connect_to" */
  TOFU_OP_HELLO_RESPONSE = 4,  /* the peer application accepts */
  TOFU_OP_BYE_REQUEST = 5,     /* graceful close, after what was posted before */
  TOFU_OP_BYE_RESPONSE = 6,    /* the answer; the channel closes once it is sent */
  TOFU_OP_BYE_SIGNAL = 7,      /* abort the channel now; the peer is told if it can be at once */
  TOFU_OP_WELCOME_REQUEST = 8, /* local only: listen, text header "~listen_on" */
  TOFU_OP_WELCOME_RESPONSE = 9 /* local only: the engine's answer to WelcomeRequest */
} tofu_opcode;

#define TOFU_OPCODE_COUNT 10

/* Who made the message: bit 4 of the proto byte. */
typedef enum tofu_origin { TOFU_ORIGIN_APPLICATION = 0, TOFU_ORIGIN_ENGINE = 1 } tofu_origin;

/* Message statuses: tofu's AmpeStatus list, in tofu's order (the byte on the
 * wire and in tofu_header.status), then the local ones this engine hands
 * messages back with (TOFU_STATUS_TIMEOUT). Other values read as unknown. */
typedef enum tofu_status {
  TOFU_STATUS_SUCCESS = 0,
  TOFU_STATUS_NOT_IMPLEMENTED_YET = 1,
  TOFU_STATUS_WRONG_ADDRESS = 2,
  TOFU_STATUS_NOT_ALLOWED = 3,
  TOFU_STATUS_NULL_MESSAGE = 4,
  TOFU_STATUS_INVALID_MESSAGE = 5,
  TOFU_STATUS_INVALID_OP_CODE = 6,
  TOFU_STATUS_INVALID_HEADERS_LEN = 7,
  TOFU_STATUS_INVALID_BODY_LEN = 8,
  TOFU_STATUS_INVALID_MORE_USAGE = 9,
  TOFU_STATUS_INVALID_CHANNEL_NUMBER = 10,
  TOFU_STATUS_INVALID_GROUP = 11, /* tofu spells it invelid_mchn_group */
  TOFU_STATUS_INVALID_MESSAGE_ID = 12,
  TOFU_STATUS_INVALID_ADDRESS = 13,
  TOFU_STATUS_UDS_PATH_NOT_FOUND = 14,
  TOFU_STATUS_NOTIFICATION_DISABLED = 15,
  TOFU_STATUS_NOTIFICATION_FAILED = 16,
  TOFU_STATUS_PEER_DISCONNECTED = 17,
  TOFU_STATUS_COMMUNICATION_FAILED = 18,
  TOFU_STATUS_POOL_EMPTY = 19,
  TOFU_STATUS_ALLOCATION_FAILED = 20,
  TOFU_STATUS_RECEIVER_UPDATE = 21,
  TOFU_STATUS_CHANNEL_CLOSED = 22,
  TOFU_STATUS_SHUTDOWN_STARTED = 23,
  TOFU_STATUS_CONNECT_FAILED = 24,
  TOFU_STATUS_LISTEN_FAILED = 25,
  TOFU_STATUS_ACCEPT_FAILED = 26,
  TOFU_STATUS_SEND_FAILED = 27,
  TOFU_STATUS_RECV_FAILED = 28,
  TOFU_STATUS_SETSOCKOPT_FAILED = 29,
  TOFU_STATUS_PROCESSING_FAILED = 30, /* free for applications to use */
  TOFU_STATUS_UNKNOWN_ERROR = 31,
  /* This engine's own, never on the wire (it only hands messages back with
   * it): a request's deadline passed before its answer came. */
  TOFU_STATUS_TIMEOUT = 32
} tofu_status;

/* The readiness backend compiled in (-DTOFU_BACKEND=...): "poll", "epoll"
 * or "iocp_afd". */
TOFU_API const char *tofu_backend_name(void);

/* tofu's name of a status ("channel_closed", ...); never NULL. */
TOFU_API const char *tofu_status_name(int status);

/* The name of an opcode ("HelloRequest", ...), or "invalid"; never NULL. */
TOFU_API const char *tofu_opcode_name(int opcode);

/* The binary header, unpacked. The application sets opcode, channel,
 * message_id and more; the engine sets origin and status on what it hands
 * back. Text-header and body lengths are not here: they are the lengths of
 * the message's buffers. */
typedef struct tofu_header {
  uint16_t channel;    /* the local channel number (0 = unassigned) */
  uint8_t opcode;      /* tofu_opcode */
  uint8_t origin;      /* tofu_origin */
  uint8_t more;        /* 1: more messages with this id follow (Request/Response/Signal only) */
  uint8_t status;      /* tofu_status */
  uint64_t message_id; /* 0 on post: the engine assigns a process-unique id */
} tofu_header;

/* Names of the address headers. Values: "tcp|HOST|PORT" or "uds|PATH". HOST
 * is an IPv4 or IPv6 address written without brackets ("tcp|::1|7099") or a
 * host name; listening, an empty HOST means every IPv4 interface and "::"
 * every interface of both families; port 0 = any free port. */
#define TOFU_HDR_LISTEN_ON "~listen_on"
#define TOFU_HDR_CONNECT_TO "~connect_to"
/* Set by the engine on the channel_closed notice: the status that made the
 * channel close ("peer_disconnected", "invalid_message", ...). */
#define TOFU_HDR_CAUSE "~cause"

/* ---- Engine ----------------------------------------------------------- */

typedef struct tofu_engine tofu_engine;
typedef struct tofu_group tofu_group;
typedef struct tofu_message tofu_message;

/* Extensible structs (tofu_options, tofu_engine_stats) start with their size,
 * so that later versions can add fields at the end without breaking programs
 * built against this header:
 *   - tofu_options: tofu_options_default sets size = sizeof(tofu_options).
 *     The engine reads the fields that fit in size and takes the defaults for
 *     the rest (a program built against an older, shorter struct); a larger
 *     size (a program built against a newer header) is accepted when every
 *     byte the library does not know is zero, else refused with
 *     TOFU_EUNSUPPORTED. Start from tofu_options_default, never from a
 *     zeroed struct (size 0 is TOFU_EINVAL).
 *   - tofu_engine_stats: the caller sets size (tofu_engine_stats s =
 *     {sizeof s};); the engine fills the fields that fit and sets size to the
 *     bytes it wrote.
 * Fields are only ever added at the end; none is reordered or removed. */
typedef struct tofu_options {
  size_t size; /* sizeof(tofu_options), set by tofu_options_default */
  /* Messages made when the engine starts (they count toward max_memory). */
  size_t initial_messages;
  /* Hard limit, in bytes, on all message memory of this engine: every
   * message's struct and buffers, whether free in the pool, queued, in
   * flight, held by the application, or being filled by a frame as it
   * arrives. 0 = default (64 MiB). Must hold at least initial_messages empty
   * messages. What the engine keeps outside it is fixed; see "Memory outside
   * max_memory" below. */
  size_t max_memory;
  /* How long a connect and its hello may take: a HelloRequest whose
   * HelloResponse has not come within it (connected or not) comes back with
   * connect_failed and its channel closes. Also how long an accepted
   * connection may take to send its HelloRequest before it is closed
   * (silently: the application never heard of it). 0 = default (10000 ms);
   * negative = no limit. */
  int connect_timeout_ms;
  /* How long a peer may take to finish a frame it has begun (from the first
   * byte of the frame read to its last). A frame not finished in time closes
   * its channel with cause recv_failed: the application gets channel_closed
   * with "~cause: recv_failed" (a connection whose HelloRequest it is closes
   * silently), the memory the frame held goes back to the pool, and the
   * engine counts it in tofu_engine_stats.frame_timeouts. The time a channel
   * waits for memory (it is paused: see docs/engine.md, "Backpressure") is
   * not the peer's and does not count: the deadline starts again when
   * reading resumes. 0 = default (10000 ms); negative = no limit. */
  int frame_timeout_ms;
  /* The most channels (listeners and connections, whoever opened them) the
   * engine keeps open. A connection accepted while that many are open is
   * closed at once, before anything is read from it; the application hears
   * nothing of it, tofu_engine_stats.channels_refused counts it, and the
   * listener goes on accepting. Channels the application opens (Welcome and
   * HelloRequest) are never refused by it. 0 = default (65534, every channel
   * number); larger values mean the same. */
  size_t max_channels;
  /* The largest frame (16-byte header + text headers + body) taken from a
   * peer. A frame whose header claims more is refused before any of its
   * payload is read: its channel closes with cause invalid_headers_len (when
   * the header and text headers alone pass the limit) or invalid_body_len,
   * and tofu_engine_stats.frames_refused counts it. It does not limit what
   * the application sends. 0 = default (TOFU_MAX_FRAME, the most the wire
   * can carry; larger values mean the same); values from 1 to
   * TOFU_HEADER_SIZE - 1 make tofu_engine_create fail with TOFU_EINVAL. */
  size_t max_frame;
  /* How long a Request or ByeRequest may wait for its answer, from its post:
   * when it passes, the request comes back to its group with status timeout
   * (origin engine), whether it was still queued or already written, and
   * the channel stays open. A Response that comes for it later is dropped,
   * not delivered (tofu_engine_stats.responses_late counts it). A message
   * may set its own (tofu_msg_set_timeout). 0 = default (none); negative =
   * none. The HelloRequest has connect_timeout_ms instead. */
  int request_timeout_ms;
  /* The largest body one message may have, in bytes. 0 or anything up to
   * TOFU_MAX_BODY = the default, TOFU_MAX_BODY: a message is one frame, as
   * the wire's 16-bit body length allows, and frames a peer sends with
   * `more` are delivered one by one, as they come. Set larger (at most
   * TOFU_MAX_MESSAGE_LIMIT; more makes tofu_engine_create fail with
   * TOFU_EINVAL):
   *   - tofu_msg_set_body, tofu_msg_append_body, tofu_send and tofu_post
   *     take bodies up to it on a Request, Response or Signal (other
   *     opcodes stay at TOFU_MAX_BODY: invalid_body_len). Such a body
   *     travels as consecutive frames of the message's id, each with at
   *     most TOFU_MAX_BODY bytes of it, `more` set on all but the last (the
   *     last carries the message's own), the text headers in the first:
   *     the multi-part message of a Zig tofu peer. The engine writes them
   *     one after the other, with no other frame of the channel between.
   *   - received, the parts of a Request, Response or Signal with `more`
   *     (the frames of its id and opcode, up to the one without `more`) are
   *     joined into one message: its body is contiguous (tofu_msg_body),
   *     its text headers those of every part, in order, its header the
   *     last part's. Frames of other ids that are whole (no `more`) may come
   *     between the parts and are delivered as they come; a second message
   *     begun with `more` before the first has ended closes the channel
   *     with cause invalid_more_usage. A message that grows past
   *     max_message (or whose text headers pass TOFU_MAX_TEXT_HEADERS)
   *     closes its channel with cause invalid_body_len (invalid_headers_len),
   *     counted in tofu_engine_stats.frames_refused.
   *   - a message being joined is charged to max_memory from its first
   *     part, as it grows, and frame_timeout_ms covers it whole, from the
   *     first byte of its first part to the last of its last, waiting for
   *     memory included (it holds memory while it waits). With
   *     max_channels x max_message <= max_memory (less what the
   *     application holds), no set of peers can exhaust the pool with
   *     messages they leave unfinished (docs/reliability.md). */
  size_t max_message;
} tofu_options;

/* The most tofu_options.max_message may be (1 GiB). */
#define TOFU_MAX_MESSAGE_LIMIT ((size_t)1 << 30)

/* Memory outside max_memory. The engine's other memory does not grow with
 * what peers send; it is fixed per engine, per group and per channel:
 *   - per engine: the Reactor's read buffer and one read-ahead buffer
 *     (64 KiB each). The read-ahead buffer keeps the bytes a channel had
 *     read past a frame header when no memory was left for that frame; at
 *     most one channel at a time holds it (while it does, every other
 *     channel reads no further than the end of its current frame, so that it
 *     can pause without bytes to keep). Plus the poller, the channel table
 *     (at most 512 KiB, in blocks of 2 KiB per 256 channel numbers) and the
 *     channel-number map (8 KiB).
 *   - per group: its struct and its destroy command (under 512 bytes).
 *   - per channel: its state, its channel_closed notice, the backend's
 *     record of its socket, three timer entries (the connect and hello, the
 *     frame in progress, the nearest request deadline; they leave the timer
 *     heap when the channel closes, and the heap's storage shrinks with it)
 *     and its share of the channel table: TOFU_CHANNEL_OVERHEAD bytes at
 *     most (on x86-64: 424 +
 *     288 + 48 with poll, 224 with iocp_afd, + 144 + about 40; per platform
 *     in docs/engine.md, "Limits"; engine.channel_overhead checks the bound).
 *     max_channels bounds how many there are.
 *   - open requests and their tombstones are charged to max_memory
 *     (docs/engine.md, "A request's life").
 *   - engine notices (channel_closed, pool_empty, receiver_update): at most
 *     one per channel (made with it, counted above), one pool_empty per group
 *     and episode, one receiver_update per group.
 * The kernel's socket buffers are the operating system's, not the process's. */
#define TOFU_CHANNEL_OVERHEAD 1152

/* Fill *opts with the defaults (16 initial messages, 64 MiB, 10 s connect
 * timeout, 10 s frame timeout, 65534 channels, TOFU_MAX_FRAME, no request
 * timeout, max_message TOFU_MAX_BODY) and set opts->size. NULL is a no-op. */
TOFU_API void tofu_options_default(tofu_options *opts);

/* Create an engine on the build's backend and start its Reactor thread;
 * returns when the Reactor is ready. opts may be NULL (defaults). Several
 * engines per process are allowed. Errors: TOFU_EINVAL (also opts->size 0,
 * max_frame below TOFU_HEADER_SIZE, or max_message above
 * TOFU_MAX_MESSAGE_LIMIT), TOFU_EUNSUPPORTED (opts sets fields
 * this library does not know), TOFU_ENOMEM,
 * TOFU_ELIMIT (initial_messages do not fit max_memory), TOFU_ESYSTEM. */
TOFU_API int tofu_engine_create(const tofu_options *opts, tofu_engine **out);

/* Stop the Reactor, close every channel and listener (removing the socket
 * files of UDS listeners), destroy the groups still alive (their waiting
 * threads released first, as by tofu_group_destroy) and free every message
 * the engine holds. Messages the application still holds must have
 * been put before: they are freed here and must not be used afterwards.
 * e may be NULL. */
TOFU_API void tofu_engine_destroy(tofu_engine *e);

/* ---- Messages --------------------------------------------------------- */

typedef enum tofu_alloc {
  TOFU_POOL_ONLY = 0, /* only a free message of the pool; NULL when none is free */
  TOFU_ALWAYS = 1     /* a free one, else a new one if the hard limit allows; else NULL */
} tofu_alloc;

/* Take an empty message (header zeroed, no text headers, empty body) from the
 * engine's pool, or NULL (see tofu_alloc). Thread-safe. */
TOFU_API tofu_message *tofu_get(tofu_engine *e, tofu_alloc strategy);

/* Give a message back to its pool and clear *msg. The message goes to the
 * pool of the engine it came from, whichever engine e names (e may even be
 * NULL). NULL or *msg == NULL is a no-op. Returning messages is what ends
 * backpressure. Thread-safe. */
TOFU_API void tofu_put(tofu_engine *e, tofu_message **msg);

/* The message's binary header, to read or change in place. Never NULL. */
TOFU_API tofu_header *tofu_msg_header(tofu_message *m);

/* Empty the message: zero header, no text headers, empty body (buffers are
 * kept for reuse). */
TOFU_API void tofu_msg_reset(tofu_message *m);

/* This request's deadline, from its post, in place of the engine's
 * request_timeout_ms: positive = milliseconds, negative = none, 0 = the
 * engine's (also what tofu_get and tofu_msg_reset leave). Read when a
 * Request or ByeRequest is posted. Errors: TOFU_EINVAL (NULL message). */
TOFU_API int tofu_msg_set_timeout(tofu_message *m, int timeout_ms);

/* The readers below (tofu_msg_body, tofu_msg_body_mut, tofu_msg_headers)
 * accept a NULL message: they return NULL and set *len to 0. len may be NULL.
 * tofu_msg_find_header returns 0 for a NULL message or name and then leaves
 * *value and *len as they were. */

/* The body and its length (the pointer may be NULL when the length is 0). */
TOFU_API const void *tofu_msg_body(const tofu_message *m, size_t *len);

/* The same body, to change in place (e.g. rewrite a few bytes of a received
 * message before posting it again, without copying the body). The length
 * cannot be changed through it (tofu_msg_set_body does that); the pointer is
 * valid until the body is set, appended to, or the message is posted or put. */
TOFU_API void *tofu_msg_body_mut(tofu_message *m, size_t *len);

/* Replace the body with len bytes (data may be NULL if len is 0), or append
 * to it. Errors: TOFU_EINVAL (NULL message, or NULL data with len > 0),
 * TOFU_ELIMIT (the body would exceed the engine's max_message, TOFU_MAX_BODY
 * by default, or the pool's hard limit has no room); the message is
 * unchanged on error. A body larger than TOFU_MAX_BODY travels in parts
 * (tofu_options.max_message). */
TOFU_API int tofu_msg_set_body(tofu_message *m, const void *data, size_t len);
TOFU_API int tofu_msg_append_body(tofu_message *m, const void *data, size_t len);

/* The raw text headers ("name:value\r\n" lines; a reader trims blanks
 * around the value, so "name: value\r\n" from a peer reads the same) and their length. */
TOFU_API const char *tofu_msg_headers(const tofu_message *m, size_t *len);

/* Replace the raw text headers (no validation: they are sent as they are).
 * Errors as tofu_msg_set_body, with TOFU_MAX_TEXT_HEADERS. */
TOFU_API int tofu_msg_set_headers(tofu_message *m, const void *raw, size_t len);

/* Append "name:value\r\n" (byte for byte what tofu writes). name must be non-empty and hold no ':',
 * CR or LF; value must hold no CR or LF. Errors: TOFU_EINVAL, TOFU_ELIMIT. */
TOFU_API int tofu_msg_add_header(tofu_message *m, const char *name, const char *value);

/* Find the first text header called name (exact, case-sensitive). On success
 * *value points into the message (not NUL-terminated; leading and trailing
 * blanks trimmed) and *len is its length; returns 1. Returns 0 if absent. */
TOFU_API int tofu_msg_find_header(const tofu_message *m, const char *name, const char **value,
                                  size_t *len);

/* Copy header, text headers and body of src into dst. Errors: TOFU_EINVAL,
 * TOFU_ELIMIT (dst is unchanged). */
TOFU_API int tofu_msg_copy(tofu_message *dst, const tofu_message *src);

/* ---- Channel groups --------------------------------------------------- */

/* Make a group with its own receive queue. Errors: TOFU_EINVAL, TOFU_ENOMEM. */
TOFU_API int tofu_group_create(tofu_engine *e, tofu_group **out);

/* Abort every channel and listener of the group (as ByeSignal would), cancel
 * its timers, free every message queued for it, and free the group. Returns
 * when the Reactor has done so. A thread waiting on the group
 * (tofu_wait_receive, tofu_wait_reply, tofu_receive) is woken first: its
 * wait returns NULL (TOFU_ECLOSED), and the destroy goes on once it has left
 * the wait. No thread may start a wait on it, or use it, afterwards (see
 * tofu_receive for the shutdown pattern). g may be NULL. */
TOFU_API void tofu_group_destroy(tofu_group *g);

/* Hand *msg to the Reactor and clear *msg. The message is checked here; if it
 * is acceptable, *out (may be NULL) receives its header with the channel
 * number and message id assigned, and TOFU_OK is returned. Later failures
 * (unknown channel, connect failed, peer gone, ...) come back to this group
 * as the message itself, origin = engine, with a status.
 *
 * Checked here (the message stays with the caller, *msg is not cleared, its
 * status byte says why, and TOFU_EMESSAGE is returned):
 *   opcode WelcomeResponse                  -> not_allowed
 *   opcode > 9                              -> invalid_op_code
 *   Response with message id 0              -> invalid_message_id
 *   "more" on an opcode other than Request/Response/Signal -> invalid_more_usage
 *   channel 0 on anything but WelcomeRequest/HelloRequest, or 65535
 *                                           -> invalid_channel_number
 *   WelcomeRequest/HelloRequest without a well-formed address header
 *                                           -> wrong_address
 *   text headers longer than 65535          -> invalid_headers_len
 *   body longer than max_message (65535 by default), or longer than 65535
 *   on an opcode other than Request/Response/Signal -> invalid_body_len
 * The post sets origin to application, so a message handed back may be posted
 * again as it is.
 * The TCP host of a HelloRequest or WelcomeRequest is looked up here, on the
 * calling thread (getaddrinfo, both families; a name may block, a literal
 * address does not), so that the Reactor never waits on a lookup. A connect
 * tries the addresses in the order the system gives (at most 4): one that
 * refuses or fails passes to the next; connect_timeout_ms covers them all. A
 * host that does not resolve comes back later as invalid_address.
 * Errors: TOFU_EINVAL (NULL group or msg), TOFU_EMESSAGE (see above),
 * TOFU_ENOMEM (no channel could be made), TOFU_ELIMIT (all channel numbers
 * are in use). */
TOFU_API int tofu_post(tofu_group *g, tofu_message **msg, tofu_header *out);

/* Post msgs[0..n) from g in their order, as n calls of tofu_post would, but
 * with one lock of the engine's inbound queue and at most one wake-up of the
 * Reactor for the whole batch (e.g. an echo loop that answers everything one
 * tofu_wait_receive batch brought). Each message is checked as tofu_post
 * checks it, and the first one that tofu_post would refuse ends the batch:
 * the messages before it are posted and their entries set to NULL; it and the
 * ones after it stay with the caller, unchanged (but for the refused one's
 * status byte, as tofu_post sets it). *posted (may be NULL) receives how many
 * were posted; out (may be NULL) is an array of n headers, and out[i]
 * receives message i's header as tofu_post's *out would, for each message
 * posted. n == 0 posts nothing and returns TOFU_OK.
 * Returns TOFU_OK when all n were posted; otherwise the error of
 * msgs[*posted]: TOFU_EINVAL (NULL g; msgs NULL with n > 0; or msgs[*posted]
 * is NULL), TOFU_EMESSAGE (refused by the checks of tofu_post; its status
 * byte says why), TOFU_ELIMIT (all channel numbers are in use). A message is
 * never both posted and left with the caller. */
TOFU_API int tofu_post_many(tofu_group *g, tofu_message **msgs, size_t n, tofu_header *out,
                            size_t *posted);

/* Hand *msg to the Reactor to come back, unchanged, to this group's receive
 * queue after delay_ms milliseconds (an application timer). *msg is cleared.
 * A group destroyed first frees it. Errors: TOFU_EINVAL. */
TOFU_API int tofu_post_timer(tofu_group *g, tofu_message **msg, int delay_ms);

/* The next message for this group, or NULL if none arrives within timeout_ms
 * (-1 waits without limit, 0 only takes what is queued) or the group is
 * being destroyed (see tofu_receive, which tells the two apart). The caller
 * owns the message and must tofu_put (or post) it. Any number of threads at
 * once (see tofu_receive). */
TOFU_API tofu_message *tofu_wait_receive(tofu_group *g, int timeout_ms);

/* tofu_wait_receive (message_id 0) or tofu_wait_reply (the next message
 * with that id), with a status: TOFU_OK and the message in *out;
 * TOFU_ETIMEDOUT, *out NULL: nothing within timeout_ms; TOFU_ECLOSED, *out
 * NULL: another thread is destroying the group (tofu_group_destroy, or
 * tofu_engine_destroy of its engine) — the wait returned so that the destroy
 * can go on, and the group must not be used again. Errors: TOFU_EINVAL (NULL
 * g or out).
 *
 * Several receivers: any number of threads may wait on one group at once,
 * with tofu_wait_receive, tofu_wait_reply and tofu_receive in any mix.
 *   - Each message goes to exactly one of them.
 *   - While a wait for an id is in progress, the messages with that id (queued
 *     or arriving) are reserved for it: a wait for any message passes over
 *     them. Everything else goes to any receiver. A message with that id
 *     handed out before the wait for it starts goes to whoever takes it (a
 *     Response back before its requester waits may reach a worker): a thread
 *     that waits for replies beside workers is safest on a group of its own.
 *   - Messages are handed out oldest first, and a channel's messages are
 *     queued in the order they arrived; but receivers run at once, so two
 *     messages of one channel taken by two threads may be handled (and
 *     answered) in either order. One receiver sees each channel in order.
 *   - The OS handle (tofu_group_os_handle) is ready exactly while the queue
 *     holds a message; a thread it wakes may find another took it first.
 *   - A destroy wakes every waiter, as below.
 *
 * Shutting down a receiving thread: the cleanest way is to tell it (a flag
 * of the application's, then tofu_update_receiver(g, NULL) to wake it),
 * join it, then destroy the group. The notice wakes one receiver (notices
 * coalesce): in a pool, each worker that leaves calls it again for the
 * next. A thread blocked in a wait when the group
 * is destroyed is released as said above, and the destroy returns once it
 * has left the wait; but a thread must not *start* a wait on a group that is
 * being, or has been, destroyed: only a thread that was already waiting is
 * safe. */
TOFU_API int tofu_receive(tofu_group *g, uint64_t message_id, int timeout_ms, tofu_message **out);

/* Up to max messages for this group in one call, oldest first, into
 * msgs[0..*got): waits up to timeout_ms for the first one, as tofu_receive
 * with message_id 0 does, then adds what is queued already, up to max,
 * without waiting again. One call takes the receive queue's lock once, where
 * max calls of tofu_wait_receive take it max times; with tofu_post_many, an
 * application answers what one pass of the Reactor delivered with one call
 * each way. The rules of several receivers hold for each message (a message
 * reserved for a wait for its id is passed over). Each message is the
 * caller's, as from tofu_wait_receive. Returns TOFU_OK with *got >= 1;
 * TOFU_ETIMEDOUT or TOFU_ECLOSED with *got 0, as tofu_receive. Errors:
 * TOFU_EINVAL (NULL g, msgs or got, or max 0). */
TOFU_API int tofu_receive_many(tofu_group *g, tofu_message **msgs, size_t max, int timeout_ms,
                               size_t *got);

/* From any thread: with *msg != NULL, put the message at the end of the
 * group's receive queue (it is returned by tofu_wait_receive as it is) and
 * clear *msg; with msg == NULL or *msg == NULL, make tofu_wait_receive return
 * a Signal from the engine with status receiver_update (notices coalesce:
 * at most one is queued at a time). Errors: TOFU_EINVAL, TOFU_ENOMEM. */
TOFU_API int tofu_update_receiver(tofu_group *g, tofu_message **msg);

/* ---- Quick API -------------------------------------------------------- */
/* Shorthands over tofu_get / tofu_post / tofu_wait_receive for the common
 * cases; the message model underneath is the same (docs/engine.md, "Quick
 * API"). Each takes its messages from the group's engine pool and never
 * leaves one with the caller on failure.
 *
 * URLs name TCP and Unix-socket addresses:
 *   tcp://HOST:PORT     HOST an IPv4 address or a host name
 *   tcp://[IPV6]:PORT   an IPv6 address in brackets
 *   unix:///abs/path    an absolute path ("unix://" then the path)
 *   unix:rel/path       a path as given, relative to the working directory
 * Listening, "tcp://:PORT" means every IPv4 interface and "tcp://[::]:PORT"
 * every interface of both families; PORT 0 = any free port. Connecting needs
 * a host and a non-zero port. A URL is at most 511 bytes. */

/* Post a HelloRequest to url from group g and store its channel in *channel
 * (may be NULL). The answer comes to g's queue as for tofu_post: the peer's
 * HelloResponse, or the HelloRequest handed back with a status (then
 * channel_closed): connect_failed when the connect or the hello took longer
 * than connect_timeout_ms. Errors: TOFU_EINVAL (NULL g or url, malformed URL: nothing
 * is posted), TOFU_ELIMIT (the pool is exhausted, or every channel number is
 * in use), TOFU_ENOMEM. */
TOFU_API int tofu_connect(tofu_group *g, const char *url, uint16_t *channel);

/* Post a WelcomeRequest to listen on url; as tofu_connect. The answer is the
 * WelcomeResponse (see tofu_listen_address) or the request handed back. */
TOFU_API int tofu_listen(tofu_group *g, const char *url, uint16_t *channel);

/* The address a WelcomeResponse says was bound, as a URL ("tcp://IP:PORT",
 * "tcp://[IPV6]:PORT", "unix:///abs/path" or "unix:rel/path"), NUL-terminated
 * in buf: the real port when 0 was asked, ready for tofu_connect. Errors:
 * TOFU_EINVAL (NULL arguments, not a WelcomeResponse, no ~listen_on header),
 * TOFU_ELIMIT (buf shorter than the URL and its NUL). */
TOFU_API int tofu_listen_address(const tofu_message *welcome_response, char *buf, size_t len);

/* Take a message from the pool, make it opcode on channel with body[0..len)
 * and post it from g. message_id may be NULL; if it is not, *message_id is
 * the id to use (the Request's id, for a Response; 0 = a new id) and
 * receives the id posted. Errors: TOFU_EINVAL (NULL g, body NULL with len >
 * 0), TOFU_ELIMIT (len > the engine's max_message, TOFU_MAX_BODY by
 * default, or the pool is exhausted),
 * TOFU_EMESSAGE (tofu_post refused the message: bad opcode, channel or id;
 * the message goes back to the pool), TOFU_ENOMEM. Nothing is left with the
 * caller on any error. */
TOFU_API int tofu_send(tofu_group *g, uint16_t channel, int opcode, const void *body, size_t len,
                       uint64_t *message_id);

/* The next message for g whose id is message_id: the Response to a Request,
 * the HelloResponse or WelcomeResponse to a HelloRequest or WelcomeRequest,
 * or the request itself handed back with a status. Every other message stays
 * queued, in its order, for tofu_wait_receive. NULL if none comes within
 * timeout_ms (-1 = no limit, 0 = only what is queued); nothing is taken then.
 * Any thread, while others receive from g too: while it waits, the messages
 * with this id are its own (see tofu_receive).
 * NULL also when g is being destroyed, and at once for message_id 0 (no
 * request has id 0). Every request ends, so the wait returns as soon as its channel dies (the
 * request handed back, written or not) or its deadline passes (status
 * timeout). */
TOFU_API tofu_message *tofu_wait_reply(tofu_group *g, uint64_t message_id, int timeout_ms);

/* An operating-system handle that is ready while g's queue holds a message,
 * for poll/epoll/select or WaitForMultipleObjects in the application's own
 * event loop: on POSIX a file descriptor, readable while the queue is not
 * empty; on Windows an event HANDLE, signalled while it is not empty. It is
 * level-triggered: ready exactly while the queue holds a message, until a
 * receive (in any thread) has taken the last one. With one receiver, after
 * it reports ready tofu_wait_receive(g, 0) returns a message (never NULL);
 * with several, another may take it first. Never read, write, reset or close
 * it: the engine does, and tofu_group_destroy closes it. The first call
 * makes it (from then on each message arriving in an empty queue costs one
 * system call); any thread. TOFU_INVALID_OS_HANDLE if it cannot be made (or
 * g is NULL). */
#ifdef _WIN32
typedef void *tofu_os_handle; /* a HANDLE */
#define TOFU_INVALID_OS_HANDLE ((tofu_os_handle)0)
#else
typedef int tofu_os_handle; /* a file descriptor */
#define TOFU_INVALID_OS_HANDLE (-1)
#endif
TOFU_API tofu_os_handle tofu_group_os_handle(tofu_group *g);

/* ---- Introspection (tests, diagnostics) ------------------------------- */

typedef struct tofu_engine_stats {
  size_t size;               /* set by the caller: sizeof(tofu_engine_stats); see above */
  size_t memory_used;        /* bytes of message memory charged to the pool now */
  size_t memory_limit;       /* the hard limit */
  size_t messages_live;      /* messages that exist (free or in use) */
  size_t messages_free;      /* messages idle in the pool */
  uint64_t reactor_loops;    /* Reactor loop passes so far */
  uint64_t reads_paused;     /* times a channel stopped reading for want of memory */
  size_t channels;           /* channels and listeners open now */
  uint64_t wait_failures;    /* the poller's wait failed (the Reactor backs off, see below) */
  uint64_t channels_refused; /* connections accepted and closed at once: max_channels was
                              * reached, or no channel number or memory was left for them */
  uint64_t frame_timeouts;   /* channels closed: a frame not finished in frame_timeout_ms */
  uint64_t frames_refused;   /* channels closed: a frame claimed more than max_frame, or a
                              * message joined from parts grew past max_message */
  size_t requests_open;      /* requests written and waiting for their answer now */
  uint64_t requests_expired; /* requests handed back with status timeout */
  uint64_t responses_late;   /* answers dropped: their request had gone back at its deadline */
  size_t memory_blocks;      /* of memory_used: the Reactor's read blocks, where the bodies of
                              * received frames stay until their messages are put back */
  size_t memory_blocks_free; /* of memory_blocks: blocks nothing refers to now, trimmed first
                              * when memory runs short */
} tofu_engine_stats;

/* A snapshot of the engine's counters: the fields that fit in out->size
 * (set by the caller) are filled, and out->size becomes the bytes written.
 * Errors: TOFU_EINVAL (e or out NULL, or out->size smaller than the size
 * field itself). */
TOFU_API int tofu_engine_get_stats(tofu_engine *e, tofu_engine_stats *out);

#ifdef __cplusplus
}
#endif

#endif /* TOFU_TOFU_H */
