#include "common/stopped_alerts/redis_stopped_alerts.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"

namespace klaxon::stopped_alerts {
namespace {

constexpr std::string_view kCancelled = "cancelled";
constexpr std::string_view kAcknowledged = "acknowledged";

std::string_view Encode(StopReason reason) {
  switch (reason) {
    case StopReason::kCancelled:
      return kCancelled;
    case StopReason::kAcknowledged:
      return kAcknowledged;
  }
  return kCancelled;
}

}  // namespace

std::string RedisStopKey(std::string_view key_prefix, std::string_view alert_id) {
  std::string key(key_prefix);
  key.append("stopped:").append(alert_id);
  return key;
}

absl::StatusOr<StopReason> ParseRedisStopValue(std::string_view value) {
  if (value == kCancelled) return StopReason::kCancelled;
  if (value == kAcknowledged) return StopReason::kAcknowledged;
  return absl::InternalError("stopped-alert record in Redis is malformed");
}

RedisStoppedAlerts::RedisStoppedAlerts(redis::RedisClient& redis, std::string key_prefix)
    : redis_(redis), key_prefix_(std::move(key_prefix)) {}

absl::StatusOr<std::optional<StopReason>> RedisStoppedAlerts::Find(std::string_view alert_id) {
  absl::StatusOr<redis::Reply> reply = redis_.Command({"GET", RedisStopKey(key_prefix_, alert_id)});
  if (!reply.ok()) return reply.status();
  if (reply->type == redis::Reply::Type::kNil) return std::nullopt;
  absl::StatusOr<StopReason> reason = ParseRedisStopValue(reply->str);
  if (!reason.ok()) return reason.status();
  return *reason;
}

absl::StatusOr<StopReason> RedisStoppedAlerts::Stop(std::string_view alert_id, StopReason reason,
                                                    absl::Duration keep_for) {
  // PX below 1 is an error in Redis; a stop that expires at once is still a stop that happened.
  const int64_t millis = std::max<int64_t>(1, absl::ToInt64Milliseconds(keep_for));
  absl::StatusOr<redis::Reply> reply =
      redis_.Command({"SET", RedisStopKey(key_prefix_, alert_id), std::string(Encode(reason)), "NX",
                      "PX", absl::StrCat(millis), "GET"});
  if (!reply.ok()) return reply.status();
  if (reply->type == redis::Reply::Type::kNil) return reason;  // this call stopped it
  absl::StatusOr<StopReason> holding = ParseRedisStopValue(reply->str);
  if (!holding.ok()) return holding.status();
  // Stopped before, perhaps for less time than this stop needs (an escalation chain's stop on its
  // first page's key): keep it at least as long, never shorter (GT).
  absl::StatusOr<redis::Reply> lengthened =
      redis_.Command({"PEXPIRE", RedisStopKey(key_prefix_, alert_id), absl::StrCat(millis), "GT"});
  if (!lengthened.ok()) return lengthened.status();
  return *holding;
}

}  // namespace klaxon::stopped_alerts
