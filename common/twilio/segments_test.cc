#include "common/twilio/segments.h"

#include <gtest/gtest.h>

#include <string>

namespace klaxon::twilio {
namespace {

std::string Repeat(std::string_view piece, int times) {
  std::string text;
  for (int i = 0; i < times; ++i) text += piece;
  return text;
}

TEST(SmsSegmentsTest, GsmTextFillsOneSegmentWith160Characters) {
  EXPECT_EQ(SmsSegments(""), 1);
  EXPECT_EQ(SmsSegments(Repeat("a", 160)), 1);
  EXPECT_EQ(SmsSegments(Repeat("a", 161)), 2);
  EXPECT_EQ(SmsSegments(Repeat("a", 306)), 2);  // 153 each once concatenated
  EXPECT_EQ(SmsSegments(Repeat("a", 307)), 3);
}

TEST(SmsSegmentsTest, GsmLettersBeyondAsciiStayGsm) {
  EXPECT_EQ(SmsSegments(Repeat("é", 160)), 1);
  EXPECT_EQ(SmsSegments("Ihr Bestätigungscode lautet 123456"), 1);
}

TEST(SmsSegmentsTest, ExtensionCharactersTakeTwoSeptets) {
  EXPECT_EQ(SmsSegments(Repeat("€", 80)), 1);
  EXPECT_EQ(SmsSegments(Repeat("{", 81)), 2);
}

TEST(SmsSegmentsTest, OneCharacterOutsideGsmMakesTheTextUcs2) {
  EXPECT_EQ(SmsSegments(Repeat("a", 69) + "ç"), 1);  // ç is not GSM's Ç
  EXPECT_EQ(SmsSegments(Repeat("a", 70) + "ç"), 2);
  EXPECT_EQ(SmsSegments(Repeat("a", 133) + "`"), 2);  // 67 each once concatenated
  EXPECT_EQ(SmsSegments(Repeat("a", 134) + "`"), 3);
}

TEST(SmsSegmentsTest, AnEmojiIsTwoUtf16Units) {
  EXPECT_EQ(SmsSegments(Repeat("🔥", 35)), 1);
  EXPECT_EQ(SmsSegments(Repeat("🔥", 36)), 2);
}

TEST(SmsSegmentsTest, BytesThatAreNotUtf8CountAsUcs2Characters) {
  EXPECT_EQ(SmsSegments(Repeat("\xff", 70)), 1);
  EXPECT_EQ(SmsSegments(Repeat("\xff", 71)), 2);
}

}  // namespace
}  // namespace klaxon::twilio
