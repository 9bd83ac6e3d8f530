#include "services/ingress/budget_spend_monitor.h"

#include <gtest/gtest.h>

#include <cmath>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "common/budgets/in_memory_budget_ledger.h"
#include "common/log/log.h"
#include "common/log/memory_sink_lines.h"
#include "common/timing/fake_clock.h"
#include "prometheus/registry.h"

namespace klaxon::ingress {
namespace {

constexpr char kBudgetsFile[] = R"({
  "currency": "EUR",
  "budgets": [
    {"name": "billing-daily", "caller": "billing", "period": "day", "limit": "50"},
    {"name": "main-monthly", "account": "main", "period": "month", "limit": "2000.50"}],
  "prices": {"sms": {"*": "0.05"}, "voice": {"*": "0.10"}}})";

// The value of `family_name`'s series of `budget` in EUR; -1 when there is none.
double BudgetGauge(prometheus::Registry& registry, std::string_view family_name,
                   std::string_view budget) {
  for (const prometheus::MetricFamily& family : registry.Collect()) {
    if (family.name != family_name) continue;
    for (const prometheus::ClientMetric& metric : family.metric) {
      bool budget_matches = false;
      bool in_euros = false;
      for (const prometheus::ClientMetric::Label& label : metric.label) {
        budget_matches |= label.name == "budget" && label.value == budget;
        in_euros |= label.name == "currency" && label.value == "EUR";
      }
      if (budget_matches && in_euros) return metric.gauge.value;
    }
  }
  return -1;
}

// A ledger whose reads of spending fail until `down` is cleared; everything else is the in-memory
// ledger's.
class FlakyLedger final : public budgets::BudgetLedger {
 public:
  absl::StatusOr<std::optional<budgets::SpentBudget>> Reserve(
      const std::vector<const budgets::Budget*>& budgets, int64_t micros, absl::Time at) override {
    return ledger.Reserve(budgets, micros, at);
  }
  absl::StatusOr<bool> Add(const std::vector<const budgets::Budget*>& budgets, int64_t micros,
                           absl::Time at, std::string_view once) override {
    return ledger.Add(budgets, micros, at, once);
  }
  std::vector<absl::StatusOr<std::optional<budgets::SpentBudget>>> FirstShortAll(
      std::span<const budgets::ShortQuery> queries) override {
    return ledger.FirstShortAll(queries);
  }
  absl::StatusOr<std::vector<int64_t>> SpentAll(const std::vector<const budgets::Budget*>& budgets,
                                                absl::Time at) override {
    if (down) return absl::UnavailableError("redis down");
    return ledger.SpentAll(budgets, at);
  }

  budgets::InMemoryBudgetLedger ledger;
  bool down = false;
};

class BudgetSpendMonitorTest : public ::testing::Test {
 protected:
  int Count(std::string_view event) const { return log::LinesContaining(sink_, event); }

  const budgets::BudgetSettings settings_ = *budgets::BudgetSettings::Parse(kBudgetsFile, "b.json");
  const budgets::Budget& daily_ = settings_.budgets()[0];
  const budgets::Budget& monthly_ = settings_.budgets()[1];
  timing::FakeClock clock_{
      absl::FromCivil(absl::CivilSecond(2026, 11, 28, 23, 0, 0), absl::UTCTimeZone())};
  FlakyLedger ledger_;
  log::MemorySink sink_;
  log::PhoneRedactor redactor_ = log::PhoneRedactor::Create("budget-spend-key").value();
  log::Logger logger_{{.service = "test"}, redactor_, sink_};
  prometheus::Registry registry_;
  BudgetSpendMonitor monitor_{settings_, ledger_, clock_, logger_, registry_};
};

TEST_F(BudgetSpendMonitorTest, ExportsEachBudgetsLimit) {
  EXPECT_EQ(BudgetGauge(registry_, "klaxon_budget_limit", "billing-daily"), 50);
  EXPECT_EQ(BudgetGauge(registry_, "klaxon_budget_limit", "main-monthly"), 2000.5);
}

TEST_F(BudgetSpendMonitorTest, ExportsWhatEachBudgetsCurrentPeriodSpent) {
  ASSERT_TRUE(ledger_.Add({&daily_, &monthly_}, 12'340'000, clock_.Now(), "").ok());
  ASSERT_TRUE(ledger_.Add({&monthly_}, 500'000, clock_.Now() - absl::Hours(48), "").ok());
  monitor_.Refresh();
  EXPECT_EQ(BudgetGauge(registry_, "klaxon_budget_spent", "billing-daily"), 12.34);
  EXPECT_EQ(BudgetGauge(registry_, "klaxon_budget_spent", "main-monthly"), 12.84);
}

TEST_F(BudgetSpendMonitorTest, ANewDayStartsTheDailyBudgetFromNothing) {
  ASSERT_TRUE(ledger_.Add({&daily_, &monthly_}, 12'340'000, clock_.Now(), "").ok());
  clock_.Advance(absl::Hours(2));  // past midnight: a new day, the same month
  monitor_.Refresh();
  EXPECT_EQ(BudgetGauge(registry_, "klaxon_budget_spent", "billing-daily"), 0);
  EXPECT_EQ(BudgetGauge(registry_, "klaxon_budget_spent", "main-monthly"), 12.34);
}

TEST_F(BudgetSpendMonitorTest, WhatCannotBeReadIsNaNAndLoggedOncePerOutage) {
  EXPECT_TRUE(std::isnan(BudgetGauge(registry_, "klaxon_budget_spent", "billing-daily")));
  ASSERT_TRUE(ledger_.Add({&daily_}, 1'000'000, clock_.Now(), "").ok());
  monitor_.Refresh();
  EXPECT_EQ(BudgetGauge(registry_, "klaxon_budget_spent", "billing-daily"), 1);
  ledger_.down = true;
  monitor_.Refresh();
  monitor_.Refresh();
  EXPECT_TRUE(std::isnan(BudgetGauge(registry_, "klaxon_budget_spent", "billing-daily")));
  EXPECT_TRUE(std::isnan(BudgetGauge(registry_, "klaxon_budget_spent", "main-monthly")));
  EXPECT_EQ(BudgetGauge(registry_, "klaxon_budget_limit", "billing-daily"), 50);
  ledger_.down = false;
  ASSERT_TRUE(ledger_.Add({&daily_}, 1'000'000, clock_.Now(), "").ok());
  monitor_.Refresh();
  EXPECT_EQ(BudgetGauge(registry_, "klaxon_budget_spent", "billing-daily"), 2);
  EXPECT_EQ(Count("budget_spend_unreadable"), 1);
  EXPECT_EQ(Count("budget_spend_readable"), 1);
}

}  // namespace
}  // namespace klaxon::ingress
