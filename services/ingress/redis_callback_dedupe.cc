#include "services/ingress/redis_callback_dedupe.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"

namespace klaxon::ingress {
namespace {

// 'published' when any key is published, 'claimed' when any is claimed, else claims all and
// answers 'new'. ARGV[1]: the lease in milliseconds.
constexpr char kClaimScript[] = R"lua(
local claimed = false
for i = 1, #KEYS do
  local state = redis.call('GET', KEYS[i])
  if state == 'published' then return 'published' end
  if state then claimed = true end
end
if claimed then return 'claimed' end
for i = 1, #KEYS do redis.call('SET', KEYS[i], 'claimed', 'PX', ARGV[1]) end
return 'new'
)lua";

// ARGV[1]: the dedupe window in milliseconds.
constexpr char kMarkScript[] = R"lua(
for i = 1, #KEYS do redis.call('SET', KEYS[i], 'published', 'PX', ARGV[1]) end
return #KEYS
)lua";

// Deletes only claims, never a published mark.
constexpr char kReleaseScript[] = R"lua(
local released = 0
for i = 1, #KEYS do
  if redis.call('GET', KEYS[i]) == 'claimed' then released = released + redis.call('DEL', KEYS[i]) end
end
return released
)lua";

std::string Millis(absl::Duration duration) {
  return absl::StrCat(std::max<int64_t>(1, absl::ToInt64Milliseconds(duration)));
}

}  // namespace

RedisCallbackDedupe::RedisCallbackDedupe(redis::RedisClient& redis, std::string key_prefix)
    : redis_(redis), key_prefix_(std::move(key_prefix)) {}

absl::StatusOr<redis::Reply> RedisCallbackDedupe::Eval(const char* script, const DedupeKeys& keys,
                                                       std::vector<std::string> args) const {
  if (keys.empty()) return absl::InvalidArgumentError("a callback needs at least one dedupe key");
  std::vector<std::string> command = {"EVAL", script, absl::StrCat(keys.size())};
  for (const std::string& key : keys) {
    command.push_back(absl::StrCat(key_prefix_, "twilio-callback:", key));
  }
  for (std::string& arg : args) command.push_back(std::move(arg));
  return redis_.Command(command);
}

absl::StatusOr<DedupeClaim> RedisCallbackDedupe::Claim(const DedupeKeys& keys,
                                                       absl::Duration lease) {
  absl::StatusOr<redis::Reply> reply = Eval(kClaimScript, keys, {Millis(lease)});
  if (!reply.ok()) return reply.status();
  if (reply->type == redis::Reply::Type::kString) {
    if (reply->str == "new") return DedupeClaim::kClaimed;
    if (reply->str == "published") return DedupeClaim::kAlreadyPublished;
    if (reply->str == "claimed") return DedupeClaim::kInFlight;
  }
  return absl::InternalError("callback dedupe claim script answered something unexpected");
}

absl::Status RedisCallbackDedupe::MarkPublished(const DedupeKeys& keys, absl::Duration window) {
  return Eval(kMarkScript, keys, {Millis(window)}).status();
}

absl::Status RedisCallbackDedupe::Release(const DedupeKeys& keys) {
  return Eval(kReleaseScript, keys, {}).status();
}

}  // namespace klaxon::ingress
