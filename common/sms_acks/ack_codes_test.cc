#include "common/sms_acks/ack_codes.h"

#include <gtest/gtest.h>

#include <utility>

#include "common/crypto/listed_codes.h"
#include "common/sms_acks/ack_reply.h"
#include "common/sms_acks/in_memory_ack_codes.h"

namespace klaxon::sms_acks {
namespace {

constexpr char kRecipient[] = "+14155550100";
const absl::Time kNow = absl::FromUnixSeconds(1'700'000'000);
const absl::Time kUntil = kNow + absl::Hours(1);

const AckTarget kFirst{.alert_id = "0190a1b2-0000-7000-8000-000000000001", .caller = "billing"};
const AckTarget kSecond{.alert_id = "0190a1b2-0000-7000-8000-000000000002", .caller = "billing"};

TEST(AckCodeAssignerTest, BindsTheFirstCodeDrawnWhenItIsFree) {
  InMemoryAckCodes codes;
  crypto::ListedCodes source({"4821"});
  AckCodeAssigner assigner(codes, source);
  absl::StatusOr<std::string> code = assigner.Assign(kRecipient, kFirst, kUntil);
  ASSERT_TRUE(code.ok()) << code.status();
  EXPECT_EQ(*code, "4821");
  absl::StatusOr<std::optional<AckTarget>> found = codes.Find(kRecipient, "4821", kNow);
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_EQ(*found, kFirst);
}

TEST(AckCodeAssignerTest, DrawsAgainWhenTheRecipientsCodeIsTakenButNotAnothersRecipients) {
  InMemoryAckCodes codes;
  crypto::ListedCodes source({"4821", "4821", "4821", "7730"});
  AckCodeAssigner assigner(codes, source);
  ASSERT_EQ(*assigner.Assign(kRecipient, kFirst, kUntil), "4821");
  // Another number may hold the same code: a reply names its sender.
  ASSERT_EQ(*assigner.Assign("+14155550199", kSecond, kUntil), "4821");
  absl::StatusOr<std::string> second = assigner.Assign(kRecipient, kSecond, kUntil);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(*second, "7730");
  EXPECT_EQ(**codes.Find(kRecipient, "4821", kNow), kFirst);
  EXPECT_EQ(**codes.Find(kRecipient, "7730", kNow), kSecond);
}

TEST(AckCodeAssignerTest, GivesUpSayingWhyAfterTooManyTakenCodes) {
  InMemoryAckCodes codes;
  ASSERT_TRUE(*codes.Bind(kRecipient, "1111", kFirst, kUntil));
  crypto::ListedCodes source(std::vector<std::string>(AckCodeAssigner::kDraws, "1111"));
  AckCodeAssigner assigner(codes, source);
  absl::StatusOr<std::string> code = assigner.Assign(kRecipient, kSecond, kUntil);
  EXPECT_EQ(code.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(code.status().message().find("ack_by_reply"), std::string::npos);
}

TEST(InMemoryAckCodesTest, ACodeEndsAtItsUntilAndStaysTakenForTheQuarantine) {
  InMemoryAckCodes codes;
  ASSERT_TRUE(*codes.Bind(kRecipient, "4821", kFirst, kUntil));
  EXPECT_TRUE(codes.Find(kRecipient, "4821", kUntil - absl::Seconds(1))->has_value());
  EXPECT_FALSE(codes.Find(kRecipient, "4821", kUntil)->has_value());
  codes.SetNow(kUntil + AckCodes::kQuarantine - absl::Seconds(1));
  EXPECT_FALSE(*codes.Bind(kRecipient, "4821", kSecond, kUntil + AckCodes::kQuarantine));
  codes.SetNow(kUntil + AckCodes::kQuarantine);
  EXPECT_TRUE(*codes.Bind(kRecipient, "4821", kSecond, kUntil + 2 * AckCodes::kQuarantine));
}

TEST(AckCodeAssignerTest, PassesTheStoresFailureOn) {
  InMemoryAckCodes codes;
  codes.FailWith(absl::UnavailableError("redis is down"));
  crypto::ListedCodes source({"4821"});
  AckCodeAssigner assigner(codes, source);
  EXPECT_EQ(assigner.Assign(kRecipient, kFirst, kUntil).status().code(),
            absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace klaxon::sms_acks
