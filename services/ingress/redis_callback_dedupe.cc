#include "services/ingress/redis_callback_dedupe.h"

#include <algorithm>
#include <utility>
#include <vector>

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

std::vector<absl::Status> StatusesOf(const std::vector<absl::StatusOr<redis::Reply>>& replies) {
  std::vector<absl::Status> statuses;
  statuses.reserve(replies.size());
  for (const absl::StatusOr<redis::Reply>& reply : replies) statuses.push_back(reply.status());
  return statuses;
}

absl::StatusOr<DedupeClaim> ClaimOf(const absl::StatusOr<redis::Reply>& reply) {
  if (!reply.ok()) return reply.status();
  if (reply->type == redis::Reply::Type::kString) {
    if (reply->str == "new") return DedupeClaim::kClaimed;
    if (reply->str == "published") return DedupeClaim::kAlreadyPublished;
    if (reply->str == "claimed") return DedupeClaim::kInFlight;
  }
  return absl::InternalError("callback dedupe claim script answered something unexpected");
}

}  // namespace

RedisCallbackDedupe::RedisCallbackDedupe(redis::RedisClient& redis, std::string key_prefix)
    : redis_(redis), key_prefix_(std::move(key_prefix)) {}

std::vector<absl::StatusOr<redis::Reply>> RedisCallbackDedupe::EvalEach(
    const char* script, const std::vector<DedupeKeys>& callbacks, const std::string& arg) const {
  std::vector<std::vector<std::string>> commands;
  for (const DedupeKeys& keys : callbacks) {
    if (keys.empty()) continue;
    std::vector<std::string>& command =
        commands.emplace_back(std::vector<std::string>{"EVAL", script, absl::StrCat(keys.size())});
    for (const std::string& key : keys) {
      command.push_back(absl::StrCat(key_prefix_, "twilio-callback:", key));
    }
    if (!arg.empty()) command.push_back(arg);
  }
  std::vector<absl::StatusOr<redis::Reply>> sent = redis_.Commands(commands);
  std::vector<absl::StatusOr<redis::Reply>> replies;
  replies.reserve(callbacks.size());
  auto next = sent.begin();
  for (const DedupeKeys& keys : callbacks) {
    if (keys.empty()) {
      replies.emplace_back(absl::InvalidArgumentError("a callback needs at least one dedupe key"));
    } else {
      replies.push_back(std::move(*next++));
    }
  }
  return replies;
}

std::vector<absl::StatusOr<DedupeClaim>> RedisCallbackDedupe::Claim(
    const std::vector<DedupeKeys>& callbacks, absl::Duration lease) {
  std::vector<absl::StatusOr<DedupeClaim>> claims;
  claims.reserve(callbacks.size());
  for (absl::StatusOr<redis::Reply>& reply : EvalEach(kClaimScript, callbacks, Millis(lease))) {
    claims.push_back(ClaimOf(reply));
  }
  return claims;
}

std::vector<absl::Status> RedisCallbackDedupe::MarkPublished(
    const std::vector<DedupeKeys>& callbacks, absl::Duration window) {
  return StatusesOf(EvalEach(kMarkScript, callbacks, Millis(window)));
}

std::vector<absl::Status> RedisCallbackDedupe::Release(const std::vector<DedupeKeys>& callbacks) {
  return StatusesOf(EvalEach(kReleaseScript, callbacks, ""));
}

}  // namespace klaxon::ingress
