// The short chaos run of issue 4 (tests/chaos/chaos.h): 60 s of alerts at 20 per second through
// a private Kafka, Redis and Postgres while each worker is killed with SIGKILL twice and the
// broker, Redis and Postgres are restarted once each. Every accepted alert must end in a final
// status and the sandbox must have seen each (alert, attempt) at most once. The report is printed
// as JSON. Needs the Kafka jars (scripts/deps.sh), redis-server and Postgres's server binaries;
// a few minutes, most of it the settling of attempts whose worker died mid-send.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <iostream>

#include "tests/chaos/chaos.h"

namespace klaxon::chaos {
namespace {

TEST(ChaosE2eKafkaRedisPostgresTest, EveryAcceptedAlertEndsFinalAndNoAttemptIsSentTwice) {
  char dir[] = "/tmp/klaxon-chaos-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  const ChaosReport report = RunChaos(
      {.dir = dir, .duration = absl::Seconds(60), .rate = 20, .voice_share = 0.1, .rounds = 1});
  // RunChaos judged the report: no duplicate, no unattributed send, nothing lost.
  std::cout << report.ToJson().dump(2) << "\n";
  if (::testing::Test::HasFailure()) {
    std::cerr << "the stack's data and logs are kept in " << dir << "\n";
  } else {
    std::filesystem::remove_all(dir);
  }
}

}  // namespace
}  // namespace klaxon::chaos
