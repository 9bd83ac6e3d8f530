#include "services/audit/dead_letter_service.h"

#include <string>
#include <utility>

#include "absl/status/status.h"
#include "common/grpcutil/grpcutil.h"
#include "common/prototime/prototime.h"

namespace klaxon::audit {
klaxon::alerts::v1::DeadLetterRecord ToProto(const DeadLetterSummary& summary) {
  klaxon::alerts::v1::DeadLetterRecord record;
  record.set_alert_id(summary.alert_id);
  record.set_channel(summary.channel);
  record.set_recipient_country_code(summary.recipient_country_code);
  record.set_recipient_last4(summary.recipient_last4);
  record.set_attempts(summary.attempt);
  record.set_reason(summary.reason);
  record.set_twilio_error_code(summary.twilio_error_code);
  prototime::SetTimestamp(summary.dead_lettered_at, record.mutable_dead_lettered_at());
  if (summary.replayed_as.has_value()) record.set_replayed_as(*summary.replayed_as);
  if (summary.replayed_at.has_value()) {
    prototime::SetTimestamp(*summary.replayed_at, record.mutable_replayed_at());
  }
  return record;
}

DeadLetterService::DeadLetterService(const auth::ApiKeyRegistry& api_keys, DeadLetterQueue& queue,
                                     concurrency::BlockingExecutorOptions executor)
    : api_keys_(api_keys), queue_(queue), executor_(executor) {}

grpc::ServerUnaryReactor* DeadLetterService::Run(
    grpc::CallbackServerContext* context,
    std::function<absl::Status(const std::string& caller)> call) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<std::string> caller = auth::AuthenticateCall(api_keys_, *context);
  if (!caller.ok()) {
    reactor->Finish(grpcutil::ToGrpcStatus(caller.status()));
    return reactor;
  }
  // gRPC keeps request and response (captured by `call`) alive until the reactor is finished.
  const bool accepted =
      executor_.Submit([reactor, call = std::move(call), caller = *std::move(caller)] {
        reactor->Finish(grpcutil::ToGrpcStatus(call(caller)));
      });
  if (!accepted) {
    reactor->Finish(
        grpcutil::ToGrpcStatus(absl::ResourceExhaustedError("audit is busy; retry with backoff")));
  }
  return reactor;
}

grpc::ServerUnaryReactor* DeadLetterService::ListDeadLetters(
    grpc::CallbackServerContext* context, const klaxon::alerts::v1::ListDeadLettersRequest* request,
    klaxon::alerts::v1::ListDeadLettersResponse* response) {
  return Run(context, [this, request, response](const std::string& caller) {
    absl::StatusOr<DeadLetterPage> page = queue_.List(caller, request->include_replayed(),
                                                      request->page_size(), request->page_token());
    if (!page.ok()) return page.status();
    for (const DeadLetterSummary& summary : page->dead_letters) {
      *response->add_dead_letters() = ToProto(summary);
    }
    response->set_next_page_token(page->next_page_token);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* DeadLetterService::GetDeadLetter(
    grpc::CallbackServerContext* context, const klaxon::alerts::v1::GetDeadLetterRequest* request,
    klaxon::alerts::v1::DeadLetterRecord* response) {
  return Run(context, [this, request, response](const std::string& caller) {
    absl::StatusOr<DeadLetterDetail> detail = queue_.Get(caller, request->alert_id());
    if (!detail.ok()) return detail.status();
    *response = ToProto(detail->summary);
    response->set_recipient(detail->recipient);
    response->set_text(detail->text);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* DeadLetterService::ReplayDeadLetter(
    grpc::CallbackServerContext* context,
    const klaxon::alerts::v1::ReplayDeadLetterRequest* request,
    klaxon::alerts::v1::ReplayDeadLetterResponse* response) {
  return Run(context, [this, request, response](const std::string& caller) {
    absl::StatusOr<ReplayResult> replayed = queue_.Replay(caller, request->alert_id());
    if (!replayed.ok()) return replayed.status();
    response->set_alert_id(replayed->alert_id);
    response->set_already_replayed(replayed->already_replayed);
    return absl::OkStatus();
  });
}

}  // namespace klaxon::audit
