#include "tools/klaxonctl/wait.h"

#include <algorithm>
#include <utility>

#include "common/alert_status/alert_status.h"

namespace klaxon::ctl {
namespace {

using types::v1::AlertStatus;

bool IsRetryableWhileWaiting(const absl::Status& status) {
  return absl::IsNotFound(status) || absl::IsUnavailable(status) ||
         absl::IsDeadlineExceeded(status) || absl::IsResourceExhausted(status);
}

}  // namespace

bool HasReached(AlertStatus current, AlertStatus target) {
  if (current == types::v1::ALERT_STATUS_UNSPECIFIED) return false;
  if (current == target) return true;
  switch (target) {
    case types::v1::ALERT_STATUS_QUEUED:
      return true;
    case types::v1::ALERT_STATUS_SENT:
      return current == types::v1::ALERT_STATUS_DELIVERED ||
             current == types::v1::ALERT_STATUS_UNDELIVERED ||
             current == types::v1::ALERT_STATUS_ACKNOWLEDGED;
    case types::v1::ALERT_STATUS_DELIVERED:
      return current == types::v1::ALERT_STATUS_ACKNOWLEDGED;
    default:
      return false;
  }
}

absl::StatusOr<WaitResult> WaitForStatus(AlertClient& client, absl::string_view alert_id,
                                         AlertStatus target, const WaitOptions& options,
                                         timing::Clock& clock) {
  const absl::Time give_up_at = clock.Now() + options.timeout;
  absl::Duration pause = options.first_poll_interval;
  WaitResult result;
  while (true) {
    absl::StatusOr<alerts::v1::Alert> alert =
        client.Get(alert_id, clock.Now() + options.rpc_timeout);
    if (alert.ok()) {
      const AlertStatus status = alert->status();
      result.alert = *std::move(alert);
      result.last_error = absl::OkStatus();
      if (HasReached(status, target)) {
        result.outcome = WaitResult::Outcome::kReached;
        return result;
      }
      if (alert_status::IsFinal(status)) {
        result.outcome = WaitResult::Outcome::kEndedElsewhere;
        return result;
      }
    } else if (IsRetryableWhileWaiting(alert.status())) {
      result.last_error = alert.status();
    } else {
      return alert.status();
    }
    const absl::Time now = clock.Now();
    if (now >= give_up_at) return result;
    clock.SleepFor(std::min(pause, give_up_at - now));
    pause = std::min(pause * 2, options.max_poll_interval);
  }
}

}  // namespace klaxon::ctl
