#pragma once
// How ingress's callback services run the steps of an RPC that wait on Redis: on the bounded pool
// of intake threads, never on gRPC's own. When the pool's queue is full the RPC is refused at once
// with RESOURCE_EXHAUSTED and a retry hint, so overload never turns into DEADLINE_EXCEEDED.

#include <grpcpp/grpcpp.h>

#include <functional>

#include "common/concurrency/blocking_executor.h"

namespace klaxon::ingress {

// Queues `work` on `pool`, or finishes `reactor` with RESOURCE_EXHAUSTED.
void RunBlocking(concurrency::BlockingExecutor& pool, grpc::CallbackServerContext& context,
                 grpc::ServerUnaryReactor& reactor, std::function<void()> work);

}  // namespace klaxon::ingress
