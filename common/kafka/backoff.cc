#include "common/kafka/backoff.h"

#include <algorithm>

namespace klaxon::kafka {

absl::Duration BackoffDelay(const BackoffPolicy& policy, int retry) {
  absl::Duration delay = policy.initial;
  // Multiplying step by step stops as soon as the cap is reached, so a large retry count can
  // neither overflow nor loop long.
  for (int i = 0; i < retry && delay < policy.max; ++i) {
    delay *= policy.multiplier;
  }
  return std::min(delay, policy.max);
}

}  // namespace klaxon::kafka
