#pragma once
// BudgetLedger on Redis, shared by every replica of ingress and the workers: one counter of
// micros per budget and period, `<prefix>budget:<name>:<period start, YYYY-MM-DD>`, kept 40 days
// past the period's end for inspection. A reservation checks every counter and adds to all of
// them in one Lua script, so two replicas never both take the last of a budget.

#include <string>

#include "common/budgets/budget_ledger.h"
#include "common/redis/redis_client.h"

namespace klaxon::budgets {

class RedisBudgetLedger final : public BudgetLedger {
 public:
  // `redis` is borrowed and must outlive the ledger.
  RedisBudgetLedger(redis::RedisClient& redis, std::string key_prefix);

  absl::StatusOr<std::optional<SpentBudget>> Reserve(const std::vector<const Budget*>& budgets,
                                                     int64_t micros, absl::Time at) override;
  absl::Status Add(const std::vector<const Budget*>& budgets, int64_t micros,
                   absl::Time at) override;
  absl::StatusOr<std::optional<SpentBudget>> FirstSpent(const std::vector<const Budget*>& budgets,
                                                        absl::Time at) override;

  // The counter of `budget`'s period holding `at` (exposed for tests).
  std::string Key(const Budget& budget, absl::Time at) const;

 private:
  // Runs `script` over the budgets' counters with ARGV micros, then each counter's limit and
  // expiry (Unix ms); its reply, an array of two strings.
  absl::StatusOr<redis::Reply> Run(const std::string& script,
                                   const std::vector<const Budget*>& budgets, int64_t micros,
                                   absl::Time at);

  redis::RedisClient& redis_;
  const std::string key_prefix_;
};

}  // namespace klaxon::budgets
