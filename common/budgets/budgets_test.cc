#include "common/budgets/budgets.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/budgets/in_memory_budget_ledger.h"
#include "common/config/config.h"

namespace klaxon::budgets {
namespace {

using ::testing::HasSubstr;

constexpr char kFile[] = R"({
  "currency": "USD",
  "exempt": "critical",
  "budgets": [
    {"name": "billing-daily", "caller": "billing", "period": "day", "limit": "0.05"},
    {"name": "main-monthly", "account": "main", "period": "month", "limit": "2000"}],
  "prices": {"sms": {"+1": "0.0079", "+44": "0.04", "*": "0.05"},
             "voice": {"+1": "0.014", "*": "0.10"}}})";

BudgetSettings Parsed(const std::string& json = kFile) {
  absl::StatusOr<BudgetSettings> settings = BudgetSettings::Parse(json, "budgets.json");
  EXPECT_TRUE(settings.ok()) << settings.status();
  return settings.ok() ? *std::move(settings) : BudgetSettings();
}

std::string Problems(const std::string& json) {
  absl::StatusOr<BudgetSettings> settings = BudgetSettings::Parse(json, "budgets.json");
  EXPECT_FALSE(settings.ok());
  EXPECT_EQ(settings.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(settings.status().message());
}

TEST(BudgetSettingsTest, ACallersBudgetsComeBeforeItsAccountsAndOthersDoNotApply) {
  const BudgetSettings settings = Parsed();
  const std::vector<const Budget*> both = settings.For("billing", "main");
  ASSERT_EQ(both.size(), 2u);
  EXPECT_EQ(both[0]->name, "billing-daily");
  EXPECT_EQ(both[0]->limit_micros, 50'000);
  EXPECT_EQ(both[1]->name, "main-monthly");
  EXPECT_EQ(both[1]->period, Period::kMonth);
  EXPECT_TRUE(settings.For("payments", "backup").empty());
  EXPECT_EQ(settings.Describe(*both[0]), "0.05 USD a day for caller billing");
  EXPECT_EQ(settings.Describe(*both[1]), "2000.00 USD a month for account main");
}

TEST(BudgetSettingsTest, EstimatesSegmentsAtTheLongestPrefixsPriceAndOneCallMinute) {
  const BudgetSettings settings = Parsed();
  EXPECT_EQ(settings.Estimate(types::v1::CHANNEL_SMS, "+14155550100", "disk full"), 7'900);
  EXPECT_EQ(settings.Estimate(types::v1::CHANNEL_SMS, "+447700900123", std::string(161, 'a')),
            80'000);
  EXPECT_EQ(settings.Estimate(types::v1::CHANNEL_SMS, "+33612345678", "x"), 50'000);
  EXPECT_EQ(settings.Estimate(types::v1::CHANNEL_VOICE, "+14155550100", "disk full"), 14'000);
}

TEST(BudgetSettingsTest, OnlyPrioritiesFromTheExemptOneGoPastASpentBudget) {
  const BudgetSettings settings = Parsed();
  EXPECT_TRUE(settings.Exempts(types::v1::PRIORITY_CRITICAL));
  EXPECT_FALSE(settings.Exempts(types::v1::PRIORITY_HIGH));
  EXPECT_FALSE(BudgetSettings().Exempts(types::v1::PRIORITY_CRITICAL));
}

TEST(BudgetSettingsTest, EveryProblemNamesTheBudgetAndField) {
  const std::string problems = Problems(R"({
    "currency": "usd", "exempt": "urgent", "colour": "red",
    "budgets": [
      {"name": "a", "caller": "billing", "account": "main", "period": "week", "limit": "0"},
      {"name": "a", "caller": "billing", "period": "day", "limit": "abc"},
      {"caller": "x", "period": "day", "limit": "1"}],
    "prices": {"sms": {"44": "0.04", "+1": 0.0079}, "fax": {}}})");
  EXPECT_THAT(problems, HasSubstr("budgets.json (KLAXON_BUDGETS_FILE)"));
  EXPECT_THAT(problems, HasSubstr("currency: is required: an ISO 4217 code"));
  EXPECT_THAT(problems, HasSubstr("exempt: \"urgent\" is not a priority"));
  EXPECT_THAT(problems, HasSubstr("colour: is not a field here"));
  EXPECT_THAT(problems, HasSubstr("budgets[0] (\"a\"): needs exactly one of caller and account"));
  EXPECT_THAT(problems, HasSubstr("budgets[0] (\"a\").period: is required: day or month"));
  EXPECT_THAT(problems, HasSubstr("budgets[0] (\"a\").limit: \"0\" must be more than 0"));
  EXPECT_THAT(problems, HasSubstr("budgets[1] (\"a\").name: is taken by an earlier budget"));
  EXPECT_THAT(problems, HasSubstr("budgets[1] (\"a\").limit: \"abc\" is not an amount"));
  EXPECT_THAT(problems, HasSubstr("budgets[2].name: is required"));
  EXPECT_THAT(problems, HasSubstr("prices.sms[\"44\"]: is not \"+\" and 1 to 15 digits"));
  EXPECT_THAT(problems, HasSubstr("prices.sms[\"+1\"]: is not a string"));
  EXPECT_THAT(problems, HasSubstr("prices.sms: needs a \"*\" price"));
  EXPECT_THAT(problems, HasSubstr("prices.fax: is not a field here"));
  EXPECT_THAT(Problems("[1]"), HasSubstr("the file: is not a JSON object"));
}

TEST(BudgetSettingsTest, TheProdOverlaysFileLoads) {
  const std::optional<std::string> text = config::ReadWholeFile(KLAXON_PROD_BUDGETS_FILE);
  ASSERT_TRUE(text.has_value()) << KLAXON_PROD_BUDGETS_FILE;
  const BudgetSettings settings = Parsed(*text);
  EXPECT_FALSE(settings.empty());
  EXPECT_EQ(settings.currency(), "USD");
}

TEST(PeriodTest, DaysAndMonthsAreUtcCalendarOnes) {
  const absl::Time at =
      absl::FromCivil(absl::CivilSecond(2026, 11, 26, 23, 59, 59), absl::UTCTimeZone());
  EXPECT_EQ(PeriodStart(Period::kDay, at),
            absl::FromCivil(absl::CivilDay(2026, 11, 26), absl::UTCTimeZone()));
  EXPECT_EQ(PeriodEnd(Period::kDay, at),
            absl::FromCivil(absl::CivilDay(2026, 11, 27), absl::UTCTimeZone()));
  EXPECT_EQ(PeriodStart(Period::kMonth, at),
            absl::FromCivil(absl::CivilMonth(2026, 11), absl::UTCTimeZone()));
  EXPECT_EQ(PeriodEnd(Period::kMonth, at),
            absl::FromCivil(absl::CivilMonth(2026, 12), absl::UTCTimeZone()));
}

TEST(InMemoryBudgetLedgerTest, AReservationPastAnyLimitAddsNothingAndNamesThatBudget) {
  const BudgetSettings settings = Parsed();
  const std::vector<const Budget*> budgets = settings.For("billing", "main");
  InMemoryBudgetLedger ledger;
  const absl::Time now = absl::FromUnixSeconds(1'790'000'000);
  ASSERT_FALSE(ledger.Reserve(budgets, 40'000, now)->has_value());
  const absl::StatusOr<std::optional<SpentBudget>> held = ledger.Reserve(budgets, 20'000, now);
  ASSERT_TRUE(held.ok());
  ASSERT_TRUE(held->has_value());
  EXPECT_EQ((*held)->budget->name, "billing-daily");
  EXPECT_EQ((*held)->spent_micros, 40'000);
  EXPECT_EQ((*held)->resets_at, PeriodEnd(Period::kDay, now));
  EXPECT_EQ(ledger.Spent(*budgets[1], now), 40'000);
  EXPECT_FALSE(ledger.FirstShort(budgets, 10'000, now)->has_value());
  EXPECT_EQ(*ledger.Add(budgets, 10'000, now, "SM1"), true);
  EXPECT_EQ(*ledger.Add(budgets, 10'000, now, "SM1"), false);  // once per key
  EXPECT_EQ((*ledger.FirstShort(budgets, 1, now))->budget->name, "billing-daily");
  // The next day starts from nothing.
  EXPECT_FALSE(ledger.FirstShort(budgets, 1, now + absl::Hours(24))->has_value());
}

}  // namespace
}  // namespace klaxon::budgets
