// LoadIngressSettings on a given environment: the defaults, the values an operator sets, and one
// error naming every variable that is wrong.
#include "services/ingress/ingress_settings.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/crypto/test_keyring.h"

namespace klaxon::ingress {
namespace {

using ::testing::HasSubstr;

// What ingress needs at the least: Kafka, Redis, the PII key, the transit keyring, API keys, a
// Twilio token and plaintext gRPC chosen explicitly.
config::Environment Minimal() {
  return {{"KLAXON_KAFKA_BROKERS", "127.0.0.1:9092"},
          {"KLAXON_REDIS_URL", "redis://127.0.0.1:6379/0"},
          {"KLAXON_PII_HMAC_KEY", "0123456789abcdef0123"},
          {"KLAXON_TRANSIT_KEYRING", crypto::testing::KeyringDocument(1, {1})},
          {"KLAXON_API_KEYS", "billing=" + auth::HashApiKey("billing-key")},
          {"KLAXON_TWILIO_AUTH_TOKEN", "twilio-token"},
          {"KLAXON_GRPC_PLAINTEXT", "true"}};
}

absl::StatusOr<IngressSettings> Load(config::Environment environment) {
  config::Reader reader(std::move(environment));
  return LoadIngressSettings(reader);
}

TEST(IngressSettingsTest, MinimalEnvironmentGetsTheDocumentedDefaults) {
  absl::StatusOr<IngressSettings> settings = Load(Minimal());
  ASSERT_TRUE(settings.ok()) << settings.status();
  EXPECT_EQ(settings->grpc.ToString(), "127.0.0.1:50051");
  EXPECT_EQ(settings->webhook.address.ToString(), "127.0.0.1:8080");
  EXPECT_EQ(settings->publish_timeout, absl::Seconds(5));
  EXPECT_EQ(settings->admission.max_in_flight, 1024);
  EXPECT_EQ(settings->admission.max_backlog, 100'000);
  EXPECT_TRUE(settings->caller_quotas.empty());
  EXPECT_EQ(settings->webhook.auth_tokens, std::vector<std::string>{"twilio-token"});
  EXPECT_EQ(settings->redis.pool_size, kRedisConnections);
}

TEST(IngressSettingsTest, OperatorValuesAreRead) {
  config::Environment environment = Minimal();
  environment["KLAXON_INTAKE_MAX_IN_FLIGHT"] = "64";
  environment["KLAXON_INTAKE_MAX_BACKLOG"] = "0";
  environment["KLAXON_CALLER_QUOTAS"] = "billing=10/1m";
  environment["KLAXON_TWILIO_AUTH_TOKEN_SECONDARY"] = "next-token";
  absl::StatusOr<IngressSettings> settings = Load(std::move(environment));
  ASSERT_TRUE(settings.ok()) << settings.status();
  EXPECT_EQ(settings->admission.max_in_flight, 64);
  EXPECT_EQ(settings->admission.max_backlog, 0);
  EXPECT_EQ(settings->caller_quotas.count("billing"), 1u);
  EXPECT_EQ(settings->webhook.auth_tokens,
            (std::vector<std::string>{"twilio-token", "next-token"}));
}

TEST(IngressSettingsTest, EveryWrongVariableIsNamedInOneError) {
  config::Environment environment = Minimal();
  environment["KLAXON_INTAKE_MAX_IN_FLIGHT"] = "0";
  environment["KLAXON_CALLER_QUOTAS"] = "billing=lots";
  environment.erase("KLAXON_TWILIO_AUTH_TOKEN");
  const absl::Status status = Load(std::move(environment)).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("KLAXON_INTAKE_MAX_IN_FLIGHT"));
  EXPECT_THAT(status.message(), HasSubstr("KLAXON_CALLER_QUOTAS"));
  EXPECT_THAT(status.message(), HasSubstr("KLAXON_TWILIO_AUTH_TOKEN"));
}

TEST(IngressSettingsTest, SandboxTokenOnlyOnALoopbackWebhookPort) {
  config::Environment environment = Minimal();
  environment.erase("KLAXON_TWILIO_AUTH_TOKEN");
  environment["KLAXON_TWILIO_SANDBOX"] = "true";
  absl::StatusOr<IngressSettings> loopback = Load(environment);
  ASSERT_TRUE(loopback.ok()) << loopback.status();
  EXPECT_EQ(loopback->webhook.auth_tokens,
            std::vector<std::string>{std::string(twilio::kSandboxAuthToken)});

  environment["KLAXON_WEBHOOK_ADDR"] = "0.0.0.0:8080";
  EXPECT_THAT(Load(std::move(environment)).status().message(), HasSubstr("KLAXON_TWILIO_SANDBOX"));
}

}  // namespace
}  // namespace klaxon::ingress
