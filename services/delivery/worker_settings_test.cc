// LoadWorkerSettings on a given environment: the defaults, the values an operator sets, the
// channel's own settings read in the same pass, and one error naming every variable that is wrong.
#include "services/delivery/worker_settings.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "common/crypto/test_keyring.h"

namespace klaxon::delivery {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// What a worker needs at the least: Kafka, Redis, the PII key, the transit keyring and Twilio.
config::Environment Minimal() {
  return {{"KLAXON_KAFKA_BROKERS", "127.0.0.1:9092"},
          {"KLAXON_REDIS_URL", "redis://127.0.0.1:6379/0"},
          {"KLAXON_PII_HMAC_KEY", "0123456789abcdef0123"},
          {"KLAXON_TRANSIT_KEYRING", crypto::testing::KeyringDocument(1, {1})},
          {"KLAXON_TWILIO_ACCOUNT_SID", "AC0123456789abcdef0123456789abcdef"},
          {"KLAXON_TWILIO_AUTH_TOKEN", "twilio-token"},
          {"KLAXON_SMS_SENDERS", "+14155552671"}};
}

// A channel whose own setting, KLAXON_TEST_CHANNEL_SETTING, must not be "bad".
WorkerSpec TestSpec() {
  return {.service = "test-worker",
          .channel = "sms",
          .configure = [](config::Reader& reader, const TwilioSettings&) {
            if (reader.Optional("KLAXON_TEST_CHANNEL_SETTING", "") == "bad") {
              reader.AddError("KLAXON_TEST_CHANNEL_SETTING", "is bad");
            }
            return SenderFactory(nullptr);
          }};
}

absl::StatusOr<WorkerSettings> Load(config::Environment environment,
                                    const WorkerSpec& spec = TestSpec()) {
  config::Reader reader(std::move(environment));
  return LoadWorkerSettings(reader, spec);
}

TEST(WorkerSettingsTest, MinimalEnvironmentGetsTheDocumentedDefaults) {
  absl::StatusOr<WorkerSettings> settings = Load(Minimal());
  ASSERT_TRUE(settings.ok()) << settings.status();
  EXPECT_EQ(settings->concurrency, 100);
  EXPECT_EQ(settings->urgent_concurrency, 16);
  EXPECT_EQ(settings->tier_max_held, 5'000);
  EXPECT_EQ(settings->kafka_session_timeout, absl::Seconds(10));
  EXPECT_EQ(settings->twilio_client.base_url, "https://api.twilio.com");
  EXPECT_EQ(settings->twilio_client.total_timeout, absl::Seconds(15));
  // A connection kept for every message either pool may have in flight.
  EXPECT_EQ(settings->twilio_client.max_idle_connections, 100 + 16);
  EXPECT_EQ(settings->redis_key_prefix, "klaxon:");
  EXPECT_EQ(settings->retry.base, absl::Seconds(1));
  EXPECT_EQ(settings->retry.cap, absl::Minutes(5));
  EXPECT_EQ(settings->retry.max_attempts, 6u);
  EXPECT_EQ(settings->settle_after, absl::Seconds(30));
  EXPECT_EQ(settings->status_check_first, absl::Seconds(30));
  EXPECT_EQ(settings->status_check_after, absl::Minutes(5));
  EXPECT_EQ(settings->channel_disabled_recheck, absl::Seconds(10));
  EXPECT_EQ(settings->limits.max_in_flight, 100);
  EXPECT_TRUE(settings->twilio.webhook_public_url.empty());
  ASSERT_EQ(settings->limits.send.senders.size(), 1u);
  EXPECT_EQ(settings->limits.send.senders[0].address, "+14155552671");
  // No routing file: every destination may take every sender.
  ASSERT_EQ(settings->routing.rules().size(), 1u);
  ASSERT_EQ(settings->routing.rules()[0].routes.size(), 1u);
  EXPECT_EQ(settings->routing.rules()[0].routes[0].senders, settings->limits.send.senders);
  EXPECT_EQ(settings->routing.rules()[0].routes[0].account, "default");
  EXPECT_EQ(settings->account_breaker.failures, 5);
  EXPECT_EQ(settings->account_breaker.window, absl::Seconds(30));
  EXPECT_EQ(settings->account_breaker.cool_down, absl::Seconds(30));
}

// A file of `contents` for the test's life.
class TempFile {
 public:
  explicit TempFile(std::string_view contents)
      : path_(std::filesystem::temp_directory_path() /
              absl::StrCat("routing-", ::getpid(), "-", ++count_, ".json")) {
    std::ofstream(path_) << contents;
  }
  ~TempFile() { std::filesystem::remove(path_); }
  std::string path() const { return path_.string(); }

 private:
  static inline int count_ = 0;
  std::filesystem::path path_;
};

TEST(WorkerSettingsTest, AnAlphanumericSenderNeedsRoutingRules) {
  config::Environment environment = Minimal();
  environment["KLAXON_SMS_SENDERS"] = "+14155552671, ACME OPS";
  EXPECT_THAT(Load(environment).status().message(),
              HasSubstr("KLAXON_SMS_SENDERS: \"ACME OPS\" is an alphanumeric sender ID, which US "
                        "and Canadian numbers cannot receive"));
}

TEST(WorkerSettingsTest, RoutingFileKeepsTheChannelsRules) {
  const TempFile file(R"({"rules": [
    {"name": "calls", "channels": ["voice"], "senders": ["+14155550000"]},
    {"name": "us", "prefixes": ["+1"], "senders": ["+14155552671"]}]})");
  config::Environment environment = Minimal();
  environment["KLAXON_ROUTING_FILE"] = file.path();
  absl::StatusOr<WorkerSettings> settings = Load(std::move(environment));
  ASSERT_TRUE(settings.ok()) << settings.status();
  ASSERT_EQ(settings->routing.rules().size(), 1u);
  EXPECT_EQ(settings->routing.rules()[0].name, "us");
}

