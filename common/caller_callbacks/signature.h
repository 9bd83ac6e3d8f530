#pragma once
// The signature on a caller callback: the JSON status event Klaxon POSTs to the URL a calling
// team configured. Audit signs each POST with the caller's callback secret; a receiver verifies
// it before trusting the event, and refuses one whose timestamp is too far from its own clock, so
// a captured request cannot be replayed later. The signed string is "<timestamp>.<raw body>", so
// the timestamp cannot be swapped without breaking the signature. Klaxon-Signature may carry
// several comma-separated entries (one per secret during a rotation, or later schemes such as
// "v2="); a receiver accepts the request when any v1 entry matches and ignores the others.

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace klaxon::caller_callbacks {

inline constexpr char kTimestampHeader[] = "Klaxon-Timestamp";  // unix seconds, decimal
inline constexpr char kSignatureHeader[] = "Klaxon-Signature";  // "v1=<64 lowercase hex>"[, ...]
inline constexpr char kEventIdHeader[] = "Klaxon-Event-Id";     // "<alert_id>/<sequence>"
inline constexpr absl::Duration kDefaultTolerance = absl::Minutes(5);

// "v1=" + lowercase hex of HMAC-SHA256(secret, "<timestamp>." + body): the value of
// Klaxon-Signature for a POST whose Klaxon-Timestamp is `timestamp` (unix seconds, not negative)
// and whose body is exactly `body`.
std::string Sign(std::string_view secret, int64_t timestamp, std::string_view body);

// OK when one of the comma-separated v1= entries of `signature_header` is
// Sign(secret, timestamp, body) (compared in constant time) and the timestamp is within
// `tolerance` of `now`, either way. `body` must be the raw bytes received, before any parsing.
// Otherwise:
// - kInvalidArgument: the secret is empty, a header is missing or malformed (Klaxon-Timestamp
//   not a decimal number of seconds, Klaxon-Signature without any v1= entry);
// - kUnauthenticated: no v1 entry matches, or the (authentic) timestamp is older or further
//   ahead than `tolerance`: a replay, a delayed delivery or a wrong clock.
// Neither is worth retrying; the message names what is wrong and what to do, never the secret.
absl::Status Verify(std::string_view secret, std::string_view timestamp_header,
                    std::string_view signature_header, std::string_view body, absl::Time now,
                    absl::Duration tolerance = kDefaultTolerance);

}  // namespace klaxon::caller_callbacks
