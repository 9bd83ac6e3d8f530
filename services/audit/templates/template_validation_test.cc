#include "services/audit/templates/template_validation.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace klaxon::audit::template_validation_test {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

MessageTemplate Valid() {
  return {.name = "disk-full",
          .locale = "en-US",
          .sms_text = "Disk {{pct}}% full on {{ host }}",
          .voice_script = "The disk on {{host}} is full.",
          .voice_name = "Polly.Joanna",
          .language = "en-US"};
}

// ValidateTemplate of Valid() changed by `change`.
template <typename Change>
absl::Status ValidateChanged(Change change) {
  MessageTemplate created = Valid();
  change(created);
  return ValidateTemplate(created);
}

// Expects kInvalidArgument whose message starts with `field` and ": ".
void ExpectRefusedNaming(const absl::Status& status, const std::string& field) {
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_THAT(std::string(status.message()), StartsWith(field + ": "));
}

TEST(ValidateTemplateTest, AcceptsAValidTemplate) { EXPECT_TRUE(ValidateTemplate(Valid()).ok()); }

TEST(ValidateTemplateTest, AcceptsEitherTextAlone) {
  EXPECT_TRUE(ValidateChanged([](MessageTemplate& t) { t.voice_script.clear(); }).ok());
  EXPECT_TRUE(ValidateChanged([](MessageTemplate& t) { t.sms_text.clear(); }).ok());
}

TEST(ValidateTemplateTest, AcceptsNamesOf1To64LettersDigitsDotsDashesAndUnderscores) {
  for (const std::string& name : {std::string("a"), std::string("Disk-full_2.v1"),
                                  std::string(64, 'x')}) {
    EXPECT_TRUE(ValidateChanged([&](MessageTemplate& t) { t.name = name; }).ok()) << name;
  }
}

TEST(ValidateTemplateTest, RefusesOtherNames) {
  for (const std::string& name : {std::string(), std::string(65, 'x'), std::string("disk full"),
                                 std::string("disk/full"), std::string("dïsk")}) {
    ExpectRefusedNaming(ValidateChanged([&](MessageTemplate& t) { t.name = name; }),
                        "template.name");
  }
}

TEST(ValidateTemplateTest, AcceptsLanguageTagsAsLocales) {
  for (const char* locale : {"en", "en-US", "es-419", "cmn-CN", "fil"}) {
    EXPECT_TRUE(ValidateChanged([&](MessageTemplate& t) { t.locale = locale; }).ok()) << locale;
  }
}

TEST(ValidateTemplateTest, RefusesOtherLocales) {
  for (const char* locale : {"", "e", "engl", "EN", "en_US", "en-us", "en-USA", "es-41", "en-"}) {
    ExpectRefusedNaming(ValidateChanged([&](MessageTemplate& t) { t.locale = locale; }),
                        "template.locale");
  }
}

TEST(ValidateTemplateTest, RefusesATemplateWithoutText) {
  const absl::Status status = ValidateChanged([](MessageTemplate& t) {
    t.sms_text.clear();
    t.voice_script.clear();
  });
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("template.sms_text"));
  EXPECT_THAT(status.message(), HasSubstr("template.voice_script"));
}

TEST(ValidateTemplateTest, TextsMayHold1600CharactersButNotMore) {
  // Three-byte characters: the limit counts characters, not bytes.
  std::string longest;
  for (int i = 0; i < 1600; ++i) longest += "€";
  EXPECT_TRUE(ValidateChanged([&](MessageTemplate& t) { t.sms_text = longest; }).ok());
  const absl::Status sms =
      ValidateChanged([&](MessageTemplate& t) { t.sms_text = longest + "x"; });
  ExpectRefusedNaming(sms, "template.sms_text");
  EXPECT_THAT(sms.message(), HasSubstr("1601 characters long, the limit is 1600"));
  ExpectRefusedNaming(
      ValidateChanged([&](MessageTemplate& t) { t.voice_script = longest + "x"; }),
      "template.voice_script");
}

TEST(ValidateTemplateTest, RefusesMalformedPlaceholdersNamingTheText) {
  const absl::Status sms =
      ValidateChanged([](MessageTemplate& t) { t.sms_text = "Disk full: {{host"; });
  EXPECT_EQ(sms.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(sms.message(), "template.sms_text: unclosed placeholder at character 12");
  ExpectRefusedNaming(
      ValidateChanged([](MessageTemplate& t) { t.voice_script = "Disk {{host name}}"; }),
      "template.voice_script");
}

TEST(ValidateTemplateTest, AcceptsTwilioVoicesOrNone) {
  for (const char* voice :
       {"", "man", "woman", "alice", "Polly.Marlene", "Google.de-DE-Standard-A", "Polly.Joanna-Neural"}) {
    EXPECT_TRUE(ValidateChanged([&](MessageTemplate& t) { t.voice_name = voice; }).ok()) << voice;
  }
}

TEST(ValidateTemplateTest, RefusesOtherVoices) {
  for (const std::string& voice : {std::string("Man"), std::string("Polly."),
                                  std::string("Polly.Mar lene"), std::string("Azure.Jenny"),
                                  "Polly." + std::string(65, 'x')}) {
    ExpectRefusedNaming(ValidateChanged([&](MessageTemplate& t) { t.voice_name = voice; }),
                        "template.voice_name");
  }
}

TEST(ValidateTemplateTest, LanguageIsALanguageTagOrNone) {
  EXPECT_TRUE(ValidateChanged([](MessageTemplate& t) { t.language.clear(); }).ok());
  EXPECT_TRUE(ValidateChanged([](MessageTemplate& t) { t.language = "de-DE"; }).ok());
  ExpectRefusedNaming(ValidateChanged([](MessageTemplate& t) { t.language = "German"; }),
                      "template.language");
}

TEST(CheckTemplateNameTest, NamesTheFieldItIsGiven) {
  EXPECT_TRUE(CheckTemplateName("name", "disk-full").ok());
  ExpectRefusedNaming(CheckTemplateName("name", "disk full"), "name");
}

TEST(CheckLocaleTest, NamesTheFieldItIsGiven) {
  EXPECT_TRUE(CheckLocale("template.locale", "de-DE").ok());
  ExpectRefusedNaming(CheckLocale("template.locale", "de_DE"), "template.locale");
}

}  // namespace
}  // namespace klaxon::audit::template_validation_test
