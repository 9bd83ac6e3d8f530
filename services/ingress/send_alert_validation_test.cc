#include "services/ingress/send_alert_validation.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/sms_acks/ack_reply.h"
#include "common/templates/template_limits.h"

namespace klaxon::ingress {
namespace {

using ::testing::HasSubstr;

const absl::Time kNow = absl::FromUnixSeconds(1'764'000'000);

alerts::v1::SendAlertRequest ValidRequest() {
  alerts::v1::SendAlertRequest request;
  request.set_channel(types::v1::CHANNEL_SMS);
  request.set_recipient("+14155552671");
  request.set_text("disk full on db-1");
  request.set_idempotency_key("incident-42");
  return request;
}

void ExpectInvalid(const alerts::v1::SendAlertRequest& request, std::string_view field) {
  absl::StatusOr<ValidatedAlert> result = ValidateSendAlert(request, kNow);
  ASSERT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(result.status().message()), HasSubstr(std::string(field) + ":"));
}

TEST(SendAlertValidationTest, AcceptsValidRequest) {
  absl::StatusOr<ValidatedAlert> result = ValidateSendAlert(ValidRequest(), kNow);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->recipient, "+14155552671");
}

// A template's rendering that is not UTF-8 is named as the template's, not as the request's text.
TEST(SendAlertValidationTest, ARenderingThatIsNotUtf8NamesTheTemplate) {
  alerts::v1::SendAlertRequest request = ValidRequest();
  request.clear_text();
  request.mutable_template_()->set_name("disk-full");
  absl::StatusOr<ValidatedAlert> alert = ValidateSendAlert(request, kNow);
  ASSERT_TRUE(alert.ok()) << alert.status();
  alerts::v1::RenderedTemplate rendered;
  rendered.set_name("disk-full");
  rendered.set_locale("en");
  rendered.set_version(3);
  rendered.set_text("disk \xC3 full");
  const absl::Status status = UseRendering(request, rendered, *alert);
  ASSERT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), "template: disk-full (en v3) rendered is not valid UTF-8");
}

TEST(SendAlertValidationTest, RejectsMissingRecipient) {
  auto request = ValidRequest();
  request.clear_recipient();
  ExpectInvalid(request, "recipient");
}

TEST(SendAlertValidationTest, RejectsRecipientNotInE164Form) {
  auto request = ValidRequest();
  request.set_recipient("(415) 555-2671");
  ExpectInvalid(request, "recipient");
}

TEST(SendAlertValidationTest, RejectsRecipientInvalidForItsCountry) {
  auto request = ValidRequest();
  request.set_recipient("+99912345678");
  ExpectInvalid(request, "recipient");
}

TEST(SendAlertValidationTest, RecipientErrorDoesNotQuoteTheNumber) {
  auto request = ValidRequest();
  request.set_recipient("+99912345678");
  EXPECT_THAT(std::string(ValidateSendAlert(request, kNow).status().message()),
              ::testing::Not(HasSubstr("12345678")));
}

TEST(SendAlertValidationTest, RejectsEmptyText) {
  auto request = ValidRequest();
  request.clear_text();
  ExpectInvalid(request, "text");
}

TEST(SendAlertValidationTest, AcceptsTextAtTheLimitInCharactersNotBytes) {
  auto request = ValidRequest();
  std::string text;
  for (size_t i = 0; i < kMaxTextCharacters; ++i) text += "\xC3\xA9";  // é, two bytes
  request.set_text(text);
  EXPECT_TRUE(ValidateSendAlert(request, kNow).ok());
}

TEST(SendAlertValidationTest, RejectsOverLongText) {
  auto request = ValidRequest();
  request.set_text(std::string(kMaxTextCharacters + 1, 'x'));
  ExpectInvalid(request, "text");
}

TEST(SendAlertValidationTest, AnAckByReplyLeavesRoomForItsInstruction) {
  auto request = ValidRequest();
  request.set_ack_by_reply(true);
  request.set_text(std::string(kMaxTextCharacters - sms_acks::kAckInstructionCharacters, 'x'));
  EXPECT_TRUE(ValidateSendAlert(request, kNow).ok());
  request.set_text(request.text() + "x");
  absl::StatusOr<ValidatedAlert> result = ValidateSendAlert(request, kNow);
  ASSERT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(result.status().message(),
            "text: is 1570 characters long, the limit is 1569 with ack_by_reply, whose "
            "31-character instruction ends the text");
}

