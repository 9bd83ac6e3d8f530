#pragma once
// application/x-www-form-urlencoded, as Twilio sends webhooks and takes REST requests: decoding
// that refuses what is malformed instead of guessing, and the matching encoder.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace klaxon::http {

// Decoded parameters in the order received. Keys may repeat and values may be empty.
using FormParams = std::vector<std::pair<std::string, std::string>>;

// Decodes `text` ("a=1&b=x+y&c=%2B"): '+' is a space, %XX a byte. Empty segments ("a=1&&b=2", a
// trailing '&') are skipped and a segment without '=' is a key with an empty value, as browsers
// do. kInvalidArgument, naming the segment's position, for a '%' not followed by two hex digits,
// an empty key, or a key or value whose bytes are not valid UTF-8.
absl::StatusOr<FormParams> DecodeForm(std::string_view text);

// Percent-encodes one key or value: unreserved characters (A-Z a-z 0-9 - . _ ~) stay, every other
// byte becomes %XX (uppercase hex).
std::string EncodeFormComponent(std::string_view text);

// "k1=v1&k2=v2" with both sides encoded by EncodeFormComponent, in the given order.
std::string EncodeForm(const FormParams& params);

}  // namespace klaxon::http
