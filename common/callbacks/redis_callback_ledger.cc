#include "common/callbacks/redis_callback_ledger.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace klaxon::callbacks {
namespace {

// KEYS[1]: the loss time key; ARGV[1]: a loss time in Unix milliseconds. Keeps the larger.
constexpr char kRaiseScript[] = R"lua(
local current = tonumber(redis.call('GET', KEYS[1]))
if current == nil or current < tonumber(ARGV[1]) then redis.call('SET', KEYS[1], ARGV[1]) end
return 1
)lua";

}  // namespace

RedisCallbackLedger::RedisCallbackLedger(redis::RedisClient& redis,
                                         RedisCallbackLedgerOptions options)
    : redis_(redis), options_(std::move(options)) {}

std::string RedisCallbackLedger::FinalKey(std::string_view sid) const {
  return absl::StrCat(options_.key_prefix, "callback_final:", std::string(sid));
}

std::string RedisCallbackLedger::LostAtKey() const {
  return absl::StrCat(options_.key_prefix, "callbacks_lost_at");
}

std::vector<absl::Status> RedisCallbackLedger::RecordFinal(const std::vector<std::string>& sids) {
  const std::string kept =
      absl::StrCat(std::max<int64_t>(1, absl::ToInt64Milliseconds(options_.final_kept)));
  std::vector<std::vector<std::string>> commands;
  for (const std::string& sid : sids) {
    if (!sid.empty()) commands.push_back({"SET", FinalKey(sid), "1", "PX", kept});
  }
  std::vector<absl::StatusOr<redis::Reply>> replies = redis_.Commands(commands);
  std::vector<absl::Status> recorded;
  recorded.reserve(sids.size());
  auto next = replies.begin();
  for (const std::string& sid : sids) {
    recorded.push_back(sid.empty() ? absl::InvalidArgumentError("a final status needs its SID")
                                   : (next++)->status());
  }
  return recorded;
}

absl::Status RedisCallbackLedger::RecordLoss(absl::Time at) {
  return redis_
      .Command({"EVAL", kRaiseScript, "1", LostAtKey(), absl::StrCat(absl::ToUnixMillis(at))})
      .status();
}

absl::StatusOr<CallbackRecord> RedisCallbackLedger::Read(std::string_view sid) {
  absl::StatusOr<redis::Reply> reply = redis_.Command({"MGET", FinalKey(sid), LostAtKey()});
  if (!reply.ok()) return reply.status();
  if (reply->type != redis::Reply::Type::kArray || reply->elements.size() != 2) {
    return absl::InternalError("MGET of the callback ledger answered something unexpected");
  }
  CallbackRecord record{.final_arrived = reply->elements[0].has_value()};
  if (const std::optional<std::string>& lost = reply->elements[1]; lost.has_value()) {
    int64_t millis = 0;
    if (!absl::SimpleAtoi(*lost, &millis)) {
      return absl::InternalError(absl::StrCat(LostAtKey(), " does not hold a time"));
    }
    record.lost_at = absl::FromUnixMillis(millis);
  }
  return record;
}

}  // namespace klaxon::callbacks
