#include "services/audit/query/alert_query_service.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "common/grpcutil/grpcutil.h"
#include "common/prototime/prototime.h"
#include "common/twilio/price.h"

namespace klaxon::audit {
namespace {

// The queue, or the caller's share of it, is full.
absl::Status Busy() {
  return absl::ResourceExhaustedError(
      "audit is busy, or too many of your calls already wait in it; retry with backoff");
}

void SetRow(const DeliveryGroup& group, klaxon::alerts::v1::DeliveryReportRow* out) {
  out->set_key(group.key);
  out->set_alerts(group.counts.alerts);
  out->set_succeeded(group.counts.succeeded);
  out->set_failed(group.counts.failed);
  out->set_not_sent(group.counts.not_sent);
  out->set_pending(group.counts.pending);
  out->set_success_rate(SuccessRate(group.counts));
}

// One WatchAlert stream. Its watch runs on a thread of the watch pool and writes through Send(),
// which waits for each write to complete; the reactor deletes itself once gRPC is done with it,
// which is after the watch thread's Finish(), the last thing that thread does with it.
class WatchReactor final : public grpc::ServerWriteReactor<klaxon::alerts::v1::Alert>,
                           public WatchStream {
 public:
  explicit WatchReactor(std::shared_ptr<AlertWatcher::Subscription> subscription)
      : subscription_(std::move(subscription)) {}

  bool Send(const AlertRecord& record) override {
    std::unique_lock lock(mutex_);
    if (cancelled_) return false;
    message_ = ToProto(AlertView{.record = record});  // personal data is GetAlert's alone
    writing_ = true;
    lock.unlock();
    StartWrite(&message_);
    lock.lock();
    written_.wait(lock, [this] { return !writing_; });
    return write_ok_;
  }

  void OnWriteDone(bool ok) override {
    {
      std::lock_guard lock(mutex_);
      writing_ = false;
      write_ok_ = ok;
    }
    written_.notify_all();
  }

  void OnCancel() override {
    {
      std::lock_guard lock(mutex_);
      cancelled_ = true;
    }
    if (subscription_ != nullptr) subscription_->Cancel();
  }

  void OnDone() override { delete this; }

 private:
  const std::shared_ptr<AlertWatcher::Subscription> subscription_;
  std::mutex mutex_;
  std::condition_variable written_;
  klaxon::alerts::v1::Alert message_;  // written by Send, read by gRPC until OnWriteDone
  bool writing_ = false;               // guarded by mutex_
  bool write_ok_ = false;              // guarded by mutex_
  bool cancelled_ = false;             // guarded by mutex_
};

}  // namespace

klaxon::alerts::v1::Alert ToListItem(const AlertRecord& record) {
  klaxon::alerts::v1::Alert alert = ToProto(AlertView{.record = record});
  alert.clear_attempts();
  return alert;
}

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
  alert.set_callback_url(record.callback_url);
  alert.set_escalation_id(record.escalation_id);
  alert.set_escalation_step(record.escalation_step);
  alert.set_template_name(record.template_name);
  alert.set_template_locale(record.template_locale);
  alert.set_template_version(record.template_version);
  prototime::SetTimestamp(record.created_at, alert.mutable_created_at());
  prototime::SetTimestamp(record.updated_at, alert.mutable_updated_at());
  for (const AttemptRecord& attempt : record.attempts) {
    klaxon::alerts::v1::Attempt* out = alert.add_attempts();
    out->set_number(attempt.number);
    out->set_channel(attempt.channel);
    out->set_status(attempt.status);
    out->set_twilio_sid(attempt.twilio_sid);
    out->set_twilio_error_code(attempt.twilio_error_code);
    out->set_reason(attempt.reason);
    prototime::SetTimestamp(attempt.occurred_at, out->mutable_occurred_at());
    if (attempt.charge.has_value()) {
      klaxon::alerts::v1::Charge& charge = *out->mutable_charge();
      charge.set_amount(twilio::FormatMicros(attempt.charge->micros));
      charge.set_currency(attempt.charge->currency);
      charge.set_segments(attempt.charge->segments);
      charge.set_duration_seconds(attempt.charge->duration_seconds);
      charge.set_twilio_account(attempt.charge->twilio_account);
    }
  }
  // Only GetAlert reads a chain's pages; a page carries none of its own.
  if (!view.pages.empty()) {
    klaxon::alerts::v1::Escalation& escalation = *alert.mutable_escalation();
    for (const AlertView& page : view.pages) *escalation.add_pages() = ToProto(page);
    escalation.set_acknowledged_by(record.acknowledged_by);
    escalation.set_acknowledged_step(record.acknowledged_step);
    if (record.acknowledged_at.has_value()) {
      prototime::SetTimestamp(*record.acknowledged_at, escalation.mutable_acknowledged_at());
    }
  }
  return alert;
}

