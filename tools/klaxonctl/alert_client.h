// A thin client over the caller API: SendAlert and CancelAlert on ingress, GetAlert, ListAlerts,
// WatchAlert, GetAuditTrail, GetDeliveryReport and the DeadLetters RPCs on audit. It
// adds the bearer API key and a deadline to every call and turns gRPC statuses into absl::Status
// (rpc.h). It holds the generated StubInterfaces, so tests hand it fakes.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "klaxon/alerts/v1/alerts.grpc.pb.h"
#include "tools/klaxonctl/rpc.h"

namespace klaxon::ctl {

class AlertClient {
 public:
  struct Links {
    Link ingress;  // intake's
    Link audit;    // query's and dead letters'
  };

  // `dead_letters` may be null when no DLQ command is run.
  AlertClient(std::unique_ptr<alerts::v1::AlertIntake::StubInterface> intake,
              std::unique_ptr<alerts::v1::AlertQuery::StubInterface> query, std::string api_key,
              std::unique_ptr<alerts::v1::DeadLetters::StubInterface> dead_letters = nullptr,
              Links links = {});

  absl::StatusOr<alerts::v1::SendAlertResponse> Send(const alerts::v1::SendAlertRequest& request,
                                                     absl::Time deadline);
  absl::StatusOr<alerts::v1::CancelAlertResponse> Cancel(absl::string_view alert_id,
                                                         absl::Time deadline);
  absl::StatusOr<alerts::v1::AcknowledgeAlertResponse> Acknowledge(absl::string_view alert_id,
                                                                   absl::Time deadline);
  absl::StatusOr<alerts::v1::Alert> Get(absl::string_view alert_id, absl::Time deadline);
  absl::StatusOr<alerts::v1::ListAlertsResponse> List(const alerts::v1::ListAlertsRequest& request,
                                                      absl::Time deadline);
  // Calls `on_alert` with each alert the stream sends; OK once the stream ended after a final
  // status. absl::InfiniteFuture() for no deadline.
  absl::Status Watch(absl::string_view alert_id, absl::Time deadline,
                     const std::function<void(const alerts::v1::Alert&)>& on_alert);
  absl::StatusOr<alerts::v1::AuditTrail> Trail(absl::string_view alert_id, absl::Time deadline);
  absl::StatusOr<alerts::v1::DeliveryReport> Report(
      const alerts::v1::GetDeliveryReportRequest& request, absl::Time deadline);

  absl::StatusOr<alerts::v1::ListDeadLettersResponse> ListDeadLetters(
      const alerts::v1::ListDeadLettersRequest& request, absl::Time deadline);
  absl::StatusOr<alerts::v1::DeadLetterRecord> GetDeadLetter(absl::string_view alert_id,
                                                             absl::Time deadline);
  absl::StatusOr<alerts::v1::ReplayDeadLetterResponse> ReplayDeadLetter(absl::string_view alert_id,
                                                                        absl::Time deadline);
  absl::StatusOr<alerts::v1::ReplayDeadLettersResponse> ReplayDeadLetters(
      const alerts::v1::ReplayDeadLettersRequest& request, absl::Time deadline);

 private:
  std::unique_ptr<alerts::v1::AlertIntake::StubInterface> intake_;
  std::unique_ptr<alerts::v1::AlertQuery::StubInterface> query_;
  std::unique_ptr<alerts::v1::DeadLetters::StubInterface> dead_letters_;
  CallSetup call_setup_;
  Links links_;
};

}  // namespace klaxon::ctl
