// Needs a real Redis: KLAXON_TEST_REDIS_URL (scripts/test.sh starts one). Two ledgers on one
// Redis stand for two replicas.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>

#include "absl/strings/str_cat.h"
#include "common/budgets/redis_budget_ledger.h"
#include "tests/support/redis.h"
#include "tests/support/support.h"

namespace klaxon::budgets {
namespace {

class RedisBudgetLedgerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(klaxon::testing::ConnectTestRedis(redis_));
    keys_deleted_at_end_.Own(prefix_);
    first_ = std::make_unique<RedisBudgetLedger>(*redis_, prefix_);
    second_ = std::make_unique<RedisBudgetLedger>(*redis_, prefix_);
  }

  // The test's keys go after everything else of it.
  klaxon::testing::KeysDeletedAtEnd keys_deleted_at_end_;
  const std::string prefix_ = klaxon::testing::UniquePrefix();
  const Budget daily_{.name = "billing-daily", .caller = "billing", .limit_micros = 50'000};
  const Budget monthly_{
      .name = "main-monthly", .account = "main", .period = Period::kMonth, .limit_micros = 80'000};
  const std::vector<const Budget*> budgets_ = {&daily_, &monthly_};
  // Noon today (UTC): the counters expire on Redis's clock, so the periods are real ones.
  const absl::Time now_ =
      budgets::PeriodStart(budgets::Period::kDay, absl::Now()) + absl::Hours(12);
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
  // At the next midnight (UTC) after today's noon, whatever day the test runs.
  EXPECT_EQ((*held)->resets_at, budgets::PeriodStart(Period::kDay, now_) + absl::Hours(24));
  // Nothing was added to the monthly budget by the refused reservation.
  EXPECT_FALSE(second_->Reserve({&monthly_}, 50'000, now_)->has_value());
  const absl::StatusOr<std::optional<SpentBudget>> monthly = second_->Reserve({&monthly_}, 1, now_);
  ASSERT_TRUE(monthly->has_value());
  EXPECT_EQ((*monthly)->spent_micros, 80'000);
}

TEST_F(RedisBudgetLedgerTest, AddCountsWhateverTheLimitsAndOncePerKey) {
  ASSERT_FALSE(first_->Reserve(budgets_, 40'000, now_)->has_value());
  EXPECT_FALSE(second_->FirstShort(budgets_, 10'000, now_)->has_value());
  // Twilio charged more than estimated; the check that counts it runs on both replicas.
  EXPECT_EQ(*first_->Add(budgets_, 15'000, now_, "SM1"), true);
  EXPECT_EQ(*second_->Add(budgets_, 15'000, now_, "SM1"), false);
  absl::StatusOr<std::optional<SpentBudget>> short_of = second_->FirstShort(budgets_, 1, now_);
  ASSERT_TRUE(short_of.ok()) << short_of.status();
  ASSERT_TRUE(short_of->has_value());
  EXPECT_EQ((*short_of)->budget, &daily_);
  EXPECT_EQ((*short_of)->spent_micros, 55'000);
  ASSERT_TRUE(first_->Add(budgets_, -40'000, now_, "").ok());  // a send Twilio did not take
  EXPECT_FALSE(second_->FirstShort(budgets_, 1, now_)->has_value());
}

TEST_F(RedisBudgetLedgerTest, ABatchOfQuestionsIsAnsweredInOrder) {
  ASSERT_FALSE(first_->Reserve(budgets_, 50'000, now_)->has_value());
  const std::vector<ShortQuery> queries = {{.budgets = {&daily_}, .micros = 1, .at = now_},
                                           {.budgets = {}, .micros = 1, .at = now_},
                                           {.budgets = {&monthly_}, .micros = 1, .at = now_},
                                           {.budgets = budgets_, .micros = 1, .at = now_}};
  std::vector<absl::StatusOr<std::optional<SpentBudget>>> answers = second_->FirstShortAll(queries);
  ASSERT_EQ(answers.size(), 4u);
  for (const absl::StatusOr<std::optional<SpentBudget>>& answer : answers) {
    ASSERT_TRUE(answer.ok()) << answer.status();
  }
  ASSERT_TRUE(answers[0]->has_value());
  EXPECT_EQ((*answers[0])->budget, &daily_);
  EXPECT_FALSE(answers[1]->has_value());  // no budget, nothing short
  EXPECT_FALSE(answers[2]->has_value());
  ASSERT_TRUE(answers[3]->has_value());
  EXPECT_EQ((*answers[3])->budget, &daily_);
}

TEST_F(RedisBudgetLedgerTest, SpentIsReadForEveryBudgetOfItsPeriod) {
  ASSERT_FALSE(first_->Reserve(budgets_, 30'000, now_)->has_value());
  ASSERT_TRUE(first_->Add({&monthly_}, 5'000, now_, "").ok());
  absl::StatusOr<std::vector<int64_t>> spent = second_->SpentAll(budgets_, now_);
  ASSERT_TRUE(spent.ok()) << spent.status();
  EXPECT_EQ(*spent, (std::vector<int64_t>{30'000, 35'000}));
  // Tomorrow's day is another period, not yet spent; the month is the same.
  spent = second_->SpentAll(budgets_, now_ + absl::Hours(24));
  ASSERT_TRUE(spent.ok()) << spent.status();
  EXPECT_EQ(spent->front(), 0);
  ASSERT_TRUE(redis_->Command({"SET", first_->Key(daily_, now_), "many"}).ok());
  spent = second_->SpentAll(budgets_, now_);
  EXPECT_EQ(spent.status().code(), absl::StatusCode::kInternal);
  EXPECT_THAT(spent.status().message(), ::testing::HasSubstr("billing-daily"));
}

TEST_F(RedisBudgetLedgerTest, EachPeriodHasItsOwnCounterThatExpiresAfterIt) {
  ASSERT_FALSE(first_->Reserve(budgets_, 50'000, now_)->has_value());
  EXPECT_TRUE(first_->FirstShort({&daily_}, 1, now_)->has_value());
  const absl::Time tomorrow = now_ + absl::Hours(24);
  EXPECT_FALSE(first_->FirstShort({&daily_}, 1, tomorrow)->has_value());
  EXPECT_EQ(first_->Key(daily_, now_),
            absl::StrCat(prefix_, "budget:billing-daily:",
                         absl::FormatTime("%Y-%m-%d", now_, absl::UTCTimeZone())));
  EXPECT_EQ(first_->Key(monthly_, now_),
            absl::StrCat(prefix_, "budget:main-monthly:",
                         absl::FormatTime("%Y-%m-01", now_, absl::UTCTimeZone())));
  absl::StatusOr<redis::Reply> ttl = redis_->Command({"PTTL", first_->Key(daily_, now_)});
  ASSERT_TRUE(ttl.ok()) << ttl.status();
  EXPECT_GT(ttl->integer, absl::ToInt64Milliseconds(absl::Hours(40 * 24)));
}

}  // namespace
}  // namespace klaxon::budgets
