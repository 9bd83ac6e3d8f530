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
  std::string value =
      absl::StrCat(absl::ToUnixMillis(until), " ", target.alert_id, " ", target.caller);
  // Only a page of a chain has the chain's fields: any other binding keeps the three fields the
  // previous version wrote and reads, so workers not yet upgraded still read it.
  if (!target.escalation_id.empty()) {
    absl::StrAppend(&value, " ", target.escalation_id, " ", target.escalation_step);
  }
  absl::StatusOr<redis::Reply> reply =
      redis_.Command({"SET", Key(recipient, code), std::move(value), "NX", "PXAT",
                      absl::StrCat(absl::ToUnixMillis(until + kQuarantine))});
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
  // Caller names and alert ids hold no spaces (auth::IsCallerName; UUIDs).
  const std::vector<std::string> fields = absl::StrSplit(reply->str, ' ');
  const bool in_chain = fields.size() == 5;
  int64_t until_millis = 0;
  uint32_t step = 0;
  if ((fields.size() != 3 && !in_chain) || !absl::SimpleAtoi(fields[0], &until_millis) ||
      (in_chain && !absl::SimpleAtoi(fields[4], &step))) {
    return absl::UnavailableError(
        absl::StrCat("Redis key ", key,
                     " holds neither \"<until> <alert_id> <caller>\" nor \"<until> <alert_id> "
                     "<caller> <escalation_id> <escalation_step>\"; was it written by another "
                     "program?"));
  }
  if (absl::FromUnixMillis(until_millis) <= now) return std::nullopt;
  AckTarget target{.alert_id = fields[1], .caller = fields[2]};
  if (in_chain) {
    target.escalation_id = fields[3];
    target.escalation_step = step;
  }
  return target;
}

}  // namespace klaxon::sms_acks
