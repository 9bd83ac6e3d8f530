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

TEST(SayTwimlTest, ReplacesControlCharactersXmlForbids) {
  EXPECT_EQ(SayTwiml(std::string("a\x01" "b\tc", 5), "alice", "en-US"),
            "<Response><Say voice=\"alice\" language=\"en-US\">a b\tc</Say></Response>");
}

}  // namespace
}  // namespace klaxon::voice
