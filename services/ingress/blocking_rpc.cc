#include "services/ingress/blocking_rpc.h"

#include <utility>

#include "common/grpcutil/grpcutil.h"

namespace klaxon::ingress {
namespace {

// How soon a caller refused because every intake thread was busy should try again.
constexpr absl::Duration kBusyRetryAfter = absl::Milliseconds(200);

}  // namespace

absl::Status IntakeOverloaded() {
  return grpcutil::WithRetryPushback(
      absl::ResourceExhaustedError(
          "ingress is overloaded: the calls waiting for its intake threads fill their queue; "
          "retry after the hint"),
      kBusyRetryAfter);
}

void RunBlocking(concurrency::BlockingExecutor& pool, grpc::CallbackServerContext& context,
                 grpc::ServerUnaryReactor& reactor, std::function<void()> work) {
  if (pool.Submit(std::move(work))) return;
  reactor.Finish(grpcutil::ToGrpcStatus(IntakeOverloaded(), context));
}

}  // namespace klaxon::ingress
