#pragma once
// Port: the record that makes each attempt reach Twilio at most once. A worker claims an attempt
// atomically before sending and records its outcome afterwards; a redelivered request finds the
// claim and republishes the outcome instead of sending again.
//
// Claims carry their owner, one id per worker process. An owner that finds its own claim knows
// it has nothing in flight for that attempt (the dispatcher keeps every sent-but-unrecorded
// outcome in memory), so it may claim it again: that covers a lost reply to the claim and a
// release that failed.
//
// An attempt whose request left but whose answer was lost is marked unsettled, with the time it
// was sent: whoever handles it next settles it by reading Twilio, and nobody sends it again.

#include <optional>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "klaxon/events/v1/events.pb.h"

namespace klaxon::delivery {

struct AttemptClaim {
  enum class State {
    kClaimed,     // the caller holds the claim (new, or its own from before): send it
    kInProgress,  // another owner claimed it and recorded no outcome (maybe it died sending)
    kDone,        // the outcome is recorded
    kUnsettled,   // sent, outcome unknown: settle it by reading Twilio, never send it again
  };
  State state = State::kClaimed;
  absl::Time claimed_at;                               // kInProgress: when the claim was made
  absl::Time sent_at;                                  // kUnsettled: when the request left
  std::optional<events::v1::DeliveryOutcome> outcome;  // kDone
};

class AttemptLedger {
 public:
  virtual ~AttemptLedger() = default;
  virtual absl::StatusOr<AttemptClaim> Claim(std::string_view alert_id, uint32_t attempt,
                                             std::string_view owner, absl::Time now) = 0;
  virtual absl::Status RecordOutcome(std::string_view alert_id, uint32_t attempt,
                                     const events::v1::DeliveryOutcome& outcome) = 0;
  // Marks an attempt the caller claimed as sent at `sent_at` with its outcome unknown. Any owner's
  // later Claim returns kUnsettled until an outcome is recorded.
  virtual absl::Status MarkUnsettled(std::string_view alert_id, uint32_t attempt,
                                     absl::Time sent_at) = 0;
  // Gives the attempt back after a failure that provably did not reach the provider. Only a claim
  // `owner` still holds is removed, never another owner's claim or a recorded outcome.
  virtual absl::Status Release(std::string_view alert_id, uint32_t attempt,
                               std::string_view owner) = 0;
};

}  // namespace klaxon::delivery
