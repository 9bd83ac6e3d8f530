// bench-webhook: an open-loop load generator for ingress's Twilio webhook. It sends validly
// signed message status callbacks (status_callbacks.h), all prepared before the clock starts, on
// a fixed schedule over keep-alive HTTP/1.1 connections (http1_load.h), measures each request's
// latency from its due time, and prints one JSON line on stdout and a summary on stderr. It exits
// 0 only when every measured request got a 2xx answer and the achieved rate is at least 95% of
// the planned one, so a script can use it as a pass/fail check.
#include <sys/prctl.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/random/random.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "bench/http1_load.h"
#include "bench/http_tally.h"
#include "bench/load_report.h"
#include "bench/schedule.h"
#include "bench/status_callbacks.h"

namespace klaxon::bench {
namespace {

constexpr int kExitShortfall = 1;
constexpr int kExitUsage = 2;
constexpr int kExitSetupFailed = 3;

// The achieved rate must reach this share of the planned rate.
constexpr double kMinRateFraction = 0.95;
// A replay repeats the request sent this long before it, which has had time to be answered:
// Twilio too retries a callback only after the first attempt ended.
constexpr std::chrono::seconds kReplayDelay{1};

struct Flags {
  std::string url = "http://127.0.0.1:8080";
  std::string public_url;
  std::string auth_token = "sandbox-token";
  std::string account_sid = "AC00000000000000000000000000000000";
  double rate = 1000;
  double duration_seconds = 60;
  double warmup_seconds = 5;
  int connections = 64;
  double timeout_seconds = 15;
  double connect_timeout_seconds = 5;
  double replay_fraction = 0;
};

std::chrono::nanoseconds FromSeconds(double seconds) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
      std::chrono::duration<double>(seconds));
}

// How many requests the warm-up takes: those due before it ends.
int64_t WarmupRequests(double rate, double warmup_seconds) {
  if (warmup_seconds <= 0) return 0;
  const absl::StatusOr<OpenLoopSchedule> warmup =
      OpenLoopSchedule::Create(rate, FromSeconds(warmup_seconds));
  return warmup.ok() ? warmup->size() : 0;
}

int Main(int argc, char** argv) {
  Flags flags;
  CLI::App app{"Open-loop load generator for ingress's Twilio message status callbacks.",
               "bench-webhook"};
  app.add_option("--url", flags.url, "ingress's webhook address, http://host:port")
      ->envname("KLAXON_WEBHOOK_URL")
      ->capture_default_str();
  app.add_option("--public-url", flags.public_url,
                 "the base URL ingress verifies signatures against [default: --url]")
      ->envname("KLAXON_WEBHOOK_PUBLIC_URL");
  app.add_option("--auth-token", flags.auth_token, "Twilio auth token that signs the requests")
      ->envname("KLAXON_TWILIO_AUTH_TOKEN")
      ->capture_default_str();
  app.add_option("--account-sid", flags.account_sid, "AccountSid the callbacks carry")
      ->envname("KLAXON_TWILIO_ACCOUNT_SID")
      ->capture_default_str();
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
  app.add_option("--replay-fraction", flags.replay_fraction,
                 "share of requests that replay the one sent a second earlier, byte for byte")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    return app.exit(error) == 0 ? EXIT_SUCCESS : kExitUsage;
  }

  const absl::StatusOr<WebhookTarget> target = ParseWebhookUrl(flags.url);
  if (!target.ok()) {
    std::cerr << "bench-webhook: " << target.status().message() << "\n";
    return kExitUsage;
  }
  if (flags.public_url.empty()) flags.public_url = target->origin;
  const absl::StatusOr<OpenLoopSchedule> schedule = OpenLoopSchedule::Create(
      flags.rate, FromSeconds(flags.warmup_seconds + flags.duration_seconds));
  if (!schedule.ok() || flags.duration_seconds <= 0) {
    std::cerr << "bench-webhook: "
              << (schedule.ok() ? "duration must be positive" : schedule.status().message())
              << "\n";
    return kExitUsage;
  }

  const auto preparing = std::chrono::steady_clock::now();
  absl::BitGen gen;
  const RequestPlan plan = PlanStatusCallbacks(
      schedule->size(),
      {.request = {.public_url = flags.public_url,
                   .authority = target->authority,
                   .auth_token = flags.auth_token},
       .account_sid = flags.account_sid,
       .replay_fraction = flags.replay_fraction,
       .replay_distance = std::max<int64_t>(
           1, static_cast<int64_t>(std::ceil(flags.rate * kReplayDelay.count())))},
      absl::Now(), gen);
  std::cerr << absl::StrFormat(
      "bench-webhook: %d signed requests (%d replays) for %s prepared in %.1f s\n",
      schedule->size(), plan.replays, flags.public_url,
      std::chrono::duration<double>(std::chrono::steady_clock::now() - preparing).count());

  absl::StatusOr<std::unique_ptr<Http1LoadClient>> client =
      Http1LoadClient::Connect({.host = target->host,
                                .port = target->port,
                                .connections = flags.connections,
                                .timeout = FromSeconds(flags.timeout_seconds),
                                .connect_timeout = FromSeconds(flags.connect_timeout_seconds)});
  if (!client.ok()) {
    std::cerr << "bench-webhook: " << client.status().message() << "\n";
    return kExitSetupFailed;
  }
  // Wake-ups 100 us apart at 10,000/s: the default 50 us timer slack would be half of that.
  prctl(PR_SET_TIMERSLACK, 1UL);
  HttpTally tally(WarmupRequests(flags.rate, flags.warmup_seconds));
  (*client)->Run(
      *schedule,
      [&plan](int64_t index) -> std::string_view {
        return plan.requests[static_cast<std::size_t>(index)];
      },
      [&plan, &tally](const HttpOutcome& outcome) {
        tally.Record(outcome, plan.replay[static_cast<std::size_t>(outcome.index)]);
      });

  const LoadReport report = tally.Complete({.name = "Message status callbacks",
                                            .target = flags.url,
                                            .rate_per_second = flags.rate,
                                            .planned_duration = FromSeconds(flags.duration_seconds),
                                            .concurrency = flags.connections});
  nlohmann::json json = ToJson(report);
  AddHttpFields(tally, json);
  std::cout << json.dump() << std::endl;
  std::cerr << ToHumanSummary(report) << HttpSummary(tally);
  const std::vector<std::string> shortfalls = Shortfalls(report, kMinRateFraction);
  for (const std::string& shortfall : shortfalls) std::cerr << "FAIL: " << shortfall << "\n";
  return shortfalls.empty() ? EXIT_SUCCESS : kExitShortfall;
}

}  // namespace
}  // namespace klaxon::bench

int main(int argc, char** argv) { return klaxon::bench::Main(argc, argv); }
