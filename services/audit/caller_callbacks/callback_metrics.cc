#include "services/audit/caller_callbacks/callback_metrics.h"

#include <string>
#include <string_view>

namespace klaxon::audit {
namespace {

std::string_view LabelOf(CallbackResult result) {
  switch (result) {
    case CallbackResult::kDelivered:
      return "delivered";
    case CallbackResult::kRejected:
      return "rejected";
    case CallbackResult::kTimedOut:
      return "timed_out";
    case CallbackResult::kNetworkError:
      return "network_error";
    case CallbackResult::kUnconfigured:
      return "unconfigured";
    case CallbackResult::kDeadLettered:
      return "dead_lettered";
    case CallbackResult::kLeaseLost:
      return "lease_lost";
  }
  return "network_error";  // unreachable: every result is handled above
}

}  // namespace

CallbackMetrics::CallbackMetrics(prometheus::Registry& registry)
    : posted_(
          prometheus::BuildCounter()
              .Name("klaxon_caller_callbacks_total")
              .Help("Status-change POSTs to callers, by result: delivered, rejected, "
                    "timed_out, network_error, unconfigured (not sent: no secret for the "
                    "caller); dead_lettered, callbacks given up; and lease_lost, settlements not "
                    "recorded because another claim had taken the callback (their POSTs counted by "
                    "their results too)")
              .Register(registry)),
      delay_(prometheus::BuildHistogram()
                 .Name("klaxon_caller_callback_delay_seconds")
                 .Help("From an alert's status change to its caller's 2xx answer")
                 .Register(registry)
                 .Add({}, prometheus::Histogram::BucketBoundaries{0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
                                                                  1, 2.5, 5, 10, 30, 60, 300, 900,
                                                                  3600, 21600, 86400})),
      pending_(prometheus::BuildGauge()
                   .Name("klaxon_caller_callbacks_pending")
                   .Help("Caller callbacks not yet delivered nor dead-lettered")
                   .Register(registry)
                   .Add({})),
      oldest_age_(prometheus::BuildGauge()
                      .Name("klaxon_caller_callbacks_oldest_pending_age_seconds")
                      .Help("Age of the oldest pending caller callback (0 when none)")
                      .Register(registry)
                      .Add({})) {
  // Every result from the start at 0, so the first dead letter after a restart is an increase
  // (KlaxonCallerCallbacksDeadLettered) and a dashboard shows each series.
  for (const CallbackResult result :
       {CallbackResult::kDelivered, CallbackResult::kRejected, CallbackResult::kTimedOut,
        CallbackResult::kNetworkError, CallbackResult::kUnconfigured, CallbackResult::kDeadLettered,
        CallbackResult::kLeaseLost}) {
    posted_.Add({{"result", std::string(LabelOf(result))}});
  }
}

void CallbackMetrics::Posted(CallbackResult result) {
  posted_.Add({{"result", std::string(LabelOf(result))}}).Increment();
}

void CallbackMetrics::Delivered(absl::Duration delay) {
  delay_.Observe(absl::ToDoubleSeconds(delay));
}

void CallbackMetrics::SetPending(int64_t count, absl::Duration oldest_age) {
  pending_.Set(static_cast<double>(count));
  oldest_age_.Set(absl::ToDoubleSeconds(oldest_age));
}

}  // namespace klaxon::audit
