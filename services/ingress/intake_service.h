#pragma once
// The gRPC face of AlertIntake and AlertCancellation: authenticates the caller from its API key and
// maps the outcome to a gRPC status. It is a synchronous service on purpose: SendAlert blocks until
// Kafka has acknowledged the request, and gRPC's synchronous server gives such handlers their own
// bounded thread pool (docs/adr/0003-synchronous-grpc-handlers.md).

#include "common/auth/api_keys.h"
#include "klaxon/alerts/v1/alerts.grpc.pb.h"
#include "services/ingress/alert_cancellation.h"
#include "services/ingress/alert_intake.h"

namespace klaxon::ingress {

class IntakeService final : public alerts::v1::AlertIntake::Service {
 public:
  // All are borrowed and must outlive the service.
  IntakeService(const auth::CallerAuthenticator& api_keys, AlertIntake& intake,
                AlertCancellation& cancellation);

  grpc::Status SendAlert(grpc::ServerContext* context, const alerts::v1::SendAlertRequest* request,
                         alerts::v1::SendAlertResponse* response) override;
  grpc::Status CancelAlert(grpc::ServerContext* context,
                           const alerts::v1::CancelAlertRequest* request,
                           alerts::v1::CancelAlertResponse* response) override;

 private:
  const auth::CallerAuthenticator& api_keys_;
  AlertIntake& intake_;
  AlertCancellation& cancellation_;
};

}  // namespace klaxon::ingress
