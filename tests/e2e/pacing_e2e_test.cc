// Sender pacing end to end: two sms-worker replicas share the work of one From number set to N
// messages per second, and the sandbox's ledger (when each request arrived) shows that no window
// of one second less kDeliveryJitter ever held more than N and that a minute held N*60 within 5%.
// Needs KLAXON_TEST_KAFKA_BROKERS, KLAXON_TEST_REDIS_URL, KLAXON_TEST_PG_URL; runs for about 80 s.
#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "tests/e2e/suite.h"

namespace klaxon::e2e {
namespace {

constexpr int kRate = 5;  // messages per second
// Enough for the sender to stay busy past the measured minute, which starts after a warm-up.
constexpr int kAlerts = kRate * 72;
constexpr absl::Duration kWarmUp = absl::Seconds(2);
constexpr absl::Duration kMinute = absl::Minutes(1);
// The ledger times arrivals, not the limiter's grants: a grant whose request reaches the sandbox
// late (the worker's thread not scheduled at once on a busy machine) puts N+1 arrivals into some
// one-second window although the grants were 1/N s apart. Windows this much shorter than a second
// allow that delay and still catch any burst (a second's grants at once, two replicas each at N).
// Seen once: 6 arrivals in a second at 5/s, with a compiler running beside the suite.
constexpr absl::Duration kDeliveryJitter = absl::Milliseconds(150);

// When each of the suite sender's messages arrived at the sandbox, in order.
std::vector<absl::Time> Arrivals(const nlohmann::json& ledger) {
  std::vector<nlohmann::json> sent;
  for (const nlohmann::json& entry : ledger) {
    if (entry["kind"] == "message" && entry["from"] == Suite::kSender) sent.push_back(entry);
  }
  return ReceivedTimes(sent);
}

// The most arrivals in any half-open window [t, t + length), and where the first such window
// starts. A fullest window can always be slid to start at an arrival, so only those are tried.
std::pair<int, absl::Time> MostInAnyWindow(const std::vector<absl::Time>& arrivals,
                                           absl::Duration length) {
  std::pair<int, absl::Time> most{0, absl::InfinitePast()};
  size_t end = 0;
  for (size_t start = 0; start < arrivals.size(); ++start) {
    while (end < arrivals.size() && arrivals[end] < arrivals[start] + length) ++end;
    if (static_cast<int>(end - start) > most.first) {
      most = {static_cast<int>(end - start), arrivals[start]};
    }
  }
  return most;
}

class PacingE2eKafkaRedisPostgresTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(
        suite_.Start({.sms_workers = 2,
                      .env = {{"KLAXON_SENDER_RATE", absl::StrCat(kRate, "/1s")},
                              {"KLAXON_RECIPIENT_LIMITS", "none"}}}));
  }
  Suite suite_;
};

TEST_F(PacingE2eKafkaRedisPostgresTest, TwoReplicasHoldTheSenderToItsRate) {
  auto intake = suite_.IntakeStub();
  for (int i = 0; i < kAlerts; ++i) {
    alerts::v1::SendAlertRequest request;
    request.set_channel(types::v1::CHANNEL_SMS);
    request.set_recipient(absl::StrFormat("+1415555%04d", i));  // no recipient limit applies
    request.set_text("pacing");
    request.set_idempotency_key(absl::StrCat("pacing-", i));
    alerts::v1::SendAlertResponse response;
    const grpc::Status rpc = intake->SendAlert(Suite::CallContext().get(), request, &response);
    ASSERT_TRUE(rpc.ok()) << rpc.error_message();
  }

  std::vector<absl::Time> arrivals;
  const absl::Time deadline = absl::Now() + absl::Seconds(180);
  while (absl::Now() < deadline) {
    arrivals = Arrivals(suite_.Ledger());
    if (std::ssize(arrivals) >= kAlerts) break;
    absl::SleepFor(absl::Seconds(1));
  }
  ASSERT_EQ(std::ssize(arrivals), kAlerts) << "not every alert reached the sandbox in time";

  const absl::Time start = arrivals.front() + kWarmUp;
  ASSERT_GE(arrivals.back(), start + kMinute) << "the sender ran dry before the minute ended";
  const auto in_minute = std::count_if(arrivals.begin(), arrivals.end(), [&](absl::Time at) {
    return at >= start && at < start + kMinute;
  });
  const auto [busiest_second, busiest_at] =
      MostInAnyWindow(arrivals, absl::Seconds(1) - kDeliveryJitter);
  std::printf(
      "pacing: %d/s set; busiest window of 1 s less the jitter allowed %d (at +%.3f s); %ld in the "
      "minute (%.2f/s, "
      "%.1f%% of the rate); %zu messages over %.1f s\n",
      kRate, busiest_second, absl::ToDoubleSeconds(busiest_at - arrivals.front()),
      static_cast<long>(in_minute), static_cast<double>(in_minute) / 60.0,
      100.0 * static_cast<double>(in_minute) / (kRate * 60.0), arrivals.size(),
      absl::ToDoubleSeconds(arrivals.back() - arrivals.front()));

  EXPECT_LE(busiest_second, kRate);
  EXPECT_GE(in_minute, kRate * 60 * 95 / 100);
  EXPECT_LE(in_minute, kRate * 60 * 105 / 100);
}

}  // namespace
}  // namespace klaxon::e2e
