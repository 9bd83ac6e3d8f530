// The outcome of one load run, printed as one JSON line for scripts and as a short summary for
// people, and judged against its plan.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "bench/latency_stats.h"
#include "nlohmann/json.hpp"

namespace klaxon::bench {

struct LoadReport {
  std::string name;  // what was driven, e.g. "SendAlert"; heads the human summary
  std::string target;
  double rate_per_second = 0;
  std::chrono::nanoseconds planned_duration{0};
  int64_t concurrency = 0;
  int64_t requests = 0;  // calls started; every scheduled request is started
  ErrorCounts errors;
  LatencySummary latency;  // over successful calls, from their due time
  // From the first due time to the last completion.
  std::chrono::nanoseconds elapsed{0};
  // How far behind its due time the generator started a call, at worst. Large values mean the
  // concurrency cap or the generator itself, not the server, set the pace.
  std::chrono::nanoseconds max_send_lag{0};
};

// Successful calls per second of elapsed time.
double AchievedRate(const LoadReport& report);

// The report as a JSON object, for tools that add their own fields before printing it.
nlohmann::json ToJson(const LoadReport& report);
std::string ToJsonLine(const LoadReport& report);
std::string ToHumanSummary(const LoadReport& report);

// Why the run falls short of its plan, one sentence each: some calls did not succeed, or the
// achieved rate is under `min_rate_fraction` of the planned rate. Empty when it met both.
std::vector<std::string> Shortfalls(const LoadReport& report, double min_rate_fraction);

}  // namespace klaxon::bench
