#include "bench/delivery_tally.h"

#include <algorithm>

namespace klaxon::bench {

double AcceptedRate(const DeliverySummary& summary) {
  const double seconds = std::chrono::duration<double>(summary.span).count();
  return seconds > 0 ? static_cast<double>(summary.accepted) / seconds : 0;
}

void DeliveryTally::Sent(const std::string& alert_id, WallTime due) {
  std::lock_guard lock(mutex_);
  Alert& alert = alerts_[alert_id];
  if (alert.due.has_value()) return;
  alert.due = due;
  if (!alert.accepted_at.has_value()) ++waiting_;
}

void DeliveryTally::Outcome(const std::string& alert_id, std::string_view kind,
                            WallTime occurred_at) {
  std::lock_guard lock(mutex_);
  Alert& alert = alerts_[alert_id];
  ++alert.outcomes[std::string(kind)];
  if (kind != kAccepted || alert.accepted_at.has_value()) return;
  alert.accepted_at = occurred_at;
  if (alert.due.has_value()) --waiting_;
}

int64_t DeliveryTally::Waiting() const {
  std::lock_guard lock(mutex_);
  return waiting_;
}

bool DeliveryTally::IsAccepted(const std::string& alert_id) const {
  std::lock_guard lock(mutex_);
  const auto found = alerts_.find(alert_id);
  return found != alerts_.end() && found->second.accepted_at.has_value();
}

DeliverySummary DeliveryTally::Summarize() const {
  std::lock_guard lock(mutex_);
  DeliverySummary summary;
  LatencyRecorder latencies;
  std::optional<WallTime> first_due;
  std::optional<WallTime> last_accepted;
  for (const auto& [id, alert] : alerts_) {
    if (!alert.due.has_value()) continue;  // not this run's, or its SendAlert failed
    ++summary.sent;
    first_due = std::min(first_due.value_or(*alert.due), *alert.due);
    for (const auto& [kind, count] : alert.outcomes) summary.outcomes[kind] += count;
    if (!alert.accepted_at.has_value()) {
      ++summary.missing;
      continue;
    }
    ++summary.accepted;
    last_accepted = std::max(last_accepted.value_or(*alert.accepted_at), *alert.accepted_at);
    latencies.RecordSuccess(*alert.accepted_at - *alert.due);
  }
  summary.latency = latencies.Summarize();
  if (first_due.has_value() && last_accepted.has_value()) {
    summary.span = *last_accepted - *first_due;
  }
  return summary;
}

}  // namespace klaxon::bench
