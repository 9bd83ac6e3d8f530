// The outcome of one load run, printed as one JSON line for scripts and as a short summary for
// people.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>

#include "absl/status/status.h"
#include "bench/latency_stats.h"

namespace klaxon::bench {

struct LoadReport {
  std::string target;
  double rate_per_second = 0;
  std::chrono::nanoseconds planned_duration{0};
  int64_t concurrency = 0;
  int64_t requests = 0;  // calls started; every scheduled request is started
  std::map<absl::StatusCode, int64_t> errors;
  LatencySummary latency;  // over successful calls, from their due time
  // From the first due time to the last completion.
  std::chrono::nanoseconds elapsed{0};
  // How far behind its due time the generator started a call, at worst. Large values mean the
  // concurrency cap or the generator itself, not the server, set the pace.
  std::chrono::nanoseconds max_send_lag{0};
};

// Successful calls per second of elapsed time.
double AchievedRate(const LoadReport& report);

std::string ToJsonLine(const LoadReport& report);
std::string ToHumanSummary(const LoadReport& report);

}  // namespace klaxon::bench
