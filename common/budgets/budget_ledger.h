#pragma once
// Port: what each budget's current period has spent, shared by every replica (docs/adr/0037). A
// send reserves its estimate before it goes; what Twilio charged settles the reservation later,
// and a send Twilio did not take gives its estimate back.

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/budgets/budgets.h"

namespace klaxon::budgets {

// A budget that holds a send back: what its period has spent, and when the period ends.
struct SpentBudget {
  const Budget* budget = nullptr;
  int64_t spent_micros = 0;
  absl::Time resets_at;
};

// A question for FirstShortAll: can `budgets` take `micros` more in their periods holding `at`?
struct ShortQuery {
  std::vector<const Budget*> budgets;
  int64_t micros = 0;
  absl::Time at;
};

class BudgetLedger {
 public:
  virtual ~BudgetLedger() = default;
  // Adds `micros` to the period holding `at` of each of `budgets`, unless that would take one
  // past its limit: then nothing is added and that budget is said (the first such, in order).
  // kUnavailable when the store cannot be reached.
  virtual absl::StatusOr<std::optional<SpentBudget>> Reserve(
      const std::vector<const Budget*>& budgets, int64_t micros, absl::Time at) = 0;
  // Adds `micros` (negative: gives back) to the period holding `at` of each of `budgets`,
  // whatever their limits. With a non-empty `once` (an attempt's SID), only the first Add of that
  // key counts: false for a repeat, which adds nothing.
  virtual absl::StatusOr<bool> Add(const std::vector<const Budget*>& budgets, int64_t micros,
                                   absl::Time at, std::string_view once) = 0;
  // For each of `queries`: the first of its budgets whose period holding `at` cannot take
  // `micros` more (what it spent plus `micros` passes its limit), if any. One answer per query,
  // in order; a ledger on a server makes one round trip for all of them.
  virtual std::vector<absl::StatusOr<std::optional<SpentBudget>>> FirstShortAll(
      std::span<const ShortQuery> queries) = 0;
  // What each of `budgets` has spent in its period holding `at`, in order (0 for a period
  // without spending). kUnavailable when the store cannot be reached; kInternal when it holds
  // something that is not a count.
  virtual absl::StatusOr<std::vector<int64_t>> SpentAll(const std::vector<const Budget*>& budgets,
                                                        absl::Time at) = 0;
  // FirstShortAll of one query.
  absl::StatusOr<std::optional<SpentBudget>> FirstShort(const std::vector<const Budget*>& budgets,
                                                        int64_t micros, absl::Time at) {
    const ShortQuery query{.budgets = budgets, .micros = micros, .at = at};
    return std::move(FirstShortAll({&query, 1}).front());
  }
};

}  // namespace klaxon::budgets
