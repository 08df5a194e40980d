/* tofu — the engine conformance suite: every case, once.
 *
 * Read by main.c (the case table) and by CMakeLists.txt (one ctest test
 * `engine.<name>` per line). Keep one TOFU_CASE per line. */

/* unit.c: wire codec, pool, queues, timers, options, a channel's cost (no sockets) */
TOFU_CASE(wire_header_layout, REQ_NONE)
TOFU_CASE(wire_decode_byte_by_byte, REQ_NONE)
TOFU_CASE(wire_split_every_boundary, REQ_NONE)
TOFU_CASE(wire_invalid_opcode, REQ_NONE)
TOFU_CASE(pool_hard_limit, REQ_NONE)
TOFU_CASE(pool_frame_all_or_nothing, REQ_NONE)
TOFU_CASE(pool_frame_own_buffers, REQ_NONE)
TOFU_CASE(pool_runs, REQ_NONE)
TOFU_CASE(message_limits, REQ_NONE)
TOFU_CASE(message_body_mut, REQ_NONE)
TOFU_CASE(msgq_and_mailbox, REQ_NONE)
TOFU_CASE(timers_order, REQ_NONE)
TOFU_CASE(timers_cancel_shrink, REQ_NONE)
TOFU_CASE(wire_part_rest, REQ_NONE)
TOFU_CASE(options_defaults, REQ_NONE)
TOFU_CASE(channel_overhead, REQ_NONE)
TOFU_CASE(requests_index, REQ_NONE)

/* platform.c: the platform layer (threads, once, condition variables, clock) */
TOFU_CASE(platform_once, REQ_NONE)
TOFU_CASE(platform_cond_deadline, REQ_NONE)
TOFU_CASE(platform_clock, REQ_NONE)

/* flows.c: the message flows over TCP and UDS */
TOFU_CASE(create_destroy, REQ_NONE)
TOFU_CASE(several_engines, REQ_NONE)
TOFU_CASE(echo_tcp, REQ_NONE)
TOFU_CASE(connect_by_name_tcp, REQ_LOCALHOST)
TOFU_CASE(echo_tcp6, REQ_IPV6)
TOFU_CASE(listen_any_both_families, REQ_IPV6)
TOFU_CASE(connect_by_name_both_families, REQ_LOCALHOST6)
TOFU_CASE(echo_uds, REQ_UDS)
TOFU_CASE(sizes_tcp, REQ_NONE)
TOFU_CASE(sizes_tcp6, REQ_IPV6)
TOFU_CASE(sizes_uds, REQ_UDS)
TOFU_CASE(bye_signal_abort, REQ_NONE)
TOFU_CASE(raw_peer_interop, REQ_NONE)

/* failures.c: statuses handed back */
TOFU_CASE(connect_refused_tcp, REQ_NONE)
TOFU_CASE(connect_refused_tcp6, REQ_IPV6)
TOFU_CASE(unresolvable_host, REQ_NONE)
TOFU_CASE(connect_timeout_tcp, REQ_SYN_DROP)
TOFU_CASE(hello_timeout_tcp, REQ_NONE)
TOFU_CASE(connect_backlog_uds, REQ_UDS | REQ_LINUX)
TOFU_CASE(connect_missing_uds, REQ_UDS)
TOFU_CASE(listen_failed, REQ_NONE)
TOFU_CASE(invalid_posts, REQ_NONE)
TOFU_CASE(unknown_channel, REQ_NONE)
TOFU_CASE(peer_vanishes_tcp, REQ_NONE)
TOFU_CASE(invalid_frame_closes_one, REQ_NONE)

/* requests.c: every request ends, answered or handed back, written or not */
TOFU_CASE(requests_peer_killed_tcp, REQ_SIGNALS)
TOFU_CASE(requests_peer_killed_uds, REQ_SIGNALS | REQ_UDS)
TOFU_CASE(requests_peer_reset_tcp, REQ_NONE)
TOFU_CASE(requests_peer_frozen, REQ_SIGNALS)
TOFU_CASE(requests_late_response_dropped, REQ_NONE)
TOFU_CASE(requests_hello_unanswered, REQ_NONE)
TOFU_CASE(requests_wait_reply_channel_dies, REQ_NONE)

