#include "common/twilio/error_codes.h"

#include "gtest/gtest.h"

namespace klaxon::twilio {
namespace {

TEST(ErrorCodeMeaningTest, KnowsRestAndDeliveryCodes) {
  EXPECT_EQ(ErrorCodeMeaning(21610), "the recipient has replied STOP and unsubscribed");
  EXPECT_EQ(ErrorCodeMeaning(30003), "the destination handset is unreachable");
  EXPECT_EQ(ErrorCodeMeaning(30008), "the carrier reported an unknown delivery error");
  EXPECT_EQ(ErrorCodeMeaning(30036),
            "the message waited in the sender's queue at Twilio past its validity period (what "
            "was left of the alert's time to live) and was not sent");
}

TEST(ErrorCodeMeaningTest, UnknownCodeHasNoMeaning) {
  EXPECT_EQ(ErrorCodeMeaning(0), "");
  EXPECT_EQ(ErrorCodeMeaning(99999), "");
}

}  // namespace
}  // namespace klaxon::twilio
