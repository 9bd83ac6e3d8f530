#include "common/sms_acks/redis_ack_codes.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace klaxon::sms_acks {

RedisAckCodes::RedisAckCodes(redis::RedisClient& redis, std::string key_prefix,
                             log::PhoneRedactor redactor)
    : redis_(redis), key_prefix_(std::move(key_prefix)), redactor_(std::move(redactor)) {}

std::string RedisAckCodes::Key(std::string_view recipient, std::string_view code) const {
  return absl::StrCat(key_prefix_, "ack-code:", redactor_.Token(recipient), ":", std::string(code));
}

absl::StatusOr<bool> RedisAckCodes::Bind(std::string_view recipient, std::string_view code,
                                         const AckTarget& target, absl::Time until) {
  absl::StatusOr<redis::Reply> reply = redis_.Command(
      {"SET", Key(recipient, code), absl::StrCat(target.alert_id, " ", target.caller), "NX", "PXAT",
       absl::StrCat(absl::ToUnixMillis(until))});
  if (!reply.ok()) return reply.status();
  return reply->type == redis::Reply::Type::kStatus;
}

absl::StatusOr<std::optional<AckTarget>> RedisAckCodes::Find(std::string_view recipient,
                                                             std::string_view code) {
  absl::StatusOr<redis::Reply> reply = redis_.Command({"GET", Key(recipient, code)});
  if (!reply.ok()) return reply.status();
  if (reply->type != redis::Reply::Type::kString) return std::nullopt;
  const size_t space = reply->str.find(' ');
  if (space == std::string::npos) {
    return absl::UnavailableError(
        absl::StrCat("Redis key ", Key(recipient, code),
                     " does not hold \"<alert_id> <caller>\"; was it written by another program?"));
  }
  return AckTarget{.alert_id = reply->str.substr(0, space), .caller = reply->str.substr(space + 1)};
}

}  // namespace klaxon::sms_acks
