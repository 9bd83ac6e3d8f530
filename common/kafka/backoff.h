#pragma once
// How long the consumer waits before handing the same message to its handler again after a
// retryable failure (a dependency is down or overloaded). Capped exponential and deterministic:
// the retries of one partition are sequential, so there is no herd to spread with jitter, and a
// pure function is tested without a clock.

#include "absl/time/time.h"

namespace klaxon::kafka {

struct BackoffPolicy {
  absl::Duration initial = absl::Milliseconds(100);
  absl::Duration max = absl::Seconds(10);
  double multiplier = 2.0;
};

// The delay before retry number `retry` (0 for the first retry): initial * multiplier^retry,
// never more than max. A negative `retry` counts as 0.
absl::Duration BackoffDelay(const BackoffPolicy& policy, int retry);

}  // namespace klaxon::kafka
