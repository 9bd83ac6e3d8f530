#include "services/ingress/intake_admission.h"

#include "absl/strings/str_cat.h"
#include "common/grpcutil/grpcutil.h"
#include "common/kafka/request_topics.h"

namespace klaxon::ingress {
namespace {

size_t Slot(types::v1::Channel channel) {
  const int value = static_cast<int>(channel);
  return value >= 0 && value <= 2 ? static_cast<size_t>(value) : 0;
}

}  // namespace

IntakeAdmission::Ticket::~Ticket() {
  if (admission_ == nullptr) return;
  admission_->in_flight_.fetch_sub(1, std::memory_order_relaxed);
  admission_->in_flight_gauge_.Decrement();
}

namespace {

prometheus::Family<prometheus::Counter>& RefusedFamily(prometheus::Registry& registry) {
  return prometheus::BuildCounter()
      .Name("klaxon_intake_refused_total")
      .Help(
          "SendAlerts refused by admission control (RESOURCE_EXHAUSTED with a retry hint), by "
          "the bound they would have passed: in_flight (KLAXON_INTAKE_MAX_IN_FLIGHT) or "
          "backlog (KLAXON_INTAKE_MAX_BACKLOG)")
      .Register(registry);
}

}  // namespace

IntakeAdmission::IntakeAdmission(AdmissionOptions options, prometheus::Registry& registry)
    : options_(options),
      in_flight_gauge_(prometheus::BuildGauge()
                           .Name("klaxon_intake_in_flight")
                           .Help("SendAlerts this ingress replica is handling now; at "
                                 "KLAXON_INTAKE_MAX_IN_FLIGHT new ones are refused")
                           .Register(registry)
                           .Add({})),
      refused_in_flight_(RefusedFamily(registry).Add({{"reason", "in_flight"}})),
      refused_backlog_(RefusedFamily(registry).Add({{"reason", "backlog"}})) {
  for (std::atomic<int64_t>& backlog : backlog_) backlog.store(kUnknownBacklog);
}

absl::StatusOr<IntakeAdmission::Ticket> IntakeAdmission::Admit(types::v1::Channel channel,
                                                               types::v1::Priority priority) {
  const int64_t backlog = backlog_[Slot(channel)].load(std::memory_order_relaxed);
  if (options_.max_backlog > 0 && backlog > options_.max_backlog && !kafka::Urgent(priority)) {
    refused_backlog_.Increment();
    return grpcutil::WithRetryPushback(
        absl::ResourceExhaustedError(absl::StrCat(
            "the ", types::v1::Channel_Name(channel), " workers are ", backlog,
            " requests behind (more than KLAXON_INTAKE_MAX_BACKLOG=", options_.max_backlog,
            "); nothing was accepted: retry later with the same idempotency_key, or page "
            "another way")),
        options_.retry_after);
  }
  const int64_t before = in_flight_.fetch_add(1, std::memory_order_relaxed);
  in_flight_gauge_.Increment();
  Ticket ticket(this);
  if (before >= options_.max_in_flight) {
    refused_in_flight_.Increment();
    return grpcutil::WithRetryPushback(
        absl::ResourceExhaustedError(absl::StrCat(
            "ingress is at capacity: ", options_.max_in_flight,
            " SendAlerts in flight (KLAXON_INTAKE_MAX_IN_FLIGHT); nothing was accepted: retry "
            "with the same idempotency_key")),
        options_.retry_after);
  }
  return ticket;
}

void IntakeAdmission::ReportBacklog(types::v1::Channel channel, std::optional<int64_t> messages) {
  backlog_[Slot(channel)].store(messages.value_or(kUnknownBacklog), std::memory_order_relaxed);
}

}  // namespace klaxon::ingress
