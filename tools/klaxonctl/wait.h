// `klaxonctl get --wait-for`: poll an alert until it reaches a status, ends in another final
// status, or time runs out. Statuses only move forward (see proto/klaxon/types), so an alert that
// is past the wanted status counts as having reached it when the later status implies it.
#pragma once

#include <optional>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/timing/clock.h"
#include "klaxon/alerts/v1/alerts.pb.h"
#include "klaxon/types/v1/types.pb.h"
#include "tools/klaxonctl/alert_client.h"

namespace klaxon::ctl {

// True when `current` is `target` or proves the alert went through it: every known status
// implies QUEUED, DELIVERED or UNDELIVERED imply that Twilio accepted it (SENT), and ACKNOWLEDGED
// implies DELIVERED (someone answered). FAILED, SUPPRESSED and CANCELLED imply nothing beyond
// QUEUED, since an alert can end so before Twilio takes it; WAITING is passed through, not
// implied.
bool HasReached(types::v1::AlertStatus current, types::v1::AlertStatus target);

struct WaitOptions {
  // How long to keep polling. The last poll may start at the end of this budget.
  absl::Duration timeout = absl::Seconds(10);
  // Deadline of each GetAlert call.
  absl::Duration rpc_timeout = absl::Seconds(5);
  // The pause between polls starts here and doubles up to max_poll_interval.
  absl::Duration first_poll_interval = absl::Milliseconds(250);
  absl::Duration max_poll_interval = absl::Seconds(2);
};

struct WaitResult {
  enum class Outcome { kReached, kEndedElsewhere, kTimedOut };
  Outcome outcome = Outcome::kTimedOut;
  // The last alert audit returned, if any.
  std::optional<alerts::v1::Alert> alert;
  // The last retryable error seen since `alert` was read; OK if none.
  absl::Status last_error;
};

// NOT_FOUND (audit has not projected a fresh alert yet), UNAVAILABLE, DEADLINE_EXCEEDED and
// RESOURCE_EXHAUSTED are retried until the budget runs out; any other error is returned at once.
absl::StatusOr<WaitResult> WaitForStatus(AlertClient& client, absl::string_view alert_id,
                                         types::v1::AlertStatus target, const WaitOptions& options,
                                         timing::Clock& clock);

}  // namespace klaxon::ctl
