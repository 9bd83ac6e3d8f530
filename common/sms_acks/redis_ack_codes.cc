#include "common/sms_acks/redis_ack_codes.h"

#include <cstdint>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

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
      {"SET", Key(recipient, code),
       absl::StrCat(absl::ToUnixMillis(until), " ", target.alert_id, " ", target.caller), "NX",
       "PXAT", absl::StrCat(absl::ToUnixMillis(until + kQuarantine))});
  if (!reply.ok()) return reply.status();
  return reply->type == redis::Reply::Type::kStatus;
}

absl::StatusOr<std::optional<AckTarget>> RedisAckCodes::Find(std::string_view recipient,
                                                             std::string_view code,
                                                             absl::Time now) {
  const std::string key = Key(recipient, code);
  absl::StatusOr<redis::Reply> reply = redis_.Command({"GET", key});
  if (!reply.ok()) return reply.status();
  if (reply->type != redis::Reply::Type::kString) return std::nullopt;
  const std::vector<std::string> fields = absl::StrSplit(reply->str, absl::MaxSplits(' ', 2));
  int64_t until_millis = 0;
  if (fields.size() != 3 || !absl::SimpleAtoi(fields[0], &until_millis)) {
    return absl::UnavailableError(absl::StrCat(
        "Redis key ", key,
        " does not hold \"<until> <alert_id> <caller>\"; was it written by another program?"));
  }
  if (absl::FromUnixMillis(until_millis) <= now) return std::nullopt;
  return AckTarget{.alert_id = fields[1], .caller = fields[2]};
}

}  // namespace klaxon::sms_acks
