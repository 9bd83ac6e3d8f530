#include "services/ingress/redis_callback_dedupe.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace klaxon::ingress {
namespace {

constexpr char kClaimed[] = "claimed";
constexpr char kPublished[] = "published";

// Deletes only a claim, never a published mark.
constexpr char kReleaseScript[] = R"lua(
if redis.call('GET', KEYS[1]) == 'claimed' then return redis.call('DEL', KEYS[1]) end
return 0
)lua";

std::string Millis(absl::Duration duration) {
  return absl::StrCat(std::max<int64_t>(1, absl::ToInt64Milliseconds(duration)));
}

}  // namespace

RedisCallbackDedupe::RedisCallbackDedupe(redis::RedisClient& redis, std::string key_prefix)
    : redis_(redis), key_prefix_(std::move(key_prefix)) {}

std::string RedisCallbackDedupe::RedisKey(std::string_view key) const {
  return absl::StrCat(key_prefix_, "twilio-callback:", std::string(key));
}

absl::StatusOr<DedupeClaim> RedisCallbackDedupe::Claim(std::string_view key, absl::Duration lease) {
  // SET NX GET (Redis >= 7.0): sets only when absent and answers the value that was there, nil
  // when this call claimed it; one atomic command, no script.
  absl::StatusOr<redis::Reply> reply =
      redis_.Command({"SET", RedisKey(key), kClaimed, "NX", "PX", Millis(lease), "GET"});
  if (!reply.ok()) return reply.status();
  if (reply->type == redis::Reply::Type::kNil) return DedupeClaim::kClaimed;
  if (reply->type != redis::Reply::Type::kString) {
    return absl::InternalError("callback dedupe SET NX GET answered something other than a string");
  }
  if (reply->str == kPublished) return DedupeClaim::kAlreadyPublished;
  if (reply->str == kClaimed) return DedupeClaim::kInFlight;
  return absl::InternalError("callback dedupe key in Redis holds an unknown state");
}

absl::Status RedisCallbackDedupe::MarkPublished(std::string_view key, absl::Duration window) {
  return redis_.Command({"SET", RedisKey(key), kPublished, "PX", Millis(window)}).status();
}

absl::Status RedisCallbackDedupe::Release(std::string_view key) {
  return redis_.Command({"EVAL", kReleaseScript, "1", RedisKey(key)}).status();
}

}  // namespace klaxon::ingress