TEST(WorkerSettingsTest, ABadRoutingFileIsNamedWithItsRuleAndField) {
  const TempFile file(R"({"rules": [{"name": "us", "senders": ["+15005550006"]}]})");
  config::Environment environment = Minimal();
  environment["KLAXON_ROUTING_FILE"] = file.path();
  EXPECT_THAT(Load(environment).status().message(),
              HasSubstr(absl::StrCat("KLAXON_ROUTING_FILE: routing file ", file.path(),
                                     ": rule 1 (\"us\") senders: \"+15005550006\" is not one "
                                     "of KLAXON_SMS_SENDERS")));
  environment["KLAXON_ROUTING_FILE"] = "/nonexistent/routing.json";
  EXPECT_THAT(Load(environment).status().message(),
              HasSubstr("KLAXON_ROUTING_FILE: cannot open \"/nonexistent/routing.json\""));
}

TEST(WorkerSettingsTest, OperatorValuesAreRead) {
  config::Environment environment = Minimal();
  environment["KLAXON_WORKER_CONCURRENCY"] = "20";
  environment["KLAXON_TIER_MAX_HELD"] = "500";
  environment["KLAXON_WORKER_URGENT_CONCURRENCY"] = "4";
  environment["KLAXON_TWILIO_BASE_URL"] = "http://127.0.0.1:9800";
  environment["KLAXON_WEBHOOK_PUBLIC_URL"] = "https://hooks.example.com";
  environment["KLAXON_MAX_ATTEMPTS"] = "3";
  environment["KLAXON_STATUS_CHECK_AFTER"] = "10s";
  environment["KLAXON_KAFKA_SESSION_TIMEOUT"] = "30s";
  absl::StatusOr<WorkerSettings> settings = Load(std::move(environment));
  ASSERT_TRUE(settings.ok()) << settings.status();
  EXPECT_EQ(settings->kafka_session_timeout, absl::Seconds(30));
  EXPECT_EQ(settings->concurrency, 20);
  EXPECT_EQ(settings->tier_max_held, 500);
  EXPECT_EQ(settings->urgent_concurrency, 4);
  EXPECT_EQ(settings->twilio_client.max_idle_connections, 20 + 4);
  EXPECT_EQ(settings->twilio_client.base_url, "http://127.0.0.1:9800");
  EXPECT_EQ(settings->twilio.webhook_public_url, "https://hooks.example.com");
  EXPECT_EQ(settings->retry.max_attempts, 3u);
  // The first check defaults to no later than the read it may lead to.
  EXPECT_EQ(settings->status_check_first, absl::Seconds(10));
  EXPECT_EQ(settings->status_check_after, absl::Seconds(10));
}

TEST(WorkerSettingsTest, EveryWrongVariableIsNamedInOneError) {
  config::Environment environment = Minimal();
  environment["KLAXON_SMS_SENDERS"] = "415-555-2671";
  environment["KLAXON_RETRY_BASE"] = "10m";
  environment["KLAXON_RETRY_CAP"] = "1m";
  environment["KLAXON_STATUS_CHECK_FIRST"] = "2m";
  environment["KLAXON_STATUS_CHECK_AFTER"] = "1m";
  environment["KLAXON_WORKER_CONCURRENCY"] = "0";
  // Below what brokers accept (group.min.session.timeout.ms): every join would be refused.
  environment["KLAXON_KAFKA_SESSION_TIMEOUT"] = "2s";
  environment["KLAXON_TEST_CHANNEL_SETTING"] = "bad";
  environment.erase("KLAXON_TWILIO_ACCOUNT_SID");
  const absl::Status status = Load(std::move(environment)).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  for (const char* name : {"KLAXON_SMS_SENDERS", "KLAXON_RETRY_CAP", "KLAXON_STATUS_CHECK_FIRST",
                           "KLAXON_WORKER_CONCURRENCY", "KLAXON_KAFKA_SESSION_TIMEOUT",
                           "KLAXON_TEST_CHANNEL_SETTING", "KLAXON_TWILIO_ACCOUNT_SID"}) {
    EXPECT_THAT(status.message(), HasSubstr(name));
  }
  EXPECT_THAT(status.message(), Not(HasSubstr("twilio-token"))) << "a secret in an error";
}

TEST(WorkerSettingsTest, PlainHttpToTwilioOnlyOnLoopback) {
  config::Environment environment = Minimal();
  environment["KLAXON_TWILIO_BASE_URL"] = "http://twilio.example.com";
  EXPECT_THAT(Load(std::move(environment)).status().message(), HasSubstr("KLAXON_TWILIO_BASE_URL"));
}

}  // namespace
}  // namespace klaxon::delivery
