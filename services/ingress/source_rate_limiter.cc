#include "services/ingress/source_rate_limiter.h"

#include <algorithm>

namespace klaxon::ingress {

SourceRateLimiter::SourceRateLimiter(double per_second, timing::Clock& clock, size_t max_sources)
    : per_second_(per_second), clock_(clock), max_sources_(max_sources) {}

void SourceRateLimiter::Refill(Bucket& bucket, absl::Time now) const {
  const double elapsed = absl::ToDoubleSeconds(now - bucket.refilled_at);
  bucket.tokens = std::min(per_second_, bucket.tokens + std::max(0.0, elapsed) * per_second_);
  bucket.refilled_at = now;
}

bool SourceRateLimiter::Allow(std::string_view source) {
  const absl::Time now = clock_.Now();
  std::lock_guard lock(mutex_);
  auto it = buckets_.find(std::string(source));
  if (it == buckets_.end()) {
    if (buckets_.size() >= max_sources_) {
      for (auto& [source_address, bucket] : buckets_) Refill(bucket, now);
      std::erase_if(buckets_,
                    [&](const auto& entry) { return entry.second.tokens >= per_second_; });
    }
    it = buckets_.emplace(std::string(source), Bucket{.tokens = per_second_, .refilled_at = now})
             .first;
  }
  Bucket& bucket = it->second;
  Refill(bucket, now);
  if (bucket.tokens < 1.0) return false;
  bucket.tokens -= 1.0;
  return true;
}

}  // namespace klaxon::ingress
