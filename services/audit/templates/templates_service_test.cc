// Runs TemplatesService in a real in-process gRPC server on a free loopback port, over a
// FakeTemplateStore.
#include "services/audit/templates/templates_service.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/timing/fake_clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "services/audit/testing/fake_template_store.h"
#include "services/audit/testing/loopback_server.h"

namespace klaxon::audit::templates_service_test {
namespace {

using klaxon::alerts::v1::CreateTemplateRequest;
using klaxon::alerts::v1::ListTemplatesRequest;
using klaxon::alerts::v1::ListTemplatesResponse;
using klaxon::alerts::v1::RenderedTemplate;
using klaxon::alerts::v1::RenderTemplateRequest;
using klaxon::alerts::v1::Template;
using klaxon::types::v1::CHANNEL_SMS;
using klaxon::types::v1::CHANNEL_VOICE;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kBillingKey[] = "billing-secret-key";
constexpr char kPaymentsKey[] = "payments-secret-key";
const absl::Time kNow = absl::FromUnixSeconds(1'700'000'000);

auth::ApiKeyRegistry Keys() {
  return auth::ApiKeyRegistry::Parse("billing=" + auth::HashApiKey(kBillingKey) +
                                     ",payments=" + auth::HashApiKey(kPaymentsKey))
      .value();
}

CreateTemplateRequest Creation(const std::string& locale, const std::string& sms_text,
                               const std::string& voice_script = "") {
  CreateTemplateRequest request;
  Template& created = *request.mutable_template_();
  created.set_name("disk-full");
  created.set_locale(locale);
  created.set_sms_text(sms_text);
  created.set_voice_script(voice_script);
  if (!voice_script.empty()) {
    created.set_voice_name("Polly.Marlene");
    created.set_language("de-DE");
  }
  return request;
}

RenderTemplateRequest Rendering(klaxon::types::v1::Channel channel, const std::string& locale,
                                const std::map<std::string, std::string>& parameters) {
  RenderTemplateRequest request;
  request.set_channel(channel);
  request.mutable_template_()->set_name("disk-full");
  request.mutable_template_()->set_locale(locale);
  for (const auto& [name, value] : parameters) {
    (*request.mutable_template_()->mutable_parameters())[name] = value;
  }
  return request;
}

class TemplatesServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(server_.Start<klaxon::alerts::v1::Templates>(service_, stub_));
  }

  void TearDown() override { server_.Shutdown(); }

  // CreateTemplate as `api_key`, expected to succeed.
  Template Create(const CreateTemplateRequest& request, const char* api_key = kBillingKey) {
    Template stored;
    const grpc::Status status =
        stub_->CreateTemplate(testing::CallContext(api_key).get(), request, &stored);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return stored;
  }

  // The German SMS-only v1 (the default), then the English v1 and v2 with a voice script.
  void CreateDiskFull() {
    Create(Creation("de-DE", "Platte {{pct}}% voll auf {{host}}"));
    Create(Creation("en-US", "Disk {{pct}}% full on {{host}}", "Disk full on {{host}}."));
    Create(Creation("en-US", "Disk {{pct}}% full on {{ host }}!", "The disk on {{host}} is full."));
  }

  grpc::Status Render(const RenderTemplateRequest& request, RenderedTemplate* rendered,
                      const char* api_key = kBillingKey) {
    return stub_->RenderTemplate(testing::CallContext(api_key).get(), request, rendered);
  }

  std::vector<std::string> LogLines() const { return sink_.Lines(); }

