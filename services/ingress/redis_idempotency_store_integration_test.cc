// Needs a real Redis: KLAXON_TEST_REDIS_URL (scripts/test.sh starts one).
#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "services/ingress/redis_idempotency_store.h"
#include "tests/support/redis.h"
#include "tests/support/support.h"

namespace klaxon::ingress {
namespace {

class RedisIdempotencyStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(klaxon::testing::ConnectTestRedis(redis_));
    prefix_ = klaxon::testing::UniquePrefix();
    keys_deleted_at_end_.Own(prefix_);
    store_ = std::make_unique<RedisIdempotencyStore>(*redis_, prefix_);
  }
  // The test's keys go after everything else of it.
  klaxon::testing::KeysDeletedAtEnd keys_deleted_at_end_;
  std::unique_ptr<redis::RedisClient> redis_;
  std::string prefix_;
  std::unique_ptr<RedisIdempotencyStore> store_;
};

TEST_F(RedisIdempotencyStoreTest, FirstReservationWinsAndIsReturnedToLaterOnes) {
  auto first = store_->Reserve("billing", "k", {.alert_id = "a1", .request_fingerprint = "f"},
                               absl::Hours(1));
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->alert_id, "a1");
  EXPECT_FALSE(first->published);
  auto second = store_->Reserve("billing", "k", {.alert_id = "a2", .request_fingerprint = "g"},
                                absl::Hours(1));
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->alert_id, "a1");
  EXPECT_EQ(second->request_fingerprint, "f");
}

TEST_F(RedisIdempotencyStoreTest, MarkPublishedIsSeenByLaterReservations) {
  ASSERT_TRUE(store_->Reserve("billing", "k", {.alert_id = "a1"}, absl::Hours(1)).ok());
  ASSERT_TRUE(store_->MarkPublished("billing", "k").ok());
  auto again = store_->Reserve("billing", "k", {.alert_id = "a2"}, absl::Hours(1));
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE(again->published);
}

TEST_F(RedisIdempotencyStoreTest, ABatchAnswersEachRecordInOrder) {
  ASSERT_TRUE(store_->Reserve("billing", "k2", {.alert_id = "a0"}, absl::Hours(1)).ok());
  const std::vector<NewRecord> records = {
      {.caller = "billing", .key = "k1", .candidate = {.alert_id = "a1"}, .window = absl::Hours(1)},
      {.caller = "billing", .key = "k2", .candidate = {.alert_id = "a2"}, .window = absl::Hours(1)},
      {.caller = "billing", .key = "k1", .candidate = {.alert_id = "a3"}, .window = absl::Hours(1)},
      {.caller = "payments",
       .key = "k1",
       .candidate = {.alert_id = "a4"},
       .window = absl::Hours(1)}};
  std::vector<absl::StatusOr<IdempotencyRecord>> answers = store_->ReserveAll(records);
  ASSERT_EQ(answers.size(), 4u);
  std::vector<std::string> ids;
  for (const absl::StatusOr<IdempotencyRecord>& answer : answers) {
    ASSERT_TRUE(answer.ok()) << answer.status();
    ids.push_back(answer->alert_id);
  }
  // k2 was taken before the batch; the second k1 finds the first's record.
  EXPECT_EQ(ids, (std::vector<std::string>{"a1", "a0", "a1", "a4"}));
  auto owner = store_->FindOwner("a4");
  ASSERT_TRUE(owner.ok()) << owner.status();
  ASSERT_TRUE(owner->has_value());
  EXPECT_EQ((*owner)->caller, "payments");

  const std::vector<RecordKey> keys = {{.caller = "billing", .key = "k1"},
                                       {.caller = "payments", .key = "k1"}};
  for (const absl::Status& marked : store_->MarkAllPublished(keys))
    ASSERT_TRUE(marked.ok()) << marked;
  EXPECT_TRUE((*store_->Find("billing", "k1"))->published);
  EXPECT_TRUE((*store_->Find("payments", "k1"))->published);
  EXPECT_FALSE((*store_->Find("billing", "k2"))->published);
}

TEST_F(RedisIdempotencyStoreTest, FindReadsTheRecordWithoutMakingOne) {
  auto none = store_->Find("billing", "k");
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_FALSE(none->has_value());
  auto still_none = store_->Find("billing", "k");
  ASSERT_TRUE(still_none.ok()) << still_none.status();
  EXPECT_FALSE(still_none->has_value()) << "Find must not create the record";

  ASSERT_TRUE(
      store_
          ->Reserve(
              "billing", "k",
              {.alert_id = "a1", .request_fingerprint = "f", .channel = types::v1::CHANNEL_VOICE},
              absl::Hours(1))
          .ok());
  ASSERT_TRUE(store_->MarkPublished("billing", "k").ok());
  auto found = store_->Find("billing", "k");
  ASSERT_TRUE(found.ok()) << found.status();
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ((*found)->alert_id, "a1");
  EXPECT_EQ((*found)->request_fingerprint, "f");
  EXPECT_TRUE((*found)->published);
  EXPECT_EQ((*found)->channel, types::v1::CHANNEL_VOICE);
  auto other_caller = store_->Find("payments", "k");
  ASSERT_TRUE(other_caller.ok()) << other_caller.status();
  EXPECT_FALSE(other_caller->has_value());
}

