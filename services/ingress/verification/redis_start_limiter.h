#pragma once
// StartLimiter on Redis, shared by every ingress replica: per key a sorted set of recent starts
// scored by the time each was counted, checked and written by one Lua script on Redis's clock, so
// replicas with different clocks agree and concurrent starts never overfill a window. A start at
// t counts in a window w until t + w; a refusal records nothing.
//
// Key: <prefix>verification-starts:<key>, expiring once its newest start has left the longest
// window.

#include <string>

#include "common/redis/redis_client.h"
#include "services/ingress/verification/start_limiter.h"

namespace klaxon::ingress::verification {

class RedisStartLimiter final : public StartLimiter {
 public:
  RedisStartLimiter(redis::RedisClient& redis, std::string key_prefix);

  absl::StatusOr<std::optional<FullWindow>> Take(const std::vector<KeyedRates>& limits,
                                                 std::string_view member) override;

 private:
  redis::RedisClient& redis_;
  const std::string key_prefix_;
};

}  // namespace klaxon::ingress::verification
