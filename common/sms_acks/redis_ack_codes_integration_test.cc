// Needs a real Redis: KLAXON_TEST_REDIS_URL (scripts/test.sh starts one).
#include <gtest/gtest.h>

#include <memory>
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/sms_acks/redis_ack_codes.h"
#include "tests/support/redis.h"
#include "tests/support/support.h"

namespace klaxon::sms_acks {
namespace {

constexpr char kRecipient[] = "+14155550100";
const AckTarget kFirst{.alert_id = "0190a1b2-0000-7000-8000-000000000001", .caller = "billing"};
const AckTarget kSecond{.alert_id = "0190a1b2-0000-7000-8000-000000000002", .caller = "payments"};
// Step 2 of the escalation chain whose first page is kFirst (docs/adr/0029).
const AckTarget kSecondPage{.alert_id = "0190a1b2-0000-7000-8000-000000000003",
                            .caller = "billing",
                            .escalation_id = kFirst.alert_id,
                            .escalation_step = 2};

class RedisAckCodesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(klaxon::testing::ConnectTestRedis(redis_));
    keys_deleted_at_end_.Own(prefix_);
    auto redactor = log::PhoneRedactor::Create("0123456789abcdef-test-key");
    ASSERT_TRUE(redactor.ok()) << redactor.status();
    codes_ = std::make_unique<RedisAckCodes>(*redis_, prefix_, *redactor);
  }

  // Real time, since Redis expires keys by its own clock.
  // The one key the test's binds wrote ("" and a failure when there is not exactly one), and its
  // value.
  std::string OnlyKey() {
    absl::StatusOr<redis::Reply> keys = redis_->Command({"KEYS", prefix_ + "*"});
    EXPECT_TRUE(keys.ok()) << keys.status();
    if (!keys.ok() || keys->elements.size() != 1) {
      ADD_FAILURE() << "expected exactly one key under " << prefix_;
      return "";
    }
    return keys->elements[0].value_or("");
  }
  std::string ValueOf(const std::string& key) {
    absl::StatusOr<redis::Reply> value = redis_->Command({"GET", key});
    EXPECT_TRUE(value.ok()) << value.status();
    return value.ok() ? value->str : "";
  }

  // The test's keys go after everything else of it.
  klaxon::testing::KeysDeletedAtEnd keys_deleted_at_end_;
  const absl::Time later_ = absl::Now() + absl::Minutes(5);
  const std::string prefix_ = klaxon::testing::UniquePrefix();
  std::unique_ptr<redis::RedisClient> redis_;
  std::unique_ptr<RedisAckCodes> codes_;
};

TEST_F(RedisAckCodesTest, ABoundCodeFindsItsAlertAndCaller) {
  absl::StatusOr<bool> bound = codes_->Bind(kRecipient, "4821", kFirst, later_);
  ASSERT_TRUE(bound.ok()) << bound.status();
  EXPECT_TRUE(*bound);
  absl::StatusOr<std::optional<AckTarget>> found = codes_->Find(kRecipient, "4821", absl::Now());
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_EQ(*found, kFirst);
  EXPECT_FALSE(codes_->Find(kRecipient, "4822", absl::Now())->has_value());
  EXPECT_FALSE(codes_->Find("+14155550199", "4821", absl::Now())->has_value());
}

TEST_F(RedisAckCodesTest, APageOfAnEscalationFindsItsChainAndStep) {
  ASSERT_TRUE(*codes_->Bind(kRecipient, "4821", kSecondPage, later_));
  absl::StatusOr<std::optional<AckTarget>> found = codes_->Find(kRecipient, "4821", absl::Now());
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_EQ(*found, kSecondPage);
}

TEST_F(RedisAckCodesTest, ABindingOutsideAChainKeepsThePreviousVersionsValue) {
  ASSERT_TRUE(*codes_->Bind(kRecipient, "4821", kFirst, later_));
  EXPECT_EQ(ValueOf(OnlyKey()),
            absl::StrCat(absl::ToUnixMillis(later_), " ", kFirst.alert_id, " ", kFirst.caller))
      << "workers of the previous version must still read it";
}

TEST_F(RedisAckCodesTest, AValueThePreviousVersionWroteReadsAsNoChain) {
  ASSERT_TRUE(*codes_->Bind(kRecipient, "4821", kSecondPage, later_));
  const std::string key = OnlyKey();
  ASSERT_TRUE(redis_
                  ->Command({"SET", key,
                             absl::StrCat(absl::ToUnixMillis(later_), " ", kFirst.alert_id, " ",
                                          kFirst.caller),
                             "XX", "KEEPTTL"})
                  .ok());
  absl::StatusOr<std::optional<AckTarget>> found = codes_->Find(kRecipient, "4821", absl::Now());
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_EQ(*found, kFirst);
}

TEST_F(RedisAckCodesTest, ATakenCodeIsNotBoundAgainButAnotherRecipientsIs) {
  ASSERT_TRUE(*codes_->Bind(kRecipient, "4821", kFirst, later_));
  absl::StatusOr<bool> again = codes_->Bind(kRecipient, "4821", kSecond, later_);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_FALSE(*again);
  EXPECT_EQ(**codes_->Find(kRecipient, "4821", absl::Now()), kFirst);
  EXPECT_TRUE(*codes_->Bind("+14155550199", "4821", kSecond, later_));
}

TEST_F(RedisAckCodesTest, ACodeEndsAtItsUntilButStaysTakenForTheQuarantine) {
  ASSERT_TRUE(*codes_->Bind(kRecipient, "4821", kFirst, later_));
  EXPECT_TRUE(codes_->Find(kRecipient, "4821", later_ - absl::Seconds(1))->has_value());
  EXPECT_FALSE(codes_->Find(kRecipient, "4821", later_)->has_value());
  EXPECT_FALSE(*codes_->Bind(kRecipient, "4821", kSecond, later_ + absl::Hours(1)));
  absl::StatusOr<redis::Reply> ttl = redis_->Command({"PTTL", OnlyKey()});
  ASSERT_TRUE(ttl.ok()) << ttl.status();
  EXPECT_GT(ttl->integer, absl::ToInt64Milliseconds(AckCodes::kQuarantine));
}

TEST_F(RedisAckCodesTest, AnExpiredKeyFreesTheCode) {
  ASSERT_TRUE(*codes_->Bind(kRecipient, "4821", kFirst,
                            absl::Now() - AckCodes::kQuarantine + absl::Milliseconds(300)));
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
  EXPECT_TRUE(*codes_->Bind(kRecipient, "4821", kSecond, later_));
  EXPECT_EQ(**codes_->Find(kRecipient, "4821", absl::Now()), kSecond);
}

TEST_F(RedisAckCodesTest, NoKeyHoldsThePhoneNumber) {
  ASSERT_TRUE(*codes_->Bind(kRecipient, "4821", kFirst, later_));
  const std::string key = OnlyKey();
  EXPECT_EQ(key.find("4155550100"), std::string::npos) << key;
  EXPECT_NE(key.find("ack-code:"), std::string::npos) << key;
}

}  // namespace
}  // namespace klaxon::sms_acks
