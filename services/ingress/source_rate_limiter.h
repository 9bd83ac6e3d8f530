#pragma once
// A per-source-address request limit for the webhook ingress: a token bucket per address that
// refills at `per_second` and holds one second's worth, so a burst of that size is allowed and a
// flood from one address is refused with 429 instead of crowding out Twilio's other callbacks.
// Each ingress replica limits on its own; the limit protects the process, not a global quota.
//
// Memory is fixed: at most `max_sources` buckets, the least recently used one evicted for a new
// source. An evicted source starts again with a full bucket, which favours it, never refuses it;
// a flood of distinct addresses costs O(1) per request and no memory beyond the cap.

#include <cstddef>
#include <list>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/timing/clock.h"

namespace klaxon::ingress {

class SourceRateLimiter {
 public:
  SourceRateLimiter(double per_second, timing::Clock& clock, size_t max_sources = 10'000);

  // Takes one token from `source`'s bucket; false when it is empty.
  bool Allow(std::string_view source);

  // Sources tracked now (at most max_sources).
  size_t tracked() const;

 private:
  struct Bucket {
    std::string source;
    double tokens = 0;
    absl::Time refilled_at{};
  };
  using Recency = std::list<Bucket>;  // most recently used first

  const double per_second_;
  timing::Clock& clock_;
  const size_t max_sources_;
  mutable std::mutex mutex_;
  Recency recency_;
  std::unordered_map<std::string_view, Recency::iterator> buckets_;  // views into recency_
};

}  // namespace klaxon::ingress
