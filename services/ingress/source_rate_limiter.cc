#include "services/ingress/source_rate_limiter.h"

#include <algorithm>

namespace klaxon::ingress {

SourceRateLimiter::SourceRateLimiter(double per_second, timing::Clock& clock, size_t max_sources)
    : per_second_(per_second), clock_(clock), max_sources_(std::max<size_t>(1, max_sources)) {}

SourceRateLimiter::Bucket& SourceRateLimiter::Refilled(std::string_view source, absl::Time now) {
  auto found = buckets_.find(source);
  if (found != buckets_.end()) {
    recency_.splice(recency_.begin(), recency_, found->second);
  } else {
    if (buckets_.size() >= max_sources_) {
      buckets_.erase(recency_.back().source);
      recency_.pop_back();
    }
    recency_.push_front({.source = std::string(source), .tokens = per_second_, .refilled_at = now});
    buckets_.emplace(recency_.front().source, recency_.begin());
  }
  Bucket& bucket = recency_.front();
  const double elapsed = std::max(0.0, absl::ToDoubleSeconds(now - bucket.refilled_at));
  bucket.tokens = std::min(per_second_, bucket.tokens + elapsed * per_second_);
  bucket.refilled_at = now;
  return bucket;
}

bool SourceRateLimiter::Allows(std::string_view source) {
  const absl::Time now = clock_.Now();
  std::lock_guard lock(mutex_);
  return Refilled(source, now).tokens >= 1.0;
}

void SourceRateLimiter::Charge(std::string_view source) {
  const absl::Time now = clock_.Now();
  std::lock_guard lock(mutex_);
  Bucket& bucket = Refilled(source, now);
  bucket.tokens = std::max(0.0, bucket.tokens - 1.0);
}

size_t SourceRateLimiter::tracked() const {
  std::lock_guard lock(mutex_);
  return buckets_.size();
}

}  // namespace klaxon::ingress
