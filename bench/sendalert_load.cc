// bench-sendalert: an open-loop load generator for klaxon.alerts.v1.AlertIntake/SendAlert.
// Requests start on a fixed schedule (see schedule.h) on gRPC's callback API; when --concurrency
// calls are in flight the next one waits for a slot, and that wait counts in its latency because
// latency runs from the due time. It prints one JSON line on stdout and a summary on stderr.
#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/random/random.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "bench/latency_stats.h"
#include "bench/load_report.h"
#include "bench/schedule.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "klaxon/alerts/v1/alerts.grpc.pb.h"

namespace klaxon::bench {
namespace {

using SteadyClock = std::chrono::steady_clock;

constexpr int kExitSetupFailed = 1;
constexpr int kExitUsage = 2;

struct Flags {
  std::string target = "127.0.0.1:50051";
  std::string api_key;
  double rate = 50;
  double duration_seconds = 10;
  int64_t concurrency = 100;
  std::string recipient = "+14155550100";
  double rpc_timeout_seconds = 5;
  double connect_timeout_seconds = 5;
};

std::chrono::nanoseconds FromSeconds(double seconds) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
      std::chrono::duration<double>(seconds));
}

class SendAlertLoad {
 public:
  SendAlertLoad(alerts::v1::AlertIntake::StubInterface::async_interface& stub, const Flags& flags,
                const OpenLoopSchedule& schedule)
      : stub_(stub),
        flags_(flags),
        schedule_(schedule),
        authorization_(absl::StrCat("Bearer ", flags.api_key)),
        run_id_(absl::StrFormat("%016x", absl::Uniform<uint64_t>(absl::BitGen()))),
        calls_(static_cast<std::size_t>(schedule.size())) {}

  LoadReport Run() {
    std::chrono::nanoseconds max_lag{0};
    const SteadyClock::time_point start = SteadyClock::now();
    for (int64_t index = 0; index < schedule_.size(); ++index) {
      const SteadyClock::time_point due = start + schedule_.OffsetOf(index);
      std::this_thread::sleep_until(due);
      {
        std::unique_lock lock(mu_);
        changed_.wait(lock, [this] { return in_flight_ < flags_.concurrency; });
        ++in_flight_;
      }
      max_lag = std::max(max_lag, std::chrono::nanoseconds(SteadyClock::now() - due));
      Start(index, due);
    }
    std::unique_lock lock(mu_);
    changed_.wait(lock, [this] { return in_flight_ == 0; });
    return LoadReport{
        .name = "SendAlert",
        .target = flags_.target,
        .rate_per_second = flags_.rate,
        .planned_duration = FromSeconds(flags_.duration_seconds),
        .concurrency = flags_.concurrency,
        .requests = schedule_.size(),
        .errors = recorder_.errors(),
        .latency = recorder_.Summarize(),
        .elapsed = last_completion_ - start,
        .max_send_lag = max_lag,
    };
  }

 private:
  struct Call {
    int64_t index = 0;
    SteadyClock::time_point due;
    grpc::ClientContext context;
    alerts::v1::SendAlertRequest request;
    alerts::v1::SendAlertResponse response;
  };

  void Start(int64_t index, SteadyClock::time_point due) {
    auto call = std::make_unique<Call>();
    call->index = index;
    call->due = due;
    call->context.AddMetadata("authorization", authorization_);
    call->context.set_deadline(std::chrono::system_clock::now() +
                               FromSeconds(flags_.rpc_timeout_seconds));
    call->request.set_channel(types::v1::CHANNEL_SMS);
    call->request.set_recipient(flags_.recipient);
    call->request.set_text(absl::StrCat("klaxon load test ", run_id_, " #", index));
    // Unique per request, so every call is a new alert rather than an idempotent repeat.
    call->request.set_idempotency_key(absl::StrCat("bench-", run_id_, "-", index));
    Call& started = *call;
    {
      std::lock_guard lock(mu_);
      calls_[static_cast<std::size_t>(index)] = std::move(call);
    }
    stub_.SendAlert(&started.context, &started.request, &started.response,
                    [this, &started](grpc::Status status) { Finish(started, status); });
  }

