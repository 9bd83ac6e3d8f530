#include "common/twilio/statuses.h"

#include <gtest/gtest.h>

namespace klaxon::twilio {
namespace {

TEST(StatusesTest, MessageWordsRoundTrip) {
  for (std::string_view word :
       {"accepted", "scheduled", "queued", "sending", "sent", "delivered", "read", "undelivered",
        "failed", "canceled", "receiving", "received", "partially_delivered"}) {
    const std::optional<MessageStatus> status = ParseMessageStatus(word);
    ASSERT_TRUE(status.has_value()) << word;
    EXPECT_EQ(ToString(*status), word);
  }
  EXPECT_EQ(ParseMessageStatus("Delivered"), std::nullopt);
  EXPECT_EQ(ParseMessageStatus("a-new-word"), std::nullopt);
}

TEST(StatusesTest, CallWordsRoundTrip) {
  for (std::string_view word : {"queued", "initiated", "ringing", "in-progress", "completed",
                                "busy", "no-answer", "failed", "canceled"}) {
    const std::optional<CallStatus> status = ParseCallStatus(word);
    ASSERT_TRUE(status.has_value()) << word;
    EXPECT_EQ(ToString(*status), word);
  }
  EXPECT_EQ(ParseCallStatus("in_progress"), std::nullopt);
}

TEST(StatusesTest, FinalMessageStatusesAreThoseTwilioSendsNothingAfter) {
  for (MessageStatus status :
       {MessageStatus::kDelivered, MessageStatus::kRead, MessageStatus::kUndelivered,
        MessageStatus::kFailed, MessageStatus::kCanceled}) {
    EXPECT_TRUE(IsFinal(status)) << ToString(status);
  }
  for (MessageStatus status :
       {MessageStatus::kAccepted, MessageStatus::kScheduled, MessageStatus::kQueued,
        MessageStatus::kSending, MessageStatus::kSent, MessageStatus::kPartiallyDelivered}) {
    EXPECT_FALSE(IsFinal(status)) << ToString(status);
  }
}

TEST(StatusesTest, FinalCallStatuses) {
  for (CallStatus status : {CallStatus::kCompleted, CallStatus::kBusy, CallStatus::kNoAnswer,
                            CallStatus::kFailed, CallStatus::kCanceled}) {
    EXPECT_TRUE(IsFinal(status)) << ToString(status);
  }
  for (CallStatus status : {CallStatus::kQueued, CallStatus::kInitiated, CallStatus::kRinging,
                            CallStatus::kInProgress}) {
    EXPECT_FALSE(IsFinal(status)) << ToString(status);
  }
}

TEST(StatusesTest, WordsAreFinalOnlyForTheirOwnResource) {
  EXPECT_TRUE(IsFinalMessageStatus("delivered"));
  EXPECT_FALSE(IsFinalMessageStatus("sent"));
  EXPECT_FALSE(IsFinalMessageStatus("completed"));
  EXPECT_FALSE(IsFinalMessageStatus(""));
  EXPECT_TRUE(IsFinalCallStatus("no-answer"));
  EXPECT_FALSE(IsFinalCallStatus("ringing"));
  EXPECT_FALSE(IsFinalCallStatus("delivered"));
}

TEST(StatusesTest, MachinesAndFaxesAreNotPeople) {
  EXPECT_FALSE(IsMachine(AnsweredBy::kHuman));
  EXPECT_FALSE(IsMachine(AnsweredBy::kUnknown));
  for (std::string_view word :
       {"machine_start", "machine_end_beep", "machine_end_silence", "machine_end_other", "fax"}) {
    EXPECT_TRUE(IsMachine(*ParseAnsweredBy(word))) << word;
  }
  EXPECT_EQ(ParseAnsweredBy(""), std::nullopt);
}

// A Call resource read back (a status check after a lost callback) says "machine", not the
// callback's machine_start: a voicemail read that way must not count as heard.
TEST(StatusesTest, TheCallResourcesMachineIsAMachine) {
  ASSERT_EQ(ParseAnsweredBy("machine"), AnsweredBy::kMachine);
  EXPECT_TRUE(IsMachine(AnsweredBy::kMachine));
  EXPECT_EQ(ToString(AnsweredBy::kMachine), "machine");
  // A machine word Twilio may add later is a machine too; other unknown words are not read.
  EXPECT_EQ(ParseAnsweredBy("machine_end_music"), AnsweredBy::kMachine);
  EXPECT_EQ(ParseAnsweredBy("robot"), std::nullopt);
}

}  // namespace
}  // namespace klaxon::twilio
