// Needs a real Redis: KLAXON_TEST_REDIS_URL (scripts/test.sh starts one).
#include <gtest/gtest.h>

#include "services/delivery/redis_suppression_list.h"
#include "tests/support/redis.h"
#include "tests/support/support.h"

namespace klaxon::delivery {
namespace {

constexpr char kRecipient[] = "+14155550100";

class RedisSuppressionListTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(klaxon::testing::ConnectTestRedis(redis_));
    keys_deleted_at_end_.Own(prefix_);
    auto redactor = log::PhoneRedactor::Create("0123456789abcdef-test-key");
    ASSERT_TRUE(redactor.ok()) << redactor.status();
    list_ = std::make_unique<RedisSuppressionList>(*redis_, prefix_, *redactor);
  }

  bool Suppressed(std::string_view recipient) {
    absl::StatusOr<bool> suppressed = list_->IsSuppressed(recipient);
    EXPECT_TRUE(suppressed.ok()) << suppressed.status();
    return suppressed.value_or(false);
  }

  // The test's keys go after everything else of it.
  klaxon::testing::KeysDeletedAtEnd keys_deleted_at_end_;
  const absl::Time t0_ = absl::FromUnixMillis(1'700'000'000'000);
  const std::string prefix_ = klaxon::testing::UniquePrefix();
  std::unique_ptr<redis::RedisClient> redis_;
  std::unique_ptr<RedisSuppressionList> list_;
};

TEST_F(RedisSuppressionListTest, UnknownRecipientIsNotSuppressed) {
  EXPECT_FALSE(Suppressed(kRecipient));
}

TEST_F(RedisSuppressionListTest, SuppressedRecipientIsSuppressedAndOthersAreNot) {
  ASSERT_TRUE(list_->Suppress(kRecipient, t0_).ok());
  EXPECT_TRUE(Suppressed(kRecipient));
  EXPECT_FALSE(Suppressed("+14155550101"));
}

TEST_F(RedisSuppressionListTest, NewerLiftEndsTheSuppression) {
  ASSERT_TRUE(list_->Suppress(kRecipient, t0_).ok());
  ASSERT_TRUE(list_->Lift(kRecipient, t0_ + absl::Seconds(1)).ok());
  EXPECT_FALSE(Suppressed(kRecipient));
}

TEST_F(RedisSuppressionListTest, OlderLiftConsumedLateDoesNotUndoANewerSuppression) {
  ASSERT_TRUE(list_->Suppress(kRecipient, t0_ + absl::Seconds(1)).ok());
  ASSERT_TRUE(list_->Lift(kRecipient, t0_).ok());
  EXPECT_TRUE(Suppressed(kRecipient));
}

TEST_F(RedisSuppressionListTest, KeyHoldsNoPhoneNumber) {
  ASSERT_TRUE(list_->Suppress(kRecipient, t0_).ok());
  absl::StatusOr<redis::Reply> keys = redis_->Command({"KEYS", prefix_ + "*"});
  ASSERT_TRUE(keys.ok()) << keys.status();
  ASSERT_EQ(keys->elements.size(), 1u);
  EXPECT_EQ(keys->elements[0]->find("4155550100"), std::string::npos);
}

}  // namespace
}  // namespace klaxon::delivery