AlertQueryService::AlertQueryService(const auth::CallerAuthenticator& api_keys, AlertReader& reader,
                                     AlertSearch& search, AlertWatcher& watcher,
                                     AuditMetrics& metrics,
                                     concurrency::FairExecutorOptions executor)
    : api_keys_(api_keys),
      reader_(reader),
      search_(search),
      watcher_(watcher),
      metrics_(metrics),
      // Subscribe() admits at most max_watchers watches, so each finds a thread and none waits.
      watch_executor_({.threads = watcher.max_watchers(), .max_queued = watcher.max_watchers()}),
      executor_(executor) {}

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
      executor_.Submit(*caller, [this, reactor, request, response, deadline, caller = *caller] {
        absl::StatusOr<AlertView> alert = reader_.GetAlert(caller, request->alert_id(), deadline);
        if (alert.ok()) *response = ToProto(*alert);
        Finish(reactor, alert.status());
      });
  if (!accepted) Finish(reactor, Busy());
  return reactor;
}

grpc::ServerUnaryReactor* AlertQueryService::Serve(
    std::string_view rpc, grpc::CallbackServerContext* context,
    std::function<absl::Status(const std::string& caller)> work) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  const absl::Time start = absl::Now();
  const auto finish = [this, reactor, rpc, start](const absl::Status& status) {
    metrics_.QueryRequest(rpc, status, absl::Now() - start);
    reactor->Finish(grpcutil::ToGrpcStatus(status));
  };
  absl::StatusOr<std::string> caller = auth::AuthenticateCall(api_keys_, *context);
  if (!caller.ok()) {
    finish(caller.status());
    return reactor;
  }
  const bool accepted = executor_.Submit(
      *caller, [finish, work = std::move(work), caller = *caller] { finish(work(caller)); });
  if (!accepted) finish(Busy());
  return reactor;
}

