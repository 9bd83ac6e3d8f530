// Templates end to end (docs/adr/0030), through the real ingress, audit, Postgres, Kafka, workers
// and sandbox: a template stored in two locales is rendered for SMS and for a call's TwiML in
// either, falls back to its default locale, and GetAlert names the version used; a missing
// parameter is refused naming it. Needs KLAXON_TEST_KAFKA_BROKERS, KLAXON_TEST_REDIS_URL,
// KLAXON_TEST_PG_URL.
#include <gtest/gtest.h>

#include <string>
#include <tuple>
#include <vector>

#include "tests/e2e/suite.h"

namespace klaxon::e2e::templates_test {
namespace {

using alerts::v1::Alert;

constexpr absl::Duration kWait = absl::Seconds(60);

// The tests share one suite and its two templates, each sending to recipients of its own.
class TemplatesE2eKafkaRedisPostgresTest : public SharedSuiteTest {
 protected:
  static void SetUpTestSuite() {
    ASSERT_NO_FATAL_FAILURE(StartSharedSuite());
    ASSERT_NO_FATAL_FAILURE(Create("en-US", "Disk full on {{host}}",
                                   "Attention. The disk of {{ host }} is full.", "alice", "en-US"));
    ASSERT_NO_FATAL_FAILURE(Create("de-DE", "Platte voll auf {{host}}",
                                   "Achtung. Die Platte von {{host}} ist voll.", "Polly.Marlene",
                                   "de-DE"));
  }

  static void Create(const std::string& locale, const std::string& sms, const std::string& voice,
                     const std::string& voice_name, const std::string& language) {
    alerts::v1::CreateTemplateRequest request;
    alerts::v1::Template& created = *request.mutable_template_();
    created.set_name("disk-full");
    created.set_locale(locale);
    created.set_sms_text(sms);
    created.set_voice_script(voice);
    created.set_voice_name(voice_name);
    created.set_language(language);
    alerts::v1::Template stored;
    const grpc::Status rpc =
        suite_->TemplatesStub()->CreateTemplate(Suite::CallContext().get(), request, &stored);
    ASSERT_TRUE(rpc.ok()) << rpc.error_message();
    EXPECT_EQ(stored.version(), 1u);
  }

  grpc::Status Send(types::v1::Channel channel, const std::string& to, const std::string& locale,
                    const std::string& key, alerts::v1::SendAlertResponse& sent) {
    alerts::v1::SendAlertRequest request;
    request.set_channel(channel);
    request.set_recipient(to);
    request.set_idempotency_key(key);
    alerts::v1::TemplateRef& ref = *request.mutable_template_();
    ref.set_name("disk-full");
    ref.set_locale(locale);
    (*ref.mutable_parameters())["host"] = "db-1";
    return suite_->IntakeStub()->SendAlert(Suite::CallContext().get(), request, &sent);
  }

  // Sends and waits until Twilio took it; returns the alert as GetAlert shows it.
  Alert Sent(types::v1::Channel channel, const std::string& to, const std::string& locale,
             const std::string& key) {
    alerts::v1::SendAlertResponse sent;
    const grpc::Status rpc = Send(channel, to, locale, key, sent);
    EXPECT_TRUE(rpc.ok()) << rpc.error_message();
    // Every rendering here fits one GSM-7 segment; a call has none.
    EXPECT_EQ(sent.segments(), channel == types::v1::CHANNEL_SMS ? 1u : 0u);
    return WaitForStatus(*suite_->QueryStub(), sent.alert_id(), types::v1::ALERT_STATUS_SENT,
                         kWait);
  }
};

TEST_F(TemplatesE2eKafkaRedisPostgresTest, ATextIsRenderedInTheLocaleAskedForOrTheDefault) {
  const Alert german = Sent(types::v1::CHANNEL_SMS, "+14155550191", "de-DE", "tpl-sms-de");
  EXPECT_EQ(german.template_name(), "disk-full");
  EXPECT_EQ(german.template_locale(), "de-DE");
  EXPECT_EQ(german.template_version(), 1u);
  EXPECT_EQ(german.text(), "Platte voll auf db-1");
  ASSERT_EQ(suite_->LedgerTo("+14155550191", "message").size(), 1u);
  EXPECT_EQ(suite_->LedgerTo("+14155550191", "message")[0].value("body", ""),
            "Platte voll auf db-1");

  // A locale the template lacks falls back to its default, its first: en-US.
  const Alert fallback = Sent(types::v1::CHANNEL_SMS, "+14155550192", "fr-FR", "tpl-sms-fr");
  EXPECT_EQ(fallback.template_locale(), "en-US");
  ASSERT_EQ(suite_->LedgerTo("+14155550192", "message").size(), 1u);
  EXPECT_EQ(suite_->LedgerTo("+14155550192", "message")[0].value("body", ""), "Disk full on db-1");
}

TEST_F(TemplatesE2eKafkaRedisPostgresTest, ACallReadsTheScriptInTheLocalesVoice) {
  for (
      const auto& [to, locale, say] :
      {std::tuple{
           "+14155550193", "de-DE",
           R"(<Say voice="Polly.Marlene" language="de-DE">Achtung. Die Platte von db-1 ist voll.)"},
       std::tuple{"+14155550194", "en-US",
                  R"(<Say voice="alice" language="en-US">Attention. The disk of db-1 is full.)"}}) {
    SCOPED_TRACE(locale);
    const Alert call =
        Sent(types::v1::CHANNEL_VOICE, to, locale, std::string("tpl-voice-") + locale);
    EXPECT_EQ(call.template_locale(), locale);
    const std::vector<nlohmann::json> calls = suite_->LedgerTo(to, "call");
    ASSERT_EQ(calls.size(), 1u);
    const std::string twiml = calls[0].value("twiml", "");
    EXPECT_NE(twiml.find(say), std::string::npos) << twiml;
  }
}

TEST_F(TemplatesE2eKafkaRedisPostgresTest, AMissingParameterIsRefusedNamingIt) {
  alerts::v1::SendAlertRequest request;
  request.set_channel(types::v1::CHANNEL_SMS);
  request.set_recipient("+14155550195");
  request.set_idempotency_key("tpl-missing");
  request.mutable_template_()->set_name("disk-full");
  alerts::v1::SendAlertResponse sent;
  const grpc::Status rpc =
      suite_->IntakeStub()->SendAlert(Suite::CallContext().get(), request, &sent);
  EXPECT_EQ(rpc.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(rpc.error_message().find("host"), std::string::npos) << rpc.error_message();
  EXPECT_EQ(rpc.error_message().rfind("template.parameters", 0), 0u) << rpc.error_message();
}

}  // namespace
}  // namespace klaxon::e2e::templates_test
