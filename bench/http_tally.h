// Status accounting of an HTTP load run: each measured request's outcome counted by HTTP status,
// failures by kind, replays apart, and latency of the 2xx answers from their due times, condensed
// into a LoadReport and the HTTP-only figures beside it.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "bench/http1_load.h"
#include "bench/latency_stats.h"
#include "bench/load_report.h"
#include "nlohmann/json.hpp"

namespace klaxon::bench {

struct ReplayCounts {
  int64_t sent = 0;
  int64_t acknowledged = 0;  // answered 2xx, as a replay must be
};

// Not thread-safe: Http1LoadClient reports every outcome on its one thread.
class HttpTally {
 public:
  // Requests before `first_measured` are the warm-up: counted, otherwise ignored.
  explicit HttpTally(int64_t first_measured) : first_measured_(first_measured) {}

  void Record(const HttpOutcome& outcome, bool replay);

  // `report` (name, target and plan filled in by the caller) with what was measured: requests,
  // errors ("HTTP 503", "timeout", ...), latency of the 2xx answers, the time from the first
  // measured due time to the last measured completion, and the worst send lag.
  LoadReport Complete(LoadReport report) const;

  const std::map<int, int64_t>& statuses() const { return statuses_; }
  const ReplayCounts& replays() const { return replays_; }
  int64_t warmup_requests() const { return warmup_requests_; }

 private:
  const int64_t first_measured_;
  int64_t requests_ = 0;
  int64_t warmup_requests_ = 0;
  LatencyRecorder recorder_;
  std::map<int, int64_t> statuses_;
  ReplayCounts replays_;
  std::optional<SteadyClock::time_point> first_due_;
  SteadyClock::time_point last_done_;
  std::chrono::nanoseconds max_send_lag_{0};
};

// Adds "statuses" ({"204": n, ...}), "replays" ({"sent": n, "acknowledged": n}) and
// "warmup_requests" to a report's JSON.
void AddHttpFields(const HttpTally& tally, nlohmann::json& json);

// The same for people: "  statuses 204 n, 503 n\n  replays n sent, n acknowledged\n".
std::string HttpSummary(const HttpTally& tally);

}  // namespace klaxon::bench
