// AlertIntake and templates (docs/adr/0030): a SendAlert naming a template is taken in with the
// text audit rendered for the caller, the template's voice and language read a voice alert's
// script unless the alert chose its own, and the request names the template, locale and version.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <future>
#include <string>
#include <utility>

#include "klaxon/events/v1/events.pb.h"
#include "services/ingress/testing/intake_harness.h"

namespace klaxon::ingress {
namespace {

using alerts::v1::RenderedTemplate;
using alerts::v1::SendAlertRequest;
using alerts::v1::SendAlertResponse;
using ::testing::HasSubstr;

// Renders every template as `answer`, recording what it was asked.
class FakeRenderer final : public TemplateRenderer {
 public:
  absl::StatusOr<RenderedTemplate> Render(std::string_view caller_key, types::v1::Channel channel,
                                          const alerts::v1::TemplateRef& ref) override {
    ++calls;
    asked_key = std::string(caller_key);
    asked_channel = channel;
    asked_ref = ref;
    return answer;
  }

  absl::StatusOr<RenderedTemplate> answer;
  int calls = 0;
  std::string asked_key;
  types::v1::Channel asked_channel = types::v1::CHANNEL_UNSPECIFIED;
  alerts::v1::TemplateRef asked_ref;
};

RenderedTemplate Rendering(std::string text, uint32_t version = 3) {
  RenderedTemplate rendered;
  rendered.set_name("disk-full");
  rendered.set_locale("de-DE");
  rendered.set_version(version);
  rendered.set_text(std::move(text));
  rendered.set_voice_name("Polly.Marlene");
  rendered.set_language("de-DE");
  return rendered;
}

SendAlertRequest Templated(std::string key, types::v1::Channel channel = types::v1::CHANNEL_SMS) {
  SendAlertRequest request = testing::Request(std::move(key), channel);
  request.clear_text();
  alerts::v1::TemplateRef& ref = *request.mutable_template_();
  ref.set_name("disk-full");
  ref.set_locale("de-DE");
  (*ref.mutable_parameters())["host"] = "db-1";
  return request;
}

class AlertIntakeTemplateTest : public ::testing::Test {
 protected:
  absl::StatusOr<SendAlertResponse> Send(const SendAlertRequest& request) {
    std::promise<absl::StatusOr<SendAlertResponse>> answer;
    harness_.intake().Send("oncall", request, {.caller_key = "oncall-key"},
                           [&answer](absl::StatusOr<SendAlertResponse> response) {
                             answer.set_value(std::move(response));
                           });
    return answer.get_future().get();
  }

  events::v1::AlertRequested LastPublished() {
    events::v1::AlertRequested event;
    EXPECT_TRUE(event.ParseFromString(harness_.publisher().published().back().value));
    return event;
  }