TEST(SendAlertValidationTest, OnlyAnSmsAlertIsAcknowledgedByReply) {
  auto request = ValidRequest();
  request.set_channel(types::v1::CHANNEL_VOICE);
  request.set_ack_by_reply(true);
  ExpectInvalid(request, "ack_by_reply");
}

TEST(SendAlertValidationTest, RejectsInvalidUtf8Text) {
  auto request = ValidRequest();
  request.set_text("bad \xC3");
  ExpectInvalid(request, "text");
}

TEST(SendAlertValidationTest, RejectsUnspecifiedChannel) {
  auto request = ValidRequest();
  request.set_channel(types::v1::CHANNEL_UNSPECIFIED);
  ExpectInvalid(request, "channel");
}

TEST(SendAlertValidationTest, RejectsUnknownChannelNumber) {
  auto request = ValidRequest();
  request.set_channel(static_cast<types::v1::Channel>(7));
  ExpectInvalid(request, "channel");
}

TEST(SendAlertValidationTest, RejectsMissingIdempotencyKey) {
  auto request = ValidRequest();
  request.clear_idempotency_key();
  ExpectInvalid(request, "idempotency_key");
}

TEST(SendAlertValidationTest, RejectsIdempotencyKeyWithSpaces) {
  auto request = ValidRequest();
  request.set_idempotency_key("two words");
  ExpectInvalid(request, "idempotency_key");
}

TEST(SendAlertValidationTest, RejectsOversizedMetadataValue) {
  auto request = ValidRequest();
  (*request.mutable_metadata())["runbook"] = std::string(kMaxMetadataValueLength + 1, 'x');
  ExpectInvalid(request, "metadata[runbook]");
}

TEST(SendAlertValidationTest, TemplateParametersAreBoundedByTheLongestText) {
  auto request = ValidRequest();
  request.clear_text();
  request.mutable_template_()->set_name("disk-full");
  auto& parameters = *request.mutable_template_()->mutable_parameters();
  parameters["host"] = std::string(templates::kMaxParameterBytes / 2, 'h');
  parameters["mount"] = std::string(templates::kMaxParameterBytes / 2, 'm');
  EXPECT_TRUE(ValidateSendAlert(request, kNow).ok());
  parameters["mount"].push_back('m');
  ExpectInvalid(request, "template.parameters");

  parameters.clear();
  for (size_t i = 0; i <= templates::kMaxParameters; ++i) parameters[absl::StrCat("p", i)] = "x";
  ExpectInvalid(request, "template.parameters");
}

TEST(SendAlertValidationTest, AllButTheRecipientIsCheckedWithoutOne) {
  auto request = ValidRequest();
  request.clear_recipient();
  absl::StatusOr<ValidatedAlert> shared = ValidateAllButRecipient(request, kNow);
  ASSERT_TRUE(shared.ok()) << shared.status();
  EXPECT_EQ(shared->recipient, "");
  EXPECT_EQ(shared->text, "disk full on db-1");
  request.set_text(std::string(kMaxTextCharacters + 1, 'x'));
  EXPECT_THAT(ValidateAllButRecipient(request, kNow).status().message(), HasSubstr("text:"));
}

alerts::v1::SendAlertRequest ValidVoiceRequest() {
  auto request = ValidRequest();
  request.set_channel(types::v1::CHANNEL_VOICE);
  return request;
}

TEST(SendAlertValidationTest, TtlDefaultsToOneHour) {
  absl::StatusOr<ValidatedAlert> result = ValidateSendAlert(ValidRequest(), kNow);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->ttl, absl::Hours(1));
}

TEST(SendAlertValidationTest, AcceptsTtlAtItsBounds) {
  for (int64_t seconds : {int64_t{1}, int64_t{36000}}) {
    auto request = ValidRequest();
    request.mutable_ttl()->set_seconds(seconds);
    absl::StatusOr<ValidatedAlert> result = ValidateSendAlert(request, kNow);
    ASSERT_TRUE(result.ok()) << result.status();
    EXPECT_EQ(result->ttl, absl::Seconds(seconds));
  }
}

TEST(SendAlertValidationTest, RejectsTtlBelowOneSecond) {
  auto request = ValidRequest();
  request.mutable_ttl()->set_nanos(999'999'999);
  ExpectInvalid(request, "ttl");
}

TEST(SendAlertValidationTest, RejectsTtlAboveTenHours) {
  auto request = ValidRequest();
  request.mutable_ttl()->set_seconds(36001);
  ExpectInvalid(request, "ttl");
}

TEST(SendAlertValidationTest, RejectsNegativeTtl) {
  auto request = ValidRequest();
  request.mutable_ttl()->set_seconds(-5);
  ExpectInvalid(request, "ttl");
}

