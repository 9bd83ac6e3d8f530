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

}  // namespace
}  // namespace klaxon::voice
