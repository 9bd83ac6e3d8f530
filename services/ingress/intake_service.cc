#include "services/ingress/intake_service.h"

#include "common/grpcutil/grpcutil.h"

namespace klaxon::ingress {

IntakeService::IntakeService(const auth::CallerAuthenticator& api_keys, AlertIntake& intake,
                             AlertCancellation& cancellation)
    : api_keys_(api_keys), intake_(intake), cancellation_(cancellation) {}

grpc::Status IntakeService::SendAlert(grpc::ServerContext* context,
                                      const alerts::v1::SendAlertRequest* request,
                                      alerts::v1::SendAlertResponse* response) {
  absl::StatusOr<std::string> caller = auth::AuthenticateCall(api_keys_, *context);
  if (!caller.ok()) return grpcutil::ToGrpcStatus(caller.status());
  absl::StatusOr<alerts::v1::SendAlertResponse> accepted = intake_.Send(*caller, *request);
  // A refusal for overload carries its retry hint as the grpc-retry-pushback-ms trailer.
  if (!accepted.ok()) return grpcutil::ToGrpcStatus(accepted.status(), *context);
  *response = *std::move(accepted);
  return grpc::Status::OK;
}

grpc::Status IntakeService::CancelAlert(grpc::ServerContext* context,
                                        const alerts::v1::CancelAlertRequest* request,
                                        alerts::v1::CancelAlertResponse* response) {
  absl::StatusOr<std::string> caller = auth::AuthenticateCall(api_keys_, *context);
  if (!caller.ok()) return grpcutil::ToGrpcStatus(caller.status());
  absl::StatusOr<alerts::v1::CancelAlertResponse> cancelled =
      cancellation_.Cancel(*caller, *request);
  if (!cancelled.ok()) return grpcutil::ToGrpcStatus(cancelled.status());
  *response = *std::move(cancelled);
  return grpc::Status::OK;
}

}  // namespace klaxon::ingress
