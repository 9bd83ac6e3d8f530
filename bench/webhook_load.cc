// bench-webhook: an open-loop load generator for ingress's Twilio webhook. It sends validly
// signed message status callbacks (status_callbacks.h), all prepared before the clock starts, on
// a fixed schedule over keep-alive HTTP/1.1 connections (http1_load.h), measures each request's
// latency from its due time, and prints one JSON line on stdout and a summary on stderr. It exits
// 0 only when every measured request got a 2xx answer and the achieved rate is at least 95% of
// the planned one, so a script can use it as a pass/fail check.
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
#include "bench/http_load_run.h"
#include "bench/schedule.h"
#include "bench/status_callbacks.h"

namespace klaxon::bench {
namespace {

// A replay repeats the request sent this long before it, which has had time to be answered:
// Twilio too retries a callback only after the first attempt ended.
constexpr std::chrono::seconds kReplayDelay{1};

struct Flags : HttpLoadFlags {
  Flags() : HttpLoadFlags{.url = "http://127.0.0.1:8080"} {}
  std::string public_url;
  std::string auth_token = "sandbox-token";
  std::string account_sid = "AC00000000000000000000000000000000";
  double replay_fraction = 0;
};

int Main(int argc, char** argv) {
  Flags flags;
  CLI::App app{"Open-loop load generator for ingress's Twilio message status callbacks.",
               "bench-webhook"};
  AddHttpLoadFlags(app, flags, "ingress's webhook address, http://host:port", "KLAXON_WEBHOOK_URL");
  app.add_option("--public-url", flags.public_url,
                 "the base URL ingress verifies signatures against [default: --url]")
      ->envname("KLAXON_WEBHOOK_PUBLIC_URL");
  app.add_option("--auth-token", flags.auth_token, "Twilio auth token that signs the requests")
      ->envname("KLAXON_TWILIO_AUTH_TOKEN")
      ->capture_default_str();
  app.add_option("--account-sid", flags.account_sid, "AccountSid the callbacks carry")
      ->envname("KLAXON_TWILIO_ACCOUNT_SID")
      ->capture_default_str();
  app.add_option("--replay-fraction", flags.replay_fraction,
                 "share of requests that replay the one sent a second earlier, byte for byte")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    return app.exit(error) == 0 ? EXIT_SUCCESS : kHttpExitUsage;
  }

  const absl::StatusOr<WebhookTarget> target = ParseWebhookUrl(flags.url);
  if (!target.ok()) {
    std::cerr << "bench-webhook: " << target.status().message() << "\n";
    return kHttpExitUsage;
  }
  if (flags.public_url.empty()) flags.public_url = target->origin;
  const std::optional<OpenLoopSchedule> schedule = HttpScheduleOf("bench-webhook", flags);
  if (!schedule.has_value()) return kHttpExitUsage;

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

  return RunHttpLoad(
      "bench-webhook", "Message status callbacks", flags, *target, *schedule,
      [&plan](int64_t index) -> std::string_view {
        return plan.requests[static_cast<std::size_t>(index)];
      },
      [&plan](int64_t index) { return bool{plan.replay[static_cast<std::size_t>(index)]}; });
}

}  // namespace
}  // namespace klaxon::bench

int main(int argc, char** argv) { return klaxon::bench::Main(argc, argv); }
