#include "services/delivery/redis_suppression_list.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace klaxon::delivery {
namespace {

// Values: "<1 suppressed | 0 lifted>:<unix ms of the change>" (kRedisSuppressedValuePrefix). A
// change as old as the stored one still applies, so of two changes at the same millisecond the one
// applied last holds.
constexpr char kApplyScript[] = R"lua(
local current = redis.call('GET', KEYS[1])
if current then
  local at = tonumber(string.sub(current, 3))
  if at and at > tonumber(ARGV[2]) then return 0 end
end
redis.call('SET', KEYS[1], ARGV[1] .. ':' .. ARGV[2])
return 1
)lua";

}  // namespace

RedisSuppressionList::RedisSuppressionList(redis::RedisClient& redis, std::string key_prefix,
                                           log::PhoneRedactor redactor)
    : redis_(redis), key_prefix_(std::move(key_prefix)), redactor_(std::move(redactor)) {}

std::string RedisSuppressionKey(std::string_view key_prefix, const log::PhoneRedactor& redactor,
                                std::string_view recipient) {
  std::string key(key_prefix);
  key.append("suppression:").append(redactor.Token(recipient));
  return key;
}

absl::StatusOr<bool> RedisSuppressionList::IsSuppressed(std::string_view recipient) {
  absl::StatusOr<redis::Reply> reply =
      redis_.Command({"GET", RedisSuppressionKey(key_prefix_, redactor_, recipient)});
  if (!reply.ok()) return reply.status();
  return reply->type == redis::Reply::Type::kString &&
         reply->str.starts_with(kRedisSuppressedValuePrefix);
}

absl::Status RedisSuppressionList::Suppress(std::string_view recipient, absl::Time at) {
  return Apply(recipient, true, at);
}

absl::Status RedisSuppressionList::Lift(std::string_view recipient, absl::Time at) {
  return Apply(recipient, false, at);
}

absl::Status RedisSuppressionList::Apply(std::string_view recipient, bool suppressed,
                                         absl::Time at) {
  return redis_
      .Command({"EVAL", kApplyScript, "1", RedisSuppressionKey(key_prefix_, redactor_, recipient),
                suppressed ? "1" : "0", absl::StrCat(absl::ToUnixMillis(at))})
      .status();
}

}  // namespace klaxon::delivery
