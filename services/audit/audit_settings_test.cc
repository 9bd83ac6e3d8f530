// LoadAuditSettings on a given environment: the defaults, the values an operator sets, the keys
// parsed once, and one error naming every variable that is wrong.
#include "services/audit/audit_settings.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/crypto/test_keyring.h"

namespace klaxon::audit::audit_settings_test {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kBlindIndexKey[] = "audit-blind-index-key-0123456789abcdef";

// What audit needs at the least: Kafka, Postgres, the PII key, the keyrings, the blind index key,
// API keys and plaintext gRPC chosen explicitly.
config::Environment Minimal() {
  return {{"KLAXON_KAFKA_BROKERS", "127.0.0.1:9092"},
          {"KLAXON_PG_URL", "postgresql://audit@127.0.0.1:5432/klaxon"},
          {"KLAXON_PII_HMAC_KEY", "0123456789abcdef0123"},
          {"KLAXON_TRANSIT_KEYRING", crypto::testing::KeyringDocument(1, {1})},
          {"KLAXON_KEYRING", crypto::testing::KeyringDocument(2, {1, 2})},
          {"KLAXON_BLIND_INDEX_KEY", kBlindIndexKey},
          {"KLAXON_API_KEYS", "billing=" + auth::HashApiKey("billing-key")},
          {"KLAXON_GRPC_PLAINTEXT", "true"}};
}

absl::StatusOr<AuditSettings> Load(config::Environment environment) {
  config::Reader reader(std::move(environment));
  return LoadAuditSettings(reader);
}

TEST(AuditSettingsTest, MinimalEnvironmentGetsTheDocumentedDefaults) {
  absl::StatusOr<AuditSettings> settings = Load(Minimal());
  ASSERT_TRUE(settings.ok()) << settings.status();
  EXPECT_EQ(settings->grpc.ToString(), "127.0.0.1:50052");
  EXPECT_EQ(settings->batch_size, 1000);
  EXPECT_EQ(settings->batch_writers, 2);
  EXPECT_EQ(settings->batch_linger, absl::Milliseconds(20));
  EXPECT_EQ(settings->publish_timeout, absl::Seconds(5));
  EXPECT_EQ(settings->kafka_session_timeout, absl::Seconds(10));
  EXPECT_EQ(settings->watch_max_per_caller, 32);
  EXPECT_EQ(settings->watch_max_lifetime, absl::Hours(1));
  EXPECT_TRUE(settings->caller_callbacks.empty());
  EXPECT_EQ(settings->caller_callback_timeout, absl::Seconds(10));
  EXPECT_EQ(settings->caller_callback_concurrency, 32);
  EXPECT_EQ(settings->caller_callback_give_up_after, absl::Hours(24));
  // The keys come parsed, ready to use.
  EXPECT_EQ(settings->keyring.CurrentVersion(), 2u);
  EXPECT_EQ(settings->blind_index.Compute("+14155550100"),
            crypto::BlindIndex::Create(kBlindIndexKey)->Compute("+14155550100"));
}

TEST(AuditSettingsTest, OperatorValuesAreRead) {
  config::Environment environment = Minimal();
  environment["KLAXON_AUDIT_BATCH_SIZE"] = "250";
  environment["KLAXON_AUDIT_BATCH_WRITERS"] = "1";
  environment["KLAXON_WATCH_MAX_PER_CALLER"] = "4";
  environment["KLAXON_GRPC_ADDR"] = "0.0.0.0:6000";
  environment["KLAXON_CALLER_CALLBACKS"] = "billing https://hooks.example/cb 0123456789abcdef01";
  environment["KLAXON_CALLER_CALLBACK_TIMEOUT"] = "3s";
  environment["KLAXON_CALLER_CALLBACK_CONCURRENCY"] = "8";
  environment["KLAXON_CALLER_CALLBACK_GIVE_UP_AFTER"] = "2h";
  environment["KLAXON_KAFKA_SESSION_TIMEOUT"] = "6s";
  absl::StatusOr<AuditSettings> settings = Load(std::move(environment));
  ASSERT_TRUE(settings.ok()) << settings.status();
  EXPECT_EQ(settings->kafka_session_timeout, absl::Seconds(6));
  EXPECT_EQ(settings->batch_size, 250);
  EXPECT_EQ(settings->batch_writers, 1);
  EXPECT_EQ(settings->watch_max_per_caller, 4);
  EXPECT_EQ(settings->grpc.ToString(), "0.0.0.0:6000");
  ASSERT_NE(settings->caller_callbacks.Find("billing"), nullptr);
  EXPECT_EQ(settings->caller_callbacks.Find("billing")->url, "https://hooks.example/cb");
  EXPECT_EQ(settings->caller_callback_timeout, absl::Seconds(3));
  EXPECT_EQ(settings->caller_callback_concurrency, 8);
  EXPECT_EQ(settings->caller_callback_give_up_after, absl::Hours(2));
}

TEST(AuditSettingsTest, EveryWrongVariableIsNamedInOneErrorWithoutKeyMaterial) {
  config::Environment environment = Minimal();
  environment["KLAXON_KEYRING"] = "not json";
  environment["KLAXON_BLIND_INDEX_KEY"] = "too-short-secret";
  environment["KLAXON_AUDIT_BATCH_WRITERS"] = "9";
  environment["KLAXON_WATCH_MAX_PER_CALLER"] = "1000";
  environment["KLAXON_KAFKA_SESSION_TIMEOUT"] = "1h";
  environment.erase("KLAXON_PG_URL");
  environment["KLAXON_CALLER_CALLBACKS"] = "billing https://hooks.example/cb short-secret";
  const absl::Status status = Load(std::move(environment)).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  for (const char* name : {"KLAXON_KEYRING", "KLAXON_BLIND_INDEX_KEY", "KLAXON_AUDIT_BATCH_WRITERS",
                           "KLAXON_WATCH_MAX_PER_CALLER", "KLAXON_KAFKA_SESSION_TIMEOUT",
                           "KLAXON_PG_URL", "KLAXON_CALLER_CALLBACKS"}) {
    EXPECT_THAT(status.message(), HasSubstr(name));
  }
  EXPECT_THAT(status.message(), Not(HasSubstr("too-short-secret")));
  EXPECT_THAT(status.message(), Not(HasSubstr("short-secret")));
}

TEST(AuditSettingsTest, MissingKeysAreNamed) {
  config::Environment environment = Minimal();
  environment.erase("KLAXON_KEYRING");
  environment.erase("KLAXON_BLIND_INDEX_KEY");
  const absl::Status status = Load(std::move(environment)).status();
  EXPECT_THAT(status.message(), HasSubstr("KLAXON_KEYRING"));
  EXPECT_THAT(status.message(), HasSubstr("KLAXON_BLIND_INDEX_KEY"));
}

}  // namespace
}  // namespace klaxon::audit::audit_settings_test
