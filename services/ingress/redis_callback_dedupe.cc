#include "services/ingress/redis_callback_dedupe.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"

namespace klaxon::ingress {
namespace {

// 'published' when any key is published, 'claimed' when any is claimed, else claims all with
// the claim's token and answers 'new'. ARGV[1]: the lease in milliseconds; ARGV[2]: the token.
constexpr char kClaimScript[] = R"lua(
local claimed = false
for i = 1, #KEYS do
  local state = redis.call('GET', KEYS[i])
  if state == 'published' then return 'published' end
  if state then claimed = true end
end
if claimed then return 'claimed' end
for i = 1, #KEYS do redis.call('SET', KEYS[i], ARGV[2], 'PX', ARGV[1]) end
return 'new'
)lua";

// ARGV[1]: the dedupe window in milliseconds.
constexpr char kMarkScript[] = R"lua(
for i = 1, #KEYS do redis.call('SET', KEYS[i], 'published', 'PX', ARGV[1]) end
return #KEYS
)lua";

// Deletes only the keys that still hold this claim's token (ARGV[1]): never a published mark,
// nor a newer claim of a copy that took the keys after this claim's lease ended.
constexpr char kReleaseScript[] = R"lua(
local released = 0
for i = 1, #KEYS do
  if redis.call('GET', KEYS[i]) == ARGV[1] then released = released + redis.call('DEL', KEYS[i]) end
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

absl::StatusOr<ClaimAnswer> AnswerOf(const absl::StatusOr<redis::Reply>& reply, std::string token) {
  if (!reply.ok()) return reply.status();
  if (reply->type == redis::Reply::Type::kString) {
    if (reply->str == "new") {
      return ClaimAnswer{.outcome = DedupeClaim::kClaimed, .token = std::move(token)};
    }
    if (reply->str == "published") return ClaimAnswer{.outcome = DedupeClaim::kAlreadyPublished};
    if (reply->str == "claimed") return ClaimAnswer{.outcome = DedupeClaim::kInFlight};
  }
  return absl::InternalError("callback dedupe claim script answered something unexpected");
}

}  // namespace

RedisCallbackDedupe::RedisCallbackDedupe(redis::RedisClient& redis, std::string key_prefix,
                                         ids::IdGenerator& claim_tokens)
    : redis_(redis), key_prefix_(std::move(key_prefix)), claim_tokens_(claim_tokens) {}

std::vector<absl::StatusOr<redis::Reply>> RedisCallbackDedupe::EvalEach(
    const char* script, const std::vector<ScriptCall>& calls) const {
  std::vector<std::vector<std::string>> commands;
  for (const ScriptCall& call : calls) {
    if (call.keys->empty()) continue;
    std::vector<std::string>& command = commands.emplace_back(
        std::vector<std::string>{"EVAL", script, absl::StrCat(call.keys->size())});
    for (const std::string& key : *call.keys) {
      command.push_back(absl::StrCat(key_prefix_, "twilio-callback:", key));
    }
    command.insert(command.end(), call.args.begin(), call.args.end());
  }
  std::vector<absl::StatusOr<redis::Reply>> sent = redis_.Commands(commands);
  std::vector<absl::StatusOr<redis::Reply>> replies;
  replies.reserve(calls.size());
  auto next = sent.begin();
  for (const ScriptCall& call : calls) {
    if (call.keys->empty()) {
      replies.emplace_back(absl::InvalidArgumentError("a callback needs at least one dedupe key"));
    } else {
      replies.push_back(std::move(*next++));
    }
  }
  return replies;
}

std::vector<absl::StatusOr<ClaimAnswer>> RedisCallbackDedupe::Claim(
    const std::vector<DedupeKeys>& callbacks, absl::Duration lease) {
  const std::string lease_millis = Millis(lease);
  std::vector<std::string> tokens;
  std::vector<ScriptCall> calls;
  tokens.reserve(callbacks.size());
  calls.reserve(callbacks.size());
  for (const DedupeKeys& keys : callbacks) {
    calls.push_back({&keys, {lease_millis, tokens.emplace_back(claim_tokens_.Next())}});
  }
  const std::vector<absl::StatusOr<redis::Reply>> replies = EvalEach(kClaimScript, calls);
  std::vector<absl::StatusOr<ClaimAnswer>> answers;
  answers.reserve(callbacks.size());
  for (size_t i = 0; i < replies.size(); ++i) {
    answers.push_back(AnswerOf(replies[i], std::move(tokens[i])));
  }
  return answers;
}

std::vector<absl::Status> RedisCallbackDedupe::MarkPublished(
    const std::vector<DedupeKeys>& callbacks, absl::Duration window) {
  const std::string window_millis = Millis(window);
  std::vector<ScriptCall> calls;
  calls.reserve(callbacks.size());
  for (const DedupeKeys& keys : callbacks) calls.push_back({&keys, {window_millis}});
  return StatusesOf(EvalEach(kMarkScript, calls));
}

std::vector<absl::Status> RedisCallbackDedupe::Release(const std::vector<HeldClaim>& claims) {
  std::vector<ScriptCall> calls;
  calls.reserve(claims.size());
  for (const HeldClaim& claim : claims) calls.push_back({&claim.keys, {claim.token}});
  return StatusesOf(EvalEach(kReleaseScript, calls));
}

}  // namespace klaxon::ingress
