#include "common/sms_acks/ack_reply.h"

#include <gtest/gtest.h>

namespace klaxon::sms_acks {
namespace {

TEST(AckInstructionTest, AsksForTheCodeOnALineOfItsOwnOfTheAnnouncedLength) {
  const std::string instruction = AckInstruction("4821");
  EXPECT_EQ(instruction, "\nReply ACK 4821 to acknowledge.");
  EXPECT_EQ(instruction.size(), kAckInstructionCharacters);
}

TEST(WithoutAckInstructionTest, RemovesOnlyTheInstructionOfThatCode) {
  EXPECT_EQ(WithoutAckInstruction("disk full" + AckInstruction("4821"), "4821"), "disk full");
  EXPECT_EQ(WithoutAckInstruction("disk full" + AckInstruction("4821"), "7730"),
            "disk full" + AckInstruction("4821"));
  EXPECT_EQ(WithoutAckInstruction("disk full", "4821"), "disk full");
}

TEST(ParseAckReplyTest, ReadsTheCodeInAnyCaseWithOrWithoutSpaces) {
  for (const char* body : {"ACK 4821", "ack 4821", " Ack   4821 \n", "ACK4821"}) {
    std::optional<AckReply> reply = ParseAckReply(body);
    ASSERT_TRUE(reply.has_value()) << body;
    EXPECT_EQ(reply->code, "4821") << body;
  }
}

TEST(ParseAckReplyTest, ABareAckHasNoCode) {
  for (const char* body : {"ACK", " ack\n"}) {
    std::optional<AckReply> reply = ParseAckReply(body);
    ASSERT_TRUE(reply.has_value()) << body;
    EXPECT_EQ(reply->code, "") << body;
  }
}

TEST(ParseAckReplyTest, AnythingElseIsNoAck) {
  for (const char* body : {"", "4821", "ACK 482", "ACK 48211", "ACK 48a1", "ACKNOWLEDGE",
                           "ACK 4821 thanks", "please ACK 4821", "BACK 4821"}) {
    EXPECT_FALSE(ParseAckReply(body).has_value()) << body;
  }
}

}  // namespace
}  // namespace klaxon::sms_acks
