#pragma once
// Spend budgets (KLAXON_BUDGETS_FILE, docs/adr/0037): caps on what Twilio charges for a caller's
// or a Twilio account's alerts over a UTC day or month, and the price table that estimates what a
// send will cost before Twilio says. The file is JSON, checked as a whole at start; each problem
// names the budget (its position and name) or the price and the field:
//
//   {"currency": "USD",
//    "exempt": "critical",
//    "budgets": [
//      {"name": "billing-daily", "caller": "billing", "period": "day", "limit": "50"},
//      {"name": "main-monthly", "account": "main", "period": "month", "limit": "2000.00"}],
//    "prices": {"sms": {"+1": "0.0079", "+44": "0.0400", "*": "0.0500"},
//               "voice": {"+1": "0.0140", "*": "0.1000"}}}
//
// A budget is a caller's (every alert it sends) or an account's (every attempt sent on it), never
// both. `exempt` names the lowest priority whose alerts are never held by a budget (their cost
// still counts); absent, none is exempt. The prices are what an SMS segment and a started call
// minute cost by destination prefix, the longest matching, "*" for every other destination; each
// channel's table needs "*". Every amount is in `currency`, the currency Twilio bills the accounts
// in.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/limits/priority_exemption.h"
#include "common/twilio/price.h"
#include "klaxon/types/v1/types.pb.h"

namespace klaxon::budgets {

enum class Period { kDay, kMonth };  // UTC calendar days and months

struct Budget {
  std::string name;
  std::string caller;   // set for a caller's budget
  std::string account;  // set for an account's budget
  Period period = Period::kDay;
  int64_t limit_micros = 0;
};

// When the period holding `at` began and when it ends (when the budget resets).
absl::Time PeriodStart(Period period, absl::Time at);
absl::Time PeriodEnd(Period period, absl::Time at);

class BudgetSettings {
 public:
  // No budgets: nothing is ever held.
  BudgetSettings() = default;
  // Parses `json` (the file at `path`, named in errors). kInvalidArgument listing every problem.
  static absl::StatusOr<BudgetSettings> Parse(std::string_view json, std::string_view path);

  bool empty() const { return budgets_.empty(); }
  const std::vector<Budget>& budgets() const { return budgets_; }
  const std::string& currency() const { return currency_; }
  // Whether `priority`'s alerts go past spent budgets.
  bool Exempts(types::v1::Priority priority) const { return exempt_.Exempts(priority); }
  // The budgets a send of `caller`'s alert on `account` counts against, callers' first.
  std::vector<const Budget*> For(std::string_view caller, std::string_view account) const;
  // What an attempt is estimated to cost before Twilio says: its text's segments at the
  // destination's SMS price, or one started minute of a call.
  int64_t Estimate(types::v1::Channel channel, std::string_view recipient,
                   std::string_view text) const;
  // "50.00 USD a day for caller billing": what `budget` allows, for messages.
  std::string Describe(const Budget& budget) const;

 private:
  std::string currency_;
  limits::PriorityExemption exempt_ = limits::PriorityExemption::None();
  std::vector<Budget> budgets_;
  twilio::PrefixPrices sms_segment_micros_;
  twilio::PrefixPrices call_minute_micros_;
};

}  // namespace klaxon::budgets
