// IntakeService over a real in-process gRPC server: a refusal for overload reaches the client
// as RESOURCE_EXHAUSTED with gRPC's grpc-retry-pushback-ms trailer, which a client's retry policy
// honours.
#include "services/ingress/intake_service.h"

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>

#include "common/auth/api_keys.h"
#include "common/grpcutil/grpcutil.h"
#include "common/stopped_alerts/in_memory_stopped_alerts.h"
#include "common/timing/fake_clock.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/security/server_credentials.h"
#include "services/ingress/in_memory_idempotency_store.h"
#include "services/ingress/testing/intake_harness.h"

namespace klaxon::ingress {
namespace {

constexpr char kApiKey[] = "intake-service-test-key";

class NoCancellations final : public CancellationObserver {
 public:
  void OnCancelled(std::string_view, std::string_view, bool, stopped_alerts::StopReason) override {}
  void OnCancelRefused(std::string_view, const absl::Status&) override {}
};

class IntakeServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<grpcutil::StartedServer> started =
        grpcutil::StartServer({.address = "127.0.0.1:0",
                               .services = {service_},
                               .credentials = grpc::InsecureServerCredentials()});
    ASSERT_TRUE(started.ok()) << started.status();
    server_ = *std::move(started);
    stub_ = alerts::v1::AlertIntake::NewStub(grpc::CreateChannel(
        "127.0.0.1:" + std::to_string(server_.port), grpc::InsecureChannelCredentials()));
  }
  void TearDown() override {
    if (server_.server != nullptr) server_.server->Shutdown();
  }

  auth::ApiKeyRegistry keys_ =
      auth::ApiKeyRegistry::Parse("billing=" + auth::HashApiKey(kApiKey)).value();
  prometheus::Registry registry_;
  IntakeAdmission admission_{{.max_in_flight = 0, .retry_after = absl::Milliseconds(2500)},
                             registry_};
  testing::IntakeHarness harness_{{.admission = &admission_}};
  InMemoryIdempotencyStore owners_;
  stopped_alerts::InMemoryStoppedAlerts stopped_;
  NoCancellations cancellations_;
  timing::FakeClock clock_;
  AlertCancellation cancellation_{{.topic = "t.delivery"}, owners_,        stopped_,
                                  harness_.publisher(),    cancellations_, clock_};
  IntakeService service_{keys_, harness_.intake(), cancellation_};
  grpcutil::StartedServer server_;
  std::unique_ptr<alerts::v1::AlertIntake::Stub> stub_;
};

TEST_F(IntakeServiceTest, OverloadIsResourceExhaustedWithTheRetryPushbackTrailer) {
  grpc::ClientContext context;
  context.AddMetadata("authorization", std::string("Bearer ") + kApiKey);
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  alerts::v1::SendAlertResponse response;
  const grpc::Status status = stub_->SendAlert(&context, testing::Request("k1"), &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  const auto trailers = context.GetServerTrailingMetadata();
  const auto pushback = trailers.find("grpc-retry-pushback-ms");
  ASSERT_NE(pushback, trailers.end());
  EXPECT_EQ(std::string(pushback->second.data(), pushback->second.size()), "2500");
}

}  // namespace
}  // namespace klaxon::ingress
