// Runs AlertQueryService in a real in-process gRPC server on a free loopback port, with fakes
// behind the store and Kafka ports.
#include "services/audit/alert_query_service.h"

#include <memory>

#include "common/crypto/local_keyring.h"
#include "common/crypto/test_keyring.h"
#include "common/grpcutil/grpcutil.h"
#include "common/timing/fake_clock.h"
#include "gmock/gmock.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "prometheus/registry.h"
#include "services/audit/testing/fake_alert_store.h"
#include "services/audit/testing/fake_offset_oracle.h"
#include "services/audit/testing/ingest.h"

namespace klaxon::audit {
namespace {

using ::testing::HasSubstr;

constexpr char kAlertId[] = "0190f1c4-7a3e-7b12-9c4d-1e2f3a4b5c6d";
constexpr char kBillingKey[] = "billing-secret-key";
constexpr char kPaymentsKey[] = "payments-secret-key";
const absl::Time kT0 = absl::FromUnixMicros(1'700'000'000'250'000);

auth::ApiKeyRegistry Keys() {
  absl::StatusOr<auth::ApiKeyRegistry> keys = auth::ApiKeyRegistry::Parse(
      "billing=" + auth::HashApiKey(kBillingKey) + ",payments=" + auth::HashApiKey(kPaymentsKey));
  EXPECT_TRUE(keys.ok()) << keys.status();
  return *std::move(keys);
}

class AlertQueryServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<grpcutil::StartedServer> started =
        grpcutil::StartServer({.address = "127.0.0.1:0", .services = {service_}});
    ASSERT_TRUE(started.ok()) << started.status();
    server_ = std::move(started->server);
    stub_ = klaxon::alerts::v1::AlertQuery::NewStub(grpc::CreateChannel(
        "127.0.0.1:" + std::to_string(started->port), grpc::InsecureChannelCredentials()));
  }

  void TearDown() override {
    if (server_ != nullptr) server_->Shutdown();
  }

  void StoreQueuedAlert() {
    AlertEvent requested{.kind = AlertEvent::Kind::kRequested,
                         .alert_id = kAlertId,
                         .caller = "billing",
                         .channel = klaxon::types::v1::CHANNEL_VOICE,
                         .attempt = 1,
                         .occurred_at = kT0,
                         .status = klaxon::types::v1::ALERT_STATUS_QUEUED,
                         .recipient_country_code = "44",
                         .recipient_last4 = "0123",
                         .twilio_sid = "",
                         .twilio_error_code = 0,
                         .reason = ""};
    ASSERT_TRUE(testing::Apply(store_, requested,
                               {.topic = "klaxon.voice.requests", .partition = 0, .next_offset = 1})
                    .ok());
  }

  grpc::Status Call(const char* api_key, const std::string& alert_id,
                    klaxon::alerts::v1::Alert* alert) {
    grpc::ClientContext context;
    if (api_key != nullptr) context.AddMetadata("authorization", std::string("Bearer ") + api_key);
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    klaxon::alerts::v1::GetAlertRequest request;
    request.set_alert_id(alert_id);
    return stub_->GetAlert(&context, request, alert);
  }

  double Requests(const std::string& result) {
    for (const auto& family : registry_.Collect()) {
      if (family.name != "klaxon_audit_get_alert_requests_total") continue;
      for (const auto& metric : family.metric) {
        if (metric.label.size() == 1 && metric.label[0].value == result) {
          return metric.counter.value;
        }
      }
    }
    return 0;
  }

  FakeAlertStore store_;
  FakeOffsetOracle oracle_;
  timing::FakeClock clock_;
  prometheus::Registry registry_;
  AuditMetrics metrics_{registry_};
  crypto::LocalKeyring keyring_ =
      crypto::LocalKeyring::Parse(crypto::testing::KeyringDocument(1, {1})).value();
  PersonalData personal_data_{keyring_};
  log::MemorySink sink_;
  log::PhoneRedactor redactor_ = log::PhoneRedactor::Create("query-service-test-key").value();
  log::Logger logger_{{.service = "audit"}, redactor_, sink_};
  AlertReader reader_{store_,
                      oracle_,
                      personal_data_,
                      clock_,
                      metrics_,
                      logger_,
                      {.topics = Topics::WithPrefix(""),
                       .max_wait = absl::Seconds(3),
                       .poll_interval = absl::Milliseconds(20)}};
  auth::ApiKeyRegistry keys_ = Keys();
  AlertQueryService service_{keys_, reader_, metrics_, {.threads = 2, .max_queued = 16}};
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<klaxon::alerts::v1::AlertQuery::Stub> stub_;
};

TEST_F(AlertQueryServiceTest, OwnAlertIsReturnedWithRecipientSummaryAndAttempts) {
  StoreQueuedAlert();
  klaxon::alerts::v1::Alert alert;
  grpc::Status status = Call(kBillingKey, kAlertId, &alert);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(alert.alert_id(), kAlertId);
  EXPECT_EQ(alert.status(), klaxon::types::v1::ALERT_STATUS_QUEUED);
  EXPECT_EQ(alert.channel(), klaxon::types::v1::CHANNEL_VOICE);
  EXPECT_EQ(alert.recipient_country_code(), "44");
  EXPECT_EQ(alert.recipient_last4(), "0123");
  EXPECT_EQ(alert.created_at().seconds(), 1'700'000'000);
  EXPECT_EQ(alert.created_at().nanos(), 250'000'000);
  ASSERT_EQ(alert.attempts_size(), 1);
  EXPECT_EQ(alert.attempts(0).number(), 1u);
  EXPECT_EQ(alert.attempts(0).status(), klaxon::types::v1::ALERT_STATUS_QUEUED);
  EXPECT_EQ(Requests("ok"), 1);
}

TEST_F(AlertQueryServiceTest, AnotherCallersAlertIsNotFound) {
  StoreQueuedAlert();
  klaxon::alerts::v1::Alert alert;
  EXPECT_EQ(Call(kPaymentsKey, kAlertId, &alert).error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(Requests("not_found"), 1);
}

TEST_F(AlertQueryServiceTest, MissingApiKeyIsUnauthenticated) {
  StoreQueuedAlert();
  klaxon::alerts::v1::Alert alert;
  EXPECT_EQ(Call(nullptr, kAlertId, &alert).error_code(), grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(AlertQueryServiceTest, UnknownApiKeyIsUnauthenticated) {
  klaxon::alerts::v1::Alert alert;
  EXPECT_EQ(Call("guessed-key", kAlertId, &alert).error_code(), grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(AlertQueryServiceTest, MalformedAlertIdIsInvalidArgumentNamingTheField) {
  klaxon::alerts::v1::Alert alert;
  grpc::Status status = Call(kBillingKey, "0190F1C4", &alert);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("alert_id"));
}

TEST_F(AlertQueryServiceTest, DatabaseDownIsUnavailable) {
  store_.FailWith(absl::UnavailableError("Postgres is unreachable"));
  klaxon::alerts::v1::Alert alert;
  EXPECT_EQ(Call(kBillingKey, kAlertId, &alert).error_code(), grpc::StatusCode::UNAVAILABLE);
}

TEST(ToProtoTest, TimestampsBeforeTheEpochKeepNonNegativeNanos) {
  AlertView view{.record = {}};
  view.record.created_at = absl::FromUnixMicros(-1);
  klaxon::alerts::v1::Alert alert = ToProto(view);
  EXPECT_EQ(alert.created_at().seconds(), -1);
  EXPECT_EQ(alert.created_at().nanos(), 999'999'000);
}

}  // namespace
}  // namespace klaxon::audit
