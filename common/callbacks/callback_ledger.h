#pragma once
// Port: what became of Twilio's status callbacks at ingress, for the workers' status checks
// (docs/adr/0014). Ingress records each final status it has made durable in Kafka, and the
// latest time it may have lost a callback (it refused one it could not make durable, shed load,
// or started after being down); a status check reads both before it asks Twilio, so Twilio is
// read only for an attempt whose final status has not arrived, and sooner after a loss.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace klaxon::callbacks {

// What a status check learns about one SID.
struct CallbackRecord {
  // A status callback with a final status of the SID is durable in klaxon.twilio.events.
  bool final_arrived = false;
  // The latest time ingress recorded that callbacks may have been lost; nullopt if never.
  std::optional<absl::Time> lost_at;
};

class CallbackLedger {
 public:
  virtual ~CallbackLedger() = default;
  // Once Kafka acknowledged status callbacks that carry a final status of each of `sids` (message
  // or call SIDs), in one round trip: one status each, in order. Kept longer than any status
  // check of them runs.
  virtual std::vector<absl::Status> RecordFinal(const std::vector<std::string>& sids) = 0;
  // Callbacks may have been lost up to `at`. Concurrent replicas keep the latest time.
  virtual absl::Status RecordLoss(absl::Time at) = 0;
  // Both facts for `sid`, in one round trip.
  virtual absl::StatusOr<CallbackRecord> Read(std::string_view sid) = 0;
};

}  // namespace klaxon::callbacks
