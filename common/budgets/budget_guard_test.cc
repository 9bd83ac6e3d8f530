#include "common/budgets/budget_guard.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/budgets/in_memory_budget_ledger.h"
#include "common/grpcutil/grpcutil.h"

namespace klaxon::budgets {
namespace {

using ::testing::HasSubstr;

constexpr char kSmallBudgetsFile[] = R"({
  "currency": "USD", "exempt": "critical",
  "budgets": [
    {"name": "billing-daily", "caller": "billing", "period": "day", "limit": "0.01"},
    {"name": "main-monthly", "account": "main", "period": "month", "limit": "1"}],
  "prices": {"sms": {"*": "0.0079"}, "voice": {"*": "0.014"}}})";

class BudgetGuardTest : public ::testing::Test {
 protected:
  InMemoryBudgetLedger ledger_;
  BudgetGuard guard_{*BudgetSettings::Parse(kSmallBudgetsFile, "budgets.json"), ledger_};
  const absl::Time now_ =
      absl::FromCivil(absl::CivilSecond(2026, 11, 26, 18, 0, 0), absl::UTCTimeZone());
};

TEST_F(BudgetGuardTest, ASendReservesItsEstimateUntilACallersBudgetWouldBePassed) {
  EXPECT_EQ(guard_.ReserveSend("billing", "main", types::v1::PRIORITY_NORMAL, 7'900, now_)->micros,
            7'900);
  const absl::StatusOr<Reservation> held =
      guard_.ReserveSend("billing", "main", types::v1::PRIORITY_NORMAL, 7'900, now_);
  ASSERT_TRUE(held.ok()) << held.status();
  EXPECT_EQ(held->micros, 0);
  ASSERT_TRUE(held->hold.has_value());
  EXPECT_EQ(held->hold->until, now_ + absl::Hours(6));
  EXPECT_EQ(held->hold->reason,
            "budget \"billing-daily\" (0.01 USD a day for caller billing) has spent 0.0079 USD; it "
            "resets at 2026-11-27T00:00:00Z (this send would cost about 0.0079 USD)");
  // Another caller on the same account is not held by billing's budget.
  EXPECT_FALSE(
      guard_.ReserveSend("payments", "main", types::v1::PRIORITY_NORMAL, 7'900, now_)->hold);
}

TEST_F(BudgetGuardTest, AnExemptPriorityIsNeverHeldNorRefusedButItsChargeCounts) {
  ASSERT_TRUE(guard_.CountCharge("billing", "main", 20'000, now_, "SM1").ok());
  const absl::StatusOr<Reservation> exempt =
      guard_.ReserveSend("billing", "main", types::v1::PRIORITY_CRITICAL, 7'900, now_);
  EXPECT_FALSE(exempt->hold);
  EXPECT_EQ(exempt->micros, 0);  // nothing reserved: the charge counts in full
  EXPECT_TRUE(guard_.AdmitAlert("billing", types::v1::PRIORITY_CRITICAL, 7'900, now_).ok());
  EXPECT_TRUE(guard_.ReserveSend("billing", "main", types::v1::PRIORITY_HIGH, 1, now_)->hold);
  // The exempt alert's charge counts in full, once.
  ASSERT_TRUE(guard_.CountCharge("billing", "main", 7'900, now_, "SM2").ok());
  ASSERT_TRUE(guard_.CountCharge("billing", "main", 7'900, now_, "SM2").ok());
  EXPECT_EQ(ledger_.Spent(*guard_.settings().For("billing", "")[0], now_), 27'900);
}

TEST_F(BudgetGuardTest, SendAlertIsRefusedOnceACallersBudgetIsSpentWithARetryHint) {
  EXPECT_TRUE(guard_.AdmitAlert("billing", types::v1::PRIORITY_NORMAL, 7'900, now_).ok());
  ASSERT_TRUE(guard_.CountCharge("billing", "main", 5'000, now_, "SM1").ok());
  // 0.005 of 0.01 left: enough for nothing that costs more.
  const absl::Status refused =
      guard_.AdmitAlert("billing", types::v1::PRIORITY_NORMAL, 7'900, now_);
  EXPECT_EQ(refused.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(std::string(refused.message()),
              HasSubstr("budget \"billing-daily\" (0.01 USD a day for caller billing) has spent "
                        "0.005 USD; it resets at 2026-11-27T00:00:00Z; this alert would cost about "
                        "0.0079 USD more"));
  EXPECT_EQ(grpcutil::RetryPushback(refused), absl::Hours(6));
  // The account's budget is not SendAlert's to check: the account is chosen at the send.
  EXPECT_TRUE(guard_.AdmitAlert("payments", types::v1::PRIORITY_NORMAL, 7'900, now_).ok());
}

TEST_F(BudgetGuardTest, SendAlertsOfABatchAreAnsweredEachOnItsOwn) {
  ASSERT_TRUE(guard_.CountCharge("billing", "main", 10'000, now_, "SM1").ok());
  const std::vector<AlertCharge> alerts = {
      {.caller = "billing", .priority = types::v1::PRIORITY_NORMAL, .estimate = 7'900},
      {.caller = "pager", .priority = types::v1::PRIORITY_NORMAL, .estimate = 7'900},
      {.caller = "billing", .priority = types::v1::PRIORITY_CRITICAL, .estimate = 7'900}};
  const std::vector<absl::Status> admitted = guard_.AdmitAlerts(alerts, now_);
  ASSERT_EQ(admitted.size(), 3u);
  // billing's budget is spent; pager has none; a critical alert is exempt.
  EXPECT_EQ(admitted[0].code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(std::string(admitted[0].message()), HasSubstr("billing-daily"));
  EXPECT_TRUE(admitted[1].ok()) << admitted[1];
  EXPECT_TRUE(admitted[2].ok()) << admitted[2];
}

TEST_F(BudgetGuardTest, SettlingGivesBackWhatTwilioDidNotCharge) {
  ASSERT_FALSE(
      guard_.ReserveSend("billing", "main", types::v1::PRIORITY_NORMAL, 9'000, now_)->hold);
  ASSERT_TRUE(guard_.GiveBack("billing", "main", 9'000, now_).ok());
  EXPECT_EQ(ledger_.Spent(*guard_.settings().For("billing", "")[0], now_), 0);
}

TEST_F(BudgetGuardTest, ASendCostingMoreThanABudgetsWholeLimitIsHeldForever) {
  const absl::StatusOr<Reservation> held =
      guard_.ReserveSend("billing", "main", types::v1::PRIORITY_NORMAL, 20'000, now_);
  ASSERT_TRUE(held->hold.has_value());
  EXPECT_EQ(held->hold->until, absl::InfiniteFuture());
  EXPECT_EQ(held->hold->reason,
            "this send alone would cost about 0.02 USD, more than budget \"billing-daily\" (0.01 "
            "USD a day for caller billing) allows");
}

TEST(NoBudgetsTest, NothingIsHeldOrRefused) {
  InMemoryBudgetLedger ledger;
  BudgetGuard guard(BudgetSettings(), ledger);
  EXPECT_TRUE(guard.AdmitAlert("billing", types::v1::PRIORITY_LOW, 1'000'000, absl::Now()).ok());
  EXPECT_FALSE(
      guard.ReserveSend("billing", "main", types::v1::PRIORITY_LOW, 1'000'000'000, absl::Now())
          ->hold);
}

}  // namespace
}  // namespace klaxon::budgets
