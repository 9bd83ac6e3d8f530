#include "services/ingress/twilio_webhook.h"

#include "common/transit/testing.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace klaxon::ingress {
namespace {

using ::testing::HasSubstr;

constexpr char kAlertId[] = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b";

class InterpretWebhookTest : public ::testing::Test {
 protected:
  absl::StatusOr<InterpretedWebhook> Interpret(WebhookRoute route, http::FormParams params,
                                               http::FormParams query = {},
                                               std::optional<std::string> token = std::nullopt) {
    params_ = std::move(params);
    query_ = std::move(query);
    return InterpretWebhook({.route = route,
                             .params = &params_,
                             .url_query = &query_,
                             .idempotency_token = std::move(token),
                             .received_at = absl::FromUnixSeconds(1700000000)},
                            {.transit = transit_.cipher(), .tokens = tokens_});
  }

  http::FormParams params_;
  http::FormParams query_;
  transit::testing::TestTransit transit_;
  const log::PhoneRedactor tokens_ = *log::PhoneRedactor::Create("webhook-test-token-key-0123");
};

TEST(RouteForPathTest, KnowsTheFourRoutes) {
  EXPECT_EQ(RouteForPath("/twilio/messages/status"), WebhookRoute::kMessageStatus);
  EXPECT_EQ(RouteForPath("/twilio/calls/status"), WebhookRoute::kCallStatus);
  EXPECT_EQ(RouteForPath("/twilio/messages/inbound"), WebhookRoute::kInboundMessage);
  EXPECT_EQ(RouteForPath("/twilio/calls/gather"), WebhookRoute::kGather);
  // One trailing slash, as a URL typed into Twilio's console may have; no more.
  EXPECT_EQ(RouteForPath("/twilio/messages/inbound/"), WebhookRoute::kInboundMessage);
  EXPECT_EQ(RouteForPath("/twilio/messages/status//"), std::nullopt);
  EXPECT_EQ(RouteForPath("/twilio/messages/statuses"), std::nullopt);
  EXPECT_EQ(RouteForPath("/"), std::nullopt);
  EXPECT_TRUE(ExpectsTwiml(WebhookRoute::kGather));
  EXPECT_FALSE(ExpectsTwiml(WebhookRoute::kCallStatus));
  EXPECT_TRUE(IsStatusRoute(WebhookRoute::kMessageStatus));
  EXPECT_TRUE(IsStatusRoute(WebhookRoute::kCallStatus));
  EXPECT_FALSE(IsStatusRoute(WebhookRoute::kInboundMessage));
  EXPECT_FALSE(IsStatusRoute(WebhookRoute::kGather));
}

TEST_F(InterpretWebhookTest, MessageStatusNamesItsAlertAndKeepsUnknownFieldsOut) {
  auto result = Interpret(WebhookRoute::kMessageStatus,
                          {{"MessageSid", "SM1"},
                           {"MessageStatus", "undelivered"},
                           {"ErrorCode", "30003"},
                           {"AccountSid", "AC1"},
                           {"NewField", "x"}},
                          {{"alert_id", kAlertId}, {"attempt", "2"}}, "tok-1");
  ASSERT_TRUE(result.ok()) << result.status();
  const auto& event = result->event;
  EXPECT_EQ(event.header().alert_id(), kAlertId);
  EXPECT_EQ(event.header().attempt(), 2u);
  EXPECT_EQ(event.header().channel(), types::v1::CHANNEL_SMS);
  EXPECT_EQ(event.header().occurred_at().seconds(), 1700000000);
  EXPECT_EQ(event.message_status().message_sid(), "SM1");
  EXPECT_EQ(event.message_status().message_status(), "undelivered");
  EXPECT_EQ(event.message_status().error_code(), 30003);
  EXPECT_EQ(event.message_status().account_sid(), "AC1");
  EXPECT_EQ(result->dedupe_key, "token:tok-1");
  EXPECT_EQ(event.dedupe_key(), "token:tok-1");
  EXPECT_EQ(result->partition_key, kAlertId);
}

TEST_F(InterpretWebhookTest, WithoutTokenDedupesOnSidStatusAndSequence) {
  auto message =
      Interpret(WebhookRoute::kMessageStatus,
                {{"MessageSid", "SM1"}, {"MessageStatus", "delivered"}, {"ErrorCode", ""}});
  ASSERT_TRUE(message.ok());
  EXPECT_EQ(message->dedupe_key, "sid:SM1:delivered:0");
  EXPECT_EQ(message->partition_key, "SM1");  // no alert named: the SID keeps its events together
  EXPECT_EQ(message->event.header().alert_id(), "");

  auto call =
      Interpret(WebhookRoute::kCallStatus,
                {{"CallSid", "CA1"}, {"CallStatus", "ringing"}, {"SequenceNumber", "2"}}, {}, "");
  ASSERT_TRUE(call.ok());
  EXPECT_EQ(call->dedupe_key, "sid:CA1:ringing:2");
}

TEST_F(InterpretWebhookTest, CallStatusCarriesDurationAndAnsweredBy) {
  auto result = Interpret(WebhookRoute::kCallStatus,
                          {{"CallSid", "CA1"},
                           {"CallStatus", "completed"},
                           {"CallDuration", "42"},
                           {"AnsweredBy", "machine_start"},
                           {"SequenceNumber", "3"}},
                          {{"alert_id", kAlertId}});
  ASSERT_TRUE(result.ok());
  const auto& update = result->event.call_status();
  EXPECT_EQ(update.call_status(), "completed");
  EXPECT_EQ(update.call_duration_seconds(), 42u);
  EXPECT_EQ(update.answered_by(), "machine_start");
  EXPECT_EQ(update.sequence_number(), 3u);
  EXPECT_EQ(result->event.header().channel(), types::v1::CHANNEL_VOICE);
  EXPECT_EQ(result->event.header().attempt(), 1u);  // attempt defaults to the first
}

TEST_F(InterpretWebhookTest, AFinalStatusNamesItsSidForTheStatusChecks) {
  auto message = Interpret(WebhookRoute::kMessageStatus,
                           {{"MessageSid", "SM1"}, {"MessageStatus", "undelivered"}});
  ASSERT_TRUE(message.ok());
  EXPECT_EQ(message->final_sid, "SM1");
  auto call =
      Interpret(WebhookRoute::kCallStatus, {{"CallSid", "CA1"}, {"CallStatus", "no-answer"}});
  ASSERT_TRUE(call.ok());
  EXPECT_EQ(call->final_sid, "CA1");
}

TEST_F(InterpretWebhookTest, OnlyAFinalStatusNamesItsSid) {
  auto sent =
      Interpret(WebhookRoute::kMessageStatus, {{"MessageSid", "SM1"}, {"MessageStatus", "sent"}});
  ASSERT_TRUE(sent.ok());
  EXPECT_EQ(sent->final_sid, "");
  auto ringing =
      Interpret(WebhookRoute::kCallStatus, {{"CallSid", "CA1"}, {"CallStatus", "ringing"}});
  ASSERT_TRUE(ringing.ok());
  EXPECT_EQ(ringing->final_sid, "");
  auto press = Interpret(WebhookRoute::kGather, {{"CallSid", "CA1"}, {"Digits", "1"}});
  ASSERT_TRUE(press.ok());
  EXPECT_EQ(press->final_sid, "");
}

TEST_F(InterpretWebhookTest, NamesMissingOrMalformedParameters) {
  struct Case {
    WebhookRoute route;
    http::FormParams params;
    http::FormParams query;
    const char* message;
  };
  const Case cases[] = {
      {WebhookRoute::kMessageStatus, {{"MessageStatus", "sent"}}, {}, "MessageSid is required"},
      {WebhookRoute::kMessageStatus, {{"MessageSid", "SM1"}}, {}, "MessageStatus is required"},
      {WebhookRoute::kMessageStatus,
       {{"MessageSid", "SM1"}, {"MessageStatus", "failed"}, {"ErrorCode", "x1"}},
       {},
       "ErrorCode"},
      {WebhookRoute::kCallStatus, {{"CallSid", "CA1"}}, {}, "CallStatus is required"},
      {WebhookRoute::kCallStatus,
       {{"CallSid", "CA1"}, {"CallStatus", "busy"}, {"SequenceNumber", "-1"}},
       {},
       "SequenceNumber"},
      {WebhookRoute::kInboundMessage,
       {{"MessageSid", "SM1"}, {"To", "+1"}},
       {},
       "From is required"},
      {WebhookRoute::kGather, {{"CallSid", "CA1"}}, {}, "Digits is required"},
      {WebhookRoute::kMessageStatus,
       {{"MessageSid", "SM1"}, {"MessageStatus", "sent"}},
       {{"alert_id", "not-a-uuid"}},
       "alert_id"},
      {WebhookRoute::kMessageStatus,
       {{"MessageSid", "SM1"}, {"MessageStatus", "sent"}},
       {{"alert_id", kAlertId}, {"attempt", "two"}},
       "attempt"},
  };
  for (const Case& c : cases) {
    auto result = Interpret(c.route, c.params, c.query);
    ASSERT_FALSE(result.ok()) << c.message;
    EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(result.status().message(), HasSubstr(c.message));
  }
}

TEST_F(InterpretWebhookTest, OptOutKeywordsInAnyCaseAreOptOuts) {
  for (const char* body : {"STOP", "stop", " StopAll ", "UNSUBSCRIBE", "cancel", "End", "quit"}) {
    auto result = Interpret(
        WebhookRoute::kInboundMessage,
        {{"MessageSid", "SM9"}, {"From", "+14155550100"}, {"To", "+14155552671"}, {"Body", body}});
    ASSERT_TRUE(result.ok());
    ASSERT_TRUE(result->event.has_opt_out()) << body;
    EXPECT_EQ(*transit_.cipher().OpenKeyword(result->event.opt_out()), "+14155550100");
    EXPECT_EQ(result->event.opt_out().to(), "+14155552671");
    // Keyed by the sender's token, so one sender's changes stay in order, never by the number.
    EXPECT_EQ(result->partition_key, tokens_.Token("+14155550100"));
    EXPECT_EQ(result->event.SerializeAsString().find("4155550100"), std::string::npos);
    EXPECT_EQ(result->dedupe_key, "sid:SM9:received:0");
  }
  auto keyword = Interpret(WebhookRoute::kInboundMessage,
                           {{"MessageSid", "SM9"}, {"From", "+1"}, {"To", "+2"}, {"Body", "stop"}});
  EXPECT_EQ(keyword->event.opt_out().keyword(), "STOP");
}

TEST_F(InterpretWebhookTest, OptInKeywordsAreOptIns) {
  for (const char* body : {"START", "yes", "Unstop"}) {
    auto result = Interpret(WebhookRoute::kInboundMessage,
                            {{"MessageSid", "SM9"}, {"From", "+1"}, {"To", "+2"}, {"Body", body}});
    ASSERT_TRUE(result.ok());
    EXPECT_TRUE(result->event.has_opt_in()) << body;
  }
}

TEST_F(InterpretWebhookTest, OptOutTypeDecidesOverTheBody) {
  auto out = Interpret(WebhookRoute::kInboundMessage, {{"MessageSid", "SM9"},
                                                       {"From", "+1"},
                                                       {"To", "+2"},
                                                       {"Body", "arret"},
                                                       {"OptOutType", "STOP"}});
  ASSERT_TRUE(out.ok());
  EXPECT_TRUE(out->event.has_opt_out());
  EXPECT_EQ(out->event.opt_out().keyword(), "STOP");
  auto in = Interpret(WebhookRoute::kInboundMessage, {{"MessageSid", "SM9"},
                                                      {"From", "+1"},
                                                      {"To", "+2"},
                                                      {"Body", "go"},
                                                      {"OptOutType", "START"}});
  EXPECT_TRUE(in->event.has_opt_in());
  auto help = Interpret(WebhookRoute::kInboundMessage, {{"MessageSid", "SM9"},
                                                        {"From", "+1"},
                                                        {"To", "+2"},
                                                        {"Body", "stop"},
                                                        {"OptOutType", "HELP"}});
  EXPECT_TRUE(help->event.has_inbound_message());
}

TEST_F(InterpretWebhookTest, OtherTextIsAnInboundMessage) {
  for (const char* body : {"ACK", "please stop", "HELP", ""}) {
    auto result = Interpret(WebhookRoute::kInboundMessage,
                            {{"MessageSid", "SM9"}, {"From", "+1"}, {"To", "+2"}, {"Body", body}});
    ASSERT_TRUE(result.ok());
    ASSERT_TRUE(result->event.has_inbound_message()) << body;
    absl::StatusOr<transit::SenderPersonalData> opened =
        transit_.cipher().OpenInbound(result->event.inbound_message());
    ASSERT_TRUE(opened.ok()) << opened.status();
    EXPECT_EQ(opened->body, body);
    EXPECT_EQ(opened->from, "+1");
    EXPECT_EQ(result->partition_key, tokens_.Token("+1"));
  }
}

TEST_F(InterpretWebhookTest, GatherIsAKeyPress) {
  auto result = Interpret(WebhookRoute::kGather, {{"CallSid", "CA1"}, {"Digits", "1"}},
                          {{"alert_id", kAlertId}, {"attempt", "3"}});
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->event.key_press().digits(), "1");
  EXPECT_EQ(result->event.header().attempt(), 3u);
  EXPECT_EQ(result->dedupe_key, "sid:CA1:gather-1:0");
}

}  // namespace
}  // namespace klaxon::ingress
