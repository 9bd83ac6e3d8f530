#pragma once
// SpendCounter on Redis, shared by every ingress replica: one integer per key (millionths of the
// currency), checked against the cap and added to by one Lua script, so replicas never pass the
// cap together. Key: <prefix>verification-spend:<key>, dropped a day after the day it counts.

#include <string>

#include "common/redis/redis_client.h"
#include "services/ingress/verification/daily_spend.h"

namespace klaxon::ingress::verification {

class RedisSpendCounter final : public SpendCounter {
 public:
  RedisSpendCounter(redis::RedisClient& redis, std::string key_prefix)
      : redis_(redis), key_prefix_(std::move(key_prefix)) {}

  absl::StatusOr<bool> Spend(std::string_view key, Micros amount, Micros cap,
                             absl::Time day_ends) override;

 private:
  redis::RedisClient& redis_;
  const std::string key_prefix_;
};

}  // namespace klaxon::ingress::verification
