#pragma once
// What the budgets (docs/adr/0037) do to an alert on its way: SendAlert refuses a caller whose
// budget is spent; a send reserves its estimate against its caller's and account's budgets, or is
// held until the spent one resets; what Twilio charged settles the reservation. Alerts of an
// exempt priority are never refused or held, and their cost still counts.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "common/budgets/budget_ledger.h"
#include "common/budgets/budgets.h"
#include "common/config/config.h"

namespace klaxon::budgets {

// KLAXON_BUDGETS_FILE's budgets; none when it is unset. Its problems go to `reader`.
BudgetSettings ReadBudgets(config::Reader& reader);

// A send a spent budget holds back: why (naming the budget) and until when.
struct Hold {
  std::string reason;
  absl::Time until;
};

// What a send's reservation did: reserved `micros` (0 for an exempt priority, or no budgets), or
// was held.
struct Reservation {
  int64_t micros = 0;
  std::optional<Hold> hold;
};

// An alert SendAlert is about to take in: whose, how urgent, what it would cost (micros).
struct AlertCharge {
  std::string_view caller;
  types::v1::Priority priority = types::v1::PRIORITY_UNSPECIFIED;
  int64_t estimate = 0;
};

class BudgetGuard {
 public:
  // `ledger` is borrowed and must outlive the guard.
  BudgetGuard(BudgetSettings settings, BudgetLedger& ledger);

  const BudgetSettings& settings() const { return settings_; }

  // SendAlert's check, for each of `alerts`: kResourceExhausted when one of its caller's budgets
  // cannot take its estimate more, naming it and when it resets (a retry hint until then);
  // kUnavailable when the ledger cannot be read. One answer per alert, in order, from one read of
  // the ledger.
  std::vector<absl::Status> AdmitAlerts(std::span<const AlertCharge> alerts, absl::Time now);
  // AdmitAlerts of one alert.
  absl::Status AdmitAlert(std::string_view caller, types::v1::Priority priority, int64_t estimate,
                          absl::Time now) {
    const AlertCharge alert{.caller = caller, .priority = priority, .estimate = estimate};
    return AdmitAlerts({&alert, 1}, now).front();
  }

  // Reserves `estimate` for a send of `caller`'s alert on `account`, unless a budget would be
  // passed: then nothing is reserved and the Reservation holds the send until that budget resets
  // (never, when the estimate alone passes its limit). An exempt priority reserves nothing and is
  // never held.
  absl::StatusOr<Reservation> ReserveSend(std::string_view caller, std::string_view account,
                                          types::v1::Priority priority, int64_t estimate,
                                          absl::Time now);

  // Gives back `reserved`, reserved at `reserved_at`, for a send Twilio did not take.
  absl::Status GiveBack(std::string_view caller, std::string_view account, int64_t reserved,
                        absl::Time reserved_at);

  // Counts what Twilio charged for the attempt `sid`, less what its send reserved (`micros`; may
  // be negative), in the periods holding `reserved_at`. Once per `sid`: a repeat adds nothing.
  absl::Status CountCharge(std::string_view caller, std::string_view account, int64_t micros,
                           absl::Time reserved_at, std::string_view sid);

 private:
  // "budget "billing-daily" (0.05 USD a day for caller billing) has spent 0.0553 USD; it resets
  // at 2026-11-27T00:00:00Z".
  std::string DescribeSpent(const SpentBudget& spent) const;

  const BudgetSettings settings_;
  BudgetLedger& ledger_;
};

}  // namespace klaxon::budgets
