#pragma once
// The transport rule for a Twilio base URL (docs/adr/0011): https, or plain http only to a
// loopback address (the local sandbox, http://127.0.0.1:PORT), so the account's auth token and
// the messages never cross a network in clear text.

#include <string_view>

#include "absl/status/status.h"

namespace klaxon::twilio {

// OK when `base_url` follows the rule; kInvalidArgument otherwise, with a message that does not
// echo the URL (it may carry credentials). TwilioRestClient::Create applies it; configuration
// readers call it to name their variable in the error.
absl::Status CheckBaseUrl(std::string_view base_url);

}  // namespace klaxon::twilio
