#include "services/ingress/budget_spend_monitor.h"

#include <cmath>
#include <map>
#include <string>

#include "common/lifecycle/sleep.h"

namespace klaxon::ingress {
namespace {

// Micros (common/twilio/price.h) in units of the currency, as the gauges show them.
double InCurrency(int64_t micros) { return static_cast<double>(micros) / 1e6; }

}  // namespace

BudgetSpendMonitor::BudgetSpendMonitor(const budgets::BudgetSettings& settings,
                                       budgets::BudgetLedger& ledger, timing::Clock& clock,
                                       const log::Logger& logger, prometheus::Registry& registry)
    : ledger_(ledger), clock_(clock), logger_(logger) {
  prometheus::Family<prometheus::Gauge>& spent =
      prometheus::BuildGauge()
          .Name("klaxon_budget_spent")
          .Help(
              "What a spend budget's current period (UTC day or month) has spent, in its "
              "currency: estimates of sends not yet charged, and charges read from Twilio; NaN "
              "while it cannot be read. A send whose estimate would take it past "
              "klaxon_budget_limit is held (docs/adr/0037)")
          .Register(registry);
  prometheus::Family<prometheus::Gauge>& limit =
      prometheus::BuildGauge()
          .Name("klaxon_budget_limit")
          .Help(
              "What a spend budget allows a period to spend, in its currency (KLAXON_BUDGETS_FILE)")
          .Register(registry);
  for (const budgets::Budget& budget : settings.budgets()) {
    const std::map<std::string, std::string> labels = {{"budget", budget.name},
                                                       {"currency", settings.currency()}};
    limit.Add(labels).Set(InCurrency(budget.limit_micros));
    spent_.push_back(&spent.Add(labels));
    spent_.back()->Set(std::nan(""));  // until the first read
    budgets_.push_back(&budget);
  }
}

void BudgetSpendMonitor::Refresh() {
  if (budgets_.empty()) return;
  absl::StatusOr<std::vector<int64_t>> spent = ledger_.SpentAll(budgets_, clock_.Now());
  if (spent.ok() && spent->size() != budgets_.size()) {
    spent = absl::InternalError("the budget ledger answered another number of budgets");
  }
  // A figure that cannot be read is not shown as the last one read: across a period's end that
  // would be another period's spending.
  for (size_t i = 0; i < spent_.size(); ++i) {
    spent_[i]->Set(spent.ok() ? InCurrency((*spent)[i]) : std::nan(""));
  }
  if (spent.ok() && !readable_) logger_.Info("budget_spend_readable", {});
  if (!spent.ok() && readable_) {
    logger_.Warn("budget_spend_unreadable",
                 {{"error", std::string(spent.status().message())},
                  {"effect",
                   "klaxon_budget_spent is NaN until the budgets' counters can be read again; "
                   "sends check the budgets themselves; check ingress's link to Redis"}});
  }
  readable_ = spent.ok();
}

void BudgetSpendMonitor::Run(std::stop_token stop, absl::Duration interval) {
  if (budgets_.empty()) return;  // no KLAXON_BUDGETS_FILE
  while (!stop.stop_requested()) {
    Refresh();
    lifecycle::SleepUnlessStopped(interval, stop);
  }
}

}  // namespace klaxon::ingress
