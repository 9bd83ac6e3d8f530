// bench-sendalert: an open-loop load generator for klaxon.alerts.v1.AlertIntake/SendAlert (see
// sendalert_driver.h). It prints one JSON line on stdout and a summary on stderr.
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <optional>
#include <string>

#include "CLI/CLI.hpp"
#include "bench/load_flags.h"
#include "bench/load_report.h"
#include "bench/recipients.h"
#include "bench/schedule.h"
#include "bench/sendalert_driver.h"
#include "klaxon/alerts/v1/alerts.grpc.pb.h"

namespace klaxon::bench {
namespace {

constexpr int kExitSetupFailed = 1;
constexpr int kExitUsage = 2;

struct Flags : LoadFlags {
  Flags() : LoadFlags{.target = "127.0.0.1:50051", .rate = 50, .concurrency = 100} {}
  std::string recipient = "+14155550100";
  int64_t recipients = 0;
};

int Main(int argc, char** argv) {
  Flags flags;
  CLI::App app{"Open-loop load generator for AlertIntake/SendAlert.", "bench-sendalert"};
  AddLoadFlags(app, flags, {.target = "ingress gRPC address", .target_env = "KLAXON_INGRESS_ADDR"});
  app.add_option("--recipient", flags.recipient, "E.164 number every alert goes to")
      ->capture_default_str();
  app.add_option("--recipients", flags.recipients,
                 "spread the alerts over this many recipients instead (bench/recipients.h), so "
                 "that each starts a conversation with a sender of its own")
      ->check(CLI::Range(int64_t{0}, kSpreadRecipients));
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    return app.exit(error) == 0 ? EXIT_SUCCESS : kExitUsage;
  }

  const std::optional<OpenLoopSchedule> schedule = ScheduleOf("bench-sendalert", flags);
  if (!schedule.has_value()) return kExitUsage;

  const std::shared_ptr<grpc::Channel> channel = ConnectToTarget("bench-sendalert", flags);
  if (channel == nullptr) return kExitSetupFailed;
  std::unique_ptr<alerts::v1::AlertIntake::Stub> stub = alerts::v1::AlertIntake::NewStub(channel);
  SendAlertLoad load(*stub->async(),
                     {.target = flags.target,
                      .api_key = flags.api_key,
                      .rate = flags.rate,
                      .duration = FromSeconds(flags.duration_seconds),
                      .concurrency = flags.concurrency,
                      .recipient = flags.recipient,
                      .recipient_spread = flags.recipients,
                      .rpc_timeout = FromSeconds(flags.rpc_timeout_seconds)},
                     *schedule);
  const LoadReport report = load.Run();
  std::cout << ToJsonLine(report) << std::endl;
  std::cerr << ToHumanSummary(report);
  return EXIT_SUCCESS;
}

}  // namespace
}  // namespace klaxon::bench

int main(int argc, char** argv) { return klaxon::bench::Main(argc, argv); }
