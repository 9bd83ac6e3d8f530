#pragma once
// How ingress's callback services run the steps of an RPC that wait on Redis: on the bounded pool
// of intake threads, never on gRPC's own. When the pool's queue is full the RPC is refused at once
// with RESOURCE_EXHAUSTED and a retry hint, so overload never turns into DEADLINE_EXCEEDED.

#include <grpcpp/grpcpp.h>

#include <functional>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "common/auth/api_keys.h"
#include "common/concurrency/blocking_executor.h"
#include "common/grpcutil/grpcutil.h"

namespace klaxon::ingress {

// RESOURCE_EXHAUSTED with a retry hint: the queue of calls waiting for intake threads (or for
// SendAlert's batch threads) is full.
absl::Status IntakeOverloaded();

// Queues `work` on `pool`, or finishes `reactor` with IntakeOverloaded().
void RunBlocking(concurrency::BlockingExecutor& pool, grpc::CallbackServerContext& context,
                 grpc::ServerUnaryReactor& reactor, std::function<void()> work);

// Authenticates the call and runs `step(caller, reactor)` on the calling (gRPC) thread; `step`
// finishes the reactor, at once or later. A call without a valid API key is finished at once.
template <typename Step>
grpc::ServerUnaryReactor* ServeAuthenticated(const auth::CallerAuthenticator& api_keys,
                                             grpc::CallbackServerContext* context, Step step) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<std::string> caller = auth::AuthenticateCall(api_keys, *context);
  if (!caller.ok()) {
    reactor->Finish(grpcutil::ToGrpcStatus(caller.status()));
    return reactor;
  }
  step(*std::move(caller), *reactor);
  return reactor;
}

// ServeAuthenticated, with `step(caller, reactor)` run on an intake thread of `blocking`.
template <typename Step>
grpc::ServerUnaryReactor* ServeBlocking(const auth::CallerAuthenticator& api_keys,
                                        concurrency::BlockingExecutor& blocking,
                                        grpc::CallbackServerContext* context, Step step) {
  return ServeAuthenticated(
      api_keys, context,
      [&blocking, context, step = std::move(step)](std::string caller,
                                                   grpc::ServerUnaryReactor& reactor) mutable {
        RunBlocking(blocking, *context, reactor,
                    [step = std::move(step), &reactor, caller = std::move(caller)]() mutable {
                      step(caller, reactor);
                    });
      });
}

// Finishes `reactor` with `result`'s value in `response`, or its error with any retry hint as
// gRPC's grpc-retry-pushback-ms trailer.
template <typename Response>
void FinishWith(grpc::CallbackServerContext& context, grpc::ServerUnaryReactor& reactor,
                absl::StatusOr<Response> result, Response& response) {
  if (!result.ok()) {
    reactor.Finish(grpcutil::ToGrpcStatus(result.status(), context));
    return;
  }
  response = *std::move(result);
  reactor.Finish(grpc::Status::OK);
}

}  // namespace klaxon::ingress
