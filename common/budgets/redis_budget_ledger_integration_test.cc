// Needs a real Redis: KLAXON_TEST_REDIS_URL (scripts/test.sh starts one). Two ledgers on one
// Redis stand for two replicas.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>

#include "common/budgets/redis_budget_ledger.h"
#include "tests/support/support.h"

namespace klaxon::budgets {
namespace {

class RedisBudgetLedgerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto client =
        redis::RedisClient::Create({.url = klaxon::testing::RequiredEnv("KLAXON_TEST_REDIS_URL")});
    ASSERT_TRUE(client.ok()) << client.status();
    redis_ = *std::move(client);
    first_ = std::make_unique<RedisBudgetLedger>(*redis_, prefix_);
    second_ = std::make_unique<RedisBudgetLedger>(*redis_, prefix_);
  }

  const std::string prefix_ = klaxon::testing::UniquePrefix();
  const Budget daily_{.name = "billing-daily", .caller = "billing", .limit_micros = 50'000};
  const Budget monthly_{
      .name = "main-monthly", .account = "main", .period = Period::kMonth, .limit_micros = 80'000};
  const std::vector<const Budget*> budgets_ = {&daily_, &monthly_};
  const absl::Time now_ =
      absl::FromCivil(absl::CivilSecond(2026, 11, 26, 12, 0, 0), absl::UTCTimeZone());
  std::unique_ptr<redis::RedisClient> redis_;
  std::unique_ptr<RedisBudgetLedger> first_;
  std::unique_ptr<RedisBudgetLedger> second_;
};

TEST_F(RedisBudgetLedgerTest, ReplicasShareTheCountersAndTheLastOfABudgetGoesOnce) {
  ASSERT_FALSE(first_->Reserve(budgets_, 30'000, now_)->has_value());
  const absl::StatusOr<std::optional<SpentBudget>> held = second_->Reserve(budgets_, 30'000, now_);
  ASSERT_TRUE(held.ok()) << held.status();
  ASSERT_TRUE(held->has_value());
  EXPECT_EQ((*held)->budget, &daily_);
  EXPECT_EQ((*held)->spent_micros, 30'000);
  EXPECT_EQ((*held)->resets_at, absl::FromCivil(absl::CivilDay(2026, 11, 27), absl::UTCTimeZone()));
  // Nothing was added to the monthly budget by the refused reservation.
  EXPECT_FALSE(second_->Reserve({&monthly_}, 50'000, now_)->has_value());
  const absl::StatusOr<std::optional<SpentBudget>> monthly = second_->Reserve({&monthly_}, 1, now_);
  ASSERT_TRUE(monthly->has_value());
  EXPECT_EQ((*monthly)->spent_micros, 80'000);
}

TEST_F(RedisBudgetLedgerTest, AddSettlesAndGivesBackWhateverTheLimits) {
  ASSERT_FALSE(first_->Reserve(budgets_, 40'000, now_)->has_value());
  EXPECT_FALSE(second_->FirstSpent(budgets_, now_)->has_value());
  ASSERT_TRUE(first_->Add(budgets_, 15'000, now_).ok());  // Twilio charged more than estimated
  absl::StatusOr<std::optional<SpentBudget>> spent = second_->FirstSpent(budgets_, now_);
  ASSERT_TRUE(spent.ok()) << spent.status();
  ASSERT_TRUE(spent->has_value());
  EXPECT_EQ((*spent)->budget, &daily_);
  EXPECT_EQ((*spent)->spent_micros, 55'000);
  ASSERT_TRUE(first_->Add(budgets_, -40'000, now_).ok());  // a send Twilio did not take
  EXPECT_FALSE(second_->FirstSpent(budgets_, now_)->has_value());
}

TEST_F(RedisBudgetLedgerTest, EachPeriodHasItsOwnCounterThatExpiresAfterIt) {
  ASSERT_FALSE(first_->Reserve(budgets_, 50'000, now_)->has_value());
  EXPECT_TRUE(first_->FirstSpent({&daily_}, now_)->has_value());
  const absl::Time tomorrow = now_ + absl::Hours(24);
  EXPECT_FALSE(first_->FirstSpent({&daily_}, tomorrow)->has_value());
  EXPECT_EQ(first_->Key(daily_, now_), prefix_ + "budget:billing-daily:2026-11-26");
  EXPECT_EQ(first_->Key(monthly_, now_), prefix_ + "budget:main-monthly:2026-11-01");
  absl::StatusOr<redis::Reply> ttl = redis_->Command({"PTTL", first_->Key(daily_, now_)});
  ASSERT_TRUE(ttl.ok()) << ttl.status();
  EXPECT_GT(ttl->integer, 0);
}

}  // namespace
}  // namespace klaxon::budgets
