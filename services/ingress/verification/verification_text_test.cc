#include "services/ingress/verification/verification_text.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace klaxon::ingress::verification {
namespace {

using ::testing::HasSubstr;

TEST(CodeMessageTest, AnSmsCarriesTheCodeInTheLocale) {
  EXPECT_EQ(*CodeMessage(types::v1::CHANNEL_SMS, "en", "482913", ""),
            "Your verification code is 482913");
  EXPECT_EQ(*CodeMessage(types::v1::CHANNEL_SMS, "fr", "482913", ""),
            "Votre code de vérification est 482913");
  EXPECT_EQ(*CodeMessage(types::v1::CHANNEL_SMS, "", "482913", ""),
            *CodeMessage(types::v1::CHANNEL_SMS, "en", "482913", ""));
}

TEST(CodeMessageTest, AWebOtpDomainEndsTheSmsWithItsBoundLine) {
  EXPECT_EQ(*CodeMessage(types::v1::CHANNEL_SMS, "en", "482913", "example.com"),
            "Your verification code is 482913\n\n@example.com #482913");
}

TEST(CodeMessageTest, ACallSpeaksTheDigitsOneByOneTwice) {
  EXPECT_EQ(*CodeMessage(types::v1::CHANNEL_VOICE, "en", "4829", "example.com"),
            "Your verification code is: 4. 8. 2. 9. Once again, your code is: 4. 8. 2. 9.");
}

TEST(CodeMessageTest, AnUnknownLocaleIsNamedWithTheKnownOnes) {
  absl::StatusOr<std::string> text = CodeMessage(types::v1::CHANNEL_SMS, "xx", "482913", "");
  ASSERT_EQ(text.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(text.status().message(), HasSubstr("\"xx\""));
  EXPECT_THAT(text.status().message(), HasSubstr("en, de, es, fr"));
}

}  // namespace
}  // namespace klaxon::ingress::verification
