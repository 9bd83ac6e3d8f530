#pragma once
// BudgetLedger in memory, for unit tests: one process's periods, keyed by budget and period start.

#include <map>
#include <mutex>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "common/budgets/budget_ledger.h"

namespace klaxon::budgets {

class InMemoryBudgetLedger final : public BudgetLedger {
 public:
  absl::StatusOr<std::optional<SpentBudget>> Reserve(const std::vector<const Budget*>& budgets,
                                                     int64_t micros, absl::Time at) override {
    std::lock_guard lock(mutex_);
    if (std::optional<SpentBudget> short_of = FirstShortLocked(budgets, micros, at)) {
      return short_of;
    }
    for (const Budget* budget : budgets) spent_[Key(*budget, at)] += micros;
    return std::nullopt;
  }
  absl::StatusOr<bool> Add(const std::vector<const Budget*>& budgets, int64_t micros, absl::Time at,
                           std::string_view once) override {
    std::lock_guard lock(mutex_);
    if (!once.empty() && !added_once_.emplace(once).second) return false;
    for (const Budget* budget : budgets) spent_[Key(*budget, at)] += micros;
    return true;
  }
  std::vector<absl::StatusOr<std::optional<SpentBudget>>> FirstShortAll(
      std::span<const ShortQuery> queries) override {
    std::lock_guard lock(mutex_);
    std::vector<absl::StatusOr<std::optional<SpentBudget>>> answers;
    for (const ShortQuery& query : queries) {
      answers.emplace_back(FirstShortLocked(query.budgets, query.micros, query.at));
    }
    return answers;
  }

  absl::StatusOr<std::vector<int64_t>> SpentAll(const std::vector<const Budget*>& budgets,
                                                absl::Time at) override {
    std::lock_guard lock(mutex_);
    std::vector<int64_t> spent;
    for (const Budget* budget : budgets) spent.push_back(spent_[Key(*budget, at)]);
    return spent;
  }

  int64_t Spent(const Budget& budget, absl::Time at) {
    std::lock_guard lock(mutex_);
    return spent_[Key(budget, at)];
  }

 private:
  std::optional<SpentBudget> FirstShortLocked(const std::vector<const Budget*>& budgets,
                                              int64_t micros, absl::Time at) {
    for (const Budget* budget : budgets) {
      const int64_t spent = spent_[Key(*budget, at)];
      if (spent + micros > budget->limit_micros) {
        return SpentBudget{budget, spent, PeriodEnd(budget->period, at)};
      }
    }
    return std::nullopt;
  }
  static std::pair<std::string, absl::Time> Key(const Budget& budget, absl::Time at) {
    return {budget.name, PeriodStart(budget.period, at)};
  }

  std::mutex mutex_;
  std::map<std::pair<std::string, absl::Time>, int64_t> spent_;
  std::set<std::string, std::less<>> added_once_;
};

}  // namespace klaxon::budgets
