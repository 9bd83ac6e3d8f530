#include "services/ingress/intake_service.h"

#include <string>
#include <utility>

#include "common/grpcutil/grpcutil.h"
#include "services/ingress/blocking_rpc.h"

namespace klaxon::ingress {

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
  RunBlocking(blocking_, *context, *reactor,
              [this, context, reactor, request, response, caller = *std::move(caller)] {
                intake_.Send(caller, *request,
                             [context, reactor,
                              response](absl::StatusOr<alerts::v1::SendAlertResponse> sent) {
                               // A refusal for overload carries its retry hint as the
                               // grpc-retry-pushback-ms trailer.
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
  RunBlocking(blocking_, *context, *reactor,
              [this, reactor, request, response, caller = *std::move(caller)] {
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

}  // namespace klaxon::ingress
