#pragma once
// Ports: what the voice worker keeps between placing a call and hearing how it ended. A call
// status callback names only its alert and attempt, so the request it belongs to (its voice
// policy, recipient, text, deadline, caller) is remembered when the call is placed; escalation
// steps are claimed so a duplicate or late callback never takes a step twice; and each
// recipient's alerts in escalation are indexed so an SMS reply of ACK finds them. Shared by every
// replica (Redis).

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "klaxon/events/v1/events.pb.h"

namespace klaxon::voice {

// Errors are kUnavailable throughout.
class EscalationStore {
 public:
  virtual ~EscalationStore() = default;
  // Keeps `request` (the alert's latest call attempt) until `keep_until`.
  virtual absl::Status Remember(const events::v1::AlertRequested& request,
                                absl::Time keep_until) = 0;
  // The request last remembered for the alert, or nullopt.
  virtual absl::StatusOr<std::optional<events::v1::AlertRequested>> Find(
      std::string_view alert_id) = 0;
  // True for the first caller to claim `step` of the alert (held until `keep_until`), false for
  // every later one.
  virtual absl::StatusOr<bool> ClaimStep(std::string_view alert_id, std::string_view step,
                                         absl::Time keep_until) = 0;
  // Gives a claimed step back, when taking it failed half way and must be retried.
  virtual absl::Status ReleaseStep(std::string_view alert_id, std::string_view step) = 0;
};

// Which alerts are in escalation to a recipient (E.164; adapters key it by a token).
class RecipientAlerts {
 public:
  virtual ~RecipientAlerts() = default;
  virtual absl::Status Add(std::string_view recipient, std::string_view alert_id,
                           absl::Time until) = 0;
  // The alerts added for `recipient` whose `until` is after `now`.
  virtual absl::StatusOr<std::vector<std::string>> List(std::string_view recipient,
                                                        absl::Time now) = 0;
  virtual absl::Status Remove(std::string_view recipient, std::string_view alert_id) = 0;
};

}  // namespace klaxon::voice
