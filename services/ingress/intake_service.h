#pragma once
// The gRPC face of AlertIntake (and of BulkIntake and EscalationIntake, which submit through it)
// and AlertStops: authenticates the caller from its API key and
// maps the outcome to a gRPC status. It is a callback service (ADR 0019): the steps that wait on
// Redis run on bounded threads, and SendAlert's answer comes from Kafka's delivery report, so no
// thread is parked while Kafka acknowledges a request. A SendAlert with its own text joins a batch
// (one round trip to Redis for the batch, ADR 0039); every other call, which may wait on more
// than Redis (audit's rendering of a template, the pages of a chain), has an intake thread.

#include "common/auth/api_keys.h"
#include "common/concurrency/batch_workers.h"
#include "common/concurrency/blocking_executor.h"
#include "klaxon/alerts/v1/alerts.grpc.pb.h"
#include "services/ingress/alert_intake.h"
#include "services/ingress/alert_stops.h"
#include "services/ingress/bulk_intake.h"
#include "services/ingress/escalation_intake.h"

namespace klaxon::ingress {

class IntakeService final : public alerts::v1::AlertIntake::CallbackService {
 public:
  // All are borrowed and must outlive the service. `send_batches` hands batches of SendAlerts
  // with their own text to `intake` (AlertIntake::SendAll); `blocking` runs the steps of every
  // other call that wait on Redis or audit. When either queue is full, a call is refused at once
  // with RESOURCE_EXHAUSTED and a retry hint.
  IntakeService(const auth::CallerAuthenticator& api_keys, AlertIntake& intake, BulkIntake& bulk,
                EscalationIntake& escalations, AlertStops& stops,
                concurrency::BatchWorkers<IntakeCall>& send_batches,
                concurrency::BlockingExecutor& blocking);

  grpc::ServerUnaryReactor* SendAlert(grpc::CallbackServerContext* context,
                                      const alerts::v1::SendAlertRequest* request,
                                      alerts::v1::SendAlertResponse* response) override;
  grpc::ServerUnaryReactor* SendAlerts(grpc::CallbackServerContext* context,
                                       const alerts::v1::SendAlertsRequest* request,
                                       alerts::v1::SendAlertsResponse* response) override;
  grpc::ServerUnaryReactor* CancelAlert(grpc::CallbackServerContext* context,
                                        const alerts::v1::CancelAlertRequest* request,
                                        alerts::v1::CancelAlertResponse* response) override;
  grpc::ServerUnaryReactor* AcknowledgeAlert(
      grpc::CallbackServerContext* context, const alerts::v1::AcknowledgeAlertRequest* request,
      alerts::v1::AcknowledgeAlertResponse* response) override;

 private:
  const auth::CallerAuthenticator& api_keys_;
  AlertIntake& intake_;
  BulkIntake& bulk_;
  EscalationIntake& escalations_;
  AlertStops& stops_;
  concurrency::BatchWorkers<IntakeCall>& send_batches_;
  concurrency::BlockingExecutor& blocking_;
};

}  // namespace klaxon::ingress
