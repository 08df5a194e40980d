/* channel — one listener or one connection, in the Reactor's table (indexed
 * by local channel number; a uthash list to walk them all): what every kind
 * of channel shares — making, finding, arming, closing. A connection's I/O is
 * chan_connect.h, chan_send.h and chan_recv.h; a listener's, chan_listen.h. Everything here runs on
 * the Reactor thread. */
#ifndef TOFU_CHANNEL_H
#define TOFU_CHANNEL_H

/* A failed allocation in the table is reported to channel_new (which then
 * fails cleanly) instead of ending the process, uthash's default. */
#define HASH_NONFATAL_OOM 1
#include <uthash.h>

#include "address.h"
#include "engine_state.h"
#include "wire.h"

typedef enum chan_kind { CH_LISTENER = 1, CH_IO = 2 } chan_kind;

/* A channel's entries in the Reactor's timer heap: one per slot at most,
 * each slot holding the entry's position (TIMERS_NONE: none). Setting a
 * timer whose slot is taken moves that entry; closing the channel cancels
 * them all, so the heap never holds an entry of a closed channel. A listener
 * has its TIMER_LISTEN entry only; a connection's CH_TIMER_RETRY (before its
 * connect) and CH_TIMER_FRAME (after it) never overlap: at most three
 * entries at a time, as TOFU_CHANNEL_OVERHEAD counts. */
enum {
  CH_TIMER_CONNECT, /* TIMER_CONNECT: the connect and the hello */
  CH_TIMER_RETRY,   /* TIMER_RETRY (connections), TIMER_LISTEN (listeners) */
  CH_TIMER_FRAME,   /* TIMER_FRAME: the frame in progress */
  CH_TIMER_REQUEST, /* TIMER_REQUEST: the nearest request deadline */
  CH_TIMERS
};

/* A connection moves only forward, along these arrows (channel_set_state
 * asserts it):
 *   CH_CONNECTING <-> CH_BACKLOG, CH_CONNECTING -> CH_HELLO_SENT -> CH_OPEN;
 *   CH_ACCEPTED -> CH_OPEN.
 * A listener is CH_LISTENING from its start. Closing is not a state: it is
 * `closed`, from any state. */
typedef enum chan_state {
  CH_NEW = 0,    /* made, not started yet */
  CH_CONNECTING, /* connect in progress; posts wait behind the HelloRequest */
  CH_BACKLOG,    /* UDS: the listener's queue was full; the connect is retried by timer */
  CH_ACCEPTED,   /* accepted; the first frame must be a HelloRequest */
  CH_HELLO_SENT, /* connected; the first frame must be HelloResponse (or Bye) */
  CH_OPEN,
  CH_LISTENING
} chan_state;

typedef struct channel {
  UT_hash_handle hh;
  uint16_t number;
  uint64_t serial;
  chan_kind kind;
  chan_state state;
  tofu_engine *engine;
  tofu_group *group;

  tofu_socket sock;
  tofu_poll_handle *handle;
  unsigned armed;    /* interest armed now (0 after a report) */
  int transport;     /* ADDR_TCP / ADDR_UDS */
  char *uds_path;    /* a UDS listener's socket file, removed at close */
  int retry_ms;      /* CH_BACKLOG: the delay before the next connect attempt */
  int addr_next;     /* connecting over TCP: the HelloRequest's next address to try */
  uint64_t first_id; /* the id of the channel's first message (its Welcome/HelloRequest,
                      * or the peer's HelloRequest): the channel_closed notice carries it */

  /* Sending. */
  msgq sendq;
  size_t sent;         /* bytes of the head frame already written */
  int close_when_sent; /* a ByeResponse is queued: close once it is out */
  struct channel *next_dirty;
  int in_dirty;

  /* Receiving. */
  wire_decoder dec;
  tofu_message *rx; /* the frame being filled */
  int rx_answered;  /* rx is the message of the request that frame answers (requests.h) */
  /* max_message set: the message whose parts (frames of one id, `more` on
   * all but the last) are being joined into one body; rx is it while one
   * of its parts is read (rx_part). */
  tofu_message *joining;
  int rx_part;
  int paused;       /* waiting for memory; what it read ahead is the engine's stash */
  int hangup_heard; /* paused: an orderly close was reported as a hang-up; not
                     * asked for again until the channel resumes */
  struct channel *next_paused, *prev_paused;
  int64_t frame_due; /* a frame begun must be done by then (0: none running) */

  /* Requests (requests.h). */
  req_node *req_first, *req_last; /* open requests and tombstones, oldest first */
  req_node *req_unindexed;        /* the first of them not in the index's table yet */

  size_t timer_at[CH_TIMERS]; /* its timer entries' heap positions (CH_TIMER_*) */

  tofu_message *notice; /* becomes the channel_closed notice */
  int closed;
  struct channel *next_zombie;
} channel;

/* Make a channel, put it in the table (number already allocated). */
channel *channel_new(tofu_engine *e, uint16_t number, chan_kind kind, tofu_group *g);
/* The channel a posted Welcome/HelloRequest opens, on the number tofu_post
 * took for it; NULL if it cannot be made, and then the number is freed and
 * the request handed back to its group (allocation_failed). */
channel *channel_new_for(tofu_engine *e, tofu_message *request, chan_kind kind);
channel *channel_find(tofu_engine *e, uint16_t number);
/* Free the number index (teardown, once every channel is gone). */
void channel_table_free(tofu_engine *e);

/* Move to the next state (see chan_state for the allowed steps). */
void channel_set_state(channel *ch, chan_state to);

/* Register the socket and set the interest the channel needs now. */
int channel_register(channel *ch);
/* Deregister and close the channel's socket (it stays in the table). */
void channel_drop_socket(channel *ch);
void channel_rearm(channel *ch);

/* Close: hand back every queued message with `cause`, then deliver one
 * channel_closed notice (closing, if given, becomes that notice). */
void channel_close(channel *ch, int cause, tofu_message *closing);

/* Put a connection at the end of the engine's paused list (it stops
 * reading), or take it off the list (it reads again). */
void channel_pause(channel *ch);
void channel_unpause(channel *ch);

/* Set one of the channel's timers (TIMER_CONNECT, _RETRY, _LISTEN, _FRAME)
 * in the Reactor's heap: added, or moved to due_ms if the channel has one of
 * that slot already. Returns TOFU_OK or TOFU_ENOMEM. */
int channel_add_timer(channel *ch, int64_t due_ms, int kind);
/* The same, unless the channel's timer of that kind is due by then already
 * (it then fires first, and its handler sets the next). */
int channel_add_timer_by(channel *ch, int64_t due_ms, int kind);
/* The same, for a timer the channel cannot go on without: when it cannot be
 * added the channel is closed (allocation_failed). Returns 1 if added. */
int channel_add_timer_or_close(channel *ch, int64_t due_ms, int kind);

/* The status a failed send or recv closes a channel with: peer_disconnected
 * for a reset or a broken pipe, else the fallback. */
int channel_status_of_net(int net_err, int fallback);

/* Free the zombies of this pass. */
void channel_reap(tofu_engine *e);

/* Mark for a flush at the end of the current batch. */
void channel_mark_dirty(channel *ch);

#endif /* TOFU_CHANNEL_H */
