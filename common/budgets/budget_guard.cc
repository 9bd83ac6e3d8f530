#include "common/budgets/budget_guard.h"

#include <utility>

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

std::string BudgetGuard::Spent(const SpentBudget& spent) const {
  return absl::StrCat("budget \"", spent.budget->name, "\" (", settings_.Describe(*spent.budget),
                      ") has spent ", twilio::FormatMicros(spent.spent_micros), " ",
                      settings_.currency(), "; it resets at ",
                      absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", spent.resets_at, absl::UTCTimeZone()));
}

absl::Status BudgetGuard::AdmitAlert(std::string_view caller, types::v1::Priority priority,
                                     absl::Time now) {
  if (settings_.empty() || settings_.Exempts(priority)) return absl::OkStatus();
  const absl::StatusOr<std::optional<SpentBudget>> spent =
      ledger_.FirstSpent(settings_.For(caller, ""), now);
  if (!spent.ok()) {
    return absl::UnavailableError(
        absl::StrCat("the budgets cannot be read (", spent.status().message(), "); retry shortly"));
  }
  if (!spent->has_value()) return absl::OkStatus();
  return grpcutil::WithRetryPushback(
      absl::ResourceExhaustedError(absl::StrCat(Spent(**spent), "; alerts of priority ",
                                                "below its exemption wait until then")),
      (*spent)->resets_at - now);
}

absl::StatusOr<Reservation> BudgetGuard::ReserveSend(std::string_view caller,
                                                     std::string_view account,
                                                     types::v1::Priority priority, int64_t estimate,
                                                     absl::Time now) {
  const std::vector<const Budget*> budgets = settings_.For(caller, account);
  if (budgets.empty() || settings_.Exempts(priority)) return Reservation{};
  const absl::StatusOr<std::optional<SpentBudget>> held = ledger_.Reserve(budgets, estimate, now);
  if (!held.ok()) return held.status();
  if (!held->has_value()) return Reservation{.micros = estimate, .hold = std::nullopt};
  return Reservation{
      .micros = 0,
      .hold = Hold{
          .reason = absl::StrCat(Spent(**held), " (this send would cost about ",
                                 twilio::FormatMicros(estimate), " ", settings_.currency(), ")"),
          .until = (*held)->resets_at}};
}

absl::Status BudgetGuard::Settle(std::string_view caller, std::string_view account, int64_t micros,
                                 absl::Time reserved_at) {
  if (settings_.empty() || micros == 0) return absl::OkStatus();
  return ledger_.Add(settings_.For(caller, account), micros, reserved_at);
}

}  // namespace klaxon::budgets
