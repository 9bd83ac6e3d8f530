#pragma once
// Shows SREs how far each spend budget (KLAXON_BUDGETS_FILE, docs/adr/0037) is from holding sends
// back: every interval it reads what each budget's current period has spent from the ledger every
// replica shares, and exports it beside the budget's limit, both in the budgets' currency:
// klaxon_budget_spent{budget, currency} and klaxon_budget_limit{budget, currency}. Every replica
// of ingress reads the same counters, so each exports the same figures. While they cannot be read
// (and before the first read) the spent figures are NaN, never a stale period's; an outage is
// logged once (budget_spend_unreadable, then budget_spend_readable).

#include <stop_token>
#include <vector>

#include "absl/time/time.h"
#include "common/budgets/budget_ledger.h"
#include "common/budgets/budgets.h"
#include "common/log/log.h"
#include "common/timing/clock.h"
#include "prometheus/gauge.h"
#include "prometheus/registry.h"

namespace klaxon::ingress {

class BudgetSpendMonitor {
 public:
  // Borrowed; they must outlive the monitor. Sets every budget's limit at once.
  BudgetSpendMonitor(const budgets::BudgetSettings& settings, budgets::BudgetLedger& ledger,
                     timing::Clock& clock, const log::Logger& logger,
                     prometheus::Registry& registry);

  // Reads every budget's spending in the period holding now, in one round trip.
  void Refresh();
  // Refresh() every `interval` until `stop` is requested; returns at once without budgets. For a
  // thread of the main's.
  void Run(std::stop_token stop, absl::Duration interval = absl::Seconds(15));

 private:
  budgets::BudgetLedger& ledger_;
  timing::Clock& clock_;
  const log::Logger& logger_;
  std::vector<const budgets::Budget*> budgets_;
  std::vector<prometheus::Gauge*> spent_;  // one per budget, in order
  bool readable_ = true;
};

}  // namespace klaxon::ingress
