// IntakeService over a real in-process gRPC server: a refusal for overload reaches the client
// as RESOURCE_EXHAUSTED with gRPC's grpc-retry-pushback-ms trailer, which a client's retry policy
// honours; and no intake thread waits while Kafka acknowledges a request.
#include "services/ingress/intake_service.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "common/auth/api_keys.h"
#include "common/concurrency/batch_workers.h"
#include "common/concurrency/blocking_executor.h"
#include "common/grpcutil/grpcutil.h"
#include "common/messaging/testing/holding_publisher.h"
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

class NoStops final : public StopObserver {
 public:
  void OnCancelled(std::string_view, std::string_view, bool, stopped_alerts::StopReason) override {}
  void OnAcknowledged(std::string_view, std::string_view, bool) override {}
  void OnStopRefused(std::string_view, stopped_alerts::StopReason, const absl::Status&) override {}
};

// Serves `service` on a free loopback port and connects `stub` to it.
void Serve(IntakeService& service, grpcutil::StartedServer& server,
           std::unique_ptr<alerts::v1::AlertIntake::Stub>& stub) {
  absl::StatusOr<grpcutil::StartedServer> started =
      grpcutil::StartServer({.address = "127.0.0.1:0",
                             .services = {service},
                             .credentials = grpc::InsecureServerCredentials()});
  ASSERT_TRUE(started.ok()) << started.status();
  server = *std::move(started);
  stub = alerts::v1::AlertIntake::NewStub(grpc::CreateChannel(
      "127.0.0.1:" + std::to_string(server.port), grpc::InsecureChannelCredentials()));
}

class IntakeServiceTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_NO_FATAL_FAILURE(Serve(service_, server_, stub_)); }
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
  NoStops stop_observer_;
  timing::FakeClock clock_;
  AlertStops stops_{{.topic = "t.delivery"}, owners_,        stopped_,
                    harness_.publisher(),    stop_observer_, clock_};
  concurrency::BlockingExecutor intake_threads_{{.threads = 2}};
  concurrency::BatchWorkers<IntakeCall> send_batches_{
      {.threads = 1},
      [this](std::vector<IntakeCall> calls) { harness_.intake().SendAll(std::move(calls)); }};
  BulkIntake bulk_{harness_.intake(), harness_.clock()};
  EscalationIntake escalations_{harness_.intake(), intake_threads_, harness_.clock()};
  IntakeService service_{keys_,  harness_.intake(), bulk_,          escalations_,
                         stops_, send_batches_,     intake_threads_};
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

// Sends `count` SendAlerts at once without waiting; Wait() returns their statuses.
class ConcurrentCalls {
 public:
  ConcurrentCalls(alerts::v1::AlertIntake::Stub& stub, size_t count) : calls_(count) {
    for (size_t i = 0; i < count; ++i) {
      Call& call = calls_[i];
      call.context.AddMetadata("authorization", std::string("Bearer ") + kApiKey);
      call.context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
      call.request = testing::Request("k" + std::to_string(i));
      stub.async()->SendAlert(&call.context, &call.request, &call.response,
                              [this, &call](grpc::Status status) {
                                std::lock_guard lock(mutex_);
                                call.status = std::move(status);
                                ++finished_;
                                changed_.notify_all();
                              });
    }
  }
  std::vector<grpc::Status> Wait() {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return finished_ == calls_.size(); });
    std::vector<grpc::Status> statuses;
    for (const Call& call : calls_) statuses.push_back(call.status);
    return statuses;
  }

 private:
  struct Call {
    grpc::ClientContext context;
    alerts::v1::SendAlertRequest request;
    alerts::v1::SendAlertResponse response;
    grpc::Status status;
  };
  std::mutex mutex_;
  std::condition_variable changed_;
  size_t finished_ = 0;
  std::vector<Call> calls_;
};

