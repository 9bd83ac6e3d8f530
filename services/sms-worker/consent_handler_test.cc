#include "services/sms-worker/consent_handler.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

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

messaging::InboundMessage Keyword(bool opt_out, int64_t at_seconds) {
  events::v1::TwilioEvent event;
  event.mutable_header()->mutable_occurred_at()->set_seconds(at_seconds);
  events::v1::KeywordMessage& keyword =
      opt_out ? *event.mutable_opt_out() : *event.mutable_opt_in();
  keyword.set_from(kRecipient);
  keyword.set_keyword(opt_out ? "STOP" : "START");
  return {.topic = "klaxon.twilio.events", .key = kRecipient, .value = event.SerializeAsString()};
}

TEST(ConsentHandlerTest, OptOutSuppressesTheSenderAtItsTime) {
  FakeSuppressionList list;
  ConsentHandler handler(list);
  ASSERT_TRUE(handler.Handle(Keyword(true, 1'700'000'000)).ok());
  EXPECT_EQ(list.changes_.at(kRecipient),
            std::make_pair(true, absl::FromUnixSeconds(1'700'000'000)));
}

TEST(ConsentHandlerTest, OptInLiftsTheSender) {
  FakeSuppressionList list;
  ConsentHandler handler(list);
  ASSERT_TRUE(handler.Handle(Keyword(false, 1'700'000'000)).ok());
  EXPECT_FALSE(list.changes_.at(kRecipient).first);
}

TEST(ConsentHandlerTest, OtherEventsAreSkipped) {
  FakeSuppressionList list;
  ConsentHandler handler(list);
  events::v1::TwilioEvent event;
  event.mutable_inbound_message()->set_from(kRecipient);
  EXPECT_TRUE(handler.Handle({.value = event.SerializeAsString()}).ok());
  EXPECT_TRUE(list.changes_.empty());
}

TEST(ConsentHandlerTest, UnavailableListIsRetryable) {
  FakeSuppressionList list;
  list.status = absl::UnavailableError("redis down");
  ConsentHandler handler(list);
  EXPECT_EQ(handler.Handle(Keyword(true, 1'700'000'000)).code(), absl::StatusCode::kUnavailable);
}

TEST(ConsentHandlerTest, GarbageIsInvalidArgument) {
  FakeSuppressionList list;
  ConsentHandler handler(list);
  EXPECT_EQ(handler.Handle({.value = "\xff\xff"}).code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace klaxon::sms
