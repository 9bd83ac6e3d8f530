#include "services/ingress/inbound_auto_reply.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace klaxon::ingress {
namespace {

using ::testing::HasSubstr;

TEST(InboundAutoRepliesTest, ANumberHasItsOwnReplyAndEveryOtherNumberTheDefault) {
  const InboundAutoReplies replies = *InboundAutoReplies::Parse(
      R"({"+14155552671": "Reply ACK to acknowledge.", "*": "This number takes no replies."})");
  EXPECT_EQ(replies.For("+14155552671"), "Reply ACK to acknowledge.");
  EXPECT_EQ(replies.For("+14155550000"), "This number takes no replies.");
}

TEST(InboundAutoRepliesTest, NothingConfiguredRepliesNothing) {
  EXPECT_EQ(InboundAutoReplies::Parse("")->For("+14155552671"), std::nullopt);
  EXPECT_EQ(InboundAutoReplies::Parse(R"({"+14155552671": "x"})")->For("+14155550000"),
            std::nullopt);
}

TEST(InboundAutoRepliesTest, ABadEntryIsNamed) {
  EXPECT_THAT(InboundAutoReplies::Parse("[1]").status().message(), HasSubstr("JSON object"));
  EXPECT_THAT(InboundAutoReplies::Parse(R"({"4155552671": "x"})").status().message(),
              HasSubstr("\"4155552671\": the key must be an E.164 number"));
  EXPECT_THAT(InboundAutoReplies::Parse(R"({"*": ""})").status().message(),
              HasSubstr("\"*\": the reply must be a text of 1 to 320"));
  EXPECT_THAT(
      InboundAutoReplies::Parse(R"({"*": ")" + std::string(321, 'x') + R"("})").status().message(),
      HasSubstr("1 to 320"));
  EXPECT_THAT(InboundAutoReplies::Parse(R"({"*": 5})").status().message(), HasSubstr("text"));
}

TEST(ReplyTwimlTest, TheTextIsEscapedInsideAMessage) {
  EXPECT_EQ(ReplyTwiml("Reply <ACK> & relax"),
            R"(<?xml version="1.0" encoding="UTF-8"?><Response><Message>Reply &lt;ACK&gt; )"
            R"(&amp; relax</Message></Response>)");
}

}  // namespace
}  // namespace klaxon::ingress
