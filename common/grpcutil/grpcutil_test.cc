#include "common/grpcutil/grpcutil.h"

#include <future>
#include <string>

#include "absl/strings/str_cat.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/impl/codegen/server_callback_handlers.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/support/byte_buffer.h"
#include "gtest/gtest.h"

namespace klaxon::grpcutil {
namespace {

TEST(StatusMappingTest, MapsEveryCanonicalCodeBothWays) {
  for (int code = 1; code <= 16; ++code) {
    const absl::Status status(static_cast<absl::StatusCode>(code), "why");
    const grpc::Status converted = ToGrpcStatus(status);
    EXPECT_EQ(static_cast<int>(converted.error_code()), code);
    EXPECT_EQ(converted.error_message(), "why");
    EXPECT_EQ(FromGrpcStatus(converted), status);
  }
}

TEST(StatusMappingTest, MapsOk) {
  EXPECT_TRUE(ToGrpcStatus(absl::OkStatus()).ok());
  EXPECT_TRUE(FromGrpcStatus(grpc::Status::OK).ok());
}

TEST(StatusMappingTest, MapsNamedCodesToTheirGrpcNames) {
  EXPECT_EQ(ToGrpcStatus(absl::UnauthenticatedError("")).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(ToGrpcStatus(absl::ResourceExhaustedError("")).error_code(),
            grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(FromGrpcStatus(grpc::Status(grpc::StatusCode::UNAVAILABLE, "")).code(),
            absl::StatusCode::kUnavailable);
}

TEST(StatusMappingTest, UnknownCodeBecomesUnknown) {
  const absl::Status status(static_cast<absl::StatusCode>(99), "odd");
  EXPECT_EQ(ToGrpcStatus(status).error_code(), grpc::StatusCode::UNKNOWN);
}

// Calls grpc.health.v1.Health/Check for the whole server (service "") and returns the status
// code carried in the response, or -1 when the call failed.
int HealthStatus(int port) {
  const auto channel =
      grpc::CreateChannel(absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials());
  grpc::GenericStub stub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  const grpc::Slice empty;  // HealthCheckRequest{service: ""} serializes to zero bytes
  const grpc::ByteBuffer request(&empty, 1);
  grpc::ByteBuffer response;
  std::promise<grpc::Status> done;
  stub.UnaryCall(&context, "/grpc.health.v1.Health/Check", grpc::StubOptions(), &request, &response,
                 [&done](grpc::Status status) { done.set_value(std::move(status)); });
  const grpc::Status status = done.get_future().get();
  if (!status.ok()) return -1;
  std::vector<grpc::Slice> slices;
  if (!response.Dump(&slices).ok()) return -1;
  std::string bytes;
  for (const grpc::Slice& slice : slices) {
    bytes.append(reinterpret_cast<const char*>(slice.begin()), slice.size());
  }
  // HealthCheckResponse{status: N} is field 1 as a varint: 0x08 N.
  if (bytes.size() != 2 || bytes[0] != 0x08) return -1;
  return bytes[1];
}

constexpr int kServing = 1;
constexpr int kNotServing = 2;

// The smallest real service: one raw callback method, registered the way generated code does.
class NoopService : public grpc::Service {
 public:
  NoopService() {
    AddMethod(new grpc::internal::RpcServiceMethod("/klaxon.test.Noop/Call",
                                                   grpc::internal::RpcMethod::NORMAL_RPC, nullptr));
    MarkMethodRawCallback(
        0,
        new grpc::internal::CallbackUnaryHandler<grpc::ByteBuffer, grpc::ByteBuffer>(
            [](grpc::CallbackServerContext* context, const grpc::ByteBuffer*, grpc::ByteBuffer*) {
              grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
              reactor->Finish(grpc::Status::OK);
              return reactor;
            }));
  }
};

absl::StatusOr<StartedServer> StartNoopServer(NoopService& service, std::string address) {
  return StartServer({.address = std::move(address),
                      .services = {service},
                      .credentials = grpc::InsecureServerCredentials()});
}

TEST(StartServerTest, BindsPortZeroAndServesHealth) {
  NoopService service;
  absl::StatusOr<StartedServer> started = StartNoopServer(service, "127.0.0.1:0");
  ASSERT_TRUE(started.ok()) << started.status();
  EXPECT_GT(started->port, 0);
  EXPECT_EQ(HealthStatus(started->port), kServing);
  started->server->Shutdown();
}

TEST(StartServerTest, HealthReportsNotServingWhileDraining) {
  NoopService service;
  absl::StatusOr<StartedServer> started = StartNoopServer(service, "127.0.0.1:0");
  ASSERT_TRUE(started.ok()) << started.status();
  started->server->GetHealthCheckService()->SetServingStatus(false);
  EXPECT_EQ(HealthStatus(started->port), kNotServing);
  started->server->Shutdown();
}

TEST(StartServerTest, PortInUseIsUnavailable) {
  NoopService service;
  absl::StatusOr<StartedServer> first = StartNoopServer(service, "127.0.0.1:0");
  ASSERT_TRUE(first.ok()) << first.status();
  const absl::StatusOr<StartedServer> second =
      StartNoopServer(service, absl::StrCat("127.0.0.1:", first->port));
  EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable);
  first->server->Shutdown();
}

TEST(StartServerTest, EmptyAddressIsInvalid) {
  NoopService service;
  EXPECT_EQ(StartNoopServer(service, "").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(StartServerTest, NoServiceIsInvalid) {
  EXPECT_EQ(StartServer({.address = "127.0.0.1:0"}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(StartServerTest, NoCredentialsIsInvalid) {
  NoopService service;
  EXPECT_EQ(StartServer({.address = "127.0.0.1:0", .services = {service}}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(StartServerTest, UnparsableAddressIsUnavailable) {
  NoopService service;
  EXPECT_EQ(StartNoopServer(service, "127.0.0.1:not-a-port").status().code(),
            absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace klaxon::grpcutil
