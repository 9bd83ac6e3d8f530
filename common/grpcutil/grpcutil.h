#pragma once
// Glue between absl::Status (used at every Klaxon boundary) and gRPC, plus the one way Klaxon
// services start a gRPC server: listening on host:port (port 0 for tests), with the standard
// grpc.health.v1 health service enabled so Kubernetes and load balancers can probe it, and server
// reflection (grpc.reflection.v1alpha) so grpcurl works without the .proto files.

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server.h"
#include "grpcpp/server_context.h"
#include "grpcpp/support/status.h"

namespace klaxon::grpcutil {

// Codes map 1:1 (gRPC and absl share the canonical code space); the message is kept.
grpc::Status ToGrpcStatus(const absl::Status& status);
absl::Status FromGrpcStatus(const grpc::Status& status);

// A retry hint on a refusal ("overloaded, try again in a second"). A server answers it as gRPC's
// grpc-retry-pushback-ms trailer, which a client's retry policy honours (gRFC A6).
absl::Status WithRetryPushback(absl::Status status, absl::Duration after);
// The hint `status` carries, if any.
std::optional<absl::Duration> RetryPushback(const absl::Status& status);
// ToGrpcStatus, with the status's retry hint (if any) added to `context`'s trailers.
grpc::Status ToGrpcStatus(const absl::Status& status, grpc::ServerContextBase& context);

struct ServerOptions {
  std::string address{};  // "host:port" or "[v6]:port"; port 0 picks a free port
  // Borrowed; each must outlive the server. At least one.
  std::vector<std::reference_wrapper<grpc::Service>> services{};
  // Required, so that plaintext is always a visible choice: MakeServerCredentials
  // (server_security.h) in services, grpc::InsecureServerCredentials() in in-process tests.
  std::shared_ptr<grpc::ServerCredentials> credentials{};
  int max_receive_message_bytes = 1 << 20;
};

struct StartedServer {
  std::unique_ptr<grpc::Server> server{};
  int port = 0;  // the bound port
};

// Enables the default health service (process-wide gRPC setting), registers `services`, binds
// and starts. The health service reports SERVING for "" (the whole server); a main sets
// NOT_SERVING through server->GetHealthCheckService()->SetServingStatus(false) while draining.
// kInvalidArgument for an empty address, no services or no credentials, kUnavailable when the
// address cannot be bound.
absl::StatusOr<StartedServer> StartServer(ServerOptions options);

}  // namespace klaxon::grpcutil
