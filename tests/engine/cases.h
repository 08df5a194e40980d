/* tofu — the engine conformance suite: every case, once.
 *
 * Read by main.c (the case table) and by CMakeLists.txt (one ctest test
 * `engine.<name>` per line). Keep one TOFU_CASE per line. */

/* unit.c: wire codec, pool, queues, timers (no sockets) */
TOFU_CASE(wire_header_layout, REQ_NONE)
TOFU_CASE(wire_decode_byte_by_byte, REQ_NONE)
TOFU_CASE(wire_split_every_boundary, REQ_NONE)
TOFU_CASE(wire_invalid_opcode, REQ_NONE)
TOFU_CASE(pool_hard_limit, REQ_NONE)
TOFU_CASE(message_limits, REQ_NONE)
TOFU_CASE(message_body_mut, REQ_NONE)
TOFU_CASE(msgq_and_mailbox, REQ_NONE)
TOFU_CASE(timers_order, REQ_NONE)

/* platform.c: the platform layer (threads, once, condition variables, clock) */
TOFU_CASE(platform_once, REQ_NONE)
TOFU_CASE(platform_cond_deadline, REQ_NONE)
TOFU_CASE(platform_clock, REQ_NONE)

/* flows.c: the message flows over TCP and UDS */
TOFU_CASE(create_destroy, REQ_NONE)
TOFU_CASE(several_engines, REQ_NONE)
TOFU_CASE(echo_tcp, REQ_NONE)
TOFU_CASE(connect_by_name_tcp, REQ_LOCALHOST)
TOFU_CASE(echo_uds, REQ_UDS)
TOFU_CASE(sizes_tcp, REQ_NONE)
TOFU_CASE(sizes_uds, REQ_UDS)
TOFU_CASE(bye_signal_abort, REQ_NONE)
TOFU_CASE(raw_peer_interop, REQ_NONE)

/* failures.c: statuses handed back */
TOFU_CASE(connect_refused_tcp, REQ_NONE)
TOFU_CASE(connect_timeout_tcp, REQ_SYN_DROP)
TOFU_CASE(hello_timeout_tcp, REQ_NONE)
TOFU_CASE(connect_backlog_uds, REQ_UDS | REQ_LINUX)
TOFU_CASE(connect_missing_uds, REQ_UDS)
TOFU_CASE(listen_failed, REQ_NONE)
TOFU_CASE(invalid_posts, REQ_NONE)
TOFU_CASE(unknown_channel, REQ_NONE)
TOFU_CASE(peer_vanishes_tcp, REQ_NONE)
TOFU_CASE(invalid_frame_closes_one, REQ_NONE)

/* load.c: receiving, backpressure, timers, scale */
TOFU_CASE(wait_receive_timeout, REQ_NONE)
TOFU_CASE(update_receiver_thread, REQ_NONE)
TOFU_CASE(app_timer, REQ_NONE)
TOFU_CASE(backpressure_slow_receiver, REQ_NONE)
TOFU_CASE(many_groups_channels, REQ_NONE)
