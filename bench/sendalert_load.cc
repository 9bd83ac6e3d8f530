// bench-sendalert: an open-loop load generator for klaxon.alerts.v1.AlertIntake/SendAlert (see
// sendalert_driver.h). It prints one JSON line on stdout and a summary on stderr.
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>

#include "CLI/CLI.hpp"
#include "bench/load_report.h"
#include "bench/schedule.h"
#include "bench/sendalert_driver.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "klaxon/alerts/v1/alerts.grpc.pb.h"

namespace klaxon::bench {
namespace {

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
  SendAlertLoad load(*stub->async(),
                     {.target = flags.target,
                      .api_key = flags.api_key,
                      .rate = flags.rate,
                      .duration = FromSeconds(flags.duration_seconds),
                      .concurrency = flags.concurrency,
                      .recipient = flags.recipient,
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
