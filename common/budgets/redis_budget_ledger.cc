#include "common/budgets/redis_budget_ledger.h"

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace klaxon::budgets {
namespace {

// ARGV[1] the micros to add; ARGV[2i], ARGV[2i+1] KEYS[i]'s limit and expiry (Unix ms).
// Returns {"0", "0"} when every counter took the micros, else {i, spent} of the first that would
// pass its limit, having added nothing. The amounts stay below 2^53 (ParseMicros' bound), so
// Lua's numbers compare them exactly; INCRBY takes ARGV[1] as written.
constexpr char kReserve[] = R"lua(
local add = tonumber(ARGV[1])
for i, key in ipairs(KEYS) do
  local spent = tonumber(redis.call('GET', key) or '0')
  if spent + add > tonumber(ARGV[2 * i]) then return {tostring(i), tostring(spent)} end
end
for i, key in ipairs(KEYS) do
  redis.call('INCRBY', key, ARGV[1])
  redis.call('PEXPIREAT', key, ARGV[2 * i + 1])
end
return {'0', '0'}
)lua";

// As kReserve, without the limits: always adds, {"1", "0"}. When ARGV has a last, extra
// argument, KEYS' last is the once-key: set for as long as that argument (ms), and if it was set
// already nothing is added, {"0", "0"}.
constexpr char kAdd[] = R"lua(
local counters = #KEYS
if #ARGV % 2 == 0 then
  counters = counters - 1
  if not redis.call('SET', KEYS[#KEYS], '1', 'NX', 'PX', ARGV[#ARGV]) then return {'0', '0'} end
end
for i = 1, counters do
  redis.call('INCRBY', KEYS[i], ARGV[1])
  redis.call('PEXPIREAT', KEYS[i], ARGV[2 * i + 1])
end
return {'1', '0'}
)lua";

// Kept this long past the end of its period, for an operator to look at.
constexpr absl::Duration kKeptAfterPeriod = absl::Hours(40 * 24);

absl::Status Unexpected(const redis::Reply& reply) {
  return absl::InternalError(absl::StrCat("the budget script answered a reply of type ",
                                          static_cast<int>(reply.type), " with ",
                                          reply.elements.size(), " elements, not two strings"));
}

// What the MGET of `budgets`' counters says each has spent, in order.
absl::StatusOr<std::vector<int64_t>> CountersOf(const std::vector<const Budget*>& budgets,
                                                const absl::StatusOr<redis::Reply>& reply) {
  if (!reply.ok()) return reply.status();
  if (reply->type != redis::Reply::Type::kArray || reply->elements.size() != budgets.size()) {
    return absl::InternalError("MGET of the budgets' counters answered another shape");
  }
  std::vector<int64_t> spent(budgets.size(), 0);
  for (size_t i = 0; i < budgets.size(); ++i) {
    if (reply->elements[i] && !absl::SimpleAtoi(*reply->elements[i], &spent[i])) {
      return absl::InternalError(
          absl::StrCat("the counter of budget \"", budgets[i]->name, "\" holds no number"));
    }
  }
  return spent;
}

// The first budget of `query` that the MGET of its counters says cannot take its micros, if any.
absl::StatusOr<std::optional<SpentBudget>> ShortOf(const ShortQuery& query,
                                                   const absl::StatusOr<redis::Reply>& reply) {
  absl::StatusOr<std::vector<int64_t>> spent = CountersOf(query.budgets, reply);
  if (!spent.ok()) return spent.status();
  for (size_t i = 0; i < query.budgets.size(); ++i) {
    const Budget& budget = *query.budgets[i];
    if ((*spent)[i] + query.micros > budget.limit_micros) {
      return SpentBudget{&budget, (*spent)[i], PeriodEnd(budget.period, query.at)};
    }
  }
  return std::nullopt;
}

}  // namespace

RedisBudgetLedger::RedisBudgetLedger(redis::RedisClient& redis, std::string key_prefix)
    : redis_(redis), key_prefix_(std::move(key_prefix)) {}

std::string RedisBudgetLedger::Key(const Budget& budget, absl::Time at) const {
  return absl::StrCat(
      key_prefix_, "budget:", budget.name, ":",
      absl::FormatTime("%Y-%m-%d", PeriodStart(budget.period, at), absl::UTCTimeZone()));
}

absl::StatusOr<redis::Reply> RedisBudgetLedger::Run(const std::string& script,
                                                    const std::vector<const Budget*>& budgets,
                                                    int64_t micros, absl::Time at,
                                                    std::string_view once) {
  std::vector<std::string> argv = {"EVAL", script,
                                   absl::StrCat(budgets.size() + (once.empty() ? 0 : 1))};
  for (const Budget* budget : budgets) argv.push_back(Key(*budget, at));
  if (!once.empty()) argv.push_back(absl::StrCat(key_prefix_, "budget:added:", std::string(once)));
  argv.push_back(absl::StrCat(micros));
  for (const Budget* budget : budgets) {
    argv.push_back(absl::StrCat(budget->limit_micros));
    argv.push_back(
        absl::StrCat(absl::ToUnixMillis(PeriodEnd(budget->period, at) + kKeptAfterPeriod)));
  }
  if (!once.empty()) argv.push_back(absl::StrCat(absl::ToInt64Milliseconds(kKeptAfterPeriod)));
  absl::StatusOr<redis::Reply> reply = redis_.Command(argv);
  if (!reply.ok()) return reply.status();
  if (reply->type != redis::Reply::Type::kArray || reply->elements.size() != 2 ||
      !reply->elements[0] || !reply->elements[1]) {
    return Unexpected(*reply);
  }
  return reply;
}

absl::StatusOr<std::optional<SpentBudget>> RedisBudgetLedger::Reserve(
    const std::vector<const Budget*>& budgets, int64_t micros, absl::Time at) {
  if (budgets.empty()) return std::nullopt;
  absl::StatusOr<redis::Reply> reply = Run(kReserve, budgets, micros, at, "");
  if (!reply.ok()) return reply.status();
  size_t refused = 0;
  int64_t spent = 0;
  if (!absl::SimpleAtoi(*reply->elements[0], &refused) ||
      !absl::SimpleAtoi(*reply->elements[1], &spent) || refused > budgets.size()) {
    return Unexpected(*reply);
  }
  if (refused == 0) return std::nullopt;
  const Budget* budget = budgets[refused - 1];
  return SpentBudget{budget, spent, PeriodEnd(budget->period, at)};
}

absl::StatusOr<bool> RedisBudgetLedger::Add(const std::vector<const Budget*>& budgets,
                                            int64_t micros, absl::Time at, std::string_view once) {
  if (budgets.empty()) return true;
  absl::StatusOr<redis::Reply> reply = Run(kAdd, budgets, micros, at, once);
  if (!reply.ok()) return reply.status();
  return *reply->elements[0] == "1";
}

absl::StatusOr<std::vector<int64_t>> RedisBudgetLedger::SpentAll(
    const std::vector<const Budget*>& budgets, absl::Time at) {
  if (budgets.empty()) return std::vector<int64_t>();
  std::vector<std::string> argv = {"MGET"};
  for (const Budget* budget : budgets) argv.push_back(Key(*budget, at));
  return CountersOf(budgets, redis_.Command(argv));
}

std::vector<absl::StatusOr<std::optional<SpentBudget>>> RedisBudgetLedger::FirstShortAll(
    std::span<const ShortQuery> queries) {
  std::vector<std::vector<std::string>> commands;
  for (const ShortQuery& query : queries) {
    if (query.budgets.empty()) continue;  // nothing to read: not short
    std::vector<std::string>& argv = commands.emplace_back(std::vector<std::string>{"MGET"});
    for (const Budget* budget : query.budgets) argv.push_back(Key(*budget, query.at));
  }
  std::vector<absl::StatusOr<redis::Reply>> replies = redis_.Commands(commands);
  std::vector<absl::StatusOr<std::optional<SpentBudget>>> answers;
  answers.reserve(queries.size());
  size_t next_reply = 0;
  for (const ShortQuery& query : queries) {
    if (query.budgets.empty()) {
      answers.emplace_back(std::nullopt);
    } else {
      answers.push_back(ShortOf(query, replies.at(next_reply++)));
    }
  }
  return answers;
}

}  // namespace klaxon::budgets
