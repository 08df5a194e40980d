/* tofu — the reliability suite: every case, once.
 *
 * Read by main.c (the case table) and by CMakeLists.txt (one ctest test
 * `reliability.<name>` per line). Keep one TOFU_CASE per line. */

/* fuzz_replay.c: the fuzz corpora and every kept crash input */
TOFU_CASE(fuzz_corpus_replay, REQ_NONE)

/* fault_flows.c: engine flows under injected faults, many seeds */
TOFU_CASE(faults_lossless, REQ_NONE)
TOFU_CASE(faults_resets, REQ_NONE)
TOFU_CASE(faults_nomem, REQ_NOMEM)
TOFU_CASE(faults_uds, REQ_UDS)
TOFU_CASE(faults_resets_uds, REQ_UDS)

/* hostile.c: peers that break the rules */
TOFU_CASE(hostile_garbage, REQ_NONE)
TOFU_CASE(hostile_unknown_opcodes, REQ_NONE)
TOFU_CASE(hostile_first_frame, REQ_NONE)
TOFU_CASE(hostile_truncated_close, REQ_NONE)
TOFU_CASE(hostile_trickle, REQ_NONE)
TOFU_CASE(hostile_reset_mid_frame, REQ_NONE)
TOFU_CASE(hostile_after_hello, REQ_NONE)
TOFU_CASE(hostile_silent_connects, REQ_MANY_FDS)

/* exhaustion.c: memory, descriptors, a peer that stops reading */
TOFU_CASE(exhaust_pool_cpu, REQ_NONE)
TOFU_CASE(exhaust_emfile_accept, REQ_POSIX | REQ_RLIMIT)
TOFU_CASE(exhaust_fds_engine_create, REQ_POSIX | REQ_RLIMIT)
TOFU_CASE(exhaust_fds_os_handle, REQ_POSIX | REQ_RLIMIT)
TOFU_CASE(exhaust_peer_stops_reading, REQ_NONE)

/* limits.c: read-ahead in a fixed budget, the frame deadline, max_channels, max_frame,
 * memory after many short connections, large messages left unfinished */
TOFU_CASE(limits_half_frames, REQ_MANY_FDS)
TOFU_CASE(limits_frame_deadline, REQ_NONE)
TOFU_CASE(limits_small_not_behind_large, REQ_NONE)
TOFU_CASE(limits_pause_not_timed, REQ_NONE)
TOFU_CASE(limits_deadline_per_frame, REQ_NONE)
TOFU_CASE(limits_max_channels, REQ_NONE)
TOFU_CASE(limits_max_frame, REQ_NONE)
TOFU_CASE(limits_short_connections, REQ_NONE)
TOFU_CASE(limits_large_messages, REQ_NONE)
TOFU_CASE(limits_readahead_owner, REQ_NONE)
TOFU_CASE(limits_stash_long_part, REQ_NONE)

/* many_connections.c: many connections held at once */
TOFU_CASE(load_1000, REQ_MANY_FDS)
TOFU_CASE(load_10000, REQ_POSIX)

/* soak.c: connections opened, used and closed at random for a while */
TOFU_CASE(soak, REQ_NONE)

/* misuse.c: what an application can get wrong */
TOFU_CASE(misuse_put, REQ_NONE)
TOFU_CASE(misuse_put_other_engine, REQ_NONE)
TOFU_CASE(misuse_destroyed_group, REQ_NONE)
TOFU_CASE(misuse_destroy_outstanding, REQ_NONE)
TOFU_CASE(misuse_oversize, REQ_NONE)

/* fault_setup.c: allocations and primitives failing on a seeded schedule */
TOFU_CASE(faults_setup, REQ_NONE)

/* contracts.c: promises of tofu.h no other case held the library to */
TOFU_CASE(contract_options_zeroed, REQ_NONE)
TOFU_CASE(contract_null_accessors, REQ_NONE)
TOFU_CASE(contract_handles_released, REQ_LINUX)
TOFU_CASE(contract_address_text, REQ_NONE)
TOFU_CASE(contract_net_bounds, REQ_NONE)
TOFU_CASE(contract_wait_unbounded, REQ_NONE)
TOFU_CASE(contract_request_deadlines, REQ_NONE)
TOFU_CASE(contract_wait_reply_id_zero, REQ_NONE)
TOFU_CASE(contract_address_port_range, REQ_NONE)

/* fault_wait.c: a poller whose wait fails */
TOFU_CASE(faults_wait_fails, REQ_NONE)

/* handoff.c: waits that park, batches that notify once */
TOFU_CASE(idle_engine_cpu, REQ_NONE)
TOFU_CASE(post_many_one_notify, REQ_NONE)