TEST(SendAlertValidationTest, SmsAlertHasNoVoicePolicy) {
  absl::StatusOr<ValidatedAlert> result = ValidateSendAlert(ValidRequest(), kNow);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_FALSE(result->voice.has_value());
}

TEST(SendAlertValidationTest, RejectsVoicePolicyOnSmsAlert) {
  auto request = ValidRequest();
  request.mutable_voice()->set_max_calls(2);
  ExpectInvalid(request, "voice");
}

TEST(SendAlertValidationTest, VoicePolicyDefaultsToThreeCallsSixtySecondsApart) {
  absl::StatusOr<ValidatedAlert> result = ValidateSendAlert(ValidVoiceRequest(), kNow);
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_TRUE(result->voice.has_value());
  EXPECT_EQ(result->voice->max_calls(), 3u);
  EXPECT_EQ(result->voice->call_spacing().seconds(), 60);
  EXPECT_FALSE(result->voice->sms_fallback());
}

TEST(SendAlertValidationTest, KeepsAnExplicitVoicePolicy) {
  auto request = ValidVoiceRequest();
  request.mutable_voice()->set_max_calls(5);
  request.mutable_voice()->mutable_call_spacing()->set_seconds(0);
  request.mutable_voice()->set_sms_fallback(true);
  absl::StatusOr<ValidatedAlert> result = ValidateSendAlert(request, kNow);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->voice->max_calls(), 5u);
  EXPECT_EQ(result->voice->call_spacing().seconds(), 0);
  EXPECT_TRUE(result->voice->sms_fallback());
}

TEST(SendAlertValidationTest, KeepsTheCallsLanguageAndVoice) {
  for (const auto& [language, voice] :
       std::vector<std::pair<std::string, std::string>>{{"de-DE", "Polly.Marlene"},
                                                        {"es-419", "Google.es-US-Standard-A"},
                                                        {"fr", "alice"},
                                                        {"cmn-CN", "woman"},
                                                        {"", ""}}) {
    auto request = ValidVoiceRequest();
    request.mutable_voice()->set_language(language);
    request.mutable_voice()->set_voice_name(voice);
    request.mutable_voice()->set_read_only(true);
    absl::StatusOr<ValidatedAlert> result = ValidateSendAlert(request, kNow);
    ASSERT_TRUE(result.ok()) << language << " " << voice << ": " << result.status();
    EXPECT_EQ(result->voice->language(), language);
    EXPECT_EQ(result->voice->voice_name(), voice);
    EXPECT_TRUE(result->voice->read_only());
  }
}

TEST(SendAlertValidationTest, RejectsALanguageThatIsNoLanguageTag) {
  for (const std::string language : {"german", "de_DE", "DE-de", "d", "de-", "de-DEU", "<x>"}) {
    auto request = ValidVoiceRequest();
    request.mutable_voice()->set_language(language);
    ExpectInvalid(request, "voice.language");
  }
}

TEST(SendAlertValidationTest, RejectsAVoiceTwilioDoesNotHave) {
  for (const std::string& voice :
       std::vector<std::string>{"Marlene", "Polly.", "Polly.Mar lene", "polly.Marlene",
                                "Google.x\"/>", "Polly." + std::string(80, 'a')}) {
    auto request = ValidVoiceRequest();
    request.mutable_voice()->set_voice_name(voice);
    ExpectInvalid(request, "voice.voice_name");
  }
}

TEST(SendAlertValidationTest, RejectsMoreThanFiveCalls) {
  auto request = ValidVoiceRequest();
  request.mutable_voice()->set_max_calls(6);
  ExpectInvalid(request, "voice.max_calls");
}

TEST(SendAlertValidationTest, RejectsCallSpacingOverAnHour) {
  auto request = ValidVoiceRequest();
  request.mutable_voice()->mutable_call_spacing()->set_seconds(3601);
  ExpectInvalid(request, "voice.call_spacing");
}

TEST(SendAlertValidationTest, RejectsNegativeCallSpacing) {
  auto request = ValidVoiceRequest();
  request.mutable_voice()->mutable_call_spacing()->set_seconds(-1);
  ExpectInvalid(request, "voice.call_spacing");
}

TEST(SendAlertValidationTest, LeavesAnUnscheduledAlertUnscheduled) {
  absl::StatusOr<ValidatedAlert> result = ValidateSendAlert(ValidRequest(), kNow);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->send_at, std::nullopt);
}

