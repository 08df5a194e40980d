/* tofu — the poller conformance suite: every case, once.
 *
 * Read by main.c (the case table) and by tests/CMakeLists.txt (one ctest test
 * `poller.<name>` per line), so a case is added here and nowhere else. Each
 * name is a case that docs/backend-contract.md names for one of its rules.
 * Keep one TOFU_CASE per line. What each _uds case expects on Windows (where
 * Wine cannot run it) is said at its function and in
 * docs/windows/native-run.md. */

/* lifecycle.c: open/close, names, arguments */
TOFU_CASE(open_close_many, REQ_NONE)
TOFU_CASE(close_with_registered, REQ_NONE)
TOFU_CASE(backend_name, REQ_NONE)
TOFU_CASE(invalid_arguments, REQ_NONE)
TOFU_CASE(register_twice, REQ_NONE)

/* wait.c: timeouts, interrupted waits, small event arrays */
TOFU_CASE(wait_timeout_empty, REQ_NONE)
TOFU_CASE(wait_timeout_unready, REQ_NONE)
TOFU_CASE(wait_zero_timeout_empty, REQ_NONE)
TOFU_CASE(wait_zero_timeout_ready, REQ_NONE)
TOFU_CASE(eintr_retried, REQ_SIGNALS)
TOFU_CASE(max_events_smaller_than_ready, REQ_NONE)

/* readable.c: listeners, data, level state */
TOFU_CASE(listener_readable_tcp, REQ_NONE)
TOFU_CASE(listener_readable_uds, REQ_UDS)
TOFU_CASE(readable_on_data_tcp, REQ_NONE)
TOFU_CASE(readable_on_data_uds, REQ_UDS)
TOFU_CASE(level_at_arm, REQ_NONE)
TOFU_CASE(read_until_wouldblock_tcp, REQ_NONE)
TOFU_CASE(read_until_wouldblock_uds, REQ_UDS)

/* writable.c: writability and connects */
TOFU_CASE(idle_socket_writable, REQ_NONE)
TOFU_CASE(connect_writable_once_tcp, REQ_NONE)
TOFU_CASE(connect_writable_once_uds, REQ_UDS)
TOFU_CASE(connect_refused_tcp, REQ_NONE)
TOFU_CASE(full_send_buffer_tcp, REQ_NONE)
TOFU_CASE(full_send_buffer_uds, REQ_UDS)

/* arming.c: one-shot arming and interest */
TOFU_CASE(one_report_per_arm, REQ_NONE)
TOFU_CASE(rearm_new_interest, REQ_NONE)
TOFU_CASE(arm_both_one_event, REQ_NONE)
TOFU_CASE(disarm, REQ_NONE)
TOFU_CASE(interest_filter, REQ_NONE)

/* close_events.c: orderly close, reset, shutdown */
TOFU_CASE(peer_fin_tcp, REQ_NONE)
TOFU_CASE(peer_fin_uds, REQ_UDS)
TOFU_CASE(peer_rst_tcp, REQ_NONE)
TOFU_CASE(local_shutdown_write_tcp, REQ_NONE)
TOFU_CASE(local_shutdown_write_uds, REQ_UDS)
TOFU_CASE(fin_after_local_shutdown_tcp, REQ_NONE)
TOFU_CASE(fin_after_local_shutdown_uds, REQ_UDS)

/* hangup.c (the refused connect: writable.c, beside its helper): armed for HANGUP
 * alone (a reset, a failed connect; not data, not an orderly TCP close) */
TOFU_CASE(hangup_only_peer_rst_tcp, REQ_NONE)
TOFU_CASE(hangup_only_ignores_data_tcp, REQ_NONE)
TOFU_CASE(hangup_only_ignores_data_uds, REQ_UDS)
TOFU_CASE(hangup_only_ignores_fin_tcp, REQ_NONE)
TOFU_CASE(hangup_only_fin_uds, REQ_UDS)
TOFU_CASE(hangup_only_connect_refused_tcp, REQ_NONE)
TOFU_CASE(hangup_with_writable, REQ_NONE)

/* deregister.c: forgetting handles */
TOFU_CASE(no_events_after_deregister, REQ_NONE)
TOFU_CASE(deregister_close_reuse, REQ_NONE)
TOFU_CASE(deregister_states, REQ_NONE)
TOFU_CASE(register_churn, REQ_NONE)

/* notify.c: wakeups */
TOFU_CASE(notify_before_wait, REQ_NONE)
TOFU_CASE(notify_coalesces, REQ_NONE)
TOFU_CASE(notify_while_blocked, REQ_NONE)
TOFU_CASE(notify_again_after_wakeup, REQ_NONE)
TOFU_CASE(notify_many_threads, REQ_NONE)
TOFU_CASE(notify_with_events, REQ_NONE)

/* ownership.c: which sockets a poller serves, which completions are its own */
TOFU_CASE(register_other_poller, REQ_NONE)
TOFU_CASE(register_foreign_port, REQ_WINDOWS)
TOFU_CASE(register_synchronous_socket, REQ_WINDOWS)
TOFU_CASE(foreign_completion_dropped, REQ_WINDOWS)

/* scale.c: many sockets */
TOFU_CASE(many_sockets_random_arming, REQ_MANY_FDS)
