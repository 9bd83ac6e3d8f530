#pragma once
// How audit's unary gRPC calls that wait on Postgres (or Kafka) run: the caller is authenticated
// on gRPC's thread, then the work runs on a BlockingExecutor, never on gRPC's own threads. When
// the executor's queue is full the call is refused at once with RESOURCE_EXHAUSTED, so overload
// never turns into DEADLINE_EXCEEDED. Used by DeadLetters and Templates.

#include <functional>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/auth/api_keys.h"
#include "common/concurrency/blocking_executor.h"
#include "common/grpcutil/grpcutil.h"
#include "grpcpp/server_context.h"
#include "grpcpp/support/server_callback.h"

namespace klaxon::audit {

// Authenticates the call, then runs `call(caller)` on `executor` and finishes with its status.
// gRPC keeps the request and response `call` captures alive until the reactor is finished.
inline grpc::ServerUnaryReactor* ServeBlocking(
    const auth::CallerAuthenticator& api_keys, concurrency::BlockingExecutor& executor,
    grpc::CallbackServerContext* context,
    std::function<absl::Status(const std::string& caller)> call) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<std::string> caller = auth::AuthenticateCall(api_keys, *context);
  if (!caller.ok()) {
    reactor->Finish(grpcutil::ToGrpcStatus(caller.status()));
    return reactor;
  }
  const bool accepted =
      executor.Submit([reactor, call = std::move(call), caller = *std::move(caller)] {
        reactor->Finish(grpcutil::ToGrpcStatus(call(caller)));
      });
  if (!accepted) {
    reactor->Finish(
        grpcutil::ToGrpcStatus(absl::ResourceExhaustedError("audit is busy; retry with backoff")));
  }
  return reactor;
}

}  // namespace klaxon::audit
