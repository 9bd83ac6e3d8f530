// What every open-loop HTTP load generator (bench-webhook, bench-sendalert-http) shares around
// its own requests: the flags of the schedule and the connections, and the run itself (connect,
// send on the schedule, tally, print one JSON line on stdout and a summary on stderr, and say
// whether the run fell short). Header-only: its users compile with CLI11 already.
#pragma once

#include <sys/prctl.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/functional/function_ref.h"
#include "bench/http1_load.h"
#include "bench/http_tally.h"
#include "bench/load_report.h"
#include "bench/schedule.h"
#include "bench/status_callbacks.h"
#include "nlohmann/json.hpp"

namespace klaxon::bench {

inline constexpr int kHttpExitShortfall = 1;
inline constexpr int kHttpExitUsage = 2;
inline constexpr int kHttpExitSetupFailed = 3;
// The achieved rate must reach this share of the planned rate.
inline constexpr double kHttpMinRateFraction = 0.95;

struct HttpLoadFlags {
  std::string url;
  double rate = 1000;
  double duration_seconds = 60;
  double warmup_seconds = 5;
  int connections = 64;
  double timeout_seconds = 15;
  double connect_timeout_seconds = 5;
};

inline std::chrono::nanoseconds SecondsOf(double seconds) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
      std::chrono::duration<double>(seconds));
}

// Adds --url (with `url_help`, read from `url_env` too), --rate, --duration, --warmup,
// --connections, --timeout and --connect-timeout, their defaults flags' values.
inline void AddHttpLoadFlags(CLI::App& app, HttpLoadFlags& flags, const std::string& url_help,
                             const std::string& url_env) {
  app.add_option("--url", flags.url, url_help)->envname(url_env)->capture_default_str();
  // OpenLoopSchedule::Create checks rate and duration.
  app.add_option("--rate", flags.rate, "requests started per second")->capture_default_str();
  app.add_option("--duration", flags.duration_seconds, "measured seconds of scheduled requests")
      ->capture_default_str();
  app.add_option("--warmup", flags.warmup_seconds,
                 "seconds at the same rate before the measured part, left out of the figures")
      ->check(CLI::Range(0.0, 3600.0))
      ->capture_default_str();
  app.add_option("--connections", flags.connections,
                 "keep-alive connections, each with at most one request in flight")
      ->check(CLI::Range(1, 10'000))
      ->capture_default_str();
  app.add_option("--timeout", flags.timeout_seconds,
                 "seconds a request may wait for its answer after it was sent")
      ->check(CLI::Range(0.001, 3600.0))
      ->capture_default_str();
  app.add_option("--connect-timeout", flags.connect_timeout_seconds,
                 "seconds to open each connection, before the clock starts")
      ->check(CLI::Range(0.001, 3600.0))
      ->capture_default_str();
}

// The whole schedule, warm-up included; nullopt (after saying why on stderr) for bad flags.
inline std::optional<OpenLoopSchedule> HttpScheduleOf(std::string_view program,
                                                      const HttpLoadFlags& flags) {
  const absl::StatusOr<OpenLoopSchedule> schedule = OpenLoopSchedule::Create(
      flags.rate, SecondsOf(flags.warmup_seconds + flags.duration_seconds));
  if (!schedule.ok() || flags.duration_seconds <= 0) {
    std::cerr << program << ": "
              << (schedule.ok() ? "duration must be positive" : schedule.status().message())
              << "\n";
    return std::nullopt;
  }
  return *schedule;
}

// Sends request i (`request(i)`, valid until the run ends) at its time on the schedule to
// `target`; `replay(i)` says whether it repeats an earlier request (counted apart). Returns the
// exit status: 0, kHttpExitShortfall when a measured request got no 2xx or the achieved rate fell
// under kHttpMinRateFraction of the planned one, or kHttpExitSetupFailed when the connections
// could not be opened.
inline int RunHttpLoad(std::string_view program, std::string name, const HttpLoadFlags& flags,
                       const WebhookTarget& target, const OpenLoopSchedule& schedule,
                       absl::FunctionRef<std::string_view(int64_t)> request,
                       absl::FunctionRef<bool(int64_t)> replay) {
  absl::StatusOr<std::unique_ptr<Http1LoadClient>> client =
      Http1LoadClient::Connect({.host = target.host,
                                .port = target.port,
                                .connections = flags.connections,
                                .timeout = SecondsOf(flags.timeout_seconds),
                                .connect_timeout = SecondsOf(flags.connect_timeout_seconds)});
  if (!client.ok()) {
    std::cerr << program << ": " << client.status().message() << "\n";
    return kHttpExitSetupFailed;
  }
  // Wake-ups 100 us apart at 10,000/s: the default 50 us timer slack would be half of that.
  prctl(PR_SET_TIMERSLACK, 1UL);
  const absl::StatusOr<OpenLoopSchedule> warmup =
      OpenLoopSchedule::Create(flags.rate, SecondsOf(flags.warmup_seconds));
  HttpTally tally(flags.warmup_seconds > 0 && warmup.ok() ? warmup->size() : 0);
  (*client)->Run(schedule, request, [&tally, &replay](const HttpOutcome& outcome) {
    tally.Record(outcome, replay(outcome.index));
  });

  const LoadReport report = tally.Complete({.name = std::move(name),
                                            .target = flags.url,
                                            .rate_per_second = flags.rate,
                                            .planned_duration = SecondsOf(flags.duration_seconds),
                                            .concurrency = flags.connections});
  nlohmann::json json = ToJson(report);
  AddHttpFields(tally, json);
  std::cout << json.dump() << std::endl;
  std::cerr << ToHumanSummary(report) << HttpSummary(tally);
  const std::vector<std::string> shortfalls = Shortfalls(report, kHttpMinRateFraction);
  for (const std::string& shortfall : shortfalls) std::cerr << "FAIL: " << shortfall << "\n";
  return shortfalls.empty() ? EXIT_SUCCESS : kHttpExitShortfall;
}

}  // namespace klaxon::bench
