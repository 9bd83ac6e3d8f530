#include "services/delivery/retry_policy.h"

#include <algorithm>
#include <utility>

namespace klaxon::delivery {

RetryPolicy::RetryPolicy(RetryPolicyOptions options, std::function<double()> uniform)
    : options_(options), uniform_(std::move(uniform)) {}

absl::Duration RetryPolicy::Backoff(uint32_t attempt, std::optional<absl::Duration> retry_after,
                                    bool slow_down_asked) {
  // Doubling stops at the cap, so any attempt number is safe.
  absl::Duration range = options_.base;
  for (uint32_t i = 1; i < attempt && range < options_.cap; ++i) range *= 2;
  range = std::min(range, options_.cap);
  absl::Duration wait = Jitter(range);
  wait = std::max(wait, HonouredRetryAfter(retry_after));
  if (slow_down_asked) wait = std::max(wait, options_.slow_down);
  return wait;
}

absl::Duration RetryPolicy::Jitter(absl::Duration range) {
  std::lock_guard lock(mutex_);
  return range * uniform_();
}

absl::Duration RetryPolicy::HonouredRetryAfter(std::optional<absl::Duration> retry_after) {
  return std::min(retry_after.value_or(absl::ZeroDuration()), kMaxRetryAfter);
}

}  // namespace klaxon::delivery
