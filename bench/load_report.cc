#include "bench/load_report.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace klaxon::bench {
namespace {

// Milliseconds with microsecond resolution, so the JSON carries no float noise.
double Millis(std::chrono::nanoseconds duration) {
  return std::round(static_cast<double>(duration.count()) / 1e3) / 1e3;
}

double Seconds(std::chrono::nanoseconds duration) {
  return std::round(static_cast<double>(duration.count()) / 1e6) / 1e3;
}

int64_t ErrorCount(const LoadReport& report) {
  int64_t total = 0;
  for (const auto& [kind, count] : report.errors) total += count;
  return total;
}

std::string JoinErrors(const ErrorCounts& errors) {
  return absl::StrJoin(errors, ", ", [](std::string* out, const auto& entry) {
    absl::StrAppend(out, entry.first, " ", entry.second);
  });
}

}  // namespace

double AchievedRate(const LoadReport& report) {
  if (report.elapsed <= std::chrono::nanoseconds::zero()) return 0;
  const double rate = static_cast<double>(report.latency.count) /
                      std::chrono::duration<double>(report.elapsed).count();
  return std::round(rate * 100) / 100;
}

nlohmann::json ToJson(const LoadReport& report) {
  nlohmann::json errors = nlohmann::json::object();
  for (const auto& [kind, count] : report.errors) errors[kind] = count;
  return {
      {"target", report.target},
      {"rate", report.rate_per_second},
      {"duration_s", Seconds(report.planned_duration)},
      {"concurrency", report.concurrency},
      {"requests", report.requests},
      {"ok", report.latency.count},
      {"errors", errors},
      {"elapsed_s", Seconds(report.elapsed)},
      {"achieved_rate", AchievedRate(report)},
      {"latency_ms",
       {{"p50", Millis(report.latency.p50)},
        {"p90", Millis(report.latency.p90)},
        {"p99", Millis(report.latency.p99)},
        {"p999", Millis(report.latency.p999)},
        {"max", Millis(report.latency.max)}}},
      {"max_send_lag_ms", Millis(report.max_send_lag)},
  };
}

std::string ToJsonLine(const LoadReport& report) { return ToJson(report).dump(); }

std::string ToHumanSummary(const LoadReport& report) {
  const std::string errors = JoinErrors(report.errors);
  return absl::StrFormat(
      "%s on %s: %d requests at %g/s over %gs, at most %d in flight\n"
      "  ok %d, errors %d%s, achieved %.2f/s in %.3fs\n"
      "  latency ms  p50 %.3f  p90 %.3f  p99 %.3f  p99.9 %.3f  max %.3f\n"
      "  worst send lag %.3f ms\n",
      report.name, report.target, report.requests, report.rate_per_second,
      Seconds(report.planned_duration), report.concurrency, report.latency.count,
      ErrorCount(report), errors.empty() ? "" : absl::StrCat(" (", errors, ")"),
      AchievedRate(report), Seconds(report.elapsed), Millis(report.latency.p50),
      Millis(report.latency.p90), Millis(report.latency.p99), Millis(report.latency.p999),
      Millis(report.latency.max), Millis(report.max_send_lag));
}

std::vector<std::string> Shortfalls(const LoadReport& report, double min_rate_fraction) {
  std::vector<std::string> shortfalls;
  const int64_t failed = report.requests - report.latency.count;
  if (failed > 0) {
    const std::string errors = JoinErrors(report.errors);
    shortfalls.push_back(absl::StrFormat("%d of %d requests did not succeed%s", failed,
                                         report.requests,
                                         errors.empty() ? "" : absl::StrCat(" (", errors, ")")));
  }
  const double floor = min_rate_fraction * report.rate_per_second;
  if (AchievedRate(report) < floor) {
    shortfalls.push_back(absl::StrFormat("achieved %.2f/s, under %g%% of the planned %g/s (%.2f/s)",
                                         AchievedRate(report), min_rate_fraction * 100,
                                         report.rate_per_second, floor));
  }
  return shortfalls;
}

}  // namespace klaxon::bench
