#pragma once
// Alert ids: UUIDv7 (RFC 9562), minted once at ingress. The 48-bit Unix-millisecond prefix makes
// ids sort by creation time (good for Postgres index locality and for humans reading logs); the
// rest is random. Time and randomness are injected so tests are deterministic.

#include <string>
#include <string_view>

#include "absl/random/bit_gen_ref.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace klaxon::ids {

// A UUIDv7 in canonical lowercase form ("0190f1c4-7a3e-7b12-9c4d-1e2f3a4b5c6d").
// unix_ts_ms = `now` in milliseconds (clamped to [0, 2^48)); rand_a carries the sub-millisecond
// fraction of `now` in 1/4096 ms steps (RFC 9562 section 6.2 method 3), so ids minted from one
// clock also sort within a millisecond; rand_b (62 bits) comes from `gen`.
std::string NewUuidV7(absl::Time now, absl::BitGenRef gen);

// True for the canonical form 8-4-4-4-12 of lowercase hex digits (any version or variant).
bool IsUuid(std::string_view text);

// The millisecond timestamp of a UUIDv7 in canonical form. kInvalidArgument when `uuid` is not a
// canonical UUID, is not version 7, or does not carry the RFC 9562 variant.
absl::StatusOr<absl::Time> UuidV7Time(std::string_view uuid);

}  // namespace klaxon::ids
