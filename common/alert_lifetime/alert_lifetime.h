#pragma once
// How long an alert may live (ADR 0007). Ingress refuses a longer time to live; the workers keep
// what they know of an attempt (claims, stops, status checks) at most this long past its
// acceptance, so nothing they keep can expire while the alert may still be sent.

#include "absl/time/time.h"

namespace klaxon::alert_lifetime {

inline constexpr absl::Duration kMaxTimeToLive = absl::Hours(10);

// How far ahead SendAlert's send_at may schedule an alert (docs/adr/0025); its time to live counts
// from then, so an alert may still be sent this long plus kMaxTimeToLive after it was accepted.
inline constexpr absl::Duration kMaxScheduleAhead = absl::Hours(24 * 7);

// How far the recipient's quiet hours (docs/adr/0026) may move an alert's send_at on, past
// kMaxScheduleAhead too: a daily window is shorter than a day, and a night the clocks go back
// adds an hour to it.
inline constexpr absl::Duration kMaxQuietHold = absl::Hours(25);

}  // namespace klaxon::alert_lifetime
