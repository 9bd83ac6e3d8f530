#pragma once
// A per-source-address limit for the webhook ingress on the requests Klaxon has no use for: a token
// bucket per address that refills at `per_second` and holds one second's worth. Only what the
// source sent that was refused (404, 4xx, a bad signature) or already kept (a replay) takes a
// token; once its bucket is empty, everything it sends is refused with 429 until the bucket
// refills. Twilio's signed, new callbacks never take a token, so a burst of them (a page storm,
// Twilio's few source addresses) is never refused: a refused status callback is not retried, and
// the alert's status would wait for a status check (ADR 0021). Each ingress replica limits on
// its own; the limit protects the process, not a global quota.
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

  // Whether `source` is heard: false while its bucket is empty.
  bool Allows(std::string_view source);

  // Takes one token from `source`'s bucket: it sent a request that was refused or a replay.
  void Charge(std::string_view source);

  // Sources tracked now (at most max_sources).
  size_t tracked() const;

 private:
  struct Bucket {
    std::string source;
    double tokens = 0;
    absl::Time refilled_at{};
  };
  using Recency = std::list<Bucket>;  // most recently used first

  // `source`'s bucket, created full if new, refilled to `now` and made the most recently used.
  // Requires mutex_.
  Bucket& Refilled(std::string_view source, absl::Time now);

  const double per_second_;
  timing::Clock& clock_;
  const size_t max_sources_;
  mutable std::mutex mutex_;
  Recency recency_;
  std::unordered_map<std::string_view, Recency::iterator> buckets_;  // views into recency_
};

}  // namespace klaxon::ingress
