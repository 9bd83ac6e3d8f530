#include "tools/klaxonctl/alert_client.h"

#include <utility>

#include "absl/status/status.h"

namespace klaxon::ctl {

AlertClient::AlertClient(std::unique_ptr<alerts::v1::AlertIntake::StubInterface> intake,
                         std::unique_ptr<alerts::v1::AlertQuery::StubInterface> query,
                         std::string api_key,
                         std::unique_ptr<alerts::v1::DeadLetters::StubInterface> dead_letters,
                         Links links)
    : intake_(std::move(intake)),
      query_(std::move(query)),
      dead_letters_(std::move(dead_letters)),
      call_setup_(api_key),
      links_(std::move(links)) {}

absl::StatusOr<alerts::v1::SendAlertResponse> AlertClient::Send(
    const alerts::v1::SendAlertRequest& request, absl::Time deadline) {
  return CallUnary(call_setup_, links_.ingress, *intake_,
                   &alerts::v1::AlertIntake::StubInterface::SendAlert, request, deadline);
}

absl::StatusOr<alerts::v1::CancelAlertResponse> AlertClient::Cancel(absl::string_view alert_id,
                                                                    absl::Time deadline) {
  alerts::v1::CancelAlertRequest request;
  request.set_alert_id(std::string(alert_id));
  return CallUnary(call_setup_, links_.ingress, *intake_,
                   &alerts::v1::AlertIntake::StubInterface::CancelAlert, request, deadline);
}

absl::StatusOr<alerts::v1::AcknowledgeAlertResponse> AlertClient::Acknowledge(
    absl::string_view alert_id, absl::Time deadline) {
  alerts::v1::AcknowledgeAlertRequest request;
  request.set_alert_id(std::string(alert_id));
  return CallUnary(call_setup_, links_.ingress, *intake_,
                   &alerts::v1::AlertIntake::StubInterface::AcknowledgeAlert, request, deadline);
}

absl::StatusOr<alerts::v1::Alert> AlertClient::Get(absl::string_view alert_id,
                                                   absl::Time deadline) {
  alerts::v1::GetAlertRequest request;
  request.set_alert_id(std::string(alert_id));
  return CallUnary(call_setup_, links_.audit, *query_,
                   &alerts::v1::AlertQuery::StubInterface::GetAlert, request, deadline);
}

absl::StatusOr<alerts::v1::ListAlertsResponse> AlertClient::List(
    const alerts::v1::ListAlertsRequest& request, absl::Time deadline) {
  return CallUnary(call_setup_, links_.audit, *query_,
                   &alerts::v1::AlertQuery::StubInterface::ListAlerts, request, deadline);
}

absl::Status AlertClient::Watch(absl::string_view alert_id, absl::Time deadline,
                                const std::function<void(const alerts::v1::Alert&)>& on_alert) {
  grpc::ClientContext context;
  call_setup_.Prepare(context, deadline);
  alerts::v1::WatchAlertRequest request;
  request.set_alert_id(std::string(alert_id));
  std::unique_ptr<grpc::ClientReaderInterface<alerts::v1::Alert>> reader =
      query_->WatchAlert(&context, request);
  alerts::v1::Alert alert;
  while (reader->Read(&alert)) on_alert(alert);
  return FromGrpc(reader->Finish(), links_.audit);
}

absl::StatusOr<alerts::v1::AuditTrail> AlertClient::Trail(absl::string_view alert_id,
                                                          absl::Time deadline) {
  alerts::v1::GetAuditTrailRequest request;
  request.set_alert_id(std::string(alert_id));
  return CallUnary(call_setup_, links_.audit, *query_,
                   &alerts::v1::AlertQuery::StubInterface::GetAuditTrail, request, deadline);
}

absl::StatusOr<alerts::v1::DeliveryReport> AlertClient::Report(
    const alerts::v1::GetDeliveryReportRequest& request, absl::Time deadline) {
  return CallUnary(call_setup_, links_.audit, *query_,
                   &alerts::v1::AlertQuery::StubInterface::GetDeliveryReport, request, deadline);
}

absl::StatusOr<alerts::v1::ListDeadLettersResponse> AlertClient::ListDeadLetters(
    const alerts::v1::ListDeadLettersRequest& request, absl::Time deadline) {
  return CallUnary(call_setup_, links_.audit, *dead_letters_,
                   &alerts::v1::DeadLetters::StubInterface::ListDeadLetters, request, deadline);
}

absl::StatusOr<alerts::v1::DeadLetterRecord> AlertClient::GetDeadLetter(absl::string_view alert_id,
                                                                        absl::Time deadline) {
  alerts::v1::GetDeadLetterRequest request;
  request.set_alert_id(std::string(alert_id));
  return CallUnary(call_setup_, links_.audit, *dead_letters_,
                   &alerts::v1::DeadLetters::StubInterface::GetDeadLetter, request, deadline);
}

absl::StatusOr<alerts::v1::ReplayDeadLetterResponse> AlertClient::ReplayDeadLetter(
    absl::string_view alert_id, absl::Time deadline) {
  alerts::v1::ReplayDeadLetterRequest request;
  request.set_alert_id(std::string(alert_id));
  return CallUnary(call_setup_, links_.audit, *dead_letters_,
                   &alerts::v1::DeadLetters::StubInterface::ReplayDeadLetter, request, deadline);
}

absl::StatusOr<alerts::v1::ReplayDeadLettersResponse> AlertClient::ReplayDeadLetters(
    const alerts::v1::ReplayDeadLettersRequest& request, absl::Time deadline) {
  return CallUnary(call_setup_, links_.audit, *dead_letters_,
                   &alerts::v1::DeadLetters::StubInterface::ReplayDeadLetters, request, deadline);
}

}  // namespace klaxon::ctl
