#include "services/audit/templates/template_rendering.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "common/templates/template_limits.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace klaxon::audit::template_rendering_test {
namespace {

using klaxon::types::v1::CHANNEL_SMS;
using klaxon::types::v1::CHANNEL_UNSPECIFIED;
using klaxon::types::v1::CHANNEL_VOICE;
using ::testing::HasSubstr;
using ::testing::Not;

// disk-full (en-US v3) with `sms_text` and `voice_script`.
MessageTemplate Stored(std::string sms_text, std::string voice_script = "") {
  return {.name = "disk-full",
          .locale = "en-US",
          .version = 3,
          .sms_text = std::move(sms_text),
          .voice_script = std::move(voice_script),
          .voice_name = "Polly.Joanna",
          .language = "en-US"};
}

// `text` rendered as an SMS with `parameters`, expected to succeed.
RenderedText Sms(const std::string& text, const TemplateParameters& parameters) {
  absl::StatusOr<RenderedText> rendered = Render(Stored(text), CHANNEL_SMS, parameters);
  EXPECT_TRUE(rendered.ok()) << rendered.status();
  return rendered.value_or(RenderedText{});
}

// `count` times `character`.
std::string Repeat(std::string_view character, size_t count) {
  std::string out;
  for (size_t i = 0; i < count; ++i) out.append(character);
  return out;
}

TEST(CharactersTest, CountsCodePointsNotBytes) {
  EXPECT_EQ(Characters(""), 0u);
  EXPECT_EQ(Characters("db-7"), 4u);
  EXPECT_EQ(Characters("é€🔥"), 3u);
}

TEST(CheckPlaceholdersTest, AcceptsPlaceholdersWithOrWithoutSpaces) {
  EXPECT_TRUE(CheckPlaceholders("template.sms_text", "Disk {{pct}}% full on {{ host }}").ok());
  EXPECT_TRUE(CheckPlaceholders("template.sms_text", "{{  Host_2  }}").ok());
}

TEST(CheckPlaceholdersTest, SingleBracesAndLoneClosingBracesArePlainText) {
  EXPECT_TRUE(CheckPlaceholders("template.sms_text", "{host} } { }} {x}").ok());
  EXPECT_TRUE(CheckPlaceholders("template.sms_text", "").ok());
}

TEST(CheckPlaceholdersTest, UnclosedPlaceholderIsInvalidArgumentNamingFieldAndCharacter) {
  const absl::Status status = CheckPlaceholders("template.sms_text", "Disk full: {{host");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), "template.sms_text: unclosed placeholder at character 12");
}

TEST(CheckPlaceholdersTest, PositionCountsCharactersNotBytes) {
  const absl::Status status = CheckPlaceholders("template.voice_script", "Größe {{x} {{y}}");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(),
            "template.voice_script: placeholder at character 7 must name a parameter with letters, "
            "digits and '_'");
}

TEST(CheckPlaceholdersTest, PlaceholderThatNamesNoParameterIsInvalidArgument) {
  for (const char* text : {"{{}}", "{{ }}", "{{host-name}}", "{{a b}}", "{{{host}}}", "{{é}}"}) {
    const absl::Status status = CheckPlaceholders("template.sms_text", text);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << text;
    EXPECT_THAT(status.message(),
                HasSubstr("template.sms_text: placeholder at character 1 must name a parameter"))
        << text;
  }
}

TEST(CheckPlaceholdersTest, NoMorePlaceholdersOrLongerNamesThanARequestMayGive) {
  std::string text;
  for (int i = 0; i < 32; ++i) absl::StrAppend(&text, "{{p", i, "}} {{p", i, "}} ");
  EXPECT_TRUE(CheckPlaceholders("template.sms_text", text).ok()) << "32 names, each used twice";
  absl::StrAppend(&text, "{{p32}}");
  EXPECT_THAT(CheckPlaceholders("template.sms_text", text).message(),
              HasSubstr("template.sms_text: has 33 placeholders, the limit is 32"));
  EXPECT_TRUE(CheckPlaceholders("template.sms_text", "{{" + std::string(64, 'n') + "}}").ok());
  EXPECT_THAT(CheckPlaceholders("template.sms_text", "{{" + std::string(65, 'n') + "}}").message(),
              HasSubstr("placeholder names are at most 64 bytes"));
}

TEST(RenderTest, ReplacesEachPlaceholderWithItsParameter) {
  const RenderedText rendered = Sms("Disk {{pct}}% full on {{ host }}; {{host}} pages you",
                                    {{"host", "db-7"}, {"pct", "93"}});
  EXPECT_EQ(rendered.text, "Disk 93% full on db-7; db-7 pages you");
  EXPECT_EQ(rendered.segments, 1u);
}

TEST(RenderTest, SingleBracesStayAsTheyAre) {
  EXPECT_EQ(Sms("{host} {{host}} }}", {{"host", "db-7"}}).text, "{host} db-7 }}");
}

