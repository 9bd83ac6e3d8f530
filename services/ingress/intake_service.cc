#include "services/ingress/intake_service.h"

#include <string>
#include <utility>

#include "common/grpcutil/grpcutil.h"

namespace klaxon::ingress {
namespace {

// How soon a caller refused because every intake thread was busy should try again.
constexpr absl::Duration kBusyRetryAfter = absl::Milliseconds(200);

}  // namespace

IntakeService::IntakeService(const auth::CallerAuthenticator& api_keys, AlertIntake& intake,
                             AlertCancellation& cancellation,
                             concurrency::BlockingExecutor& blocking)
    : api_keys_(api_keys), intake_(intake), cancellation_(cancellation), blocking_(blocking) {}

grpc::ServerUnaryReactor* IntakeService::SendAlert(grpc::CallbackServerContext* context,
                                                   const alerts::v1::SendAlertRequest* request,
                                                   alerts::v1::SendAlertResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<std::string> caller = auth::AuthenticateCall(api_keys_, *context);
  if (!caller.ok()) {
    reactor->Finish(grpcutil::ToGrpcStatus(caller.status()));
    return reactor;
  }
  RunBlocking(
      *context, *reactor, [this, context, reactor, request, response, caller = *std::move(caller)] {
        intake_.Send(
            caller, *request,
            [context, reactor, response](absl::StatusOr<alerts::v1::SendAlertResponse> sent) {
              // A refusal for overload carries its retry hint as the grpc-retry-pushback-ms
              // trailer.
              if (!sent.ok()) {
                reactor->Finish(grpcutil::ToGrpcStatus(sent.status(), *context));
                return;
              }
              *response = *std::move(sent);
              reactor->Finish(grpc::Status::OK);
            });
      });
  return reactor;
}

grpc::ServerUnaryReactor* IntakeService::CancelAlert(grpc::CallbackServerContext* context,
                                                     const alerts::v1::CancelAlertRequest* request,
                                                     alerts::v1::CancelAlertResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<std::string> caller = auth::AuthenticateCall(api_keys_, *context);
  if (!caller.ok()) {
    reactor->Finish(grpcutil::ToGrpcStatus(caller.status()));
    return reactor;
  }
  RunBlocking(*context, *reactor, [this, reactor, request, response, caller = *std::move(caller)] {
    absl::StatusOr<alerts::v1::CancelAlertResponse> cancelled =
        cancellation_.Cancel(caller, *request);
    if (!cancelled.ok()) {
      reactor->Finish(grpcutil::ToGrpcStatus(cancelled.status()));
      return;
    }
    *response = *std::move(cancelled);
    reactor->Finish(grpc::Status::OK);
  });
  return reactor;
}

void IntakeService::RunBlocking(grpc::CallbackServerContext& context,
                                grpc::ServerUnaryReactor& reactor, std::function<void()> work) {
  if (blocking_.Submit(std::move(work))) return;
  reactor.Finish(grpcutil::ToGrpcStatus(
      grpcutil::WithRetryPushback(
          absl::ResourceExhaustedError(
              "ingress is overloaded: every intake thread is busy and its queue is full; retry "
              "after the hint"),
          kBusyRetryAfter),
      context));
}

}  // namespace klaxon::ingress
