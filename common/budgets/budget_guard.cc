#include "common/budgets/budget_guard.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/grpcutil/grpcutil.h"
#include "common/twilio/price.h"

namespace klaxon::budgets {

BudgetSettings ReadBudgets(config::Reader& reader) {
  constexpr std::string_view kVariable = "KLAXON_BUDGETS_FILE";
  const std::optional<std::string> text = reader.FileContents(kVariable);
  if (!text.has_value()) return BudgetSettings();
  absl::StatusOr<BudgetSettings> settings =
      BudgetSettings::Parse(*text, reader.Optional(kVariable, ""));
  if (!settings.ok()) {
    reader.AddError(settings.status());
    return BudgetSettings();
  }
  return *std::move(settings);
}

BudgetGuard::BudgetGuard(BudgetSettings settings, BudgetLedger& ledger)
    : settings_(std::move(settings)), ledger_(ledger) {}

std::string BudgetGuard::DescribeSpent(const SpentBudget& spent) const {
  return absl::StrCat("budget \"", spent.budget->name, "\" (", settings_.Describe(*spent.budget),
                      ") has spent ", twilio::FormatMicros(spent.spent_micros), " ",
                      settings_.currency(), "; it resets at ",
                      absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", spent.resets_at, absl::UTCTimeZone()));
}

std::vector<absl::Status> BudgetGuard::AdmitAlerts(std::span<const AlertCharge> alerts,
                                                   absl::Time now) {
  // Only the alerts a budget may refuse are read; the rest are admitted as they are.
  std::vector<ShortQuery> queries;
  std::vector<size_t> queried;
  for (size_t i = 0; i < alerts.size(); ++i) {
    const AlertCharge& alert = alerts[i];
    if (settings_.empty() || settings_.Exempts(alert.priority)) continue;
    // Never less than a micro: a budget spent to its limit takes nothing more.
    queries.push_back({.budgets = settings_.For(alert.caller, ""),
                       .micros = std::max<int64_t>(alert.estimate, 1),
                       .at = now});
    queried.push_back(i);
  }
  std::vector<absl::Status> admitted(alerts.size(), absl::OkStatus());
  if (queries.empty()) return admitted;
  std::vector<absl::StatusOr<std::optional<SpentBudget>>> short_of = ledger_.FirstShortAll(queries);
  for (size_t j = 0; j < queried.size(); ++j) {
    const absl::StatusOr<std::optional<SpentBudget>>& answer = short_of.at(j);
    if (!answer.ok()) {
      admitted[queried[j]] = absl::UnavailableError(absl::StrCat(
          "the budgets cannot be read (", answer.status().message(), "); retry shortly"));
    } else if (answer->has_value()) {
      admitted[queried[j]] =
          grpcutil::WithRetryPushback(absl::ResourceExhaustedError(absl::StrCat(
                                          DescribeSpent(**answer), "; this alert would cost about ",
                                          twilio::FormatMicros(alerts[queried[j]].estimate), " ",
                                          settings_.currency(), " more")),
                                      (*answer)->resets_at - now);
    }
  }
  return admitted;
}

absl::StatusOr<Reservation> BudgetGuard::ReserveSend(std::string_view caller,
                                                     std::string_view account,
                                                     types::v1::Priority priority, int64_t estimate,
                                                     absl::Time now) {
  const std::vector<const Budget*> budgets = settings_.For(caller, account);
  if (budgets.empty() || settings_.Exempts(priority)) return Reservation{.micros = 0, .hold = {}};
  const absl::StatusOr<std::optional<SpentBudget>> held = ledger_.Reserve(budgets, estimate, now);
  if (!held.ok()) return held.status();
  if (!held->has_value()) return Reservation{.micros = estimate, .hold = std::nullopt};
  const SpentBudget& spent = **held;
  const std::string cost = absl::StrCat(twilio::FormatMicros(estimate), " ", settings_.currency());
  if (estimate > spent.budget->limit_micros) {
    return Reservation{
        .micros = 0,
        .hold = Hold{.reason = absl::StrCat("this send alone would cost about ", cost,
                                            ", more than budget \"", spent.budget->name, "\" (",
                                            settings_.Describe(*spent.budget), ") allows"),
                     .until = absl::InfiniteFuture()}};
  }
  return Reservation{
      .micros = 0,
      .hold = Hold{
          .reason = absl::StrCat(DescribeSpent(spent), " (this send would cost about ", cost, ")"),
          .until = spent.resets_at}};
}

absl::Status BudgetGuard::GiveBack(std::string_view caller, std::string_view account,
                                   int64_t reserved, absl::Time reserved_at) {
  if (settings_.empty() || reserved == 0) return absl::OkStatus();
  return ledger_.Add(settings_.For(caller, account), -reserved, reserved_at, "").status();
}

absl::Status BudgetGuard::CountCharge(std::string_view caller, std::string_view account,
                                      int64_t micros, absl::Time reserved_at,
                                      std::string_view sid) {
  if (settings_.empty()) return absl::OkStatus();
  return ledger_.Add(settings_.For(caller, account), micros, reserved_at, sid).status();
}

}  // namespace klaxon::budgets
