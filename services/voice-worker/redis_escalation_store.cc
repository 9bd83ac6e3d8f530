#include "services/voice-worker/redis_escalation_store.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace klaxon::voice {
namespace {

// Adds the alert (ARGV[2]) with its `until` in unix ms (ARGV[1]) and lets the set expire with its
// latest alert; expired members until then are filtered out by List.
constexpr char kAddScript[] = R"lua(
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[2])
local latest = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
redis.call('PEXPIREAT', KEYS[1], latest[2])
return 1
)lua";

std::string Millis(absl::Time time) { return absl::StrCat(absl::ToUnixMillis(time)); }

}  // namespace

RedisEscalationStore::RedisEscalationStore(redis::RedisClient& redis, std::string key_prefix)
    : redis_(redis), key_prefix_(std::move(key_prefix)) {}

std::string RedisEscalationStore::RequestKey(std::string_view alert_id) const {
  return absl::StrCat(key_prefix_, "escalation:", std::string(alert_id));
}

std::string RedisEscalationStore::StepKey(std::string_view alert_id, std::string_view step) const {
  return absl::StrCat(RequestKey(alert_id), ":step:", std::string(step));
}

absl::Status RedisEscalationStore::Remember(const events::v1::AlertRequested& request,
                                            absl::Time keep_until) {
  return redis_
      .Command({"SET", RequestKey(request.header().alert_id()), request.SerializeAsString(), "PXAT",
                Millis(keep_until)})
      .status();
}

absl::StatusOr<std::optional<events::v1::AlertRequested>> RedisEscalationStore::Find(
    std::string_view alert_id) {
  absl::StatusOr<redis::Reply> reply = redis_.Command({"GET", RequestKey(alert_id)});
  if (!reply.ok()) return reply.status();
  if (reply->type != redis::Reply::Type::kString) return std::nullopt;
  events::v1::AlertRequested request;
  if (!request.ParseFromString(reply->str)) {
    return absl::InternalError("escalation state in Redis holds a malformed request");
  }
  return request;
}

absl::StatusOr<bool> RedisEscalationStore::ClaimStep(std::string_view alert_id,
                                                     std::string_view step, absl::Time keep_until) {
  absl::StatusOr<redis::Reply> reply =
      redis_.Command({"SET", StepKey(alert_id, step), "1", "NX", "PXAT", Millis(keep_until)});
  if (!reply.ok()) return reply.status();
  return reply->type == redis::Reply::Type::kStatus;
}

absl::Status RedisEscalationStore::ReleaseStep(std::string_view alert_id, std::string_view step) {
  return redis_.Command({"DEL", StepKey(alert_id, step)}).status();
}

RedisRecipientAlerts::RedisRecipientAlerts(redis::RedisClient& redis, std::string key_prefix,
                                           log::PhoneRedactor redactor)
    : redis_(redis), key_prefix_(std::move(key_prefix)), redactor_(std::move(redactor)) {}

std::string RedisRecipientAlerts::Key(std::string_view recipient) const {
  return absl::StrCat(key_prefix_, "escalating:", redactor_.Token(recipient));
}

absl::Status RedisRecipientAlerts::Add(std::string_view recipient, std::string_view alert_id,
                                       absl::Time until) {
  return redis_
      .Command({"EVAL", kAddScript, "1", Key(recipient), Millis(until), std::string(alert_id)})
      .status();
}

absl::StatusOr<std::vector<std::string>> RedisRecipientAlerts::List(std::string_view recipient,
                                                                    absl::Time now) {
  absl::StatusOr<redis::Reply> reply =
      redis_.Command({"ZRANGE", Key(recipient), absl::StrCat("(", Millis(now)), "+inf", "BYSCORE"});
  if (!reply.ok()) return reply.status();
  std::vector<std::string> alert_ids;
  for (const std::optional<std::string>& element : reply->elements) {
    if (element) alert_ids.push_back(*element);
  }
  return alert_ids;
}

absl::Status RedisRecipientAlerts::Remove(std::string_view recipient, std::string_view alert_id) {
  return redis_.Command({"ZREM", Key(recipient), std::string(alert_id)}).status();
}

}  // namespace klaxon::voice