/* shutdown.c: a destroy wakes its waiters; a message put back is refused */
TOFU_CASE(destroy_wakes_waiters, REQ_NONE)
TOFU_CASE(engine_destroy_wakes_waiters, REQ_NONE)
TOFU_CASE(receive_status, REQ_NONE)
TOFU_CASE(post_after_put_refused, REQ_NONE)

/* zig.c: parity with tofu (Zig): its frames byte for byte, both ways */
TOFU_CASE(zig_golden_frames, REQ_NONE)
TOFU_CASE(zig_server_flow, REQ_NONE)
TOFU_CASE(zig_server_refuses, REQ_NONE)
TOFU_CASE(zig_client_aborts, REQ_NONE)
TOFU_CASE(refuse_with_bye_signal, REQ_NONE)

/* large.c: bodies up to max_message, in parts on the wire, joined by the receiver */
TOFU_CASE(large_both_ways_tcp, REQ_NONE)
TOFU_CASE(large_both_ways_uds, REQ_UDS)
TOFU_CASE(large_limits, REQ_NONE)
TOFU_CASE(large_raw_peer, REQ_NONE)
TOFU_CASE(large_parts_default, REQ_NONE)
TOFU_CASE(large_over_limit, REQ_NONE)
TOFU_CASE(large_second_begun, REQ_NONE)
TOFU_CASE(large_paused_deadline, REQ_NONE)
TOFU_CASE(large_deadline_mid_write, REQ_NONE)
TOFU_CASE(large_cut_default, REQ_NONE)

/* quick.c: the quick API, the pollable queue, extensible options and stats */
TOFU_CASE(quick_urls, REQ_NONE)
TOFU_CASE(quick_flow_tcp, REQ_NONE)
TOFU_CASE(quick_flow_tcp6, REQ_IPV6)
TOFU_CASE(quick_flow_uds, REQ_UDS)
TOFU_CASE(quick_connect_refused, REQ_NONE)
TOFU_CASE(quick_errors, REQ_NONE)
TOFU_CASE(quick_pool_exhausted, REQ_NONE)
TOFU_CASE(quick_wait_reply_timeout, REQ_NONE)
TOFU_CASE(quick_os_handle, REQ_NONE)
TOFU_CASE(options_stats_abi, REQ_NONE)

/* blocks.c: bodies received into read blocks, left where they were read */
TOFU_CASE(blocks_held_bodies_stay, REQ_NONE)
TOFU_CASE(blocks_body_changes, REQ_NONE)
TOFU_CASE(blocks_not_within_small_limit, REQ_NONE)

/* batch.c: posting a batch at once */
TOFU_CASE(post_many, REQ_NONE)

/* receiving.c: receiving, backpressure, timers, scale */
TOFU_CASE(wait_receive_timeout, REQ_NONE)
TOFU_CASE(update_receiver_thread, REQ_NONE)
TOFU_CASE(receive_many, REQ_NONE)
TOFU_CASE(app_timer, REQ_NONE)
TOFU_CASE(backpressure_slow_receiver, REQ_NONE)
TOFU_CASE(many_groups_channels, REQ_NONE)

/* paused.c: a channel paused for memory hears a reset at once, an orderly close after its frames */
TOFU_CASE(paused_peer_reset_tcp, REQ_NONE)
TOFU_CASE(paused_peer_reset_uds, REQ_UDS)
TOFU_CASE(paused_peer_fin_tcp, REQ_NONE)
TOFU_CASE(paused_peer_fin_uds, REQ_UDS)

/* workers.c: several threads receiving from one group at once */
TOFU_CASE(workers_each_once_local, REQ_NONE)
TOFU_CASE(workers_each_once_tcp, REQ_NONE)
TOFU_CASE(workers_reply_to_its_waiter, REQ_NONE)
TOFU_CASE(workers_destroy_wakes_all, REQ_NONE)
TOFU_CASE(workers_os_handle_level, REQ_NONE)
