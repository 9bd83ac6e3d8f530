#include "services/audit/dead_letters/dead_letter_metrics.h"

#include <string>

namespace klaxon::audit {

DeadLetterMetrics::DeadLetterMetrics(prometheus::Registry& registry)
    : consumed_(prometheus::BuildCounter()
                    .Name("klaxon_audit_dead_letters_consumed_total")
                    .Help("klaxon.dlq messages audit handled, by result")
                    .Register(registry)),
      replays_(prometheus::BuildCounter()
                   .Name("klaxon_audit_dead_letter_replays_total")
                   .Help("ReplayDeadLetter calls, by result")
                   .Register(registry)),
      pending_(prometheus::BuildGauge()
                   .Name("klaxon_audit_dead_letters_pending")
                   .Help("Dead letters not replayed yet (the DLQ's depth)")
                   .Register(registry)
                   .Add({})) {}

void DeadLetterMetrics::Consumed(absl::string_view result) {
  consumed_.Add({{"result", std::string(result)}}).Increment();
}

void DeadLetterMetrics::Replay(absl::string_view result) {
  replays_.Add({{"result", std::string(result)}}).Increment();
}

void DeadLetterMetrics::SetPending(int64_t pending) { pending_.Set(static_cast<double>(pending)); }

}  // namespace klaxon::audit
