#include "common/verification_status/verification_status.h"

#include <gtest/gtest.h>

namespace klaxon::verification_status {
namespace {

TEST(VerificationStatusWordTest, NamesEachResult) {
  EXPECT_EQ(Word(verify::v1::VERIFICATION_STATUS_APPROVED), "approved");
  EXPECT_EQ(Word(verify::v1::VERIFICATION_STATUS_PENDING), "pending");
  EXPECT_EQ(Word(verify::v1::VERIFICATION_STATUS_EXPIRED), "expired");
  EXPECT_EQ(Word(verify::v1::VERIFICATION_STATUS_MAX_ATTEMPTS), "max_attempts");
  EXPECT_EQ(Word(verify::v1::VERIFICATION_STATUS_NOT_FOUND), "not_found");
}

TEST(VerificationStatusWordTest, UnspecifiedAndUnknownValuesAreUnspecified) {
  EXPECT_EQ(Word(verify::v1::VERIFICATION_STATUS_UNSPECIFIED), "unspecified");
  EXPECT_EQ(Word(static_cast<verify::v1::VerificationStatus>(99)), "unspecified");
}

// Guards the switch against a status added to the proto and forgotten here.
TEST(VerificationStatusWordTest, NamesEveryStatusTheProtoDefines) {
  for (int number = verify::v1::VerificationStatus_MIN + 1;
       number <= verify::v1::VerificationStatus_MAX; ++number) {
    EXPECT_NE(Word(static_cast<verify::v1::VerificationStatus>(number)), "unspecified") << number;
  }
}

}  // namespace
}  // namespace klaxon::verification_status
