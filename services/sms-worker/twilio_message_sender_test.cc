#include "services/sms-worker/twilio_message_sender.h"

#include <gtest/gtest.h>

#include "common/timing/fake_clock.h"
#include "google/protobuf/util/time_util.h"

namespace klaxon::sms {
namespace {

constexpr char kAlertId[] = "0190f1c4-7a3e-7b12-9c4d-1e2f3a4b5c6d";
const absl::Time kNow = absl::FromUnixSeconds(1'700'000'000);

events::v1::AlertRequested Request(uint32_t attempt) {
  events::v1::AlertRequested request;
  request.mutable_header()->set_alert_id(kAlertId);
  request.mutable_header()->set_attempt(attempt);
  return request;
}

const transit::AlertPersonalData kPersonal{.recipient = "+14155550100", .text = "disk full"};
const delivery::PacedSender kSender{.address = "+14155552671"};

TEST(MessageRequestForTest, CarriesRecipientSenderAndText) {
  const twilio::CreateMessageRequest message =
      MessageRequestFor(Request(1), kPersonal, kSender, {}, kNow);
  EXPECT_EQ(message.to, "+14155550100");
  EXPECT_EQ(message.from, "+14155552671");
  EXPECT_EQ(message.body, "disk full");
}

TEST(MessageRequestForTest, AMessagingServiceIsSentAsMessagingServiceSidWithNoFrom) {
  const twilio::CreateMessageRequest message =
      MessageRequestFor(Request(1), kPersonal,
                        {.address = "MG0123456789abcdef0123456789abcdef",
                         .kind = delivery::SenderKind::kMessagingService},
                        {}, kNow);
  EXPECT_EQ(message.messaging_service_sid, "MG0123456789abcdef0123456789abcdef");
  EXPECT_EQ(message.from, "");
}

TEST(MessageRequestForTest, StatusCallbackNamesAlertAndAttemptUnderPublicUrl) {
  const twilio::CreateMessageRequest message =
      MessageRequestFor(Request(2), kPersonal, kSender,
                        {.webhook_public_url = "https://hooks.example/klaxon/"}, kNow);
  EXPECT_EQ(message.status_callback,
            "https://hooks.example/klaxon/twilio/messages/status?alert_id=" +
                std::string(kAlertId) + "&attempt=2");
}

TEST(MessageRequestForTest, NoPublicUrlMeansNoStatusCallback) {
  EXPECT_FALSE(
      MessageRequestFor(Request(1), kPersonal, kSender, {}, kNow).status_callback.has_value());
}

events::v1::AlertRequested WithDeadline(absl::Time deadline) {
  events::v1::AlertRequested request = Request(1);
  *request.mutable_deadline() =
      google::protobuf::util::TimeUtil::NanosecondsToTimestamp(absl::ToUnixNanos(deadline));
  return request;
}

TEST(ValidityPeriodForTest, IsTheTimeLeftToTheDeadlineInWholeSeconds) {
  EXPECT_EQ(ValidityPeriodFor(WithDeadline(kNow + absl::Seconds(600.7)), kNow), absl::Seconds(600));
}

TEST(ValidityPeriodForTest, IsAtMostTwilios36000Seconds) {
  EXPECT_EQ(ValidityPeriodFor(WithDeadline(kNow + absl::Hours(11)), kNow), absl::Seconds(36000));
}

TEST(ValidityPeriodForTest, IsAtLeastOneSecond) {
  EXPECT_EQ(ValidityPeriodFor(WithDeadline(kNow + absl::Milliseconds(300)), kNow),
            absl::Seconds(1));
}

TEST(ValidityPeriodForTest, NoDeadlineMeansNoValidityPeriod) {
  EXPECT_FALSE(ValidityPeriodFor(Request(1), kNow).has_value());
}

TEST(MessageRequestForTest, CarriesTheValidityPeriod) {
  EXPECT_EQ(MessageRequestFor(WithDeadline(kNow + absl::Minutes(5)), kPersonal, kSender, {}, kNow)
                .validity_period,
            absl::Minutes(5));
}

const absl::Time kSentAt = absl::FromUnixSeconds(1'700'000'000);

twilio::MessageResource Listed(std::string sid, std::string body, absl::Time created) {
  twilio::MessageResource message;
  message.sid = std::move(sid);
  message.status = "queued";
  message.body = std::move(body);
  message.date_created = created;
  return message;
}

TEST(SettleFromMessagesTest, MessageWithAttemptBodySinceSentIsAccepted) {
  const delivery::SendResult result =
      SettleFromMessages({.resources = {Listed("SM2", "other", kSentAt + absl::Seconds(1)),
                                        Listed("SM1", "disk full", kSentAt)}},
                         kPersonal.text, kSentAt);
  EXPECT_EQ(result.kind, delivery::SendResult::Kind::kAccepted);
  EXPECT_EQ(result.sid, "SM1");
}

TEST(SettleFromMessagesTest, SameBodyBeforeTheAttemptIsNotIt) {
  EXPECT_EQ(
      SettleFromMessages({.resources = {Listed("SM1", "disk full", kSentAt - absl::Minutes(1))}},
                         kPersonal.text, kSentAt)
          .kind,
      delivery::SendResult::Kind::kRetryable);
}

TEST(SettleFromMessagesTest, WholeSecondStampJustBeforeSentAtStillMatches) {
  EXPECT_EQ(
      SettleFromMessages({.resources = {Listed("SM1", "disk full", kSentAt - absl::Seconds(1))}},
                         kPersonal.text, kSentAt)
          .kind,
      delivery::SendResult::Kind::kAccepted);
}

TEST(SettleFromMessagesTest, EmptyListIsNotTaken) {
  EXPECT_EQ(SettleFromMessages({}, kPersonal.text, kSentAt).kind,
            delivery::SendResult::Kind::kRetryable);
}

TEST(SettleFromMessagesTest, FullPageOfRecentOthersStaysUnknown) {
  EXPECT_EQ(SettleFromMessages({.resources = {Listed("SM2", "other", kSentAt + absl::Seconds(1))},
                                .has_more = true},
                               kPersonal.text, kSentAt)
                .kind,
            delivery::SendResult::Kind::kUnknown);
}

TEST(TwilioMessageSenderTest, UnreadableListLeavesSettlementUnknown) {
  // Nothing listens on port 1.
  auto client =
      twilio::TwilioRestClient::Create({.base_url = "http://127.0.0.1:1",
                                        .account_sid = "AC00000000000000000000000000000000",
                                        .auth_token = "token"});
  ASSERT_TRUE(client.ok()) << client.status();
  timing::FakeClock clock;
  TwilioMessageSender sender(**client, {}, clock);
  EXPECT_EQ(sender.Settle(Request(1), kPersonal, kSentAt).kind,
            delivery::SendResult::Kind::kUnknown);
}

TEST(ReadBackOfTest, SaysWhatAStatusCallbackWouldAndNoChargeBeforeTwilioPricedIt) {
  twilio::MessageResource message;
  message.sid = "SM1";
  message.account_sid = "AC1";
  message.status = "undelivered";
  message.error_code = 30003;
  const delivery::StatusReadBack read = ReadBackOf(message);
  const events::v1::TwilioEvent& event = read.status;
  ASSERT_TRUE(event.has_message_status());
  EXPECT_EQ(event.message_status().message_sid(), "SM1");
  EXPECT_EQ(event.message_status().account_sid(), "AC1");
  EXPECT_EQ(event.message_status().message_status(), "undelivered");
  EXPECT_EQ(event.message_status().error_code(), 30003);
  EXPECT_FALSE(read.charge.has_value());
}

TEST(ReadBackOfTest, APricedMessageSaysWhatItCostAndItsSegments) {
  twilio::MessageResource message;
  message.sid = "SM1";
  message.status = "delivered";
  message.num_segments = 3;
  message.charge = twilio::Charge{.micros = 23'700, .currency = "USD"};
  const delivery::StatusReadBack read = ReadBackOf(message);
  ASSERT_TRUE(read.charge.has_value());
  EXPECT_EQ(read.charge->sid(), "SM1");
  EXPECT_EQ(read.charge->amount_micros(), 23'700);
  EXPECT_EQ(read.charge->currency(), "USD");
  EXPECT_EQ(read.charge->segments(), 3u);
  EXPECT_EQ(read.charge->duration_seconds(), 0u);
}

TEST(TwilioMessageSenderTest, UnreadableMessageIsUnavailable) {
  // Nothing listens on port 1.
  auto client =
      twilio::TwilioRestClient::Create({.base_url = "http://127.0.0.1:1",
                                        .account_sid = "AC00000000000000000000000000000000",
                                        .auth_token = "token"});
  ASSERT_TRUE(client.ok()) << client.status();
  timing::FakeClock clock;
  TwilioMessageSender sender(**client, {}, clock);
  EXPECT_EQ(sender.ReadStatus(Request(1), "SM1").status().code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace klaxon::sms
