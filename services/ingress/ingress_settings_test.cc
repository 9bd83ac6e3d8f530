// LoadIngressSettings on a given environment: the defaults, the values an operator sets, and one
// error naming every variable that is wrong.
#include "services/ingress/ingress_settings.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

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
  // No public URL configured: the webhook address, or a trusted proxy's forwarded scheme and host.
  EXPECT_EQ(settings->webhook.public_url.authority, "127.0.0.1:8080");
  EXPECT_TRUE(settings->webhook.public_url_from_proxy);
}

TEST(IngressSettingsTest, OperatorValuesAreRead) {
  config::Environment environment = Minimal();
  environment["KLAXON_INTAKE_MAX_IN_FLIGHT"] = "64";
  environment["KLAXON_INTAKE_MAX_BACKLOG"] = "0";
  environment["KLAXON_CALLER_QUOTAS"] = "billing=10/1m";
  environment["KLAXON_TWILIO_AUTH_TOKEN_SECONDARY"] = "next-token";
  environment["KLAXON_WEBHOOK_PUBLIC_URL"] = "https://hooks.example.com/klaxon";
  absl::StatusOr<IngressSettings> settings = Load(std::move(environment));
  ASSERT_TRUE(settings.ok()) << settings.status();
  EXPECT_EQ(settings->webhook.public_url.authority, "hooks.example.com");
  EXPECT_FALSE(settings->webhook.public_url_from_proxy) << "a configured URL is never replaced";
  EXPECT_EQ(settings->admission.max_in_flight, 64);
  EXPECT_EQ(settings->admission.max_backlog, 0);
  EXPECT_EQ(settings->caller_quotas.count("billing"), 1u);
  EXPECT_EQ(settings->webhook.auth_tokens,
            (std::vector<std::string>{"twilio-token", "next-token"}));
}

TEST(IngressSettingsTest, EveryAccountsAuthTokenVerifiesWebhooks) {
  const std::filesystem::path dir = std::filesystem::temp_directory_path();
  const std::string tag = std::to_string(::getpid());
  const std::filesystem::path main_token = dir / ("main-token-" + tag);
  const std::filesystem::path backup_token = dir / ("backup-token-" + tag);
  const std::filesystem::path accounts = dir / ("accounts-" + tag + ".json");
  std::ofstream(main_token) << "main-token\n";
  std::ofstream(backup_token) << "backup-token\n";
  std::ofstream(accounts) << R"({"accounts": [
    {"name": "main", "account_sid": "AC0123456789abcdef0123456789abcdef",
     "auth_token_file": ")"
                          << main_token.string() << R"("},
    {"name": "backup", "account_sid": "ACfedcba9876543210fedcba9876543210",
     "auth_token_file": ")"
                          << backup_token.string() << R"("}]})";
  config::Environment environment = Minimal();
  environment.erase("KLAXON_TWILIO_AUTH_TOKEN");
  environment["KLAXON_TWILIO_ACCOUNTS_FILE"] = accounts.string();
  absl::StatusOr<IngressSettings> settings = Load(environment);
  ASSERT_TRUE(settings.ok()) << settings.status();
  EXPECT_TRUE(settings->webhook.auth_tokens.empty());
  EXPECT_EQ(settings->webhook.account_tokens,
            (std::map<std::string, std::vector<std::string>>{
                {"AC0123456789abcdef0123456789abcdef", {"main-token"}},
                {"ACfedcba9876543210fedcba9876543210", {"backup-token"}}}));
  // The single account's token beside the file is a mistake, not a third token.
  environment["KLAXON_TWILIO_AUTH_TOKEN"] = "twilio-token";
  EXPECT_THAT(Load(environment).status().message(),
              HasSubstr("KLAXON_TWILIO_AUTH_TOKEN: is not read with KLAXON_TWILIO_ACCOUNTS_FILE"));
  for (const auto& path : {main_token, backup_token, accounts}) std::filesystem::remove(path);
}

TEST(IngressSettingsTest, EveryWrongVariableIsNamedInOneError) {
  config::Environment environment = Minimal();
  environment["KLAXON_INTAKE_MAX_IN_FLIGHT"] = "0";
  environment["KLAXON_CALLER_QUOTAS"] = "billing=lots";
  environment["KLAXON_QUIET_HOURS"] = "oncall=22:00-07:00@Mars/Olympus_Mons";
  environment.erase("KLAXON_TWILIO_AUTH_TOKEN");
  const absl::Status status = Load(std::move(environment)).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("KLAXON_INTAKE_MAX_IN_FLIGHT"));
  EXPECT_THAT(status.message(), HasSubstr("KLAXON_CALLER_QUOTAS"));
  EXPECT_THAT(status.message(), HasSubstr("KLAXON_QUIET_HOURS: entry \"oncall="));
  EXPECT_THAT(status.message(), HasSubstr("KLAXON_TWILIO_AUTH_TOKEN"));
}

TEST(IngressSettingsTest, TheHttpApiReachesAuditInPlaintextOnLoopbackByDefault) {
  absl::StatusOr<IngressSettings> settings = Load(Minimal());
  ASSERT_TRUE(settings.ok()) << settings.status();
  EXPECT_EQ(settings->http_api.address.ToString(), "127.0.0.1:8081");
  EXPECT_EQ(settings->http_api.audit_target, "127.0.0.1:50052");
  EXPECT_FALSE(settings->http_api.audit_security.tls);
  EXPECT_EQ(settings->http_api.deadline, absl::Seconds(10));
  EXPECT_TRUE(settings->http_api.enabled);
  EXPECT_TRUE(settings->http_api.loopback);
}

