#include "services/audit/dead_letters/dead_letter_service.h"

#include <string>
#include <utility>

#include "absl/status/status.h"
#include "common/prototime/prototime.h"
#include "services/audit/blocking_call.h"

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
  record.set_caller(summary.caller);
  record.set_cause(summary.cause);
  if (summary.replayed_by.has_value()) record.set_replayed_by(*summary.replayed_by);
  return record;
}

namespace {

absl::StatusOr<DeadLetterFilter> FromProto(const klaxon::alerts::v1::DeadLetterFilter& filter) {
  absl::StatusOr<std::optional<absl::Time>> from = prototime::FromCallerIfSet(
      "filter.dead_lettered_from", filter.has_dead_lettered_from(), filter.dead_lettered_from());
  if (!from.ok()) return from.status();
  absl::StatusOr<std::optional<absl::Time>> before =
      prototime::FromCallerIfSet("filter.dead_lettered_before", filter.has_dead_lettered_before(),
                                 filter.dead_lettered_before());
  if (!before.ok()) return before.status();
  return DeadLetterFilter{.cause = filter.cause(),
                          .twilio_error_code = filter.twilio_error_code(),
                          .from = *from,
                          .before = *before};
}

}  // namespace

DeadLetterService::DeadLetterService(const auth::CallerAuthenticator& api_keys,
                                     DeadLetterQueue& queue,
                                     concurrency::BlockingExecutorOptions executor)
    : api_keys_(api_keys), queue_(queue), executor_(executor) {}

grpc::ServerUnaryReactor* DeadLetterService::Run(
    grpc::CallbackServerContext* context,
    std::function<absl::Status(const Requester& requester)> call) {
  return ServeBlocking(
      api_keys_, executor_, context, [this, call = std::move(call)](const std::string& caller) {
        return call(Requester{.caller = caller, .is_operator = api_keys_.IsOperator(caller)});
      });
}

grpc::ServerUnaryReactor* DeadLetterService::ListDeadLetters(
    grpc::CallbackServerContext* context, const klaxon::alerts::v1::ListDeadLettersRequest* request,
    klaxon::alerts::v1::ListDeadLettersResponse* response) {
  return Run(context, [this, request, response](const Requester& requester) {
    absl::StatusOr<DeadLetterFilter> filter = FromProto(request->filter());
    if (!filter.ok()) return filter.status();
    absl::StatusOr<DeadLetterPage> page =
        queue_.List(requester, {.include_replayed = request->include_replayed(),
                                .all_callers = request->all_callers(),
                                .caller = request->filter().caller(),
                                .filter = *std::move(filter),
                                .page_size = request->page_size(),
                                .page_token = request->page_token()});
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
  return Run(context, [this, request, response](const Requester& requester) {
    absl::StatusOr<DeadLetterDetail> detail = queue_.Get(requester, request->alert_id());
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
  return Run(context, [this, request, response](const Requester& requester) {
    absl::StatusOr<ReplayResult> replayed = queue_.Replay(requester, request->alert_id());
    if (!replayed.ok()) return replayed.status();
    response->set_alert_id(replayed->alert_id);
    response->set_already_replayed(replayed->already_replayed);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* DeadLetterService::ReplayDeadLetters(
    grpc::CallbackServerContext* context,
    const klaxon::alerts::v1::ReplayDeadLettersRequest* request,
    klaxon::alerts::v1::ReplayDeadLettersResponse* response) {
  return Run(context, [this, request, response](const Requester& requester) {
    absl::StatusOr<DeadLetterFilter> filter = FromProto(request->filter());
    if (!filter.ok()) return filter.status();
    absl::StatusOr<BulkReplayPage> page =
        queue_.ReplayMatching(requester, {.caller = request->filter().caller(),
                                          .filter = *std::move(filter),
                                          .page_size = request->page_size(),
                                          .page_token = request->page_token()});
    if (!page.ok()) return page.status();
    for (const BulkReplayItem& item : page->replayed) {
      klaxon::alerts::v1::ReplayedDeadLetter* out = response->add_replayed();
      out->set_dead_letter_id(item.dead_letter_id);
      out->set_caller(item.caller);
      if (item.result.ok()) {
        out->set_alert_id(item.result->alert_id);
      } else {
        out->set_error(std::string(item.result.status().message()));
      }
    }
    response->set_next_page_token(page->next_page_token);
    return absl::OkStatus();
  });
}

}  // namespace klaxon::audit
