#pragma once
// Port: where the status checks of accepted attempts wait until they fall due (docs/adr/0045).
// A check is kept under its attempt's SID, in its channel's lane for its priority (LaneOf):
// critical alerts' checks in the urgent lane, swept on the urgent pool (docs/adr/0027), the
// others in the normal lane. ClaimDue hands out the due checks of one lane, each leased to the
// claimer for a while; Finish removes the ones handled. A check whose handler failed, or whose
// worker died with it, falls due again when its lease runs out, so every check is handled at
// least once. Thread-safe.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/kafka/request_topics.h"
#include "klaxon/events/v1/events.pb.h"

namespace klaxon::delivery {

enum class CheckLane { kNormal, kUrgent };

// The lane of `check`: urgent for a critical alert's.
inline CheckLane LaneOf(const events::v1::AlertRequested& check) {
  return kafka::Urgent(check.priority()) ? CheckLane::kUrgent : CheckLane::kNormal;
}

// "normal" or "urgent": a metric label and a Redis key part.
inline const char* CheckLaneName(CheckLane lane) {
  return lane == CheckLane::kUrgent ? "urgent" : "normal";
}

// One check handed out by ClaimDue.
struct ClaimedCheck {
  std::string sid;    // the attempt's Twilio SID, the check's key
  std::string value;  // the check: a serialized AlertRequested with check_sid set
  std::string claim;  // Finish removes the check only while this claim holds it
  absl::Time leased_until = absl::InfinitePast();
};

struct DueChecks {
  std::vector<ClaimedCheck> checks;
  // Checks of the lane kept before this claim: due, not due, and claimed by a worker.
  int64_t kept = 0;
  // How long the oldest due check had been due at the claim; zero when none was.
  absl::Duration oldest_due_for = absl::ZeroDuration();
};

class StatusCheckQueue {
 public:
  virtual ~StatusCheckQueue() = default;
  // Keeps `check` (an AlertRequested with a channel and check_sid) due at `not_before` in its
  // channel's lane, replacing a check of the same SID: the next check of an attempt.
  // kInvalidArgument without a channel or SID, kUnavailable when the store cannot be reached.
  virtual absl::Status Schedule(const events::v1::AlertRequested& check, absl::Time not_before) = 0;
  // The same for an attempt's first check, except that a check of the SID already waiting (the
  // first check of an outcome published before, or a later one) is kept as it is.
  virtual absl::Status ScheduleFirst(const events::v1::AlertRequested& check,
                                     absl::Time not_before) = 0;
  // Up to `max` checks of the queue's channel in `lane` due at `now`, oldest first, each leased
  // until `now + lease`: no other claim hands it out meanwhile. `max` 0 claims nothing and still
  // counts. kUnavailable when the store cannot be reached.
  virtual absl::StatusOr<DueChecks> ClaimDue(CheckLane lane, absl::Time now, size_t max,
                                             absl::Duration lease) = 0;
  // Removes the claimed checks of the queue's channel in `lane` whose claims still hold: a check
  // scheduled again while it was handled (its next check) stays. kUnavailable when the store cannot
  // be reached; the checks then fall due again when their leases run out.
  virtual absl::Status Finish(CheckLane lane, std::span<const ClaimedCheck> checks) = 0;
};

}  // namespace klaxon::delivery
