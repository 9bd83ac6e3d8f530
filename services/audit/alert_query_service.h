#pragma once
// klaxon.alerts.v1.AlertQuery over gRPC (callback API). Authenticates the caller by API key, then
// runs GetAlert on a BlockingExecutor (it may wait for read-your-writes) and answers with the
// Alert message. The logic is AlertReader's; this class only translates.

#include "common/auth/api_keys.h"
#include "common/concurrency/blocking_executor.h"
#include "klaxon/alerts/v1/alerts.grpc.pb.h"
#include "services/audit/alert.h"
#include "services/audit/alert_reader.h"
#include "services/audit/audit_metrics.h"

namespace klaxon::audit {

// The caller-facing form of a record: recipient summary only, timestamps as protobuf Timestamps.
klaxon::alerts::v1::Alert ToProto(const AlertView& alert);

class AlertQueryService final : public klaxon::alerts::v1::AlertQuery::CallbackService {
 public:
  // All borrowed; they must outlive the service. Destroy the service only after the gRPC server
  // has shut down; destruction finishes the calls still queued.
  AlertQueryService(const auth::ApiKeyRegistry& api_keys, AlertReader& reader,
                    AuditMetrics& metrics, concurrency::BlockingExecutorOptions executor = {});

  grpc::ServerUnaryReactor* GetAlert(grpc::CallbackServerContext* context,
                                     const klaxon::alerts::v1::GetAlertRequest* request,
                                     klaxon::alerts::v1::Alert* response) override;

 private:
  void Finish(grpc::ServerUnaryReactor* reactor, const absl::Status& status);

  const auth::ApiKeyRegistry& api_keys_;
  AlertReader& reader_;
  AuditMetrics& metrics_;
  concurrency::BlockingExecutor
      executor_;  // last: its destructor runs queued calls that use the members above
};

}  // namespace klaxon::audit
