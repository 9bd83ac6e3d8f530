// Needs a real Redis: KLAXON_TEST_REDIS_URL (scripts/test.sh starts one). The ledger as ingress
// replicas write it and the workers' status checks read it, each with a client of its own.
#include <gtest/gtest.h>

#include <memory>

#include "common/callbacks/redis_callback_ledger.h"
#include "tests/support/redis.h"
#include "tests/support/support.h"

namespace klaxon::callbacks {
namespace {

class RedisCallbackLedgerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (std::unique_ptr<redis::RedisClient>* client : {&ingress_redis_, &worker_redis_}) {
      auto created = redis::RedisClient::Create(
          {.url = klaxon::testing::RequiredEnv("KLAXON_TEST_REDIS_URL")});
      ASSERT_TRUE(created.ok()) << created.status();
      *client = *std::move(created);
    }
    const RedisCallbackLedgerOptions options{.key_prefix = klaxon::testing::UniquePrefix()};
    keys_deleted_at_end_.Own(options.key_prefix);
    ingress_ = std::make_unique<RedisCallbackLedger>(*ingress_redis_, options);
    worker_ = std::make_unique<RedisCallbackLedger>(*worker_redis_, options);
  }

  // The test's keys go after everything else of it.
  klaxon::testing::KeysDeletedAtEnd keys_deleted_at_end_;
  std::unique_ptr<redis::RedisClient> ingress_redis_;
  std::unique_ptr<redis::RedisClient> worker_redis_;
  std::unique_ptr<RedisCallbackLedger> ingress_;
  std::unique_ptr<RedisCallbackLedger> worker_;
};

TEST_F(RedisCallbackLedgerTest, NothingRecordedReadsAsNoFinalAndNoLoss) {
  absl::StatusOr<CallbackRecord> record = worker_->Read("SM1");
  ASSERT_TRUE(record.ok()) << record.status();
  EXPECT_FALSE(record->final_arrived);
  EXPECT_EQ(record->lost_at, std::nullopt);
}

TEST_F(RedisCallbackLedgerTest, AFinalStatusIsSeenForItsSidOnly) {
  ASSERT_TRUE(ingress_->RecordFinal({"SM1"}).front().ok());
  EXPECT_TRUE(worker_->Read("SM1")->final_arrived);
  EXPECT_FALSE(worker_->Read("CA1")->final_arrived);
}

TEST_F(RedisCallbackLedgerTest, AFinalStatusIsKeptLongerThanTheStatusChecksRun) {
  ASSERT_TRUE(ingress_->RecordFinal({"SM1"}).front().ok());
  absl::StatusOr<redis::Reply> ttl = ingress_redis_->Command({"PTTL", ingress_->FinalKey("SM1")});
  ASSERT_TRUE(ttl.ok()) << ttl.status();
  EXPECT_GT(ttl->integer, absl::ToInt64Milliseconds(absl::Hours(11)));
  EXPECT_LE(ttl->integer, absl::ToInt64Milliseconds(absl::Hours(12)));
}

TEST_F(RedisCallbackLedgerTest, TheLatestLossWinsWhateverOrderReplicasWriteIn) {
  const absl::Time later = absl::FromUnixMillis(1'700'000'060'000);
  const absl::Time earlier = later - absl::Minutes(1);
  ASSERT_TRUE(ingress_->RecordLoss(later).ok());
  ASSERT_TRUE(worker_->RecordLoss(earlier).ok());  // a replica that writes late
  EXPECT_EQ(worker_->Read("SM1")->lost_at, later);
  ASSERT_TRUE(ingress_->RecordLoss(later + absl::Seconds(1)).ok());
  EXPECT_EQ(worker_->Read("SM1")->lost_at, later + absl::Seconds(1));
}

TEST_F(RedisCallbackLedgerTest, AnEmptySidIsRefused) {
  EXPECT_EQ(ingress_->RecordFinal({""}).front().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace klaxon::callbacks
