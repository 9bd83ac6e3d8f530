#include "services/voice-worker/twilio_call_sender.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace klaxon::voice {
namespace {

constexpr char kCallerId[] = "+14155552671";

using ::testing::HasSubstr;
using ::testing::Not;

TEST(AlertTwimlTest, ReadsTextWithVoiceAndLanguage) {
  EXPECT_EQ(AlertTwiml("disk full", "", "alice", "en-US"),
            "<Response><Say voice=\"alice\" language=\"en-US\">disk full</Say></Response>");
}

TEST(AlertTwimlTest, GathersOneKeyPostedToTheActionAndSaysGoodbyeWithoutOne) {
  EXPECT_EQ(AlertTwiml("disk full", "http://h/twilio/calls/gather?alert_id=a&attempt=2", "alice",
                       "en-US"),
            "<Response><Gather numDigits=\"1\" action=\"http://h/twilio/calls/gather?alert_id=a"
            "&amp;attempt=2\" method=\"POST\"><Say voice=\"alice\" language=\"en-US\">disk full "
            "Press any key to acknowledge.</Say></Gather><Say voice=\"alice\" language=\"en-US\">"
            "No key was pressed. Goodbye.</Say></Response>");
}

TEST(AlertTwimlTest, EscapesMarkupInText) {
  EXPECT_EQ(AlertTwiml("a<b & \"c\" 'd'>", "", "alice", "en-US"),
            "<Response><Say voice=\"alice\" language=\"en-US\">"
            "a&lt;b &amp; &quot;c&quot; &apos;d&apos;&gt;</Say></Response>");
}

TEST(AlertTwimlTest, TextCannotCloseTheSayElement) {
  const std::string twiml =
      AlertTwiml("</Say><Dial>+15550100</Dial>", "http://h/g", "alice", "en-US");
  EXPECT_EQ(twiml.find("<Dial>"), std::string::npos);
}

TEST(TwilioCallSenderTest, TextTooLongForOneCallIsRejectedWithoutCallingTwilio) {
  // Nothing listens on port 1: a request that reached the client would come back kRetryable.
  auto client =
      twilio::TwilioRestClient::Create({.base_url = "http://127.0.0.1:1",
                                        .account_sid = "AC00000000000000000000000000000000",
                                        .auth_token = "token"});
  ASSERT_TRUE(client.ok()) << client.status();
  TwilioCallSender sender(**client, {});
  events::v1::AlertRequested request;
  const delivery::SendResult result = sender.Send(
      request,
      {.recipient = "+14155550100", .text = std::string(1600, '"')},  // each escapes to &quot;
      {.address = kCallerId});
  EXPECT_EQ(result.kind, delivery::SendResult::Kind::kRejected);
  EXPECT_NE(result.reason.find("too long"), std::string::npos);
}

TEST(TwilioCallSenderTest, TextThatFitsAloneIsRejectedWhenTheGatherMakesItTooLong) {
  auto client =
      twilio::TwilioRestClient::Create({.base_url = "http://127.0.0.1:1",
                                        .account_sid = "AC00000000000000000000000000000000",
                                        .auth_token = "token"});
  ASSERT_TRUE(client.ok()) << client.status();
  TwilioCallSender sender(**client, {.webhook_public_url = "http://127.0.0.1:8080"});
  events::v1::AlertRequested request;
  EXPECT_EQ(
      sender
          .Send(request,
                {.recipient = "+14155550100", .text = std::string(kMaxTwimlLength - 100, 'a')},
                {.address = kCallerId})
          .kind,
      delivery::SendResult::Kind::kRejected);
}

TEST(CallRequestForTest, AsksForMachineDetection) {
  events::v1::AlertRequested request;
  EXPECT_EQ(CallRequestFor(request, {.recipient = "+14155550100"}, kCallerId, {}).machine_detection,
            "Enable");
}

TEST(CallRequestForTest, StatusCallbackNamesAlertAndAttemptAndAsksForEveryEvent) {
  events::v1::AlertRequested request;
  request.mutable_header()->set_alert_id("0190f1c4-7a3e-7b12-9c4d-1e2f3a4b5c6d");
  request.mutable_header()->set_attempt(3);
  const twilio::CreateCallRequest call =
      CallRequestFor(request, {.recipient = "+14155550100", .text = "disk full"}, kCallerId,
                     {.webhook_public_url = "http://127.0.0.1:8080"});
  EXPECT_EQ(call.to, "+14155550100");
  EXPECT_EQ(call.from, "+14155552671");
  EXPECT_EQ(call.twiml, AlertTwiml("disk full",
                                   "http://127.0.0.1:8080/twilio/calls/gather"
                                   "?alert_id=0190f1c4-7a3e-7b12-9c4d-1e2f3a4b5c6d&attempt=3",
                                   "alice", "en-US"));
  EXPECT_EQ(call.status_callback,
            "http://127.0.0.1:8080/twilio/calls/status"
            "?alert_id=0190f1c4-7a3e-7b12-9c4d-1e2f3a4b5c6d&attempt=3");
  EXPECT_EQ(call.status_callback_events,
            (std::vector<std::string>{"initiated", "ringing", "answered", "completed"}));
}

TEST(CallRequestForTest, TheAlertsLanguageAndVoiceOverrideTheWorkers) {
  events::v1::AlertRequested request;
  request.mutable_voice()->set_language("de-DE");
  request.mutable_voice()->set_voice_name("Polly.Marlene");
  const twilio::CreateCallRequest call =
      CallRequestFor(request, {.recipient = "+14155550100", .text = "Platte voll"}, kCallerId, {});
  EXPECT_EQ(call.twiml, AlertTwiml("Platte voll", "", "Polly.Marlene", "de-DE"));
}

TEST(CallRequestForTest, AReadOnlyCallAsksForNoKeyPressButStillReportsItsStatus) {
  events::v1::AlertRequested request;
  request.mutable_header()->set_alert_id("0190f1c4-7a3e-7b12-9c4d-1e2f3a4b5c6d");
  request.mutable_voice()->set_read_only(true);
  const twilio::CreateCallRequest call =
      CallRequestFor(request, {.recipient = "+14155550100", .text = "1 2 3"}, kCallerId,
                     {.webhook_public_url = "http://127.0.0.1:8080"});
  EXPECT_EQ(call.twiml, AlertTwiml("1 2 3", "", "alice", "en-US"));
  EXPECT_THAT(call.twiml, Not(HasSubstr("Gather")));
  EXPECT_TRUE(call.status_callback.has_value());
}

TEST(CallRequestForTest, NoPublicUrlMeansNoStatusCallback) {
  events::v1::AlertRequested request;
  const twilio::CreateCallRequest call =
      CallRequestFor(request, {.recipient = "+14155550100"}, kCallerId, {});
  EXPECT_FALSE(call.status_callback.has_value());
  EXPECT_TRUE(call.status_callback_events.empty());
}

TEST(AlertTwimlTest, ReplacesControlCharactersXmlForbids) {
  EXPECT_EQ(AlertTwiml(std::string("a\x01"
                                   "b\tc",
                                   5),
                       "", "alice", "en-US"),
            "<Response><Say voice=\"alice\" language=\"en-US\">a b\tc</Say></Response>");
}

const absl::Time kSentAt = absl::FromUnixSeconds(1'700'000'000);

twilio::CallResource Listed(std::string sid, absl::Time created) {
  twilio::CallResource call;
  call.sid = std::move(sid);
  call.status = "ringing";
  call.date_created = created;
  return call;
}

TEST(SettleFromCallsTest, EarliestCallSinceSentIsTheAttempt) {
  const delivery::SendResult result =
      SettleFromCalls({.resources = {Listed("CA3", kSentAt + absl::Seconds(9)),
                                     Listed("CA2", kSentAt + absl::Seconds(1)),
                                     Listed("CA1", kSentAt - absl::Minutes(2))}},
                      kSentAt);
  EXPECT_EQ(result.kind, delivery::SendResult::Kind::kAccepted);
  EXPECT_EQ(result.sid, "CA2");
}

TEST(SettleFromCallsTest, OnlyEarlierCallsMeansNotTaken) {
  EXPECT_EQ(
      SettleFromCalls({.resources = {Listed("CA1", kSentAt - absl::Minutes(2))}}, kSentAt).kind,
      delivery::SendResult::Kind::kRetryable);
}

TEST(SettleFromCallsTest, FullPageOfRecentCallsStaysUnknown) {
  EXPECT_EQ(
      SettleFromCalls({.resources = {Listed("CA2", kSentAt + absl::Seconds(1))}, .has_more = true},
                      kSentAt)
          .kind,
      delivery::SendResult::Kind::kUnknown);
}

TEST(ReadBackOfTest, SaysWhatAStatusCallbackWouldAndWhatTheCallCost) {
  twilio::CallResource call = Listed("CA1", kSentAt);
  call.account_sid = "AC1";
  call.status = "completed";
  call.answered_by = "human";
  call.duration = absl::Seconds(42);
  call.charge = twilio::Charge{.micros = 14'000, .currency = "USD"};
  const delivery::StatusReadBack read = ReadBackOf(call);
  const events::v1::TwilioEvent& event = read.status;
  ASSERT_TRUE(event.has_call_status());
  EXPECT_EQ(event.call_status().call_sid(), "CA1");
  EXPECT_EQ(event.call_status().account_sid(), "AC1");
  EXPECT_EQ(event.call_status().call_status(), "completed");
  EXPECT_EQ(event.call_status().answered_by(), "human");
  EXPECT_EQ(event.call_status().call_duration_seconds(), 42u);
  ASSERT_TRUE(read.charge.has_value());
  EXPECT_EQ(read.charge->sid(), "CA1");
  EXPECT_EQ(read.charge->amount_micros(), 14'000);
  EXPECT_EQ(read.charge->duration_seconds(), 42u);
  EXPECT_EQ(read.charge->segments(), 0u);
}

TEST(ReadBackOfTest, AnUnpricedCallHasNoCharge) {
  twilio::CallResource call = Listed("CA1", kSentAt);
  call.status = "in-progress";
  EXPECT_FALSE(ReadBackOf(call).charge.has_value());
}

TEST(TwilioCallSenderTest, UnreadableCallIsUnavailable) {
  // Nothing listens on port 1.
  auto client =
      twilio::TwilioRestClient::Create({.base_url = "http://127.0.0.1:1",
                                        .account_sid = "AC00000000000000000000000000000000",
                                        .auth_token = "token"});
  ASSERT_TRUE(client.ok()) << client.status();
  TwilioCallSender sender(**client, {});
  EXPECT_EQ(sender.ReadStatus({}, "CA1").status().code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace klaxon::voice
