#include "services/sms-worker/twilio_message_sender.h"

#include <gtest/gtest.h>

namespace klaxon::sms {
namespace {

constexpr char kAlertId[] = "0190f1c4-7a3e-7b12-9c4d-1e2f3a4b5c6d";

events::v1::AlertRequested Request(uint32_t attempt) {
  events::v1::AlertRequested request;
  request.mutable_header()->set_alert_id(kAlertId);
  request.mutable_header()->set_attempt(attempt);
  request.set_recipient("+14155550100");
  request.set_text("disk full");
  return request;
}

TEST(MessageRequestForTest, CarriesRecipientSenderAndText) {
  const twilio::CreateMessageRequest message =
      MessageRequestFor(Request(1), {.from = "+14155552671"});
  EXPECT_EQ(message.to, "+14155550100");
  EXPECT_EQ(message.from, "+14155552671");
  EXPECT_EQ(message.body, "disk full");
}

TEST(MessageRequestForTest, StatusCallbackNamesAlertAndAttemptUnderPublicUrl) {
  const twilio::CreateMessageRequest message = MessageRequestFor(
      Request(2), {.from = "+14155552671", .webhook_public_url = "https://hooks.example/klaxon/"});
  EXPECT_EQ(message.status_callback,
            "https://hooks.example/klaxon/twilio/messages/status?alert_id=" +
                std::string(kAlertId) + "&attempt=2");
}

TEST(MessageRequestForTest, NoPublicUrlMeansNoStatusCallback) {
  EXPECT_FALSE(MessageRequestFor(Request(1), {.from = "+14155552671"}).status_callback.has_value());
}

}  // namespace
}  // namespace klaxon::sms
