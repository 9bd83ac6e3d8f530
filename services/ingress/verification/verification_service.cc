#include "services/ingress/verification/verification_service.h"

#include <string>
#include <utility>

#include "common/grpcutil/grpcutil.h"
#include "services/ingress/blocking_rpc.h"

namespace klaxon::ingress::verification {
grpc::ServerUnaryReactor* VerificationService::StartVerification(
    grpc::CallbackServerContext* context, const verify::v1::StartVerificationRequest* request,
    verify::v1::StartVerificationResponse* response) {
  return ServeBlocking(
      api_keys_, blocking_, context,
      [this, context, request, response](const std::string& caller,
                                         grpc::ServerUnaryReactor& reactor) {
        verifier_.Start(caller, *request,
                        [context, &reactor,
                         response](absl::StatusOr<verify::v1::StartVerificationResponse> started) {
                          FinishWith(*context, reactor, std::move(started), *response);
                        });
      });
}

grpc::ServerUnaryReactor* VerificationService::CheckVerification(
    grpc::CallbackServerContext* context, const verify::v1::CheckVerificationRequest* request,
    verify::v1::CheckVerificationResponse* response) {
  return ServeBlocking(api_keys_, blocking_, context,
                       [this, context, request, response](const std::string& caller,
                                                          grpc::ServerUnaryReactor& reactor) {
                         FinishWith(*context, reactor, verifier_.Check(caller, *request),
                                    *response);
                       });
}

grpc::ServerUnaryReactor* VerificationService::CancelVerification(
    grpc::CallbackServerContext* context, const verify::v1::CancelVerificationRequest* request,
    verify::v1::CancelVerificationResponse* response) {
  return ServeBlocking(api_keys_, blocking_, context,
                       [this, context, request, response](const std::string& caller,
                                                          grpc::ServerUnaryReactor& reactor) {
                         FinishWith(*context, reactor, verifier_.Cancel(caller, *request),
                                    *response);
                       });
}

}  // namespace klaxon::ingress::verification
