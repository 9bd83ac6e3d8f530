#pragma once
// The Prometheus series of audit's DLQ: how many dead letters were consumed, how many replays
// were asked for, and the queue's depth. Created once in main; tests read them back from a
// registry of their own.

#include <cstdint>

#include "absl/strings/string_view.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/registry.h"

namespace klaxon::audit {

class DeadLetterMetrics {
 public:
  explicit DeadLetterMetrics(prometheus::Registry& registry);

  // klaxon_audit_dead_letters_consumed_total{result}: a klaxon.dlq message; result is "stored",
  // "duplicate" (the alert's dead letter was stored already), "invalid" (undecodable, skipped)
  // or "retry" (the store failed; the message will be handled again).
  void Consumed(absl::string_view result);

  // klaxon_audit_dead_letter_replays_total{result}: a ReplayDeadLetter; result is "replayed",
  // "already_replayed", or the lowercase gRPC code name of a failure ("not_found", ...).
  void Replay(absl::string_view result);

  // klaxon_audit_dead_letters_pending: dead letters of every caller not replayed yet.
  void SetPending(int64_t pending);

 private:
  prometheus::Family<prometheus::Counter>& consumed_;
  prometheus::Family<prometheus::Counter>& replays_;
  prometheus::Gauge& pending_;
};

}  // namespace klaxon::audit
