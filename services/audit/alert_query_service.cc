#include "services/audit/alert_query_service.h"

#include <chrono>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "common/grpcutil/grpcutil.h"

namespace klaxon::audit {
namespace {

void SetTimestamp(absl::Time time, google::protobuf::Timestamp* out) {
  const int64_t micros = absl::ToUnixMicros(time);
  int64_t seconds = micros / 1'000'000;
  int64_t remainder = micros % 1'000'000;
  if (remainder < 0) {
    --seconds;
    remainder += 1'000'000;
  }
  out->set_seconds(seconds);
  out->set_nanos(static_cast<int32_t>(remainder * 1000));
}

}  // namespace

klaxon::alerts::v1::Alert ToProto(const AlertView& view) {
  const AlertRecord& record = view.record;
  klaxon::alerts::v1::Alert alert;
  alert.set_alert_id(record.alert_id);
  alert.set_channel(record.channel);
  alert.set_status(record.status);
  alert.set_recipient_country_code(record.recipient_country_code);
  alert.set_recipient_last4(record.recipient_last4);
  alert.set_twilio_sid(record.twilio_sid);
  alert.set_twilio_error_code(record.twilio_error_code);
  alert.set_reason(record.reason);
  alert.set_recipient(view.recipient);
  alert.set_text(view.text);
  alert.set_personal_data_shredded(view.personal_data_shredded);
  SetTimestamp(record.created_at, alert.mutable_created_at());
  SetTimestamp(record.updated_at, alert.mutable_updated_at());
  for (const AttemptRecord& attempt : record.attempts) {
    klaxon::alerts::v1::Attempt* out = alert.add_attempts();
    out->set_number(attempt.number);
    out->set_channel(attempt.channel);
    out->set_status(attempt.status);
    out->set_twilio_sid(attempt.twilio_sid);
    out->set_twilio_error_code(attempt.twilio_error_code);
    out->set_reason(attempt.reason);
    SetTimestamp(attempt.occurred_at, out->mutable_occurred_at());
  }
  return alert;
}

AlertQueryService::AlertQueryService(const auth::ApiKeyRegistry& api_keys, AlertReader& reader,
                                     AuditMetrics& metrics,
                                     concurrency::BlockingExecutorOptions executor)
    : api_keys_(api_keys), reader_(reader), metrics_(metrics), executor_(executor) {}

void AlertQueryService::Finish(grpc::ServerUnaryReactor* reactor, const absl::Status& status) {
  metrics_.GetAlertRequest(status);
  reactor->Finish(grpcutil::ToGrpcStatus(status));
}

grpc::ServerUnaryReactor* AlertQueryService::GetAlert(
    grpc::CallbackServerContext* context, const klaxon::alerts::v1::GetAlertRequest* request,
    klaxon::alerts::v1::Alert* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<std::string> caller = auth::AuthenticateCall(api_keys_, *context);
  if (!caller.ok()) {
    Finish(reactor, caller.status());
    return reactor;
  }
  const absl::Time deadline = absl::FromChrono(context->deadline());
  // gRPC keeps request and response alive until the reactor is finished.
  const bool accepted =
      executor_.Submit([this, reactor, request, response, deadline, caller = *std::move(caller)] {
        absl::StatusOr<AlertView> alert = reader_.GetAlert(caller, request->alert_id(), deadline);
        if (alert.ok()) *response = ToProto(*alert);
        Finish(reactor, alert.status());
      });
  if (!accepted) {
    Finish(reactor, absl::ResourceExhaustedError("audit is busy; retry with backoff"));
  }
  return reactor;
}

}  // namespace klaxon::audit