TEST_F(RedisIdempotencyStoreTest, CallersHaveSeparateKeySpaces) {
  ASSERT_TRUE(store_->Reserve("billing", "k", {.alert_id = "a1"}, absl::Hours(1)).ok());
  auto other = store_->Reserve("payments", "k", {.alert_id = "a2"}, absl::Hours(1));
  ASSERT_TRUE(other.ok()) << other.status();
  EXPECT_EQ(other->alert_id, "a2");
}

TEST_F(RedisIdempotencyStoreTest, RecordExpiresAfterTheWindow) {
  ASSERT_TRUE(store_->Reserve("billing", "k", {.alert_id = "a1"}, absl::Milliseconds(50)).ok());
  const absl::Time deadline = absl::Now() + absl::Seconds(5);
  absl::StatusOr<IdempotencyRecord> later;
  do {
    later = store_->Reserve("billing", "k", {.alert_id = "a2"}, absl::Hours(1));
    ASSERT_TRUE(later.ok()) << later.status();
  } while (later->alert_id == "a1" && absl::Now() < deadline);
  EXPECT_EQ(later->alert_id, "a2");
}

TEST_F(RedisIdempotencyStoreTest, ConcurrentReservationsAgreeOnOneAlert) {
  std::vector<std::string> winners(8);
  {
    std::vector<std::jthread> threads;
    for (size_t i = 0; i < winners.size(); ++i) {
      threads.emplace_back([&, i] {
        auto record = store_->Reserve("billing", "race", {.alert_id = "a" + std::to_string(i)},
                                      absl::Hours(1));
        ASSERT_TRUE(record.ok()) << record.status();
        winners[i] = record->alert_id;
      });
    }
  }
  for (const std::string& winner : winners) EXPECT_EQ(winner, winners[0]);
}

TEST_F(RedisIdempotencyStoreTest, ReservationRecordsTheAlertsOwner) {
  ASSERT_TRUE(store_
                  ->Reserve("billing", "k", {.alert_id = "a1", .channel = types::v1::CHANNEL_VOICE},
                            absl::Hours(1))
                  .ok());
  auto owner = store_->FindOwner("a1");
  ASSERT_TRUE(owner.ok()) << owner.status();
  EXPECT_EQ(*owner, (AlertOwner{.caller = "billing", .channel = types::v1::CHANNEL_VOICE}));
}

TEST_F(RedisIdempotencyStoreTest, AnOwnerRecordsThePagesPlaceInItsEscalationChain) {
  const ChainPosition chain{.escalation_id = "a0", .step = 3};
  ASSERT_TRUE(store_
                  ->Reserve("billing", "k/p4",
                            {.alert_id = "a4", .channel = types::v1::CHANNEL_SMS, .chain = chain},
                            absl::Hours(1))
                  .ok());
  auto owner = store_->FindOwner("a4");
  ASSERT_TRUE(owner.ok()) << owner.status();
  EXPECT_EQ(*owner,
            (AlertOwner{.caller = "billing", .channel = types::v1::CHANNEL_SMS, .chain = chain}));
}

TEST_F(RedisIdempotencyStoreTest, OwnerExpiresWithTheWindow) {
  ASSERT_TRUE(store_->Reserve("billing", "k", {.alert_id = "a1"}, absl::Minutes(5)).ok());
  auto ttl = redis_->Command({"PTTL", prefix_ + "alert-caller:a1"});
  ASSERT_TRUE(ttl.ok()) << ttl.status();
  EXPECT_GT(ttl->integer, 4 * 60 * 1000);
  EXPECT_LE(ttl->integer, 5 * 60 * 1000);
}

TEST_F(RedisIdempotencyStoreTest, LosingCandidateIsNobodysAlert) {
  ASSERT_TRUE(store_->Reserve("billing", "k", {.alert_id = "a1"}, absl::Hours(1)).ok());
  ASSERT_TRUE(store_->Reserve("billing", "k", {.alert_id = "a2"}, absl::Hours(1)).ok());
  auto owner = store_->FindOwner("a2");
  ASSERT_TRUE(owner.ok()) << owner.status();
  EXPECT_FALSE(owner->has_value());
}

}  // namespace
}  // namespace klaxon::ingress
