#include "services/sms-worker/consent_handler.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

#include "common/transit/testing.h"
#include "klaxon/events/v1/events.pb.h"

namespace klaxon::sms {
namespace {

constexpr char kRecipient[] = "+14155550100";

// Records each recipient's latest change with its time.
class FakeSuppressionList final : public delivery::SuppressionList {
 public:
  absl::StatusOr<bool> IsSuppressed(std::string_view recipient) override {
    const auto it = changes_.find(std::string(recipient));
    return it != changes_.end() && it->second.first;
  }
  absl::Status Suppress(std::string_view recipient, absl::Time at) override {
    return Change(recipient, true, at);
  }
  absl::Status Lift(std::string_view recipient, absl::Time at) override {
    return Change(recipient, false, at);
  }
  absl::Status status = absl::OkStatus();
  std::map<std::string, std::pair<bool, absl::Time>> changes_;

 private:
  absl::Status Change(std::string_view recipient, bool suppressed, absl::Time at) {
    if (!status.ok()) return status;
    changes_[std::string(recipient)] = {suppressed, at};
    return absl::OkStatus();
  }
};

transit::testing::TestTransit& Transit() {
  static transit::testing::TestTransit* transit = new transit::testing::TestTransit;
  return *transit;
}

messaging::InboundMessage Keyword(bool opt_out, int64_t at_seconds) {
  events::v1::TwilioEvent event;
  event.mutable_header()->mutable_occurred_at()->set_seconds(at_seconds);
  events::v1::KeywordMessage& keyword =
      opt_out ? *event.mutable_opt_out() : *event.mutable_opt_in();
  keyword.set_message_sid("SM1");
  keyword.set_keyword(opt_out ? "STOP" : "START");
  Transit().Seal(keyword, kRecipient);
  return {.topic = "klaxon.twilio.events", .key = "token", .value = event.SerializeAsString()};
}

TEST(ConsentHandlerTest, OptOutSuppressesTheSenderAtItsTime) {
  FakeSuppressionList list;
  ConsentHandler handler(list, Transit().cipher());
  ASSERT_TRUE(handler.Handle(Keyword(true, 1'700'000'000)).ok());
  EXPECT_EQ(list.changes_.at(kRecipient),
            std::make_pair(true, absl::FromUnixSeconds(1'700'000'000)));
}

TEST(ConsentHandlerTest, OptInLiftsTheSender) {
  FakeSuppressionList list;
  ConsentHandler handler(list, Transit().cipher());
  ASSERT_TRUE(handler.Handle(Keyword(false, 1'700'000'000)).ok());
  EXPECT_FALSE(list.changes_.at(kRecipient).first);
}

TEST(ConsentHandlerTest, OtherEventsAreSkipped) {
  FakeSuppressionList list;
  ConsentHandler handler(list, Transit().cipher());
  events::v1::TwilioEvent event;
  event.mutable_inbound_message()->set_message_sid("SM1");
  Transit().Seal(*event.mutable_inbound_message(), kRecipient, "hello");
  EXPECT_TRUE(handler.Handle({.value = event.SerializeAsString()}).ok());
  EXPECT_TRUE(list.changes_.empty());
}

TEST(ConsentHandlerTest, UnavailableListIsRetryable) {
  FakeSuppressionList list;
  list.status = absl::UnavailableError("redis down");
  ConsentHandler handler(list, Transit().cipher());
  EXPECT_EQ(handler.Handle(Keyword(true, 1'700'000'000)).code(), absl::StatusCode::kUnavailable);
}

TEST(ConsentHandlerTest, AnOptOutWhoseSenderCannotBeOpenedChangesNothing) {
  FakeSuppressionList list;
  ConsentHandler handler(list, Transit().cipher());
  events::v1::TwilioEvent event;
  event.mutable_opt_out()->set_message_sid("SM1");
  EXPECT_EQ(handler.Handle({.value = event.SerializeAsString()}).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(list.changes_.empty());
}

TEST(ConsentHandlerTest, GarbageIsInvalidArgument) {
  FakeSuppressionList list;
  ConsentHandler handler(list, Transit().cipher());
  EXPECT_EQ(handler.Handle({.value = "\xff\xff"}).code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace klaxon::sms