TEST(SendAlertValidationTest, SchedulesSendAtAhead) {
  auto request = ValidRequest();
  request.mutable_send_at()->set_seconds(absl::ToUnixSeconds(kNow + absl::Hours(2)));
  request.mutable_send_at()->set_nanos(500'000'000);
  absl::StatusOr<ValidatedAlert> result = ValidateSendAlert(request, kNow);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->send_at, kNow + absl::Hours(2) + absl::Milliseconds(500));
}

TEST(SendAlertValidationTest, SendsAtOnceWhenSendAtHasPassed) {
  auto request = ValidRequest();
  request.mutable_send_at()->set_seconds(absl::ToUnixSeconds(kNow - absl::Minutes(3)));
  absl::StatusOr<ValidatedAlert> result = ValidateSendAlert(request, kNow);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->send_at, std::nullopt);
}

TEST(SendAlertValidationTest, AcceptsSendAtExactlySevenDaysAhead) {
  auto request = ValidRequest();
  request.mutable_send_at()->set_seconds(
      absl::ToUnixSeconds(kNow + alert_lifetime::kMaxScheduleAhead));
  absl::StatusOr<ValidatedAlert> result = ValidateSendAlert(request, kNow);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->send_at, kNow + alert_lifetime::kMaxScheduleAhead);
}

TEST(SendAlertValidationTest, RejectsSendAtMoreThanSevenDaysAhead) {
  auto request = ValidRequest();
  request.mutable_send_at()->set_seconds(
      absl::ToUnixSeconds(kNow + alert_lifetime::kMaxScheduleAhead + absl::Seconds(1)));
  absl::StatusOr<ValidatedAlert> result = ValidateSendAlert(request, kNow);
  ASSERT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(result.status().message()),
              HasSubstr("send_at: must be at most 168h ahead"));
}

TEST(SendAlertValidationTest, RejectsSendAtOutsideTimestampRange) {
  auto request = ValidRequest();
  request.mutable_send_at()->set_seconds(absl::ToUnixSeconds(kNow));
  request.mutable_send_at()->set_nanos(1'000'000'000);
  ExpectInvalid(request, "send_at");
  request.mutable_send_at()->set_nanos(0);
  request.mutable_send_at()->set_seconds(253'402'300'800);  // 10000-01-01
  ExpectInvalid(request, "send_at");
}

TEST(SendAlertValidationTest, KeepsThePriorityAndTheRecipientsTimeZone) {
  auto request = ValidRequest();
  request.set_priority(types::v1::PRIORITY_LOW);
  request.set_time_zone("America/Argentina/Buenos_Aires");
  absl::StatusOr<ValidatedAlert> result = ValidateSendAlert(request, kNow);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->priority, types::v1::PRIORITY_LOW);
  ASSERT_TRUE(result->time_zone.has_value());
  EXPECT_EQ(result->time_zone->name(), "America/Argentina/Buenos_Aires");
  EXPECT_FALSE(ValidateSendAlert(ValidRequest(), kNow)->time_zone.has_value());
}

TEST(SendAlertValidationTest, RejectsAnUnknownPriority) {
  auto request = ValidRequest();
  request.set_priority(static_cast<types::v1::Priority>(9));
  ExpectInvalid(request, "priority");
}

TEST(SendAlertValidationTest, TakesAnHttpsCallbackUrl) {
  auto request = ValidRequest();
  request.set_callback_url("https://hooks.example.com/klaxon");
  EXPECT_TRUE(ValidateSendAlert(request, kNow).ok());
  request.set_callback_url("http://127.0.0.1:9710/cb");  // a local run's receiver
  EXPECT_TRUE(ValidateSendAlert(request, kNow).ok());
}

TEST(SendAlertValidationTest, RejectsACallbackUrlThatIsNotHttpsOrDoesNotParse) {
  for (const char* url : {"http://hooks.example.com/klaxon", "http://10.0.0.7/cb",
                          "ftp://hooks.example.com/", "hooks.example.com/klaxon", "https://"}) {
    auto request = ValidRequest();
    request.set_callback_url(url);
    ExpectInvalid(request, "callback_url");
  }
}

TEST(SendAlertValidationTest, RejectsATimeZoneThatIsNoIanaName) {
  for (const char* zone :
       {"Mars/Olympus_Mons", "+03:00", "/etc/passwd", "Europe/../UTC", "europe/berlin"}) {
    auto request = ValidRequest();
    request.set_time_zone(zone);
    ExpectInvalid(request, "time_zone");
  }
}

}  // namespace
}  // namespace klaxon::ingress
