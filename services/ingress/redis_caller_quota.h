#pragma once
// CallerQuota on Redis, shared by every ingress replica: per caller a token bucket ("100/1m"
// holds 100 alerts and refills one every 0.6 s), kept as one timestamp (GCRA) and updated by one
// Lua script on Redis's clock, so replicas with different clocks agree. Callers with no quota of
// their own get the "*" entry's; with no "*" they are not limited.
//
// Key: <prefix>quota:<caller>, expiring once the bucket is full again.

#include <map>
#include <span>
#include <string>
#include <vector>

#include "common/limits/rate.h"
#include "common/redis/redis_client.h"
#include "services/ingress/caller_quota.h"

namespace klaxon::ingress {

class RedisCallerQuota final : public CallerQuota {
 public:
  static constexpr char kDefault[] = "*";

  // `quotas`: limits::ParseNamedRates, e.g. {"*": 1000/1m, "pager": 100/1m}.
  RedisCallerQuota(redis::RedisClient& redis, std::string key_prefix,
                   std::map<std::string, limits::Rate> quotas);

  // One EVAL per caller with a quota, pipelined in one round trip.
  std::vector<absl::Status> AdmitAll(std::span<const std::string_view> callers) override;

 private:
  redis::RedisClient& redis_;
  const std::string key_prefix_;
  const std::map<std::string, limits::Rate> quotas_;
};

}  // namespace klaxon::ingress
