#include "services/ingress/verification/verification_service.h"

#include <string>
#include <utility>

#include "common/grpcutil/grpcutil.h"
#include "services/ingress/blocking_rpc.h"

namespace klaxon::ingress::verification {
namespace {

// Authenticates the call and runs `step(caller, reactor)` on an intake thread; `step` finishes
// the reactor. A call without a valid API key is finished at once.
template <typename Step>
grpc::ServerUnaryReactor* Serve(const auth::CallerAuthenticator& api_keys,
                                concurrency::BlockingExecutor& blocking,
                                grpc::CallbackServerContext* context, Step step) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<std::string> caller = auth::AuthenticateCall(api_keys, *context);
  if (!caller.ok()) {
    reactor->Finish(grpcutil::ToGrpcStatus(caller.status()));
    return reactor;
  }
  RunBlocking(blocking, *context, *reactor,
              [step = std::move(step), reactor, caller = *std::move(caller)]() mutable {
                step(caller, *reactor);
              });
  return reactor;
}

// Finishes `reactor` with `result`'s value in `response`, or its error and retry hint.
template <typename Response>
void Finish(grpc::CallbackServerContext& context, grpc::ServerUnaryReactor& reactor,
            absl::StatusOr<Response> result, Response& response) {
  if (!result.ok()) {
    reactor.Finish(grpcutil::ToGrpcStatus(result.status(), context));
    return;
  }
  response = *std::move(result);
  reactor.Finish(grpc::Status::OK);
}

}  // namespace

grpc::ServerUnaryReactor* VerificationService::StartVerification(
    grpc::CallbackServerContext* context, const verify::v1::StartVerificationRequest* request,
    verify::v1::StartVerificationResponse* response) {
  return Serve(api_keys_, blocking_, context,
               [this, context, request, response](const std::string& caller,
                                                  grpc::ServerUnaryReactor& reactor) {
                 verifier_.Start(
                     caller, *request,
                     [context, &reactor,
                      response](absl::StatusOr<verify::v1::StartVerificationResponse> started) {
                       Finish(*context, reactor, std::move(started), *response);
                     });
               });
}

grpc::ServerUnaryReactor* VerificationService::CheckVerification(
    grpc::CallbackServerContext* context, const verify::v1::CheckVerificationRequest* request,
    verify::v1::CheckVerificationResponse* response) {
  return Serve(api_keys_, blocking_, context,
               [this, context, request, response](const std::string& caller,
                                                  grpc::ServerUnaryReactor& reactor) {
                 Finish(*context, reactor, verifier_.Check(caller, *request), *response);
               });
}

grpc::ServerUnaryReactor* VerificationService::CancelVerification(
    grpc::CallbackServerContext* context, const verify::v1::CancelVerificationRequest* request,
    verify::v1::CancelVerificationResponse* response) {
  return Serve(api_keys_, blocking_, context,
               [this, context, request, response](const std::string& caller,
                                                  grpc::ServerUnaryReactor& reactor) {
                 Finish(*context, reactor, verifier_.Cancel(caller, *request), *response);
               });
}

}  // namespace klaxon::ingress::verification
