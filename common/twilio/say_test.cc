#include "common/twilio/say.h"

#include <gtest/gtest.h>

#include <string>

namespace klaxon::twilio {
namespace {

TEST(IsSayLanguageTest, TakesALanguageWithAnOptionalRegionOrArea) {
  for (const char* tag : {"de", "de-DE", "cmn-CN", "es-419", "en-US"}) {
    EXPECT_TRUE(IsSayLanguage(tag)) << tag;
  }
}

TEST(IsSayLanguageTest, RefusesOtherShapes) {
  for (const char* tag : {"", "d", "deut", "DE", "de-de", "de_DE", "de-", "de-DEU", "es-41",
                          "de-DE-x", "<de>"}) {
    EXPECT_FALSE(IsSayLanguage(tag)) << tag;
  }
}

TEST(IsSayVoiceTest, TakesTheBasicVoicesAndPollyOrGoogleByName) {
  for (const char* voice : {"man", "woman", "alice", "Polly.Marlene", "Google.de-DE-Standard-A",
                            "Polly.Joanna-Neural"}) {
    EXPECT_TRUE(IsSayVoice(voice)) << voice;
  }
}

TEST(IsSayVoiceTest, RefusesUnknownFamiliesEmptyNamesAndMarkup) {
  for (const char* voice : {"", "Alice", "Polly.", "Google.", "Azure.Katja", "Polly.Mar lene",
                            "Polly.\"x\""}) {
    EXPECT_FALSE(IsSayVoice(voice)) << voice;
  }
  EXPECT_TRUE(IsSayVoice("Polly." + std::string(kMaxSayVoiceName, 'a')));
  EXPECT_FALSE(IsSayVoice("Polly." + std::string(kMaxSayVoiceName + 1, 'a')));
}

}  // namespace
}  // namespace klaxon::twilio