  timing::FakeClock clock_{kNow};
  FakeTemplateStore store_{clock_};
  log::MemorySink sink_;
  log::Logger logger_{
      {.service = "audit"}, log::PhoneRedactor::Create("templates-test-key").value(), sink_};
  auth::ApiKeyRegistry keys_ = Keys();
  TemplatesService service_{keys_, store_, logger_};
  testing::LoopbackServer server_;
  std::unique_ptr<klaxon::alerts::v1::Templates::Stub> stub_;
};

TEST_F(TemplatesServiceTest, CreateTemplateAnswersVersionOneAsTheDefaultLocale) {
  const Template stored = Create(Creation("en-US", "Disk full on {{host}}", "Disk {{host}}."));
  EXPECT_EQ(stored.name(), "disk-full");
  EXPECT_EQ(stored.locale(), "en-US");
  EXPECT_EQ(stored.version(), 1u);
  EXPECT_TRUE(stored.default_locale());
  EXPECT_EQ(stored.sms_text(), "Disk full on {{host}}");
  EXPECT_EQ(stored.voice_script(), "Disk {{host}}.");
  EXPECT_EQ(stored.voice_name(), "Polly.Marlene");
  EXPECT_EQ(stored.language(), "de-DE");
  EXPECT_EQ(stored.created_at().seconds(), absl::ToUnixSeconds(kNow));
}

TEST_F(TemplatesServiceTest, CreateTemplateIgnoresTheRequestsVersionAndAddsTheNext) {
  Create(Creation("en-US", "Disk full"));
  CreateTemplateRequest again = Creation("en-US", "Disk full!");
  again.mutable_template_()->set_version(7);
  again.mutable_template_()->mutable_created_at()->set_seconds(42);
  const Template stored = Create(again);
  EXPECT_EQ(stored.version(), 2u);
  EXPECT_EQ(stored.created_at().seconds(), absl::ToUnixSeconds(kNow));
}

TEST_F(TemplatesServiceTest, InvalidTemplateIsInvalidArgumentNamingTheFieldAndNotStored) {
  Template stored;
  const grpc::Status status = stub_->CreateTemplate(
      testing::CallContext(kBillingKey).get(), Creation("en-US", "Disk full: {{host"), &stored);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(), "template.sms_text: unclosed placeholder at character 12");
  EXPECT_EQ(stub_
                ->CreateTemplate(testing::CallContext(kBillingKey).get(),
                                 Creation("en_US", "Disk full"), &stored)
                .error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(store_.List("billing", "").value(), ::testing::IsEmpty());
}

TEST_F(TemplatesServiceTest, CreationIsLoggedWithoutTheTexts) {
  Create(Creation("en-US", "Disk full on {{host}}", "Disk full script"));
  const std::vector<std::string> lines = LogLines();
  ASSERT_EQ(lines.size(), 1u);
  const nlohmann::json line = nlohmann::json::parse(lines[0]);
  EXPECT_EQ(line["event"], "template_created");
  EXPECT_EQ(line["caller"], "billing");
  EXPECT_EQ(line["name"], "disk-full");
  EXPECT_EQ(line["locale"], "en-US");
  EXPECT_EQ(line["version"], 1);
  EXPECT_THAT(lines[0], Not(HasSubstr("Disk full")));
}

TEST_F(TemplatesServiceTest, ListTemplatesListsTheCallersLatestVersions) {
  CreateDiskFull();
  CreateTemplateRequest payments = Creation("fr", "Disque plein");
  payments.mutable_template_()->set_name("payments-only");
  Create(payments, kPaymentsKey);
  ListTemplatesResponse listed;
  const grpc::Status status = stub_->ListTemplates(testing::CallContext(kBillingKey).get(),
                                                   ListTemplatesRequest(), &listed);
  ASSERT_TRUE(status.ok()) << status.error_message();
  std::vector<std::string> summary;
  for (const Template& stored : listed.templates()) {
    summary.push_back(stored.name() + " " + stored.locale() + " v" +
                      std::to_string(stored.version()) + (stored.default_locale() ? "*" : ""));
  }
  EXPECT_THAT(summary, ElementsAre("disk-full de-DE v1*", "disk-full en-US v2"));
  EXPECT_EQ(listed.templates(1).voice_script(), "The disk on {{host}} is full.");
}

TEST_F(TemplatesServiceTest, ListTemplatesOfAMalformedNameIsInvalidArgumentNamingIt) {
  ListTemplatesRequest request;
  request.set_name("disk full");
  ListTemplatesResponse listed;
  const grpc::Status status =
      stub_->ListTemplates(testing::CallContext(kBillingKey).get(), request, &listed);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), ::testing::StartsWith("name: "));
}

TEST_F(TemplatesServiceTest, RenderTemplateRendersTheDefaultLocalesSmsTextWithSegments) {
  CreateDiskFull();
  RenderedTemplate rendered;
  const grpc::Status status =
      Render(Rendering(CHANNEL_SMS, "", {{"host", "db-7"}, {"pct", "93"}}), &rendered);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(rendered.name(), "disk-full");
  EXPECT_EQ(rendered.locale(), "de-DE");
  EXPECT_EQ(rendered.version(), 1u);
  EXPECT_EQ(rendered.text(), "Platte 93% voll auf db-7");
  EXPECT_EQ(rendered.segments(), 1u);
  EXPECT_EQ(rendered.voice_name(), "");
  EXPECT_EQ(rendered.language(), "");
}

TEST_F(TemplatesServiceTest, RenderTemplateOfVoiceGivesTheLatestScriptVoiceAndLanguage) {
  CreateDiskFull();
  RenderedTemplate rendered;
  const grpc::Status status =
      Render(Rendering(CHANNEL_VOICE, "en-US", {{"host", "db-7"}}), &rendered);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(rendered.locale(), "en-US");
  EXPECT_EQ(rendered.version(), 2u);
  EXPECT_EQ(rendered.text(), "The disk on db-7 is full.");
  EXPECT_EQ(rendered.voice_name(), "Polly.Marlene");
  EXPECT_EQ(rendered.language(), "de-DE");
  EXPECT_EQ(rendered.segments(), 0u);
}

