#pragma once
// klaxon.alerts.v1.AlertQuery over gRPC (callback API). Authenticates the caller by API key, then
// runs GetAlert (it may wait for read-your-writes), ListAlerts, GetAuditTrail and
// GetDeliveryReport on a BlockingExecutor and answers with their messages. Each WatchAlert holds
// a thread of a second pool, sized to AlertWatcher's limit, for as long as it is open. The logic
// is AlertReader's, AlertSearch's and AlertWatcher's; this class only translates.

#include <functional>
#include <string>
#include <string_view>

#include "common/auth/api_keys.h"
#include "common/concurrency/blocking_executor.h"
#include "common/concurrency/fair_executor.h"
#include "klaxon/alerts/v1/alerts.grpc.pb.h"
#include "services/audit/alert.h"
#include "services/audit/audit_metrics.h"
#include "services/audit/query/alert_reader.h"
#include "services/audit/query/alert_search.h"
#include "services/audit/query/alert_watcher.h"

namespace klaxon::audit {

// The caller-facing form of a record: recipient summary only, timestamps as protobuf Timestamps.
// A view with pages (GetAlert of an escalation chain's id) carries them in `escalation` with who
// acknowledged the chain.
klaxon::alerts::v1::Alert ToProto(const AlertView& alert);
// Without attempts, recipient or text, as ListAlerts returns it.
klaxon::alerts::v1::Alert ToListItem(const AlertRecord& record);

class AlertQueryService final : public klaxon::alerts::v1::AlertQuery::CallbackService {
 public:
  // All borrowed; they must outlive the service. Call watcher.Shutdown() before shutting the gRPC
  // server down (open watches would hold it until its deadline), and destroy the service only
  // after the server has shut down; destruction finishes the calls still queued. The unary calls
  // wait on `executor` queued per caller and taken in turn (FairExecutor), so a caller flooding
  // it with slow calls (GetAlert of unknown ids polls for up to 3 s) delays another's by one of
  // its own per thread at most; past its share of the queue a caller is refused
  // RESOURCE_EXHAUSTED at once.
  AlertQueryService(const auth::CallerAuthenticator& api_keys, AlertReader& reader,
                    AlertSearch& search, AlertWatcher& watcher, AuditMetrics& metrics,
                    concurrency::FairExecutorOptions executor = {});

  grpc::ServerUnaryReactor* GetAlert(grpc::CallbackServerContext* context,
                                     const klaxon::alerts::v1::GetAlertRequest* request,
                                     klaxon::alerts::v1::Alert* response) override;
  grpc::ServerUnaryReactor* ListAlerts(grpc::CallbackServerContext* context,
                                       const klaxon::alerts::v1::ListAlertsRequest* request,
                                       klaxon::alerts::v1::ListAlertsResponse* response) override;
  grpc::ServerWriteReactor<klaxon::alerts::v1::Alert>* WatchAlert(
      grpc::CallbackServerContext* context,
      const klaxon::alerts::v1::WatchAlertRequest* request) override;
  grpc::ServerUnaryReactor* GetAuditTrail(grpc::CallbackServerContext* context,
                                          const klaxon::alerts::v1::GetAuditTrailRequest* request,
                                          klaxon::alerts::v1::AuditTrail* response) override;
  grpc::ServerUnaryReactor* GetDeliveryReport(
      grpc::CallbackServerContext* context,
      const klaxon::alerts::v1::GetDeliveryReportRequest* request,
      klaxon::alerts::v1::DeliveryReport* response) override;

 private:
  void Finish(grpc::ServerUnaryReactor* reactor, const absl::Status& status);
  // Authenticates, then runs `work(caller)` on the executor and finishes with its status,
  // counted under `rpc`.
  grpc::ServerUnaryReactor* Serve(std::string_view rpc, grpc::CallbackServerContext* context,
                                  std::function<absl::Status(const std::string& caller)> work);

  const auth::CallerAuthenticator& api_keys_;
  AlertReader& reader_;
  AlertSearch& search_;
  AlertWatcher& watcher_;
  AuditMetrics& metrics_;
  // Last: their destructors run queued calls that use the members above.
  concurrency::BlockingExecutor watch_executor_;
  concurrency::FairExecutor executor_;
};

}  // namespace klaxon::audit
