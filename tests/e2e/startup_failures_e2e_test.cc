// How services behave when their configuration or their dependencies are wrong. Needs
// KLAXON_TEST_REDIS_URL (a real Redis); Kafka is deliberately absent.
#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/auth/api_keys.h"
#include "common/crypto/test_keyring.h"
#include "klaxon/alerts/v1/alerts.grpc.pb.h"
#include "tests/e2e/suite.h"
#include "tests/support/process.h"
#include "tests/support/redis.h"
#include "tests/support/support.h"

namespace klaxon::e2e::startup_failures_test {
namespace {

using testing::ChildProcess;
using testing::FreePort;
using ::testing::HasSubstr;

std::string TempLog(const std::string& name) {
  return absl::StrCat("/tmp/klaxon-e2e-", name, "-", getpid(), ".log");
}

TEST(StartupE2eTest, BadSettingsStopTheServiceWithEveryBadVariableNamed) {
  const std::string log = TempLog("bad-config");
  ChildProcess ingress({Suite::Binary("klaxon-ingress")},
                       {{"KLAXON_GRPC_ADDR", "not-an-address"},
                        {"KLAXON_PII_HMAC_KEY", "short"},
                        {"KLAXON_REDIS_URL", "http://wrong-scheme"},
                        {"KLAXON_WEBHOOK_PUBLIC_URL", "https://hooks.example.com/x?y=1"}},
                       log);
  EXPECT_EQ(ingress.WaitForExit(absl::Seconds(10)), 2);
  const std::string output = ingress.Log();
  // Without a Twilio token (and not in sandbox mode) ingress cannot verify webhooks, so it
  // refuses to start.
  for (const char* variable :
       {"KLAXON_GRPC_ADDR", "KLAXON_PII_HMAC_KEY", "KLAXON_REDIS_URL", "KLAXON_KAFKA_BROKERS",
        "KLAXON_API_KEYS", "KLAXON_TWILIO_AUTH_TOKEN", "KLAXON_WEBHOOK_PUBLIC_URL",
        "KLAXON_TRANSIT_KEYRING",
        // Neither TLS files nor an explicit choice of plaintext for the gRPC port.
        "KLAXON_GRPC_TLS_CERT_FILE", "KLAXON_GRPC_PLAINTEXT"}) {
    EXPECT_THAT(output, HasSubstr(variable));
  }
  EXPECT_THAT(output, ::testing::Not(HasSubstr("short"))) << "a secret was echoed";
  std::remove(log.c_str());
}

TEST(StartupE2eTest, WorkerWithBadSettingsExitsNonZero) {
  const std::string log = TempLog("bad-worker");
  ChildProcess worker({Suite::Binary("klaxon-sms-worker")},
                      {{"KLAXON_SMS_SENDERS", "+1415"},
                       {"KLAXON_WEBHOOK_PUBLIC_URL", "https://hooks.example/klaxon?x=1"},
                       // Plain http is allowed only to a loopback sandbox.
                       {"KLAXON_TWILIO_BASE_URL", "http://api.twilio.com"}},
                      log);
  EXPECT_EQ(worker.WaitForExit(absl::Seconds(10)), 2);
  EXPECT_THAT(worker.Log(), HasSubstr("KLAXON_SMS_SENDERS: \\\"+1415\\\" is neither"));
  EXPECT_THAT(worker.Log(), HasSubstr("KLAXON_TWILIO_ACCOUNT_SID"));
  EXPECT_THAT(worker.Log(), HasSubstr("KLAXON_WEBHOOK_PUBLIC_URL"));
  EXPECT_THAT(worker.Log(), HasSubstr("KLAXON_TWILIO_BASE_URL: must be https"));
  std::remove(log.c_str());
}

class KafkaDownE2eRedisTest : public ::testing::Test {};

TEST_F(KafkaDownE2eRedisTest, SendAlertIsUnavailableNotAHangAndNotOk) {
  const std::string redis = testing::RequiredEnv("KLAXON_TEST_REDIS_URL");
  ASSERT_FALSE(redis.empty());
  const std::string prefix = testing::UniquePrefix();
  // The test's keys go after ingress.
  testing::KeysDeletedAtEnd keys_deleted_at_end;
  keys_deleted_at_end.Own(prefix);
  const int grpc_port = FreePort();
  const int admin_port = FreePort();
  const std::string log = TempLog("kafka-down");
  std::map<std::string, std::string> env = {
      {"KLAXON_PII_HMAC_KEY", "e2e-pii-hmac-key-0123456789"},
      {"KLAXON_TRANSIT_KEYRING", crypto::testing::KeyringDocument(1, {1})},
      {"KLAXON_KAFKA_BROKERS", absl::StrCat("127.0.0.1:", FreePort())},  // nothing listens
      {"KLAXON_REDIS_URL", redis},
      {"KLAXON_REDIS_KEY_PREFIX", prefix},
      {"KLAXON_API_KEYS", "e2e=" + auth::HashApiKey("key")},
      {"KLAXON_GRPC_ADDR", absl::StrCat("127.0.0.1:", grpc_port)},
      {"KLAXON_GRPC_PLAINTEXT", "true"},
      {"KLAXON_ADMIN_ADDR", absl::StrCat("127.0.0.1:", admin_port)},
      {"KLAXON_WEBHOOK_ADDR", absl::StrCat("127.0.0.1:", FreePort())},
      {"KLAXON_HTTP_API_ADDR", absl::StrCat("127.0.0.1:", FreePort())},
      {"KLAXON_TWILIO_SANDBOX", "true"},
      {"KLAXON_PUBLISH_TIMEOUT", "2s"}};
  env.merge(testing::SanitizerEnvironment());
  ChildProcess ingress({Suite::Binary("klaxon-ingress")}, env, log);
  ASSERT_TRUE(testing::WaitUntilServing(
      ingress, absl::StrCat("http://127.0.0.1:", admin_port, "/readyz"), absl::Seconds(30)));

  auto stub = alerts::v1::AlertIntake::NewStub(grpc::CreateChannel(
      absl::StrCat("127.0.0.1:", grpc_port), grpc::InsecureChannelCredentials()));
  alerts::v1::SendAlertRequest request;
  request.set_channel(types::v1::CHANNEL_SMS);
  request.set_recipient("+14155550123");
  request.set_text("x");
  request.set_idempotency_key("k");
  grpc::ClientContext context;
  context.AddMetadata("authorization", "Bearer key");
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(20)));
  alerts::v1::SendAlertResponse response;
  const absl::Time started = absl::Now();
  const grpc::Status rpc = stub->SendAlert(&context, request, &response);
  EXPECT_EQ(rpc.error_code(), grpc::StatusCode::UNAVAILABLE) << rpc.error_message();
  EXPECT_THAT(rpc.error_message(), HasSubstr("Kafka"));
  EXPECT_LT(absl::Now() - started, absl::Seconds(10)) << "SendAlert hung instead of failing";
  EXPECT_EQ(ingress.Stop(), 0) << ingress.Log();
  std::remove(log.c_str());
}

}  // namespace
}  // namespace klaxon::e2e::startup_failures_test