grpc::ServerUnaryReactor* AlertQueryService::ListAlerts(
    grpc::CallbackServerContext* context, const klaxon::alerts::v1::ListAlertsRequest* request,
    klaxon::alerts::v1::ListAlertsResponse* response) {
  // gRPC keeps request and response alive until the reactor is finished.
  return Serve("ListAlerts", context, [this, request, response](const std::string& caller) {
    absl::StatusOr<std::optional<absl::Time>> created_from = prototime::FromCallerIfSet(
        "created_from", request->has_created_from(), request->created_from());
    if (!created_from.ok()) return created_from.status();
    absl::StatusOr<std::optional<absl::Time>> created_before = prototime::FromCallerIfSet(
        "created_before", request->has_created_before(), request->created_before());
    if (!created_before.ok()) return created_before.status();
    const ListAlertsQuery query{.status = request->status(),
                                .channel = request->channel(),
                                .recipient = request->recipient(),
                                .created_from = *created_from,
                                .created_before = *created_before,
                                .page_size = request->page_size(),
                                .page_token = request->page_token()};
    absl::StatusOr<AlertPage> page = search_.ListAlerts(caller, query);
    if (!page.ok()) return page.status();
    for (const AlertRecord& record : page->alerts) *response->add_alerts() = ToListItem(record);
    response->set_next_page_token(page->next_page_token);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* AlertQueryService::GetAuditTrail(
    grpc::CallbackServerContext* context, const klaxon::alerts::v1::GetAuditTrailRequest* request,
    klaxon::alerts::v1::AuditTrail* response) {
  return Serve("GetAuditTrail", context, [this, request, response](const std::string& caller) {
    absl::StatusOr<std::vector<AuditEventRecord>> events =
        search_.GetAuditTrail(caller, request->alert_id());
    if (!events.ok()) return events.status();
    response->set_alert_id(request->alert_id());
    for (const AuditEventRecord& event : *events) {
      klaxon::alerts::v1::AuditEvent* out = response->add_events();
      prototime::SetTimestamp(event.occurred_at, out->mutable_occurred_at());
      prototime::SetTimestamp(event.recorded_at, out->mutable_recorded_at());
      out->set_kind(event.kind);
      out->set_channel(event.channel);
      out->set_attempt(event.attempt);
      out->set_retry_count(event.retry_count);
      out->set_status(event.status);
      out->set_twilio_sid(event.twilio_sid);
      out->set_twilio_error_code(event.twilio_error_code);
      out->set_reason(event.reason);
    }
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* AlertQueryService::GetDeliveryReport(
    grpc::CallbackServerContext* context,
    const klaxon::alerts::v1::GetDeliveryReportRequest* request,
    klaxon::alerts::v1::DeliveryReport* response) {
  return Serve("GetDeliveryReport", context, [this, request, response](const std::string& caller) {
    absl::StatusOr<std::optional<absl::Time>> from =
        prototime::FromCallerIfSet("from", request->has_from(), request->from());
    if (!from.ok()) return from.status();
    absl::StatusOr<std::optional<absl::Time>> before =
        prototime::FromCallerIfSet("before", request->has_before(), request->before());
    if (!before.ok()) return before.status();
    absl::StatusOr<DeliveryReportRecord> report = search_.GetDeliveryReport(caller, *from, *before);
    if (!report.ok()) return report.status();
    prototime::SetTimestamp(report->from, response->mutable_from());
    prototime::SetTimestamp(report->before, response->mutable_before());
    SetRow({.key = "", .counts = report->counts.total}, response->mutable_total());
    for (const DeliveryGroup& group : report->counts.by_channel) {
      SetRow(group, response->add_by_channel());
    }
    for (const DeliveryGroup& group : report->counts.by_country) {
      SetRow(group, response->add_by_country());
    }
    for (const DeliveryGroup& group : report->counts.by_error_code) {
      SetRow(group, response->add_by_error_code());
    }
    for (const CostGroup& cost : report->counts.costs) {
      klaxon::alerts::v1::CostReportRow& row = *response->add_costs();
      row.set_channel(cost.channel);
      row.set_twilio_account(cost.twilio_account);
      row.set_currency(cost.currency);
      row.set_amount(twilio::FormatMicros(cost.micros));
      row.set_charged_attempts(cost.charged_attempts);
      row.set_segments(cost.segments);
      row.set_duration_seconds(cost.duration_seconds);
    }
    return absl::OkStatus();
  });
}

grpc::ServerWriteReactor<klaxon::alerts::v1::Alert>* AlertQueryService::WatchAlert(
    grpc::CallbackServerContext* context, const klaxon::alerts::v1::WatchAlertRequest* request) {
  absl::StatusOr<std::string> caller = auth::AuthenticateCall(api_keys_, *context);
  absl::StatusOr<std::shared_ptr<AlertWatcher::Subscription>> subscription =
      caller.ok() ? watcher_.Subscribe(request->alert_id(), *caller)
                  : absl::StatusOr<std::shared_ptr<AlertWatcher::Subscription>>(caller.status());
  auto* reactor = new WatchReactor(subscription.ok() ? *subscription : nullptr);
  if (!subscription.ok()) {
    metrics_.WatchEnded(subscription.status());
    reactor->Finish(grpcutil::ToGrpcStatus(subscription.status()));
    return reactor;
  }
  const absl::Time deadline = absl::FromChrono(context->deadline());
  const bool accepted =
      watch_executor_.Submit([this, reactor, deadline, subscription = *std::move(subscription),
                              caller = *std::move(caller)] {
        const absl::Status status = watcher_.Watch(*subscription, caller, deadline, *reactor);
        metrics_.WatchEnded(status);
        reactor->Finish(grpcutil::ToGrpcStatus(status));
      });
  if (!accepted) {
    const absl::Status busy = absl::ResourceExhaustedError("audit is busy; retry with backoff");
    metrics_.WatchEnded(busy);
    reactor->Finish(grpcutil::ToGrpcStatus(busy));
  }
  return reactor;
}

}  // namespace klaxon::audit
