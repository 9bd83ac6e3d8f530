// Needs a real Redis: KLAXON_TEST_REDIS_URL (scripts/test.sh starts one).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "services/voice-worker/redis_escalation_store.h"
#include "tests/support/redis.h"
#include "tests/support/support.h"

namespace klaxon::voice {
namespace {

using ::testing::ElementsAre;
using ::testing::UnorderedElementsAre;

constexpr char kAlert[] = "0190f1c4-7a3e-7b12-9c4d-1e2f3a4b5c6d";
constexpr char kRecipient[] = "+14155550100";

class RedisEscalationStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(klaxon::testing::ConnectTestRedis(redis_));
    keys_deleted_at_end_.Own(prefix_);
    auto redactor = log::PhoneRedactor::Create("0123456789abcdef-test-key");
    ASSERT_TRUE(redactor.ok()) << redactor.status();
    store_ = std::make_unique<RedisEscalationStore>(*redis_, prefix_);
    recipients_ = std::make_unique<RedisRecipientAlerts>(*redis_, prefix_, *redactor);
  }

  // The test's keys go after everything else of it.
  klaxon::testing::KeysDeletedAtEnd keys_deleted_at_end_;
  // Real time, since Redis expires keys by its own clock.
  const absl::Time later_ = absl::Now() + absl::Minutes(5);
  const std::string prefix_ = klaxon::testing::UniquePrefix();
  std::unique_ptr<redis::RedisClient> redis_;
  std::unique_ptr<RedisEscalationStore> store_;
  std::unique_ptr<RedisRecipientAlerts> recipients_;
};

TEST_F(RedisEscalationStoreTest, RememberedRequestIsFound) {
  events::v1::AlertRequested request;
  request.mutable_header()->set_alert_id(kAlert);
  request.mutable_voice()->set_max_calls(2);
  ASSERT_TRUE(store_->Remember(request, later_).ok());
  absl::StatusOr<std::optional<events::v1::AlertRequested>> found = store_->Find(kAlert);
  ASSERT_TRUE(found.ok()) << found.status();
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ((*found)->voice().max_calls(), 2u);
}

TEST_F(RedisEscalationStoreTest, UnknownAlertIsNotFound) {
  absl::StatusOr<std::optional<events::v1::AlertRequested>> found = store_->Find(kAlert);
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_FALSE(found->has_value());
}

TEST_F(RedisEscalationStoreTest, StateExpiresAtKeepUntil) {
  events::v1::AlertRequested request;
  request.mutable_header()->set_alert_id(kAlert);
  ASSERT_TRUE(store_->Remember(request, later_).ok());
  absl::StatusOr<redis::Reply> ttl =
      redis_->Command({"PTTL", prefix_ + "escalation:" + std::string(kAlert)});
  ASSERT_TRUE(ttl.ok()) << ttl.status();
  EXPECT_GT(ttl->integer, absl::ToInt64Milliseconds(absl::Minutes(4)));
  EXPECT_LE(ttl->integer, absl::ToInt64Milliseconds(absl::Minutes(5)));
}

TEST_F(RedisEscalationStoreTest, StepIsClaimedOnceUntilReleased) {
  EXPECT_EQ(store_->ClaimStep(kAlert, "after-call-1", later_).value_or(false), true);
  EXPECT_EQ(store_->ClaimStep(kAlert, "after-call-1", later_).value_or(true), false);
  EXPECT_EQ(store_->ClaimStep(kAlert, "after-call-2", later_).value_or(false), true);
  ASSERT_TRUE(store_->ReleaseStep(kAlert, "after-call-1").ok());
  EXPECT_EQ(store_->ClaimStep(kAlert, "after-call-1", later_).value_or(false), true);
}

TEST_F(RedisEscalationStoreTest, RecipientListsItsAlertsUntilRemoved) {
  ASSERT_TRUE(recipients_->Add(kRecipient, "a1", later_).ok());
  ASSERT_TRUE(recipients_->Add(kRecipient, "a2", later_).ok());
  ASSERT_TRUE(recipients_->Add("+14155550101", "a3", later_).ok());
  EXPECT_THAT(*recipients_->List(kRecipient, absl::Now()), UnorderedElementsAre("a1", "a2"));
  ASSERT_TRUE(recipients_->Remove(kRecipient, "a1").ok());
  EXPECT_THAT(*recipients_->List(kRecipient, absl::Now()), ElementsAre("a2"));
}

TEST_F(RedisEscalationStoreTest, RecipientsAlertPastItsUntilIsNotListed) {
  ASSERT_TRUE(recipients_->Add(kRecipient, "a1", later_).ok());
  EXPECT_TRUE(recipients_->List(kRecipient, later_)->empty());
}

TEST_F(RedisEscalationStoreTest, RecipientKeyHoldsNoPhoneNumber) {
  ASSERT_TRUE(recipients_->Add(kRecipient, "a1", later_).ok());
  absl::StatusOr<redis::Reply> keys = redis_->Command({"KEYS", prefix_ + "*"});
  ASSERT_TRUE(keys.ok()) << keys.status();
  ASSERT_EQ(keys->elements.size(), 1u);
  EXPECT_EQ(keys->elements[0]->find("4155550100"), std::string::npos);
}

}  // namespace
}  // namespace klaxon::voice
