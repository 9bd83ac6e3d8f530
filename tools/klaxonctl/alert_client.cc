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
  grpc::ClientContext context;
  call_setup_.Prepare(context, deadline);
  alerts::v1::SendAlertResponse response;
  if (grpc::Status status = intake_->SendAlert(&context, request, &response); !status.ok()) {
    return FromGrpc(status, links_.ingress);
  }
  return response;
}

absl::StatusOr<alerts::v1::CancelAlertResponse> AlertClient::Cancel(absl::string_view alert_id,
                                                                    absl::Time deadline) {
  grpc::ClientContext context;
  call_setup_.Prepare(context, deadline);
  alerts::v1::CancelAlertRequest request;
  request.set_alert_id(std::string(alert_id));
  alerts::v1::CancelAlertResponse response;
  if (grpc::Status status = intake_->CancelAlert(&context, request, &response); !status.ok()) {
    return FromGrpc(status, links_.ingress);
  }
  return response;
}

absl::StatusOr<alerts::v1::AcknowledgeAlertResponse> AlertClient::Acknowledge(
    absl::string_view alert_id, absl::Time deadline) {
  grpc::ClientContext context;
  call_setup_.Prepare(context, deadline);
  alerts::v1::AcknowledgeAlertRequest request;
  request.set_alert_id(std::string(alert_id));
  alerts::v1::AcknowledgeAlertResponse response;
  if (grpc::Status status = intake_->AcknowledgeAlert(&context, request, &response); !status.ok()) {
    return FromGrpc(status, links_.ingress);
  }
  return response;
}

absl::StatusOr<alerts::v1::Alert> AlertClient::Get(absl::string_view alert_id,
                                                   absl::Time deadline) {
  grpc::ClientContext context;
  call_setup_.Prepare(context, deadline);
  alerts::v1::GetAlertRequest request;
  request.set_alert_id(std::string(alert_id));
  alerts::v1::Alert alert;
  if (grpc::Status status = query_->GetAlert(&context, request, &alert); !status.ok()) {
    return FromGrpc(status, links_.audit);
  }
  return alert;
}

absl::StatusOr<alerts::v1::ListAlertsResponse> AlertClient::List(
    const alerts::v1::ListAlertsRequest& request, absl::Time deadline) {
  grpc::ClientContext context;
  call_setup_.Prepare(context, deadline);
  alerts::v1::ListAlertsResponse response;
  if (grpc::Status status = query_->ListAlerts(&context, request, &response); !status.ok()) {
    return FromGrpc(status, links_.audit);
  }
  return response;
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
  grpc::ClientContext context;
  call_setup_.Prepare(context, deadline);
  alerts::v1::GetAuditTrailRequest request;
  request.set_alert_id(std::string(alert_id));
  alerts::v1::AuditTrail trail;
  if (grpc::Status status = query_->GetAuditTrail(&context, request, &trail); !status.ok()) {
    return FromGrpc(status, links_.audit);
  }
  return trail;
}

absl::StatusOr<alerts::v1::DeliveryReport> AlertClient::Report(
    const alerts::v1::GetDeliveryReportRequest& request, absl::Time deadline) {
  grpc::ClientContext context;
  call_setup_.Prepare(context, deadline);
  alerts::v1::DeliveryReport report;
  if (grpc::Status status = query_->GetDeliveryReport(&context, request, &report); !status.ok()) {
    return FromGrpc(status, links_.audit);
  }
  return report;
}

absl::StatusOr<alerts::v1::ListDeadLettersResponse> AlertClient::ListDeadLetters(
    const alerts::v1::ListDeadLettersRequest& request, absl::Time deadline) {
  grpc::ClientContext context;
  call_setup_.Prepare(context, deadline);
  alerts::v1::ListDeadLettersResponse response;
  if (grpc::Status status = dead_letters_->ListDeadLetters(&context, request, &response);
      !status.ok()) {
    return FromGrpc(status, links_.audit);
  }
  return response;
}

absl::StatusOr<alerts::v1::DeadLetterRecord> AlertClient::GetDeadLetter(absl::string_view alert_id,
                                                                        absl::Time deadline) {
  grpc::ClientContext context;
  call_setup_.Prepare(context, deadline);
  alerts::v1::GetDeadLetterRequest request;
  request.set_alert_id(std::string(alert_id));
  alerts::v1::DeadLetterRecord record;
  if (grpc::Status status = dead_letters_->GetDeadLetter(&context, request, &record);
      !status.ok()) {
    return FromGrpc(status, links_.audit);
  }
  return record;
}

absl::StatusOr<alerts::v1::ReplayDeadLetterResponse> AlertClient::ReplayDeadLetter(
    absl::string_view alert_id, absl::Time deadline) {
  grpc::ClientContext context;
  call_setup_.Prepare(context, deadline);
  alerts::v1::ReplayDeadLetterRequest request;
  request.set_alert_id(std::string(alert_id));
  alerts::v1::ReplayDeadLetterResponse response;
  if (grpc::Status status = dead_letters_->ReplayDeadLetter(&context, request, &response);
      !status.ok()) {
    return FromGrpc(status, links_.audit);
  }
  return response;
}

absl::StatusOr<alerts::v1::ReplayDeadLettersResponse> AlertClient::ReplayDeadLetters(
    const alerts::v1::ReplayDeadLettersRequest& request, absl::Time deadline) {
  grpc::ClientContext context;
  call_setup_.Prepare(context, deadline);
  alerts::v1::ReplayDeadLettersResponse response;
  if (grpc::Status status = dead_letters_->ReplayDeadLetters(&context, request, &response);
      !status.ok()) {
    return FromGrpc(status);
  }
  return response;
}

}  // namespace klaxon::ctl
