// Admission control end to end (docs/adr/0016): while the SMS workers cannot keep up (the sandbox
// holds every answer back and a worker takes one message at a time), their backlog in Kafka
// grows; once ingress reads it above KLAXON_INTAKE_MAX_BACKLOG, SendAlert for SMS is refused at
// once with RESOURCE_EXHAUSTED naming the bound and gRPC's retry-pushback trailer, voice is still
// taken, and klaxon_intake_worker_backlog shows the figure. Needs KLAXON_TEST_KAFKA_BROKERS,
// KLAXON_TEST_REDIS_URL, KLAXON_TEST_PG_URL.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "tests/e2e/suite.h"

namespace klaxon::e2e::admission_control_test {
namespace {

using ::testing::HasSubstr;

// Consumer group joins and the workers' offset commits (every 5 s) on a loaded machine.
constexpr absl::Duration kWait = absl::Seconds(90);
constexpr int kMaxBacklog = 2;
constexpr char kSlow[] = "+14155550501";
constexpr char kOther[] = "+14155550502";

class AdmissionControlE2eKafkaRedisPostgresTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(
        suite_.Start({.env = {{"KLAXON_INTAKE_MAX_BACKLOG", std::to_string(kMaxBacklog)}},
                      .worker_env = {{"KLAXON_WORKER_CONCURRENCY", "1"}}}));
  }

  grpc::Status Send(types::v1::Channel channel, const std::string& recipient,
                    const std::string& key, grpc::ClientContext& context) {
    alerts::v1::SendAlertRequest request;
    request.set_channel(channel);
    request.set_recipient(recipient);
    request.set_text("disk full on db-1");
    request.set_idempotency_key(key);
    alerts::v1::SendAlertResponse response;
    return suite_.IntakeStub()->SendAlert(&context, request, &response);
  }

  Suite suite_;
};

TEST_F(AdmissionControlE2eKafkaRedisPostgresTest, SmsBacklogPastTheBoundIsRefusedAtOnce) {
  // Each answer comes 6 s late: the worker holds one alert and the rest wait in Kafka. (Short
  // enough that the worker still drains within the suite's grace when the test ends.)
  suite_.AddSandboxFaults(
      absl::StrCat(R"({"type": "latency", "latency_ms": 6000, "to": ")", kSlow, R"("})"));

  grpc::Status refused;
  std::unique_ptr<grpc::ClientContext> refused_context;
  int accepted = 0;
  const absl::Time deadline = absl::Now() + kWait;
  while (absl::Now() < deadline) {
    std::unique_ptr<grpc::ClientContext> context = Suite::CallContext();
    const grpc::Status status =
        Send(types::v1::CHANNEL_SMS, kSlow, absl::StrCat("sms-", accepted), *context);
    if (status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED) {
      refused = status;
      refused_context = std::move(context);
      break;
    }
    ASSERT_TRUE(status.ok()) << status.error_message();
    ++accepted;
    absl::SleepFor(absl::Milliseconds(500));
  }
  ASSERT_NE(refused_context, nullptr) << "never refused after " << accepted << " accepted";
  EXPECT_GT(accepted, kMaxBacklog) << "refused before the backlog passed the bound";
  EXPECT_THAT(refused.error_message(),
              HasSubstr(absl::StrCat("(more than KLAXON_INTAKE_MAX_BACKLOG=", kMaxBacklog, ")")));
  EXPECT_THAT(refused.error_message(), HasSubstr("nothing was accepted"));
  const auto trailers = refused_context->GetServerTrailingMetadata();
  EXPECT_NE(trailers.find("grpc-retry-pushback-ms"), trailers.end());

  // The refusal is SMS's alone: voice has no backlog.
  std::unique_ptr<grpc::ClientContext> voice_context = Suite::CallContext();
  const grpc::Status voice = Send(types::v1::CHANNEL_VOICE, kOther, "voice-1", *voice_context);
  EXPECT_TRUE(voice.ok()) << voice.error_message();

  const std::string metrics = suite_.Metrics("ingress");
  EXPECT_THAT(metrics, HasSubstr("klaxon_intake_refused_total{reason=\"backlog\"} 1"));
  EXPECT_THAT(metrics, HasSubstr("klaxon_intake_worker_backlog{channel=\"sms\"}"));
}

}  // namespace
}  // namespace klaxon::e2e::admission_control_test
