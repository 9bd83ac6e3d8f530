// Twilio's per-account concurrency limit end to end (TWILIO.md, "Concurrency"): two sms-worker
// replicas share one cap on requests in flight to Twilio (KLAXON_TWILIO_MAX_IN_FLIGHT, counted in
// Redis), sends and reads alike (ADR 0042), so a sandbox that refuses a request beyond that limit
// with 429/20429 refuses none, while a burst that holds the cap full for seconds is delivered,
// each alert once, and each alert's charge is read back while the burst is still sending.
// Needs KLAXON_TEST_KAFKA_BROKERS, KLAXON_TEST_REDIS_URL, KLAXON_TEST_PG_URL.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "tests/e2e/suite.h"

namespace klaxon::e2e::twilio_concurrency_test {
namespace {

constexpr int kAccountLimit = 3;  // requests in flight, the sandbox's and the workers' cap alike
constexpr int kBurst = 24;
// Each message request is answered this late, so the burst needs kBurst / kAccountLimit of them
// in turn: about 2.4 s with the cap full throughout.
constexpr int kAnswerLatencyMs = 300;
constexpr absl::Duration kWait = absl::Seconds(90);

class TwilioConcurrencyE2eKafkaRedisPostgresTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(
        suite_.Start({.sms_workers = 2,
                      .env = {{"TWILIO_SANDBOX_CONCURRENCY_LIMIT", absl::StrCat(kAccountLimit)},
                              // A held answer holds a server thread: enough that the sandbox,
                              // like Twilio, takes every request the workers make at once.
                              {"TWILIO_SANDBOX_THREADS", "32"},
                              {"KLAXON_TWILIO_MAX_IN_FLIGHT", absl::StrCat(kAccountLimit)}},
                      // Each charge is read 1 s after its send: during the burst.
                      .worker_env = {{"KLAXON_STATUS_CHECK_FIRST", "1s"}}}));
  }
  Suite suite_;
};

TEST_F(TwilioConcurrencyE2eKafkaRedisPostgresTest, TwoReplicasStayWithinTheAccountsLimit) {
  suite_.AddSandboxFaults(
      absl::StrFormat(R"({"type": "latency", "kind": "message", "latency_ms": %d, "count": %d})",
                      kAnswerLatencyMs, kBurst));
  std::vector<std::string> alert_ids;
  for (int i = 0; i < kBurst; ++i) {
    alert_ids.push_back(suite_.SendAlert(
        SmsAlert(absl::StrFormat("+1415555%04d", 3000 + i), "burst", absl::StrCat("burst-", i))));
  }
  for (const std::string& id : alert_ids) {
    EXPECT_EQ(
        WaitForStatus(*suite_.QueryStub(), id, types::v1::ALERT_STATUS_DELIVERED, kWait).status(),
        types::v1::ALERT_STATUS_DELIVERED)
        << id;
  }
  // Each charge read back (a test failure names any that was not).
  for (const std::string& id : alert_ids) WaitForCharge(*suite_.QueryStub(), id, kWait);
  EXPECT_EQ(suite_.Rejected().size(), 0u)
      << "requests beyond the account's limit: " << suite_.Rejected().dump(2);
  EXPECT_EQ(suite_.Ledger().size(), static_cast<size_t>(kBurst)) << "each alert sent once";
}

}  // namespace
}  // namespace klaxon::e2e::twilio_concurrency_test
