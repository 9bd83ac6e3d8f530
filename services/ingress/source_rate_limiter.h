#pragma once
// A per-source-address request limit for the webhook ingress: a token bucket per address that
// refills at `per_second` and holds one second's worth, so a burst of that size is allowed and a
// flood from one address is refused with 429 instead of crowding out Twilio's other callbacks.
// Each ingress replica limits on its own; the limit protects the process, not a global quota.

#include <cstddef>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/timing/clock.h"

namespace klaxon::ingress {

class SourceRateLimiter {
 public:
  // `max_sources` bounds memory: when that many addresses are tracked, buckets that have refilled
  // completely (and so carry no state worth keeping) are dropped.
  SourceRateLimiter(double per_second, timing::Clock& clock, size_t max_sources = 100'000);

  // Takes one token from `source`'s bucket; false when it is empty.
  bool Allow(std::string_view source);

 private:
  struct Bucket {
    double tokens = 0;
    absl::Time refilled_at{};
  };
  void Refill(Bucket& bucket, absl::Time now) const;

  const double per_second_;
  timing::Clock& clock_;
  const size_t max_sources_;
  std::mutex mutex_;
  std::unordered_map<std::string, Bucket> buckets_;
};

}  // namespace klaxon::ingress
