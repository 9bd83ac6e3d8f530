#pragma once
// BudgetLedger on Redis, shared by every replica of ingress and the workers: one counter of
// micros per budget and period, `<prefix>budget:<name>:<period start, YYYY-MM-DD>`, kept 40 days
// past the period's end for inspection. A reservation checks every counter and adds to all of
// them in one Lua script, so two replicas never both take the last of a budget. An Add with a
// `once` key marks `<prefix>budget:added:<key>` in the same script, so it counts once.

#include <span>
#include <string>
#include <vector>

#include "common/budgets/budget_ledger.h"
#include "common/redis/redis_client.h"

namespace klaxon::budgets {

class RedisBudgetLedger final : public BudgetLedger {
 public:
  // `redis` is borrowed and must outlive the ledger.
  RedisBudgetLedger(redis::RedisClient& redis, std::string key_prefix);

  absl::StatusOr<std::optional<SpentBudget>> Reserve(const std::vector<const Budget*>& budgets,
                                                     int64_t micros, absl::Time at) override;
  absl::StatusOr<bool> Add(const std::vector<const Budget*>& budgets, int64_t micros, absl::Time at,
                           std::string_view once) override;
  // One MGET per query, pipelined in one round trip.
  std::vector<absl::StatusOr<std::optional<SpentBudget>>> FirstShortAll(
      std::span<const ShortQuery> queries) override;

  // One MGET.
  absl::StatusOr<std::vector<int64_t>> SpentAll(const std::vector<const Budget*>& budgets,
                                                absl::Time at) override;

  // The counter of `budget`'s period holding `at` (exposed for tests).
  std::string Key(const Budget& budget, absl::Time at) const;

 private:
  // Runs `script` over the budgets' counters (and `once`'s key, when not empty, last) with ARGV
  // micros, then each counter's limit and expiry (Unix ms); its reply, an array of two strings.
  absl::StatusOr<redis::Reply> Run(const std::string& script,
                                   const std::vector<const Budget*>& budgets, int64_t micros,
                                   absl::Time at, std::string_view once);

  redis::RedisClient& redis_;
  const std::string key_prefix_;
};

}  // namespace klaxon::budgets