TEST(RenderTest, ValuesAreNotSearchedForPlaceholders) {
  EXPECT_EQ(Sms("{{a}} and {{b}}", {{"a", "{{b}}"}, {"b", "x"}}).text, "{{b}} and x");
}

TEST(RenderTest, TextWithoutPlaceholdersNeedsNoParameters) {
  EXPECT_EQ(Sms("Backups are late", {}).text, "Backups are late");
}

TEST(RenderTest, VoiceRendersTheVoiceScriptWithoutSegments) {
  absl::StatusOr<RenderedText> rendered = Render(
      Stored("SMS {{host}}", "Disk full on {{host}}. Press 1."), CHANNEL_VOICE, {{"host", "db-7"}});
  ASSERT_TRUE(rendered.ok()) << rendered.status();
  EXPECT_EQ(rendered->text, "Disk full on db-7. Press 1.");
  EXPECT_EQ(rendered->segments, 0u);
}

TEST(RenderTest, MissingParameterIsInvalidArgumentNamingItAndTheTemplate) {
  absl::StatusOr<RenderedText> rendered =
      Render(Stored("{{pct}}% full on {{host}}"), CHANNEL_SMS, {{"pct", "93"}});
  EXPECT_EQ(rendered.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(rendered.status().message(),
            "template.parameters: missing \"host\", used by template disk-full (en-US v3)");
}

TEST(RenderTest, UnknownParameterIsInvalidArgumentNamingIt) {
  absl::StatusOr<RenderedText> rendered = Render(Stored("Disk full on {{host}}"), CHANNEL_SMS,
                                                 {{"host", "db-7"}, {"hostname", "db-7"}});
  EXPECT_EQ(rendered.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(rendered.status().message(),
            "template.parameters[hostname]: template disk-full (en-US v3) has no placeholder "
            "hostname");
}

// A parameter counts only against the text of the channel being sent.
TEST(RenderTest, ParameterOnlyTheOtherChannelsTextUsesIsUnknown) {
  absl::StatusOr<RenderedText> rendered =
      Render(Stored("Disk full on {{host}}", "Disk {{pct}} percent full on {{host}}"), CHANNEL_SMS,
             {{"host", "db-7"}, {"pct", "93"}});
  EXPECT_EQ(rendered.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(rendered.status().message(), HasSubstr("template.parameters[pct]"));
}

// The caller's map may hold any key: one that could not be a placeholder is not echoed.
TEST(RenderTest, UnknownParameterWithAnOddNameIsNotEchoed) {
  const std::string odd = "host name\n" + std::string(40, 'x');
  absl::StatusOr<RenderedText> rendered =
      Render(Stored("Disk full on {{host}}"), CHANNEL_SMS, {{"host", "db-7"}, {odd, "db-7"}});
  EXPECT_EQ(rendered.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(rendered.status().message(), HasSubstr("template.parameters: template disk-full"));
  EXPECT_THAT(rendered.status().message(), Not(HasSubstr("host name")));
}

TEST(RenderTest, ErrorsNeverHoldParameterValues) {
  const std::string value = "+14155550100";
  for (const TemplateParameters& parameters :
       {TemplateParameters{{"host", value}, {"extra", value}}, TemplateParameters{{"pct", value}},
        TemplateParameters{{"host", Repeat("x", 1600)}}}) {
    absl::StatusOr<RenderedText> rendered =
        Render(Stored("Call {{host}} now"), CHANNEL_SMS, parameters);
    EXPECT_EQ(rendered.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(rendered.status().message(), Not(HasSubstr(value)));
    EXPECT_THAT(rendered.status().message(), Not(HasSubstr("xxx")));
  }
}

TEST(RenderTest, TemplateWithoutTheChannelsTextIsFailedPrecondition) {
  MessageTemplate stored = Stored("Platte voll auf {{host}}");
  stored.locale = "de-DE";
  stored.version = 2;
  absl::StatusOr<RenderedText> rendered = Render(stored, CHANNEL_VOICE, {{"host", "db-7"}});
  EXPECT_EQ(rendered.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(rendered.status().message(), "template disk-full (de-DE v2) has no voice_script");
  EXPECT_EQ(Render(Stored("", "Script"), CHANNEL_SMS, {}).status().message(),
            "template disk-full (en-US v3) has no sms_text");
}

TEST(RenderTest, ChannelOtherThanSmsOrVoiceIsInvalidArgumentNamingTheField) {
  absl::StatusOr<RenderedText> rendered = Render(Stored("Disk full"), CHANNEL_UNSPECIFIED, {});
  EXPECT_EQ(rendered.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(rendered.status().message(), HasSubstr("channel:"));
}

TEST(RenderTest, EmptyResultIsInvalidArgument) {
  absl::StatusOr<RenderedText> rendered = Render(Stored("{{host}}"), CHANNEL_SMS, {{"host", ""}});
  EXPECT_EQ(rendered.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(rendered.status().message(),
            "template.parameters: the sms_text of template disk-full (en-US v3) would be empty");
}

TEST(RenderTest, ResultOf1600CharactersIsAcceptedAnd1601IsInvalidArgument) {
  // Two-byte characters: the limit counts characters, not bytes.
  EXPECT_EQ(Characters(Sms("é{{rest}}", {{"rest", Repeat("é", 1599)}}).text), 1600u);
  absl::StatusOr<RenderedText> rendered =
      Render(Stored("é{{rest}}"), CHANNEL_SMS, {{"rest", Repeat("é", 1600)}});
  EXPECT_EQ(rendered.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(rendered.status().message(),
            "template.parameters: the sms_text of template disk-full (en-US v3) would be 1601 "
            "characters long, the limit is 1600");
}

TEST(RenderTest, ParametersBeyondWhatARequestMayGiveAreRefusedBeforeRendering) {
  absl::StatusOr<RenderedText> rendered =
      Render(Stored("{{a}}"), CHANNEL_SMS, {{"a", std::string(1 << 20, 'a')}});
  EXPECT_EQ(rendered.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(rendered.status().message(), HasSubstr("the values add up to 1048576 bytes"));
}

TEST(RenderTest, APlaceholderRepeatedStopsTheTextGrowingPastItsLimit) {
  // 320 placeholders in 1,600 characters, each filled with the most a request may give: the
  // rendering would be 2 MB, and stops at 6,400 bytes.
  absl::StatusOr<RenderedText> rendered =
      Render(Stored(Repeat("{{a}}", 320)), CHANNEL_SMS,
             {{"a", std::string(templates::kMaxParameterBytes, 'a')}});
  EXPECT_EQ(rendered.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(rendered.status().message(),
              HasSubstr("would be longer than 6400 bytes, the limit is 1600 characters"));
}

TEST(RenderTest, VoiceScriptHasTheSameLimit) {
  absl::StatusOr<RenderedText> rendered =
      Render(Stored("", "{{x}}"), CHANNEL_VOICE, {{"x", Repeat("a", 1601)}});
  EXPECT_EQ(rendered.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(rendered.status().message(), HasSubstr("voice_script"));
}

TEST(RenderSegmentsTest, Gsm7Holds160CharactersInOneSegmentThen153Each) {
  EXPECT_EQ(Sms("{{x}}", {{"x", Repeat("a", 160)}}).segments, 1u);
  EXPECT_EQ(Sms("{{x}}", {{"x", Repeat("a", 161)}}).segments, 2u);
  EXPECT_EQ(Sms("{{x}}", {{"x", Repeat("a", 306)}}).segments, 2u);
  EXPECT_EQ(Sms("{{x}}", {{"x", Repeat("a", 307)}}).segments, 3u);
}

TEST(RenderSegmentsTest, GsmLettersBeyondAsciiStayGsm7) {
  EXPECT_EQ(Sms("{{x}}", {{"x", Repeat("é", 160)}}).segments, 1u);
}

TEST(RenderSegmentsTest, ExtensionCharactersCountTwo) {
  EXPECT_EQ(Sms("{{x}}", {{"x", Repeat("€", 80)}}).segments, 1u);
  EXPECT_EQ(Sms("{{x}}", {{"x", Repeat("€", 81)}}).segments, 2u);
  for (const char* extension : {"^", "{", "}", "\\", "[", "~", "]", "|", "€"}) {
    EXPECT_EQ(Sms("{{x}}", {{"x", Repeat("a", 159) + extension}}).segments, 2u) << extension;
    EXPECT_EQ(Sms("{{x}}", {{"x", Repeat("a", 158) + extension}}).segments, 1u) << extension;
  }
}

TEST(RenderSegmentsTest, Ucs2Holds70CharactersInOneSegmentThen67Each) {
  EXPECT_EQ(Sms("{{x}}", {{"x", Repeat("ж", 70)}}).segments, 1u);
  EXPECT_EQ(Sms("{{x}}", {{"x", Repeat("ж", 71)}}).segments, 2u);
  EXPECT_EQ(Sms("{{x}}", {{"x", Repeat("ж", 134)}}).segments, 2u);
  EXPECT_EQ(Sms("{{x}}", {{"x", Repeat("ж", 135)}}).segments, 3u);
}

TEST(RenderSegmentsTest, OneCharacterBeyondGsm7MakesTheWholeTextUcs2) {
  EXPECT_EQ(Sms("{{x}}", {{"x", Repeat("a", 70)}}).segments, 1u);
  EXPECT_EQ(Sms("{{x}}ж", {{"x", Repeat("a", 70)}}).segments, 2u);
}

// UCS-2 counts UTF-16 units: an emoji beyond the Basic Multilingual Plane takes two.
TEST(RenderSegmentsTest, EmojiCountsTwoUtf16Units) {
  EXPECT_EQ(Sms("{{x}}", {{"x", Repeat("🔥", 35)}}).segments, 1u);
  EXPECT_EQ(Sms("{{x}}", {{"x", Repeat("🔥", 36)}}).segments, 2u);
}

}  // namespace
}  // namespace klaxon::audit::template_rendering_test
