#pragma once
// Port: the bound on requests in flight to Twilio (default 100), shared by every worker replica
// (Redis), so adding replicas never exceeds the account's concurrency. A slot is held from just
// before the REST call until its answer; a slot whose holder died is reclaimed after a lease.
// A share of the slots is kept for critical sends (docs/adr/0027): the others stop short of it,
// so a backlog of normal sends, or their status reads, never makes a critical page wait for one.

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "klaxon/types/v1/types.pb.h"

namespace klaxon::delivery {

class InFlightLimit {
 public:
  virtual ~InFlightLimit() = default;
  // Takes a slot for a request of `priority` (a critical one may take the share kept for it),
  // waiting up to `wait` for one to free up, and returns its id for Release. kResourceExhausted
  // when none freed up in time; kUnavailable when the store is down.
  virtual absl::StatusOr<std::string> Acquire(absl::Duration wait,
                                              types::v1::Priority priority) = 0;
  virtual void Release(const std::string& slot) = 0;
};

}  // namespace klaxon::delivery
