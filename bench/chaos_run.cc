// bench-chaos: the long chaos run of issue 4 (tests/chaos/chaos.h). For --duration, alerts flow at
// --rate through the whole suite on a private Kafka, Redis and Postgres while, once per --round,
// each worker is killed with SIGKILL twice and the broker, Redis and Postgres are restarted. It
// prints the report as one JSON document on stdout and exits 1 when an accepted alert was lost,
// an attempt was sent twice or the run itself failed. The harness reports through GoogleTest, so
// the run is one test of this binary, whose failures go to stderr to keep stdout the report.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <iostream>

#include "CLI/CLI.hpp"
#include "tests/chaos/chaos.h"

namespace klaxon::chaos {
namespace {

ChaosOptions& Options() {
  static ChaosOptions options;
  return options;
}

// GoogleTest's failures, on stderr.
class FailuresToStderr : public ::testing::EmptyTestEventListener {
  void OnTestPartResult(const ::testing::TestPartResult& result) override {
    if (result.failed()) {
      std::cerr << result.file_name() << ":" << result.line_number() << ": " << result.summary()
                << "\n";
    }
  }
};

TEST(BenchChaos, Run) {
  const ChaosReport report = RunChaos(Options());
  std::cout << report.ToJson().dump(2) << std::endl;
  std::cerr << "bench-chaos: stack data and logs in " << Options().dir << "\n";
}

}  // namespace
}  // namespace klaxon::chaos

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  ::testing::TestEventListeners& listeners = ::testing::UnitTest::GetInstance()->listeners();
  delete listeners.Release(listeners.default_result_printer());
  listeners.Append(new klaxon::chaos::FailuresToStderr);
  klaxon::chaos::ChaosOptions& options = klaxon::chaos::Options();
  double duration_s = 600;
  double round_s = 60;
  double settle_s = 300;
  CLI::App app{"bench-chaos: alerts through the suite while workers and backends are disrupted"};
  app.add_option("--duration", duration_s, "seconds of load")->check(CLI::PositiveNumber);
  app.add_option("--rate", options.rate, "alerts per second")->check(CLI::PositiveNumber);
  app.add_option("--round", round_s, "seconds per chaos round")->check(CLI::PositiveNumber);
  app.add_option("--voice-share", options.voice_share, "share of voice alerts (0 to 1)")
      ->check(CLI::Range(0.0, 1.0));
  app.add_option("--senders", options.senders, "concurrent SendAlert callers")
      ->check(CLI::PositiveNumber);
  app.add_option("--settle", settle_s, "seconds for every accepted alert to end after the load")
      ->check(CLI::PositiveNumber);
  app.add_option("--dir", options.dir, "where the stack and the logs go (default: a new /tmp dir)");
  CLI11_PARSE(app, argc, argv);
  options.duration = absl::Seconds(duration_s);
  options.rounds = std::max(1, static_cast<int>(duration_s / round_s));
  options.settle_timeout = absl::Seconds(settle_s);
  if (options.dir.empty()) {
    char dir[] = "/tmp/klaxon-bench-chaos-XXXXXX";
    if (mkdtemp(dir) == nullptr) return 1;
    options.dir = dir;
  }
  return RUN_ALL_TESTS() == 0 ? 0 : 1;
}
