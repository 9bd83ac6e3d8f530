#include "common/sms_acks/ack_codes.h"

#include <gtest/gtest.h>

#include <deque>
#include <utility>

#include "common/sms_acks/ack_reply.h"
#include "common/sms_acks/in_memory_ack_codes.h"

namespace klaxon::sms_acks {
namespace {

constexpr char kRecipient[] = "+14155550100";
const absl::Time kUntil = absl::FromUnixSeconds(1'700'003'600);

// Gives the codes listed, in order.
class ListedCodes final : public crypto::CodeSource {
 public:
  explicit ListedCodes(std::deque<std::string> codes) : codes_(std::move(codes)) {}
  absl::StatusOr<std::string> Mint(int length) override {
    EXPECT_EQ(length, kAckCodeLength);
    if (codes_.empty()) return absl::InternalError("no code left");
    std::string code = codes_.front();
    codes_.pop_front();
    return code;
  }

 private:
  std::deque<std::string> codes_;
};

const AckTarget kFirst{.alert_id = "0190a1b2-0000-7000-8000-000000000001", .caller = "billing"};
const AckTarget kSecond{.alert_id = "0190a1b2-0000-7000-8000-000000000002", .caller = "billing"};

TEST(AckCodeAssignerTest, BindsTheFirstCodeDrawnWhenItIsFree) {
  InMemoryAckCodes codes;
  ListedCodes source({"4821"});
  AckCodeAssigner assigner(codes, source);
  absl::StatusOr<std::string> code = assigner.Assign(kRecipient, kFirst, kUntil);
  ASSERT_TRUE(code.ok()) << code.status();
  EXPECT_EQ(*code, "4821");
  absl::StatusOr<std::optional<AckTarget>> found = codes.Find(kRecipient, "4821");
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_EQ(*found, kFirst);
}

TEST(AckCodeAssignerTest, DrawsAgainWhenTheRecipientsCodeIsTakenButNotAnothersRecipients) {
  InMemoryAckCodes codes;
  ListedCodes source({"4821", "4821", "4821", "7730"});
  AckCodeAssigner assigner(codes, source);
  ASSERT_EQ(*assigner.Assign(kRecipient, kFirst, kUntil), "4821");
  // Another number may hold the same code: a reply names its sender.
  ASSERT_EQ(*assigner.Assign("+14155550199", kSecond, kUntil), "4821");
  absl::StatusOr<std::string> second = assigner.Assign(kRecipient, kSecond, kUntil);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(*second, "7730");
  EXPECT_EQ(**codes.Find(kRecipient, "4821"), kFirst);
  EXPECT_EQ(**codes.Find(kRecipient, "7730"), kSecond);
}

TEST(AckCodeAssignerTest, GivesUpSayingWhyAfterTooManyTakenCodes) {
  InMemoryAckCodes codes;
  ASSERT_TRUE(*codes.Bind(kRecipient, "1111", kFirst, kUntil));
  ListedCodes source(std::deque<std::string>(AckCodeAssigner::kDraws, "1111"));
  AckCodeAssigner assigner(codes, source);
  absl::StatusOr<std::string> code = assigner.Assign(kRecipient, kSecond, kUntil);
  EXPECT_EQ(code.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(code.status().message().find("ack_by_reply"), std::string::npos);
}

TEST(AckCodeAssignerTest, PassesTheStoresFailureOn) {
  InMemoryAckCodes codes;
  codes.FailWith(absl::UnavailableError("redis is down"));
  ListedCodes source({"4821"});
  AckCodeAssigner assigner(codes, source);
  EXPECT_EQ(assigner.Assign(kRecipient, kFirst, kUntil).status().code(),
            absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace klaxon::sms_acks
