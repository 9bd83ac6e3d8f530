#pragma once
// Port: where the status checks of accepted attempts wait until they fall due (docs/adr/0045).
// Schedule (the RetryScheduler's) keeps a check under its attempt's SID, due at `not_before`; a
// check of a SID already waiting replaces it. ClaimDue hands out the due checks of one channel,
// each leased to the claimer for a while; Finish removes the ones handled. A check whose handler
// failed, or whose worker died with it, falls due again when its lease runs out, so every check is
// handled at least once. Thread-safe.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/delivery/retry_scheduler.h"

namespace klaxon::delivery {

// One check handed out by ClaimDue.
struct ClaimedCheck {
  std::string sid;    // the attempt's Twilio SID, the check's key
  std::string value;  // the check: a serialized AlertRequested with check_sid set
  std::string lease;  // the claim; Finish removes the check only while this claim holds it
};

struct DueChecks {
  std::vector<ClaimedCheck> checks;
  int64_t waiting = 0;  // checks of the channel kept, due or not, before this claim
  // How long the oldest due check had been due at the claim; zero when none was.
  absl::Duration oldest_due_for = absl::ZeroDuration();
};

class StatusCheckQueue : public RetryScheduler {
 public:
  // Up to `max` checks of the queue's channel due at `now`, oldest first, each leased until `now +
  // lease`: no other claim hands it out meanwhile. kUnavailable when the store cannot be reached.
  virtual absl::StatusOr<DueChecks> ClaimDue(absl::Time now, size_t max, absl::Duration lease) = 0;
  // Removes `checks` whose claims still hold: a check scheduled again while it was handled (its
  // next check) stays. kUnavailable when the store cannot be reached; the checks then fall due
  // again when their leases run out.
  virtual absl::Status Finish(std::span<const ClaimedCheck> checks) = 0;
};

}  // namespace klaxon::delivery