  FakeRenderer renderer_;
  testing::IntakeHarness harness_{{.templates = &renderer_}};
};

TEST_F(AlertIntakeTemplateTest, TheRenderedTextIsSentAndTheRequestNamesTheTemplate) {
  renderer_.answer = Rendering("Platte voll auf db-1");
  const absl::StatusOr<SendAlertResponse> sent = Send(Templated("k1"));
  ASSERT_TRUE(sent.ok()) << sent.status();
  EXPECT_EQ(sent->segments(), 1u);
  EXPECT_EQ(renderer_.asked_key, "oncall-key") << "audit renders as the caller";
  EXPECT_EQ(renderer_.asked_channel, types::v1::CHANNEL_SMS);
  EXPECT_EQ(renderer_.asked_ref.parameters().at("host"), "db-1");

  const events::v1::AlertRequested event = LastPublished();
  EXPECT_EQ(event.template_name(), "disk-full");
  EXPECT_EQ(event.template_locale(), "de-DE");
  EXPECT_EQ(event.template_version(), 3u);
  absl::StatusOr<transit::AlertPersonalData> opened = harness_.transit().OpenAlert(event);
  ASSERT_TRUE(opened.ok()) << opened.status();
  EXPECT_EQ(opened->text, "Platte voll auf db-1");
}

TEST_F(AlertIntakeTemplateTest, AVoiceAlertReadsTheScriptWithTheTemplatesVoiceUnlessItChoseOne) {
  renderer_.answer = Rendering("Achtung. Platte voll auf db-1.");
  ASSERT_TRUE(Send(Templated("k1", types::v1::CHANNEL_VOICE)).ok());
  EXPECT_EQ(LastPublished().voice().voice_name(), "Polly.Marlene");
  EXPECT_EQ(LastPublished().voice().language(), "de-DE");

  SendAlertRequest own = Templated("k2", types::v1::CHANNEL_VOICE);
  own.mutable_voice()->set_voice_name("alice");
  ASSERT_TRUE(Send(own).ok());
  EXPECT_EQ(LastPublished().voice().voice_name(), "alice");
  EXPECT_EQ(LastPublished().voice().language(), "de-DE");
}

TEST_F(AlertIntakeTemplateTest, TheAnswerCountsTheSegmentsOfTheTextAsSent) {
  std::string cyrillic;
  for (int i = 0; i < 71; ++i) cyrillic += "ж";
  renderer_.answer = Rendering(cyrillic);
  const absl::StatusOr<SendAlertResponse> sent = Send(Templated("k1"));
  ASSERT_TRUE(sent.ok()) << sent.status();
  EXPECT_EQ(sent->segments(), 2u) << "71 UCS-2 characters take two segments";
  const absl::StatusOr<SendAlertResponse> voice = Send(Templated("k2", types::v1::CHANNEL_VOICE));
  ASSERT_TRUE(voice.ok()) << voice.status();
  EXPECT_EQ(voice->segments(), 0u);
}

TEST_F(AlertIntakeTemplateTest, ARetryOfAnAcceptedAlertIsAnsweredWithoutRenderingAgain) {
  renderer_.answer = Rendering("Platte voll auf db-1", 3);
  const absl::StatusOr<SendAlertResponse> first = Send(Templated("k1"));
  ASSERT_TRUE(first.ok()) << first.status();
  // Audit is out of reach now, or the template's new version no longer takes these parameters:
  // neither matters to an alert already taken in.
  for (const absl::Status& audit :
       {absl::UnavailableError("template: audit did not answer"),
        absl::InvalidArgumentError("template.parameters: missing \"disk\"")}) {
    renderer_.answer = audit;
    const absl::StatusOr<SendAlertResponse> again = Send(Templated("k1"));
    ASSERT_TRUE(again.ok()) << again.status();
    EXPECT_EQ(again->alert_id(), first->alert_id());
    EXPECT_TRUE(again->duplicate());
  }
  EXPECT_EQ(renderer_.calls, 1);
  EXPECT_EQ(harness_.publisher().published().size(), 1u);
}

TEST_F(AlertIntakeTemplateTest, ARetryOfAnAlertKafkaRefusedIsRenderedAndPublished) {
  renderer_.answer = Rendering("Platte voll auf db-1", 3);
  harness_.publisher().FailWith(absl::UnavailableError("broker down"));
  EXPECT_EQ(Send(Templated("k1")).status().code(), absl::StatusCode::kUnavailable);
  harness_.publisher().FailWith(absl::OkStatus());
  renderer_.answer = Rendering("Festplatte voll: db-1", 4);
  const absl::StatusOr<SendAlertResponse> again = Send(Templated("k1"));
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(renderer_.calls, 2);
  EXPECT_EQ(LastPublished().template_version(), 4u);
}

TEST_F(AlertIntakeTemplateTest, OtherParametersUnderTheSameKeyAreAnotherRequest) {
  renderer_.answer = Rendering("Platte voll auf db-1");
  ASSERT_TRUE(Send(Templated("k1")).ok());
  SendAlertRequest other = Templated("k1");
  (*other.mutable_template_()->mutable_parameters())["host"] = "db-2";
  EXPECT_EQ(Send(other).status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(AlertIntakeTemplateTest, AuditsRefusalIsTheAnswerAndNothingIsPublished) {
  renderer_.answer = absl::InvalidArgumentError("template.parameters: missing \"host\"");
  const absl::Status refused = Send(Templated("k1")).status();
  EXPECT_EQ(refused.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(refused.message(), HasSubstr("template.parameters: missing"));
  EXPECT_TRUE(harness_.publisher().published().empty());
}

TEST_F(AlertIntakeTemplateTest, ARenderedTextOverTheLimitIsRefusedNamingTheTemplate) {
  renderer_.answer = Rendering(std::string(1601, 'x'));
  const absl::Status refused = Send(Templated("k1")).status();
  EXPECT_EQ(refused.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(refused.message(),
              HasSubstr("template: disk-full (de-DE v3) rendered is 1601 characters long"));
}

TEST_F(AlertIntakeTemplateTest, TextBesideATemplateIsRefused) {
  renderer_.answer = Rendering("Platte voll auf db-1");
  SendAlertRequest request = Templated("k1");
  request.set_text("disk full");
  const absl::Status refused = Send(request).status();
  EXPECT_EQ(refused.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(refused.message(), HasSubstr("text: must be empty when template is set"));
}

TEST(AlertIntakeWithoutTemplatesTest, ATemplatedAlertIsRefusedNamingTheField) {
  testing::IntakeHarness harness({});
  const absl::Status refused =
      testing::SendAndWait(harness.intake(), "oncall", Templated("k1")).status();
  EXPECT_EQ(refused.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(refused.message(), HasSubstr("template: "));
}

}  // namespace
}  // namespace klaxon::ingress
