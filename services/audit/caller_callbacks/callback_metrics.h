#pragma once
// The Prometheus series of caller callbacks (ADR 0028), answering an SRE's questions: are
// callers being told (results), how late (delay), and is anything stuck (pending, oldest age).

#include <cstdint>

#include "absl/time/time.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"

namespace klaxon::audit {

// What became of one POST, as klaxon_caller_callbacks_total{result} counts it.
enum class CallbackResult {
  kDelivered,     // "delivered": the caller answered 2xx
  kRejected,      // "rejected": another HTTP status
  kTimedOut,      // "timed_out": no answer within KLAXON_CALLER_CALLBACK_TIMEOUT
  kNetworkError,  // "network_error": no connection, or it broke
  kUnconfigured,  // "unconfigured": not sent, the caller is not in this replica's
                  // KLAXON_CALLER_CALLBACKS (retried: a rollout may be adding it)
  kDeadLettered,  // "dead_lettered": a callback given up, once that is recorded (its last POST
                  // is counted by its own result too)
  kLeaseLost,     // "lease_lost": a settlement not recorded, the callback's lease having run out
                  // and another claim taken it (its POST is counted by its own result too)
};

class CallbackMetrics {
 public:
  explicit CallbackMetrics(prometheus::Registry& registry);

  // klaxon_caller_callbacks_total{result}: one POST's outcome.
  void Posted(CallbackResult result);
  // klaxon_caller_callback_delay_seconds: from the status change to the caller's 2xx.
  void Delivered(absl::Duration delay);
  // klaxon_caller_callbacks_pending and klaxon_caller_callbacks_oldest_pending_age_seconds
  // (0 when none is pending).
  void SetPending(int64_t count, absl::Duration oldest_age);

 private:
  prometheus::Family<prometheus::Counter>& posted_;
  prometheus::Histogram& delay_;
  prometheus::Gauge& pending_;
  prometheus::Gauge& oldest_age_;
};

}  // namespace klaxon::audit
