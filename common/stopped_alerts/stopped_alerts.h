#pragma once
// Port: alerts that must not be sent again, because the caller cancelled them (CancelAlert at
// ingress) or the recipient acknowledged them (a key press, an SMS reply of ACK). Workers look an
// alert up before every send and before every escalation step. The first stop wins: an alert
// acknowledged and then cancelled stays acknowledged. Shared by every replica (Redis).

#include <optional>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/alert_lifetime/alert_lifetime.h"

namespace klaxon::stopped_alerts {

enum class StopReason { kCancelled, kAcknowledged };

// How long a stop made without knowing the alert's deadline is kept (a CancelAlert, an ACK
// reply): longer than any alert may still have a send pending after it, a scheduled one held by
// quiet hours too (alert_lifetime::kMaxScheduleAhead plus kMaxQuietHold plus kMaxTimeToLive;
// absl cannot add Durations at compile time, so the tests of the stops' writers check it).
inline constexpr absl::Duration kKeepStopFor = absl::Hours(24 * 8 + 12);

class StoppedAlerts {
 public:
  virtual ~StoppedAlerts() = default;
  // nullopt when the alert is not stopped. Errors are kUnavailable.
  virtual absl::StatusOr<std::optional<StopReason>> Find(std::string_view alert_id) = 0;
  // Stops the alert for `keep_for` (at least its remaining time to live) and returns the reason
  // that holds: `reason`, or the earlier one when it was already stopped. A stop already there is
  // then kept at least `keep_for` from now, never less than it had.
  virtual absl::StatusOr<StopReason> Stop(std::string_view alert_id, StopReason reason,
                                          absl::Duration keep_for) = 0;
};

}  // namespace klaxon::stopped_alerts