  void Finish(Call& call, const grpc::Status& status) {
    const SteadyClock::time_point now = SteadyClock::now();
    std::lock_guard lock(mu_);
    if (status.ok()) {
      recorder_.RecordSuccess(now - call.due);
    } else {
      recorder_.RecordError(
          absl::StatusCodeToString(static_cast<absl::StatusCode>(status.error_code())));
    }
    last_completion_ = std::max(last_completion_, now);
    --in_flight_;
    // gRPC allows freeing the context in its own completion callback. Notifying under the lock
    // keeps Run() from returning, and this object from going away, before we are done with it.
    calls_[static_cast<std::size_t>(call.index)].reset();
    changed_.notify_all();
  }

  alerts::v1::AlertIntake::StubInterface::async_interface& stub_;
  const Flags& flags_;
  const OpenLoopSchedule& schedule_;
  const std::string authorization_;
  const std::string run_id_;

  std::mutex mu_;
  std::condition_variable changed_;
  int64_t in_flight_ = 0;
  std::vector<std::unique_ptr<Call>> calls_;
  LatencyRecorder recorder_;
  SteadyClock::time_point last_completion_;
};

int Main(int argc, char** argv) {
  Flags flags;
  CLI::App app{"Open-loop load generator for AlertIntake/SendAlert.", "bench-sendalert"};
  app.add_option("--target", flags.target, "ingress gRPC address")
      ->envname("KLAXON_INGRESS_ADDR")
      ->capture_default_str();
  app.add_option("--api-key", flags.api_key, "API key [env KLAXON_API_KEY]")
      ->envname("KLAXON_API_KEY")
      ->required();
  // OpenLoopSchedule::Create checks rate and duration.
  app.add_option("--rate", flags.rate, "requests started per second")->capture_default_str();
  app.add_option("--duration", flags.duration_seconds, "seconds of scheduled requests")
      ->capture_default_str();
  app.add_option("--concurrency", flags.concurrency, "most calls in flight at once")
      ->check(CLI::Range(int64_t{1}, int64_t{1'000'000}))
      ->capture_default_str();
  app.add_option("--recipient", flags.recipient, "E.164 number every alert goes to")
      ->capture_default_str();
  app.add_option("--rpc-timeout", flags.rpc_timeout_seconds, "deadline of each call, seconds")
      ->check(CLI::Range(0.001, 3600.0))
      ->capture_default_str();
  app.add_option("--connect-timeout", flags.connect_timeout_seconds,
                 "how long to wait for the channel before starting, seconds")
      ->check(CLI::Range(0.001, 3600.0))
      ->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    return app.exit(error) == 0 ? EXIT_SUCCESS : kExitUsage;
  }

  absl::StatusOr<OpenLoopSchedule> schedule =
      OpenLoopSchedule::Create(flags.rate, FromSeconds(flags.duration_seconds));
  if (!schedule.ok()) {
    std::cerr << "bench-sendalert: " << schedule.status().message() << "\n";
    return kExitUsage;
  }

  std::shared_ptr<grpc::Channel> channel =
      grpc::CreateChannel(flags.target, grpc::InsecureChannelCredentials());
  // Connection setup is not what this measures, so it happens before the clock starts.
  if (!channel->WaitForConnected(std::chrono::system_clock::now() +
                                 FromSeconds(flags.connect_timeout_seconds))) {
    std::cerr << "bench-sendalert: cannot connect to " << flags.target << "\n";
    return kExitSetupFailed;
  }
  std::unique_ptr<alerts::v1::AlertIntake::Stub> stub = alerts::v1::AlertIntake::NewStub(channel);
  SendAlertLoad load(*stub->async(), flags, *schedule);
  const LoadReport report = load.Run();
  std::cout << ToJsonLine(report) << std::endl;
  std::cerr << ToHumanSummary(report);
  return EXIT_SUCCESS;
}

}  // namespace
}  // namespace klaxon::bench

int main(int argc, char** argv) { return klaxon::bench::Main(argc, argv); }
