#pragma once
// StoppedAlerts on Redis: one key per stopped alert holding why ("cancelled" or "acknowledged"),
// written with SET NX GET so the first stop wins across every ingress and worker replica, and
// expiring after `keep_for`, by when the alert is past its deadline and nothing would send it.

#include <string>

#include "common/redis/redis_client.h"
#include "common/stopped_alerts/stopped_alerts.h"

namespace klaxon::stopped_alerts {

// An alert's stop key (<prefix>stopped:<alert_id>) and how its value reads, for a script that
// reads the stop itself (the delivery engine's RedisSendGate). kInternal for a malformed value.
std::string RedisStopKey(std::string_view key_prefix, std::string_view alert_id);
absl::StatusOr<StopReason> ParseRedisStopValue(std::string_view value);

class RedisStoppedAlerts final : public StoppedAlerts {
 public:
  // `key_prefix` (e.g. "klaxon:") namespaces the keys; ingress and the workers must share it.
  RedisStoppedAlerts(redis::RedisClient& redis, std::string key_prefix);

  absl::StatusOr<std::optional<StopReason>> Find(std::string_view alert_id) override;
  absl::StatusOr<StopReason> Stop(std::string_view alert_id, StopReason reason,
                                  absl::Duration keep_for) override;

 private:
  redis::RedisClient& redis_;
  const std::string key_prefix_;
};

}  // namespace klaxon::stopped_alerts
