// bench-caller-callbacks: caller callbacks under load (ADR 0028). It is the calling team's
// receiver: it listens on --listen, answers every POST 204 at once, verifies its signature with
// the secret in --secret-file and tallies it (callback_tally.h). Meanwhile it drives SendAlert
// open loop (sendalert_driver.h) at --rate for --duration, each alert to a number of its own among
// --recipients, and once the load is over waits until no callback came for --drain-idle. Prints
// one JSON line on stdout and a summary on stderr; exits 3 when a signature failed, a body was
// malformed, a change came out of order or never came, or the delay's p99 is over --p99-target.
//
// Audit must POST the caller's callbacks here: KLAXON_CALLER_CALLBACKS="local http://<listen>/cb
// <secret>" (bench/README.md).
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/random/random.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "bench/callback_tally.h"
#include "bench/load_flags.h"
#include "bench/load_report.h"
#include "bench/recipients.h"
#include "bench/schedule.h"
#include "bench/sendalert_driver.h"
#include "common/http/server.h"
#include "nlohmann/json.hpp"

namespace klaxon::bench {
namespace {

constexpr int kExitSetupFailed = 1;
constexpr int kExitUsage = 2;
constexpr int kExitShortfall = 3;

struct Flags : LoadFlags {
  Flags() : LoadFlags{.target = "127.0.0.1:50051", .rate = 340, .concurrency = 2000} {}
  std::string listen = "127.0.0.1:9710";
  std::string secret_file;
  int64_t recipients = 10'000;
  int64_t receiver_threads = 2;
  double warmup_timeout_seconds = 60;
  double drain_idle_seconds = 10;
  double drain_max_seconds = 600;
  double p99_target_ms = 0;  // 0: none
};

double Ms(std::chrono::nanoseconds d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

double Seconds(std::chrono::nanoseconds d) { return std::chrono::duration<double>(d).count(); }

// "host:port" into ServerOptions' host and port; false when it is not one.
bool ParseListen(const std::string& listen, http::ServerOptions& options) {
  const size_t colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0) return false;
  uint32_t port = 0;
  if (!absl::SimpleAtoi(absl::string_view(listen).substr(colon + 1), &port) || port == 0 ||
      port > 65535) {
    return false;
  }
  options.host = listen.substr(0, colon);
  options.port = static_cast<uint16_t>(port);
  return true;
}

// The secret in `path` without its trailing newline; nullopt when unreadable or empty.
std::optional<std::string> ReadSecret(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return std::nullopt;
  std::ostringstream contents;
  contents << file.rdbuf();
  std::string secret(absl::StripTrailingAsciiWhitespace(contents.str()));
  if (secret.empty()) return std::nullopt;
  return secret;
}

// Sends probe alerts until a callback for one arrives: audit dispatches to this receiver, the
// secret matches and the whole path is warm before the clock starts.
bool WarmUp(alerts::v1::AlertIntake::Stub& stub, const Flags& flags, const CallbackTally& tally) {
  const auto give_up = std::chrono::steady_clock::now() + FromSeconds(flags.warmup_timeout_seconds);
  const std::string run = absl::StrFormat("%016x", absl::Uniform<uint64_t>(absl::BitGen()));
  for (int probe = 0; std::chrono::steady_clock::now() < give_up; ++probe) {
    grpc::ClientContext context;
    context.AddMetadata("authorization", absl::StrCat("Bearer ", flags.api_key));
    context.set_deadline(std::chrono::system_clock::now() + FromSeconds(flags.rpc_timeout_seconds));
    alerts::v1::SendAlertRequest request;
    request.set_channel(types::v1::CHANNEL_SMS);
    request.set_recipient(SpreadRecipient(probe));
    request.set_text(absl::StrCat("klaxon bench probe ", run, " #", probe));
    request.set_idempotency_key(absl::StrCat("bench-probe-", run, "-", probe));
    alerts::v1::SendAlertResponse response;
    if (!stub.SendAlert(&context, request, &response).ok()) {
      std::this_thread::sleep_for(std::chrono::seconds(1));
      continue;
    }
    const auto next_probe = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (std::chrono::steady_clock::now() < next_probe) {
      if (tally.HasCallback(response.alert_id())) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  return false;
}

// Waits until no POST arrived for `idle` (counted from the call at the earliest), or `most` in
// all; how long it waited.
std::chrono::nanoseconds Drain(const CallbackTally& tally, std::chrono::nanoseconds idle,
                               std::chrono::nanoseconds most) {
  const auto start = std::chrono::steady_clock::now();
  auto last_change = start;
  int64_t seen = tally.arrivals();
  for (auto now = start; now - last_change < idle && now - start < most;
       now = std::chrono::steady_clock::now()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (const int64_t arrivals = tally.arrivals(); arrivals != seen) {
      seen = arrivals;
      last_change = std::chrono::steady_clock::now();
    }
  }
  return std::chrono::steady_clock::now() - start;
}

nlohmann::json ToJson(const ErrorCounts& counts) {
  nlohmann::json object = nlohmann::json::object();
  for (const auto& [name, count] : counts) object[name] = count;
  return object;
}

nlohmann::json ToJson(const CallbackSummary& summary, std::chrono::nanoseconds drained) {
  return {
      {"alerts", summary.alerts},
      {"changes", summary.changes},
      {"changes_in_load", summary.changes_in_window},
      {"load_s", Seconds(summary.window)},
      {"changes_per_s", WindowRate(summary)},
      {"delay_ms",
       {{"p50", Ms(summary.delay.p50)},
        {"p90", Ms(summary.delay.p90)},
        {"p99", Ms(summary.delay.p99)},
        {"p999", Ms(summary.delay.p999)},
        {"max", Ms(summary.delay.max)}}},
      {"signature_failures", summary.signature_failures},
      {"malformed", summary.malformed},
      {"repeated", summary.repeated},
      {"out_of_order", summary.out_of_order},
      {"alerts_with_gaps", summary.alerts_with_gaps},
      {"last_delivered", summary.last_delivered},
      {"last_not_delivered", summary.last_not_delivered},
      {"without_callback", summary.without_callback},
      {"statuses", ToJson(summary.statuses)},
      {"last_statuses", ToJson(summary.last_statuses)},
      {"other_changes", summary.other_changes},
      {"last_after_load_s", Seconds(summary.last_after_window)},
      {"drain_s", Seconds(drained)},
  };
}

std::string Join(const ErrorCounts& counts) {
  return absl::StrJoin(counts, ", ", [](std::string* out, const auto& entry) {
    absl::StrAppend(out, entry.first, " ", entry.second);
  });
}

std::string ToHumanSummary(const CallbackSummary& summary, std::chrono::nanoseconds drained) {
  return absl::StrFormat(
      "Caller callbacks of %d alerts: %d changes, %d during the %.3fs load (%.2f/s); the last "
      "%.3fs after it (drained %.3fs)\n"
      "  delay ms  p50 %.3f  p90 %.3f  p99 %.3f  p99.9 %.3f  max %.3f\n"
      "  signature failures %d, malformed %d, repeated %d, out of order %d, alerts with gaps %d\n"
      "  last change DELIVERED %d, not %d, no callback %d\n"
      "  changes: %s\n"
      "  last changes: %s\n"
      "  changes of other alerts (probes, earlier runs) %d\n",
      summary.alerts, summary.changes, summary.changes_in_window, Seconds(summary.window),
      WindowRate(summary), Seconds(summary.last_after_window), Seconds(drained),
      Ms(summary.delay.p50), Ms(summary.delay.p90), Ms(summary.delay.p99), Ms(summary.delay.p999),
      Ms(summary.delay.max), summary.signature_failures, summary.malformed, summary.repeated,
      summary.out_of_order, summary.alerts_with_gaps, summary.last_delivered,
      summary.last_not_delivered, summary.without_callback, Join(summary.statuses),
      Join(summary.last_statuses), summary.other_changes);
}

int Main(int argc, char** argv) {
  Flags flags;
  CLI::App app{
      "Caller callbacks under load: SendAlert open loop, audit's signed status POSTs "
      "received and timed.",
      "bench-caller-callbacks"};
  AddLoadFlags(app, flags,
               {.target = "ingress gRPC address",
                .target_env = "KLAXON_INGRESS_ADDR",
                .requests = "alerts",
                .calls = "SendAlert calls"});
  app.add_option("--listen", flags.listen, "host:port audit POSTs the callbacks to")
      ->capture_default_str();
  app.add_option(
         "--secret-file", flags.secret_file,
         "file holding the caller's callback secret (KLAXON_CALLER_CALLBACKS's third field)")
      ->required();
  app.add_option("--recipients", flags.recipients,
                 "numbers the alerts are spread over, so per-recipient limits do not bite")
      ->check(CLI::Range(int64_t{1}, kSpreadRecipients))
      ->capture_default_str();
  app.add_option("--receiver-threads", flags.receiver_threads, "the receiver's server threads")
      ->check(CLI::Range(int64_t{1}, int64_t{64}))
      ->capture_default_str();
  app.add_option("--warmup-timeout", flags.warmup_timeout_seconds,
                 "how long probe alerts may take to call back before the run, seconds")
      ->check(CLI::Range(1.0, 3600.0))
      ->capture_default_str();
  app.add_option("--drain-idle", flags.drain_idle_seconds,
                 "after the load, stop once no callback came for this long, seconds")
      ->check(CLI::Range(0.1, 3600.0))
      ->capture_default_str();
  app.add_option("--drain-max", flags.drain_max_seconds,
                 "after the load, stop after this long whatever still comes, seconds")
      ->check(CLI::Range(0.1, 86400.0))
      ->capture_default_str();
  app.add_option("--p99-target", flags.p99_target_ms,
                 "p99 goal for occurred_at to receipt, ms (0: none)")
      ->check(CLI::Range(0.0, 3'600'000.0))
      ->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    return app.exit(error) == 0 ? EXIT_SUCCESS : kExitUsage;
  }
  const std::optional<OpenLoopSchedule> schedule = ScheduleOf("bench-caller-callbacks", flags);
  if (!schedule.has_value()) return kExitUsage;
  const std::optional<std::string> secret = ReadSecret(flags.secret_file);
  if (!secret.has_value()) {
    std::cerr << "bench-caller-callbacks: no secret in " << flags.secret_file << "\n";
    return kExitUsage;
  }

  CallbackTally tally;
  http::ServerOptions server_options{
      .threads = static_cast<size_t>(flags.receiver_threads),
      // Every callback comes from audit's one address.
      .max_connections_per_source = 4096,
      .handler = [&](http::Request request, http::Responder respond) {
        const absl::Time received_at = absl::Now();
        respond({.status = 204});
        RecordCallbackRequest(request, *secret, received_at, tally);
      }};
  if (!ParseListen(flags.listen, server_options)) {
    std::cerr << "bench-caller-callbacks: --listen " << flags.listen << " is not host:port\n";
    return kExitUsage;
  }
  absl::StatusOr<std::unique_ptr<http::Server>> server =
      http::Server::Start(std::move(server_options));
  if (!server.ok()) {
    std::cerr << "bench-caller-callbacks: " << server.status().message() << "\n";
    return kExitSetupFailed;
  }

  const std::shared_ptr<grpc::Channel> channel = ConnectToTarget("bench-caller-callbacks", flags);
  if (channel == nullptr) return kExitSetupFailed;
  std::unique_ptr<alerts::v1::AlertIntake::Stub> stub = alerts::v1::AlertIntake::NewStub(channel);
  if (!WarmUp(*stub, flags, tally)) {
    std::cerr << "bench-caller-callbacks: no probe alert called back within "
              << flags.warmup_timeout_seconds << " s; does audit's KLAXON_CALLER_CALLBACKS send "
              << "the API key's caller to http://" << flags.listen << "/ with this secret?\n";
    return kExitSetupFailed;
  }

  SendAlertLoad load(*stub->async(),
                     {.target = flags.target,
                      .api_key = flags.api_key,
                      .rate = flags.rate,
                      .duration = FromSeconds(flags.duration_seconds),
                      .concurrency = flags.concurrency,
                      .recipient_spread = flags.recipients,
                      .rpc_timeout = FromSeconds(flags.rpc_timeout_seconds)},
                     *schedule,
                     [&](const std::string& alert_id, std::chrono::steady_clock::time_point) {
                       tally.Sent(alert_id);
                     });
  const absl::Time load_start = absl::Now();
  const LoadReport report = load.Run();
  const absl::Time load_end = absl::Now();
  const std::chrono::nanoseconds drained =
      Drain(tally, FromSeconds(flags.drain_idle_seconds), FromSeconds(flags.drain_max_seconds));
  (*server)->Shutdown();
  const CallbackSummary summary = tally.Summarize(load_start, load_end);

  const nlohmann::json line = {{"sendalert", bench::ToJson(report)},
                               {"callbacks", ToJson(summary, drained)}};
  std::cout << line.dump() << std::endl;
  std::cerr << bench::ToHumanSummary(report) << ToHumanSummary(summary, drained);
  const bool shortfall = summary.signature_failures > 0 || summary.malformed > 0 ||
                         summary.out_of_order > 0 || summary.alerts_with_gaps > 0 ||
                         summary.without_callback > 0 ||
                         (flags.p99_target_ms > 0 && Ms(summary.delay.p99) > flags.p99_target_ms);
  return shortfall ? kExitShortfall : EXIT_SUCCESS;
}

}  // namespace
}  // namespace klaxon::bench

int main(int argc, char** argv) { return klaxon::bench::Main(argc, argv); }
