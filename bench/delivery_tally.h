// DeliveryTally: joins the two ends bench-delivery watches: when each alert's SendAlert was due
// and the delivery outcomes the workers published for it. An alert's latency runs from its due
// time to its first ACCEPTED outcome's occurred_at, which the worker stamps after Twilio's answer
// (and the attempt ledger's write) came back. Outcomes may arrive before the SendAlert answer
// does, so the join happens whichever comes first. Thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "bench/latency_stats.h"

namespace klaxon::bench {

using WallTime = std::chrono::system_clock::time_point;

// The outcome kind that means Twilio took the alert (DeliveryOutcome.Kind's name).
inline constexpr std::string_view kAccepted = "KIND_ACCEPTED";

struct DeliverySummary {
  int64_t sent = 0;        // alerts whose SendAlert succeeded
  int64_t accepted = 0;    // of those, accepted by Twilio
  int64_t missing = 0;     // sent, and no ACCEPTED seen: lost, or still held by a limit or retry
  ErrorCounts outcomes;    // every outcome of the sent alerts by kind, accepted ones included
  LatencySummary latency;  // due time to first ACCEPTED, over accepted alerts
  std::chrono::nanoseconds span{0};  // first due time to last first-acceptance
};

// Accepted alerts per second over the summary's span.
double AcceptedRate(const DeliverySummary& summary);

class DeliveryTally {
 public:
  void Sent(const std::string& alert_id, WallTime due);
  void Outcome(const std::string& alert_id, std::string_view kind, WallTime occurred_at);
  // Sent alerts without an ACCEPTED outcome yet.
  int64_t Waiting() const;
  // Whether `alert_id` (sent or not) has an ACCEPTED outcome.
  bool IsAccepted(const std::string& alert_id) const;
  DeliverySummary Summarize() const;

 private:
  struct Alert {
    std::optional<WallTime> due;
    std::optional<WallTime> accepted_at;  // the first ACCEPTED's occurred_at
    ErrorCounts outcomes;
  };

  mutable std::mutex mutex_;
  std::unordered_map<std::string, Alert> alerts_;  // guarded by mutex_
  int64_t waiting_ = 0;                            // guarded by mutex_
};

}  // namespace klaxon::bench