TEST_F(TemplatesServiceTest, RenderTemplateInALocaleTheTemplateLacksUsesTheDefault) {
  CreateDiskFull();
  RenderedTemplate rendered;
  ASSERT_TRUE(
      Render(Rendering(CHANNEL_SMS, "fr", {{"host", "db-7"}, {"pct", "93"}}), &rendered).ok());
  EXPECT_EQ(rendered.locale(), "de-DE");
}

TEST_F(TemplatesServiceTest, UnknownTemplateIsNotFoundNamingIt) {
  RenderedTemplate rendered;
  const grpc::Status status = Render(Rendering(CHANNEL_SMS, "", {}), &rendered);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_THAT(status.error_message(), HasSubstr("\"disk-full\""));
}

TEST_F(TemplatesServiceTest, AnotherCallersTemplateIsNotFound) {
  CreateDiskFull();
  RenderedTemplate rendered;
  EXPECT_EQ(
      Render(Rendering(CHANNEL_SMS, "", {{"host", "db-7"}, {"pct", "93"}}), &rendered, kPaymentsKey)
          .error_code(),
      grpc::StatusCode::NOT_FOUND);
}

TEST_F(TemplatesServiceTest, TemplateWithoutTheChannelsTextIsFailedPrecondition) {
  CreateDiskFull();
  RenderedTemplate rendered;
  const grpc::Status status =
      Render(Rendering(CHANNEL_VOICE, "de-DE", {{"host", "db-7"}}), &rendered);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(status.error_message(), "template disk-full (de-DE v1) has no voice_script");
}

TEST_F(TemplatesServiceTest, MissingParameterIsInvalidArgumentNamingIt) {
  CreateDiskFull();
  RenderedTemplate rendered;
  const grpc::Status status = Render(Rendering(CHANNEL_SMS, "en-US", {{"pct", "93"}}), &rendered);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(),
            "template.parameters: missing \"host\", used by template disk-full (en-US v2)");
}

TEST_F(TemplatesServiceTest, MalformedReferenceIsInvalidArgumentNamingTheField) {
  RenderTemplateRequest bad_name = Rendering(CHANNEL_SMS, "", {});
  bad_name.mutable_template_()->set_name("disk full");
  RenderedTemplate rendered;
  grpc::Status status = Render(bad_name, &rendered);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), ::testing::StartsWith("template.name: "));
  status = Render(Rendering(CHANNEL_SMS, "de_DE", {}), &rendered);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), ::testing::StartsWith("template.locale: "));
}

TEST_F(TemplatesServiceTest, MissingOrUnknownApiKeyIsUnauthenticated) {
  for (const char* key : {static_cast<const char*>(nullptr), "not-a-key"}) {
    Template stored;
    EXPECT_EQ(stub_
                  ->CreateTemplate(testing::CallContext(key).get(), Creation("en-US", "Disk full"),
                                   &stored)
                  .error_code(),
              grpc::StatusCode::UNAUTHENTICATED);
    ListTemplatesResponse listed;
    EXPECT_EQ(stub_->ListTemplates(testing::CallContext(key).get(), ListTemplatesRequest(), &listed)
                  .error_code(),
              grpc::StatusCode::UNAUTHENTICATED);
    RenderedTemplate rendered;
    EXPECT_EQ(stub_
                  ->RenderTemplate(testing::CallContext(key).get(), Rendering(CHANNEL_SMS, "", {}),
                                   &rendered)
                  .error_code(),
              grpc::StatusCode::UNAUTHENTICATED);
  }
  EXPECT_THAT(store_.List("billing", "").value(), ::testing::IsEmpty());
}

TEST_F(TemplatesServiceTest, StoreDownIsUnavailable) {
  store_.FailWith(absl::UnavailableError("database is down"));
  Template stored;
  EXPECT_EQ(stub_
                ->CreateTemplate(testing::CallContext(kBillingKey).get(),
                                 Creation("en-US", "Disk full"), &stored)
                .error_code(),
            grpc::StatusCode::UNAVAILABLE);
  ListTemplatesResponse listed;
  EXPECT_EQ(
      stub_->ListTemplates(testing::CallContext(kBillingKey).get(), ListTemplatesRequest(), &listed)
          .error_code(),
      grpc::StatusCode::UNAVAILABLE);
  RenderedTemplate rendered;
  EXPECT_EQ(Render(Rendering(CHANNEL_SMS, "", {}), &rendered).error_code(),
            grpc::StatusCode::UNAVAILABLE);
}

}  // namespace
}  // namespace klaxon::audit::templates_service_test