class IntakeServiceThreadsTest : public ::testing::Test {
 protected:
  // SendAlerts with a text are taken in batches by `sends`.
  void StartServer(concurrency::BatchWorkersOptions sends) {
    send_batches_ = std::make_unique<concurrency::BatchWorkers<IntakeCall>>(
        sends, [this](std::vector<IntakeCall> calls) { intake_.SendAll(std::move(calls)); });
    escalations_ = std::make_unique<EscalationIntake>(intake_, intake_threads_, clock_);
    service_ = std::make_unique<IntakeService>(keys_, intake_, bulk_, *escalations_, stops_,
                                               *send_batches_, intake_threads_);
    ASSERT_NO_FATAL_FAILURE(Serve(*service_, server_, stub_));
  }
  void TearDown() override {
    publisher_.ReleaseAll(absl::UnavailableError("test ended"));
    if (server_.server != nullptr) server_.server->Shutdown();
  }

  auth::ApiKeyRegistry keys_ =
      auth::ApiKeyRegistry::Parse("billing=" + auth::HashApiKey(kApiKey)).value();
  messaging::HoldingPublisher publisher_;
  testing::IntakeHarness harness_{{}, publisher_};
  AlertIntake& intake_ = harness_.intake();
  BulkIntake bulk_{intake_, harness_.clock()};
  stopped_alerts::InMemoryStoppedAlerts stopped_;
  NoStops stop_observer_;
  timing::FakeClock clock_;
  AlertStops stops_{
      {.topic = "t.delivery"}, harness_.store(), stopped_, publisher_, stop_observer_, clock_};
  concurrency::BlockingExecutor intake_threads_{{.threads = 1}};
  std::unique_ptr<concurrency::BatchWorkers<IntakeCall>> send_batches_;
  std::unique_ptr<EscalationIntake> escalations_;
  std::unique_ptr<IntakeService> service_;
  grpcutil::StartedServer server_;
  std::unique_ptr<alerts::v1::AlertIntake::Stub> stub_;
};

TEST_F(IntakeServiceThreadsTest, SendAlertsWaitingForKafkaHoldNoIntakeThread) {
  // Two batch threads, forty calls waiting for Kafka at once: each thread only made the Redis
  // steps of its batch and moved on, and each call is answered when its publish is.
  ASSERT_NO_FATAL_FAILURE(StartServer({.threads = 2, .max_queued = 64}));
  constexpr size_t kCalls = 40;
  ConcurrentCalls calls(*stub_, kCalls);
  ASSERT_TRUE(publisher_.WaitForHeld(kCalls));
  publisher_.ReleaseAll(absl::OkStatus());
  for (const grpc::Status& status : calls.Wait()) {
    EXPECT_TRUE(status.ok()) << status.error_message();
  }
}

TEST_F(IntakeServiceThreadsTest, AFailedPublishIsUnavailableAndSaysRetryWithTheSameKey) {
  ASSERT_NO_FATAL_FAILURE(StartServer({.threads = 1}));
  ConcurrentCalls calls(*stub_, 1);
  ASSERT_TRUE(publisher_.WaitForHeld(1));
  publisher_.ReleaseAll(absl::UnavailableError("broker down"));
  const std::vector<grpc::Status> statuses = calls.Wait();
  EXPECT_EQ(statuses[0].error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_THAT(statuses[0].error_message(), ::testing::HasSubstr("same idempotency_key"));
}

TEST_F(IntakeServiceThreadsTest, FullIntakeQueueIsResourceExhaustedWithARetryHint) {
  // No room to queue anything: every call is refused at once, before any Redis step.
  ASSERT_NO_FATAL_FAILURE(StartServer({.threads = 1, .max_queued = 0}));
  grpc::ClientContext context;
  context.AddMetadata("authorization", std::string("Bearer ") + kApiKey);
  alerts::v1::SendAlertResponse response;
  const grpc::Status status = stub_->SendAlert(&context, testing::Request("k1"), &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(status.error_message(), ::testing::HasSubstr("intake thread"));
  const auto trailers = context.GetServerTrailingMetadata();
  EXPECT_NE(trailers.find("grpc-retry-pushback-ms"), trailers.end());
}

}  // namespace
}  // namespace klaxon::ingress
