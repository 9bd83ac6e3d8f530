#include "services/ingress/verification/verification_text.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace klaxon::ingress::verification {
namespace {

using ::testing::HasSubstr;

TEST(CallLanguageTest, EachLocaleIsReadInItsLanguage) {
  EXPECT_EQ(CallLanguage("de"), "de-DE");
  EXPECT_EQ(CallLanguage("fr"), "fr-FR");
  EXPECT_EQ(CallLanguage(""), "en-US");
  // A caller's template may name a locale there are no words for: the worker's language.
  EXPECT_EQ(CallLanguage("pt-BR"), "");
}

TEST(CodeMessageTest, AnSmsCarriesTheCodeInTheLocale) {
  EXPECT_EQ(*CodeMessage(types::v1::CHANNEL_SMS, {.locale = "en"}, "482913", ""),
            "Your verification code is 482913");
  EXPECT_EQ(*CodeMessage(types::v1::CHANNEL_SMS, {.locale = "fr"}, "482913", ""),
            "Votre code de vérification est 482913");
  EXPECT_EQ(*CodeMessage(types::v1::CHANNEL_SMS, {}, "482913", ""),
            *CodeMessage(types::v1::CHANNEL_SMS, {.locale = "en"}, "482913", ""));
}

TEST(CodeMessageTest, AWebOtpDomainEndsTheSmsWithItsBoundLine) {
  EXPECT_EQ(*CodeMessage(types::v1::CHANNEL_SMS, {.locale = "en"}, "482913", "example.com"),
            "Your verification code is 482913\n\n@example.com #482913");
}

TEST(CodeMessageTest, ACallSpeaksTheDigitsOneByOneTwice) {
  EXPECT_EQ(*CodeMessage(types::v1::CHANNEL_VOICE, {.locale = "en"}, "4829", "example.com"),
            "Your verification code is: 4. 8. 2. 9. Once again, your code is: 4. 8. 2. 9.");
}

TEST(CodeMessageTest, AnUnknownLocaleIsNamedWithTheKnownOnes) {
  absl::StatusOr<std::string> text =
      CodeMessage(types::v1::CHANNEL_SMS, {.locale = "xx"}, "482913", "");
  ASSERT_EQ(text.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(text.status().message(), HasSubstr("\"xx\""));
  EXPECT_THAT(text.status().message(), HasSubstr("en, de, es, fr"));
}

TEST(CodeMessageTest, ACallersTemplateCarriesTheCodeInItsOwnWords) {
  const CodeWording acme{.caller_template = "Acme: {code} is your code. Never share it."};
  EXPECT_EQ(*CodeMessage(types::v1::CHANNEL_SMS, acme, "482913", "acme.example"),
            "Acme: 482913 is your code. Never share it.\n\n@acme.example #482913");
  EXPECT_EQ(*CodeMessage(types::v1::CHANNEL_VOICE, acme, "4829", ""),
            "Acme: 4. 8. 2. 9. is your code. Never share it. "
            "Acme: 4. 8. 2. 9. is your code. Never share it.");
}

TEST(CodeMessageTest, ATemplateNeedsTheCodeOnceAndAtMostItsLength) {
  for (const char* bad : {"no placeholder", "{code} and {code}", "{Code}"}) {
    const absl::Status status = CheckWording({.caller_template = bad});
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_THAT(status.message(), HasSubstr("template: must hold \"{code}\" exactly once"));
  }
  // 320 characters, each two bytes in UTF-8, is still within the limit; 321 is not.
  std::string longest = "{code}";
  for (int i = 0; i < 314; ++i) longest += "é";
  EXPECT_TRUE(CheckWording({.caller_template = longest}).ok());
  EXPECT_THAT(CheckWording({.caller_template = longest + "é"}).message(),
              HasSubstr("at most 320 characters"));
}

}  // namespace
}  // namespace klaxon::ingress::verification
