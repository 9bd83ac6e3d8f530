// bench-verification: drives klaxon.verify.v1.Verification open loop, in two phases: first
// StartVerification at --rate for --duration, each to a recipient of its own; then
// CheckVerification at --check-rate for --duration, round robin over the verifications the first
// phase started, each with a wrong code (so every check is counted, as a guess would be). Prints
// one JSON line per phase on stdout and a summary of each on stderr; exits 3 when a phase's p99
// misses its target. The suite must let that many starts through: run ingress with
// KLAXON_VERIFY_PREFIX_LIMITS and KLAXON_VERIFY_RECIPIENT_LIMITS raised (bench/README.md).
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/random/random.h"
#include "bench/load_flags.h"
#include "bench/load_report.h"
#include "bench/open_loop_unary_load.h"
#include "bench/recipients.h"
#include "bench/schedule.h"
#include "klaxon/verify/v1/verify.grpc.pb.h"

namespace klaxon::bench {
namespace {

using verify::v1::CheckVerificationRequest;
using verify::v1::CheckVerificationResponse;
using verify::v1::StartVerificationRequest;
using verify::v1::StartVerificationResponse;

constexpr int kExitSetupFailed = 1;
constexpr int kExitUsage = 2;
constexpr int kExitMissedTarget = 3;

struct Flags : LoadFlags {
  Flags() : LoadFlags{.target = "127.0.0.1:50051", .rate = 1000, .concurrency = 512} {}
  double check_rate = 2000;
  double start_p99_target_ms = 0;  // 0: no target
  double check_p99_target_ms = 0;
};

bool MissedTarget(const LoadReport& report, double target_ms) {
  return target_ms > 0 && report.latency.p99 > FromSeconds(target_ms / 1000);
}

int Main(int argc, char** argv) {
  Flags flags;
  CLI::App app{"Open-loop load generator for StartVerification and CheckVerification.",
               "bench-verification"};
  AddLoadFlags(app, flags,
               {.target = "ingress gRPC address",
                .target_env = "KLAXON_INGRESS_ADDR",
                .requests = "StartVerification calls (and, at --check-rate, checks)"});
  app.add_option("--check-rate", flags.check_rate, "CheckVerification calls started per second")
      ->capture_default_str();
  app.add_option("--start-p99-target", flags.start_p99_target_ms,
                 "exit 3 when StartVerification's p99 is over this many ms (0: no target)");
  app.add_option("--check-p99-target", flags.check_p99_target_ms,
                 "exit 3 when CheckVerification's p99 is over this many ms (0: no target)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    return app.exit(error) == 0 ? EXIT_SUCCESS : kExitUsage;
  }
  const std::optional<OpenLoopSchedule> starts = ScheduleOf("bench-verification", flags);
  LoadFlags check_flags = flags;
  check_flags.rate = flags.check_rate;
  const std::optional<OpenLoopSchedule> checks = ScheduleOf("bench-verification", check_flags);
  if (!starts.has_value() || !checks.has_value()) return kExitUsage;
  if (starts->size() > kSpreadRecipients) {
    std::cerr << "bench-verification: at most " << kSpreadRecipients << " starts a run\n";
    return kExitUsage;
  }

  const std::shared_ptr<grpc::Channel> channel = ConnectToTarget("bench-verification", flags);
  if (channel == nullptr) return kExitSetupFailed;
  std::unique_ptr<verify::v1::Verification::Stub> stub = verify::v1::Verification::NewStub(channel);
  const OpenLoopUnaryOptions common{.target = flags.target,
                                    .api_key = flags.api_key,
                                    .duration = FromSeconds(flags.duration_seconds),
                                    .concurrency = flags.concurrency,
                                    .rpc_timeout = FromSeconds(flags.rpc_timeout_seconds)};

  // A run's recipients start at a random one, so runs within the recipient windows mostly start
  // new verifications rather than resend pending ones.
  const int64_t first = absl::Uniform<int64_t>(absl::BitGen(), 0, kSpreadRecipients);
  std::mutex started_mutex;
  std::vector<std::string> started;
  OpenLoopUnaryOptions start_options = common;
  start_options.name = "StartVerification";
  start_options.rate = flags.rate;
  OpenLoopUnaryLoad<StartVerificationRequest, StartVerificationResponse> start_load(
      start_options, *starts,
      [first](int64_t index, StartVerificationRequest& request) {
        request.set_recipient(SpreadRecipient(first + index));
        request.set_channel(types::v1::CHANNEL_SMS);
      },
      [&stub](grpc::ClientContext* context, const StartVerificationRequest* request,
              StartVerificationResponse* response, std::function<void(grpc::Status)> done) {
        stub->async()->StartVerification(context, request, response, std::move(done));
      },
      [&](const StartVerificationResponse& response, std::chrono::steady_clock::time_point) {
        std::lock_guard lock(started_mutex);
        started.push_back(response.verification_id());
      });
  const LoadReport start_report = start_load.Run();
  std::cout << ToJsonLine(start_report) << std::endl;
  std::cerr << ToHumanSummary(start_report);
  if (started.empty()) {
    std::cerr << "bench-verification: no verification started; nothing to check\n";
    return kExitSetupFailed;
  }

  OpenLoopUnaryOptions check_options = common;
  check_options.name = "CheckVerification";
  check_options.rate = flags.check_rate;
  OpenLoopUnaryLoad<CheckVerificationRequest, CheckVerificationResponse> check_load(
      check_options, *checks,
      [&started](int64_t index, CheckVerificationRequest& request) {
        request.set_verification_id(started[static_cast<size_t>(index) % started.size()]);
        request.set_code("000000");
      },
      [&stub](grpc::ClientContext* context, const CheckVerificationRequest* request,
              CheckVerificationResponse* response, std::function<void(grpc::Status)> done) {
        stub->async()->CheckVerification(context, request, response, std::move(done));
      });
  const LoadReport check_report = check_load.Run();
  std::cout << ToJsonLine(check_report) << std::endl;
  std::cerr << ToHumanSummary(check_report);
  return MissedTarget(start_report, flags.start_p99_target_ms) ||
                 MissedTarget(check_report, flags.check_p99_target_ms)
             ? kExitMissedTarget
             : EXIT_SUCCESS;
}

}  // namespace
}  // namespace klaxon::bench

int main(int argc, char** argv) { return klaxon::bench::Main(argc, argv); }
