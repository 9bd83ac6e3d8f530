#include "services/voice-worker/twilio_call_sender.h"

#include <gtest/gtest.h>

namespace klaxon::voice {
namespace {

TEST(SayTwimlTest, ReadsTextWithVoiceAndLanguage) {
  EXPECT_EQ(SayTwiml("disk full", "alice", "en-US"),
            "<Response><Say voice=\"alice\" language=\"en-US\">disk full</Say></Response>");
}

TEST(SayTwimlTest, EscapesMarkupInText) {
  EXPECT_EQ(SayTwiml("a<b & \"c\" 'd'>", "alice", "en-US"),
            "<Response><Say voice=\"alice\" language=\"en-US\">"
            "a&lt;b &amp; &quot;c&quot; &apos;d&apos;&gt;</Say></Response>");
}

TEST(SayTwimlTest, TextCannotCloseTheSayElement) {
  const std::string twiml = SayTwiml("</Say><Dial>+15550100</Dial>", "alice", "en-US");
  EXPECT_EQ(twiml.find("<Dial>"), std::string::npos);
}

TEST(TwilioCallSenderTest, TextTooLongForOneCallIsRejectedWithoutCallingTwilio) {
  // Nothing listens on port 1: a request that reached the client would come back kRetryable.
  auto client =
      twilio::TwilioRestClient::Create({.base_url = "http://127.0.0.1:1",
                                        .account_sid = "AC00000000000000000000000000000000",
                                        .auth_token = "token"});
  ASSERT_TRUE(client.ok()) << client.status();
  TwilioCallSender sender(**client, {.from = "+14155552671"});
  events::v1::AlertRequested request;
  request.set_recipient("+14155550100");
  request.set_text(std::string(1600, '"'));  // each escapes to &quot;
  const delivery::SendResult result = sender.Send(request);
  EXPECT_EQ(result.kind, delivery::SendResult::Kind::kRejected);
  EXPECT_NE(result.reason.find("too long"), std::string::npos);
}

TEST(CallRequestForTest, StatusCallbackNamesAlertAndAttemptAndAsksForEveryEvent) {
  events::v1::AlertRequested request;
  request.mutable_header()->set_alert_id("0190f1c4-7a3e-7b12-9c4d-1e2f3a4b5c6d");
  request.mutable_header()->set_attempt(3);
  request.set_recipient("+14155550100");
  request.set_text("disk full");
  const twilio::CreateCallRequest call = CallRequestFor(
      request, {.from = "+14155552671", .webhook_public_url = "http://127.0.0.1:8080"});
  EXPECT_EQ(call.to, "+14155550100");
  EXPECT_EQ(call.from, "+14155552671");
  EXPECT_EQ(call.twiml, SayTwiml("disk full", "alice", "en-US"));
  EXPECT_EQ(call.status_callback,
            "http://127.0.0.1:8080/twilio/calls/status"
            "?alert_id=0190f1c4-7a3e-7b12-9c4d-1e2f3a4b5c6d&attempt=3");
  EXPECT_EQ(call.status_callback_events,
            (std::vector<std::string>{"initiated", "ringing", "answered", "completed"}));
}

TEST(CallRequestForTest, NoPublicUrlMeansNoStatusCallback) {
  events::v1::AlertRequested request;
  request.set_recipient("+14155550100");
  const twilio::CreateCallRequest call = CallRequestFor(request, {.from = "+14155552671"});
  EXPECT_FALSE(call.status_callback.has_value());
  EXPECT_TRUE(call.status_callback_events.empty());
}

TEST(SayTwimlTest, ReplacesControlCharactersXmlForbids) {
  EXPECT_EQ(SayTwiml(std::string("a\x01" "b\tc", 5), "alice", "en-US"),
            "<Response><Say voice=\"alice\" language=\"en-US\">a b\tc</Say></Response>");
}

}  // namespace
}  // namespace klaxon::voice
