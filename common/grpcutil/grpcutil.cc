#include "common/grpcutil/grpcutil.h"

#include <string>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/server_builder.h"

namespace klaxon::grpcutil {
namespace {

// Both enums are the canonical code space 0 (OK) to 16 (UNAUTHENTICATED).
constexpr int kMaxCanonicalCode = 16;

// Where WithRetryPushback keeps the hint on an absl::Status: milliseconds, decimal.
constexpr char kRetryPushbackPayload[] = "type.klaxon.dev/retry-pushback-ms";
// gRPC's own trailer for it (gRFC A6, client retries).
constexpr char kRetryPushbackTrailer[] = "grpc-retry-pushback-ms";

}  // namespace

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  const int code = static_cast<int>(status.code());
  return grpc::Status(code > 0 && code <= kMaxCanonicalCode ? static_cast<grpc::StatusCode>(code)
                                                            : grpc::StatusCode::UNKNOWN,
                      std::string(status.message()));
}

absl::Status WithRetryPushback(absl::Status status, absl::Duration after) {
  status.SetPayload(kRetryPushbackPayload,
                    absl::Cord(absl::StrCat(absl::ToInt64Milliseconds(after))));
  return status;
}

std::optional<absl::Duration> RetryPushback(const absl::Status& status) {
  const absl::optional<absl::Cord> payload = status.GetPayload(kRetryPushbackPayload);
  int64_t milliseconds = 0;
  if (!payload.has_value() || !absl::SimpleAtoi(std::string(*payload), &milliseconds)) {
    return std::nullopt;
  }
  return absl::Milliseconds(milliseconds);
}

grpc::Status ToGrpcStatus(const absl::Status& status, grpc::ServerContextBase& context) {
  if (const std::optional<absl::Duration> after = RetryPushback(status); after.has_value()) {
    context.AddTrailingMetadata(kRetryPushbackTrailer,
                                absl::StrCat(absl::ToInt64Milliseconds(*after)));
  }
  return ToGrpcStatus(status);
}

absl::Status FromGrpcStatus(const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  const int code = static_cast<int>(status.error_code());
  return absl::Status(code > 0 && code <= kMaxCanonicalCode ? static_cast<absl::StatusCode>(code)
                                                            : absl::StatusCode::kUnknown,
                      status.error_message());
}

absl::StatusOr<StartedServer> StartServer(ServerOptions options) {
  if (options.address.empty()) {
    return absl::InvalidArgumentError("ServerOptions.address is empty");
  }
  // gRPC refuses to build a server without a service (no completion queue would be polled).
  if (options.services.empty()) {
    return absl::InvalidArgumentError("ServerOptions.services is empty");
  }
  if (options.credentials == nullptr) {
    return absl::InvalidArgumentError("ServerOptions.credentials is unset");
  }
  // Process-wide, read when a server is built: every Klaxon gRPC server serves grpc.health.v1.
  grpc::EnableDefaultHealthCheckService(true);
  // Also process-wide: grpc.reflection.v1alpha.ServerReflection, so grpcurl and other tools list
  // and call the services without a copy of the .proto files.
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  // Without this gRPC sets SO_REUSEPORT, and a second instance would silently share the port.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.SetMaxReceiveMessageSize(options.max_receive_message_bytes);
  int port = 0;
  builder.AddListeningPort(options.address, options.credentials, &port);
  for (grpc::Service& service : options.services) builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) {
    return absl::UnavailableError(absl::StrCat("cannot listen for gRPC on ", options.address));
  }
  return StartedServer{.server = std::move(server), .port = port};
}

}  // namespace klaxon::grpcutil
