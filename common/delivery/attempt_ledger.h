#pragma once
// Port: the record that makes each attempt reach Twilio at most once. A worker claims an attempt
// atomically before sending and records its outcome afterwards; a redelivered request finds the
// claim and republishes the outcome instead of sending again.

#include <optional>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "klaxon/events/v1/events.pb.h"

namespace klaxon::delivery {

struct AttemptClaim {
  enum class State {
    kClaimed,     // this call claimed the attempt: send it
    kInProgress,  // claimed earlier and no outcome yet (maybe a worker died while sending)
    kDone,        // the outcome is recorded
  };
  State state = State::kClaimed;
  absl::Time claimed_at;                               // kInProgress: when the claim was made
  std::optional<events::v1::DeliveryOutcome> outcome;  // kDone
};

class AttemptLedger {
 public:
  virtual ~AttemptLedger() = default;
  virtual absl::StatusOr<AttemptClaim> Claim(std::string_view alert_id, uint32_t attempt,
                                             absl::Time now) = 0;
  virtual absl::Status RecordOutcome(std::string_view alert_id, uint32_t attempt,
                                     const events::v1::DeliveryOutcome& outcome) = 0;
  // Gives the attempt back after a failure that provably did not reach the provider.
  virtual absl::Status Release(std::string_view alert_id, uint32_t attempt) = 0;
};

}  // namespace klaxon::delivery
