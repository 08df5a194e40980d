/* Names of statuses (tofu's spelling) and opcodes. */
#include "tofu/tofu.h"

static const char *const status_names[] = {
    "success",
    "not_implemented_yet",
    "wrong_address",
    "not_allowed",
    "null_message",
    "invalid_message",
    "invalid_op_code",
    "invalid_headers_len",
    "invalid_body_len",
    "invalid_more_usage",
    "invalid_channel_number",
    "invelid_mchn_group",
    "invalid_message_id",
    "invalid_address",
    "uds_path_not_found",
    "notification_disabled",
    "notification_failed",
    "peer_disconnected",
    "communication_failed",
    "pool_empty",
    "allocation_failed",
    "receiver_update",
    "channel_closed",
    "shutdown_started",
    "connect_failed",
    "listen_failed",
    "accept_failed",
    "send_failed",
    "recv_failed",
    "setsockopt_failed",
    "processing_failed",
    "unknown_error",
    "timeout",
};

const char *tofu_status_name(int status) {
  if (status < 0 || status > TOFU_STATUS_TIMEOUT)
    return "unknown_error";
  return status_names[status];
}

static const char *const opcode_names[TOFU_OPCODE_COUNT] = {
    "Request",    "Response",    "Signal",    "HelloRequest",   "HelloResponse",
    "ByeRequest", "ByeResponse", "ByeSignal", "WelcomeRequest", "WelcomeResponse",
};

const char *tofu_opcode_name(int opcode) {
  if (opcode < 0 || opcode >= TOFU_OPCODE_COUNT)
    return "invalid";
  return opcode_names[opcode];
}
