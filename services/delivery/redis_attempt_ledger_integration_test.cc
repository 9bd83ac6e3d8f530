// Needs a real Redis: KLAXON_TEST_REDIS_URL (scripts/test.sh starts one).
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "services/delivery/redis_attempt_ledger.h"
#include "tests/support/redis.h"
#include "tests/support/support.h"

namespace klaxon::delivery {
namespace {

class RedisAttemptLedgerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(klaxon::testing::ConnectTestRedis(redis_));
    const std::string prefix = klaxon::testing::UniquePrefix();
    keys_deleted_at_end_.Own(prefix);
    ledger_ = std::make_unique<RedisAttemptLedger>(*redis_, prefix, absl::Minutes(5));
  }
  // The test's keys go after everything else of it.
  klaxon::testing::KeysDeletedAtEnd keys_deleted_at_end_;
  const absl::Time now_ = absl::FromUnixMillis(1'700'000'000'123);
  std::unique_ptr<redis::RedisClient> redis_;
  std::unique_ptr<RedisAttemptLedger> ledger_;
};

TEST_F(RedisAttemptLedgerTest, SecondClaimSeesTheFirstInProgress) {
  auto first = ledger_->Claim("a1", 1, "worker-1", now_);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->state, AttemptClaim::State::kClaimed);
  auto second = ledger_->Claim("a1", 1, "worker-2", now_ + absl::Seconds(1));
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->state, AttemptClaim::State::kInProgress);
  EXPECT_EQ(second->claimed_at, now_);
}

TEST_F(RedisAttemptLedgerTest, RecordedOutcomeIsReturnedToLaterClaims) {
  ASSERT_TRUE(ledger_->Claim("a1", 1, "worker-1", now_).ok());
  events::v1::DeliveryOutcome outcome;
  outcome.set_kind(events::v1::DeliveryOutcome::KIND_ACCEPTED);
  outcome.set_twilio_sid("SM123");
  ASSERT_TRUE(ledger_->RecordOutcome("a1", 1, outcome).ok());
  auto later = ledger_->Claim("a1", 1, "worker-1", now_);
  ASSERT_TRUE(later.ok()) << later.status();
  ASSERT_EQ(later->state, AttemptClaim::State::kDone);
  EXPECT_EQ(later->outcome->twilio_sid(), "SM123");
}

TEST_F(RedisAttemptLedgerTest, ReleasedAttemptCanBeClaimedAgain) {
  ASSERT_TRUE(ledger_->Claim("a1", 1, "worker-1", now_).ok());
  ASSERT_TRUE(ledger_->Release("a1", 1, "worker-1").ok());
  auto again = ledger_->Claim("a1", 1, "worker-1", now_);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->state, AttemptClaim::State::kClaimed);
}

TEST_F(RedisAttemptLedgerTest, OwnerFindsItsOwnClaimClaimable) {
  ASSERT_TRUE(ledger_->Claim("a1", 1, "worker-1", now_).ok());
  auto again = ledger_->Claim("a1", 1, "worker-1", now_ + absl::Seconds(1));
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->state, AttemptClaim::State::kClaimed);
}

TEST_F(RedisAttemptLedgerTest, ReleaseLeavesAnotherOwnersClaimAndRecordedOutcomes) {
  ASSERT_TRUE(ledger_->Claim("a1", 1, "worker-1", now_).ok());
  ASSERT_TRUE(ledger_->Release("a1", 1, "worker-2").ok());
  auto held = ledger_->Claim("a1", 1, "worker-3", now_);
  ASSERT_TRUE(held.ok()) << held.status();
  EXPECT_EQ(held->state, AttemptClaim::State::kInProgress);

  events::v1::DeliveryOutcome outcome;
  outcome.set_twilio_sid("SM1");
  ASSERT_TRUE(ledger_->RecordOutcome("a1", 1, outcome).ok());
  ASSERT_TRUE(ledger_->Release("a1", 1, "worker-1").ok());
  auto done = ledger_->Claim("a1", 1, "worker-1", now_);
  ASSERT_TRUE(done.ok()) << done.status();
  EXPECT_EQ(done->state, AttemptClaim::State::kDone);
}

TEST_F(RedisAttemptLedgerTest, UnsettledAttemptIsUnsettledForEveryOwner) {
  ASSERT_TRUE(ledger_->Claim("a1", 1, "worker-1", now_).ok());
  ASSERT_TRUE(ledger_->MarkUnsettled("a1", 1, now_ + absl::Seconds(1)).ok());
  for (const char* owner : {"worker-1", "worker-2"}) {
    auto claim = ledger_->Claim("a1", 1, owner, now_ + absl::Minutes(1));
    ASSERT_TRUE(claim.ok()) << claim.status();
    EXPECT_EQ(claim->state, AttemptClaim::State::kUnsettled) << owner;
    EXPECT_EQ(claim->sent_at, now_ + absl::Seconds(1)) << owner;
  }
}

TEST_F(RedisAttemptLedgerTest, ReleaseLeavesAnUnsettledAttempt) {
  ASSERT_TRUE(ledger_->Claim("a1", 1, "worker-1", now_).ok());
  ASSERT_TRUE(ledger_->MarkUnsettled("a1", 1, now_).ok());
  ASSERT_TRUE(ledger_->Release("a1", 1, "worker-1").ok());
  auto claim = ledger_->Claim("a1", 1, "worker-1", now_);
  ASSERT_TRUE(claim.ok()) << claim.status();
  EXPECT_EQ(claim->state, AttemptClaim::State::kUnsettled);
}

TEST_F(RedisAttemptLedgerTest, ExactlyOneOfManyConcurrentClaimsWins) {
  std::atomic<int> winners = 0;
  {
    std::vector<std::jthread> workers;
    for (int i = 0; i < 8; ++i) {
      workers.emplace_back([&, i] {
        auto claim = ledger_->Claim("race", 1, "worker-" + std::to_string(i), now_);
        ASSERT_TRUE(claim.ok()) << claim.status();
        if (claim->state == AttemptClaim::State::kClaimed) ++winners;
      });
    }
  }
  EXPECT_EQ(winners.load(), 1);
}

}  // namespace
}  // namespace klaxon::delivery
