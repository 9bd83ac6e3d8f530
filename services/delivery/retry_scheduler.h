#pragma once
// Port: puts a request on a delayed retry tier so that it is handled again at `not_before`
// without holding any partition of the request topic while it waits (docs/adr/0007). The caller
// sets the request's attempt number (attempt+1 for a retry, the same one for a deferral); the
// scheduler sets not_before and picks the tier from the channel and the delay.

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "klaxon/events/v1/events.pb.h"

namespace klaxon::delivery {

class RetryScheduler {
 public:
  virtual ~RetryScheduler() = default;
  // OK once the tier's topic acknowledged the write; kUnavailable/kDeadlineExceeded otherwise.
  virtual absl::Status Schedule(const events::v1::AlertRequested& request,
                                absl::Time not_before) = 0;
};

}  // namespace klaxon::delivery
