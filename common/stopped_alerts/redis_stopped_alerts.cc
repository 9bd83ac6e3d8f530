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

absl::StatusOr<StopReason> Decode(std::string_view value) {
  if (value == kCancelled) return StopReason::kCancelled;
  if (value == kAcknowledged) return StopReason::kAcknowledged;
  return absl::InternalError("stopped-alert record in Redis is malformed");
}

}  // namespace

RedisStoppedAlerts::RedisStoppedAlerts(redis::RedisClient& redis, std::string key_prefix)
    : redis_(redis), key_prefix_(std::move(key_prefix)) {}

std::string RedisStoppedAlerts::Key(std::string_view alert_id) const {
  return absl::StrCat(key_prefix_, "stopped:", std::string(alert_id));
}

absl::StatusOr<std::optional<StopReason>> RedisStoppedAlerts::Find(std::string_view alert_id) {
  absl::StatusOr<redis::Reply> reply = redis_.Command({"GET", Key(alert_id)});
  if (!reply.ok()) return reply.status();
  if (reply->type == redis::Reply::Type::kNil) return std::nullopt;
  absl::StatusOr<StopReason> reason = Decode(reply->str);
  if (!reason.ok()) return reason.status();
  return *reason;
}

absl::StatusOr<StopReason> RedisStoppedAlerts::Stop(std::string_view alert_id, StopReason reason,
                                                    absl::Duration keep_for) {
  // PX below 1 is an error in Redis; a stop that expires at once is still a stop that happened.
  const int64_t millis = std::max<int64_t>(1, absl::ToInt64Milliseconds(keep_for));
  absl::StatusOr<redis::Reply> reply = redis_.Command(
      {"SET", Key(alert_id), std::string(Encode(reason)), "NX", "PX", absl::StrCat(millis), "GET"});
  if (!reply.ok()) return reply.status();
  if (reply->type == redis::Reply::Type::kNil) return reason;  // this call stopped it
  return Decode(reply->str);
}

}  // namespace klaxon::stopped_alerts