TEST(IngressSettingsTest, TheHttpApiCanBeTurnedOffAndSaysWhenItLeavesLoopback) {
  config::Environment environment = Minimal();
  environment["KLAXON_HTTP_API_ADDR"] = "off";
  absl::StatusOr<IngressSettings> off = Load(environment);
  ASSERT_TRUE(off.ok()) << off.status();
  EXPECT_FALSE(off->http_api.enabled);

  environment["KLAXON_HTTP_API_ADDR"] = "0.0.0.0:8081";
  absl::StatusOr<IngressSettings> exposed = Load(environment);
  ASSERT_TRUE(exposed.ok()) << exposed.status();
  EXPECT_TRUE(exposed->http_api.enabled);
  EXPECT_FALSE(exposed->http_api.loopback);
}

TEST(IngressSettingsTest, TheHttpApiUsesTlsToARemoteAuditAndNamesAnUnreadableCa) {
  config::Environment environment = Minimal();
  environment["KLAXON_HTTP_API_AUDIT_TARGET"] = "audit.klaxon.svc:50052";
  absl::StatusOr<IngressSettings> settings = Load(environment);
  ASSERT_TRUE(settings.ok()) << settings.status();
  EXPECT_TRUE(settings->http_api.audit_security.tls);

  environment["KLAXON_HTTP_API_AUDIT_CA_FILE"] = "/nonexistent/ca.pem";
  const absl::Status status = Load(std::move(environment)).status();
  EXPECT_THAT(status.message(), HasSubstr("KLAXON_HTTP_API_AUDIT_CA_FILE"));
  EXPECT_THAT(status.message(), HasSubstr("/nonexistent/ca.pem"));
}

TEST(IngressSettingsTest, VerificationHasTheDocumentedDefaultsAndOperatorValues) {
  absl::StatusOr<IngressSettings> defaults = Load(Minimal());
  ASSERT_TRUE(defaults.ok()) << defaults.status();
  EXPECT_EQ(defaults->verification.code_length, 6);
  EXPECT_EQ(defaults->verification.code_validity, absl::Minutes(10));
  EXPECT_EQ(defaults->verification.max_checks, 5);
  EXPECT_EQ(defaults->verification.prefix_digits, 7);
  EXPECT_EQ(defaults->verification.prefix_starts,
            (std::vector<limits::Rate>{{.count = 50, .window = absl::Hours(1)}}));
  EXPECT_TRUE(defaults->verification.caller_starts.empty());
  EXPECT_EQ(defaults->verification.recipient_starts,
            (std::vector<limits::Rate>{{.count = 5, .window = absl::Hours(1)},
                                       {.count = 20, .window = absl::Hours(24)}}));

  config::Environment environment = Minimal();
  environment["KLAXON_VERIFY_CODE_LENGTH"] = "8";
  environment["KLAXON_VERIFY_CODE_TTL"] = "2m";
  environment["KLAXON_VERIFY_RECIPIENT_LIMITS"] = "3/10m";
  environment["KLAXON_VERIFY_REGIONS"] = "*=US+CA";
  environment["KLAXON_VERIFY_WEBOTP_DOMAIN"] = "example.com";
  environment["KLAXON_VERIFY_CALLER_LIMITS"] = "billing=100/1m";
  environment["KLAXON_VERIFY_PRICES"] = "sms=0.0079,voice=0.014";
  environment["KLAXON_VERIFY_DAILY_SPEND"] = "billing=25";
  absl::StatusOr<IngressSettings> set = Load(std::move(environment));
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_EQ(set->verification.code_length, 8);
  EXPECT_EQ(set->verification.code_validity, absl::Minutes(2));
  EXPECT_EQ(set->verification.recipient_starts.size(), 1u);
  EXPECT_EQ(set->verification.webotp_domain, "example.com");
  EXPECT_EQ(set->verification.caller_starts.count("billing"), 1u);
  EXPECT_EQ(set->verification.spend.daily_caps.at("billing"), 25'000'000);
  EXPECT_EQ(set->verification.regions.Check("billing", "+442071838750").code(),
            absl::StatusCode::kPermissionDenied);
}

TEST(IngressSettingsTest, WrongVerificationSettingsAreNamed) {
  config::Environment environment = Minimal();
  environment["KLAXON_VERIFY_CODE_LENGTH"] = "3";
  environment["KLAXON_VERIFY_RECIPIENT_LIMITS"] = "five/1h";
  environment["KLAXON_VERIFY_REGIONS"] = "*=usa";
  environment["KLAXON_VERIFY_PREFIX_LIMITS"] = "50";
  environment["KLAXON_VERIFY_CALLER_LIMITS"] = "billing";
  environment["KLAXON_VERIFY_DAILY_SPEND"] = "billing=lots";
  environment["KLAXON_VERIFY_WEBOTP_DOMAIN"] = "example.com #1";
  const absl::Status status = Load(std::move(environment)).status();
  for (const char* name :
       {"KLAXON_VERIFY_CODE_LENGTH", "KLAXON_VERIFY_RECIPIENT_LIMITS", "KLAXON_VERIFY_REGIONS",
        "KLAXON_VERIFY_WEBOTP_DOMAIN", "KLAXON_VERIFY_PREFIX_LIMITS", "KLAXON_VERIFY_CALLER_LIMITS",
        "KLAXON_VERIFY_DAILY_SPEND"}) {
    EXPECT_THAT(status.message(), HasSubstr(name));
  }
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
