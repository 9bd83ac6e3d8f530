// Sender pacing end to end: two sms-worker replicas share the work of three senders (two numbers
// and a Messaging Service, ADR 0033) paced together at N messages per second, and the sandbox's
// ledger (when each request arrived, from which number) shows that no window of one second less
// kDeliveryJitter ever held more than a sender's own rate, and that 40 s (kMeasuredSeconds) held
// each sender's rate times 40, and N*40 in all, within 5%.
// Needs KLAXON_TEST_KAFKA_BROKERS, KLAXON_TEST_REDIS_URL, KLAXON_TEST_PG_URL; runs for about 60 s.
#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "tests/e2e/suite.h"

namespace klaxon::e2e::pacing_test {
namespace {

struct PacedNumber {
  const char* number;  // as the ledger shows it: a Messaging Service's is its pool's number
  int rate;            // messages per second
};
constexpr char kService[] = "MG0123456789abcdef0123456789abcdef";
constexpr char kPoolNumber[] = "+14155552673";
constexpr PacedNumber kSenders[] = {{Suite::kSender, 2}, {"+14155552672", 2}, {kPoolNumber, 1}};
constexpr int kRate = 5;  // messages per second, the senders' together
// The window whose count must be each sender's rate times its length within 5%: at 1/s, 5% of
// 40 s is 2 messages, so an arrival more or less at either end of the window still fits.
constexpr int kMeasuredSeconds = 40;
constexpr absl::Duration kMeasured = absl::Seconds(kMeasuredSeconds);
// Enough for the sender to stay busy past the measured window, which starts after a warm-up.
constexpr int kAlerts = kRate * (kMeasuredSeconds + 12);
constexpr absl::Duration kWarmUp = absl::Seconds(2);
// The ledger times arrivals, not the limiter's grants: a grant whose request reaches the sandbox
// late (the worker's thread not scheduled at once on a busy machine) puts N+1 arrivals into some
// one-second window although the grants were 1/N s apart. Windows this much shorter than a second
// allow that delay and still catch any burst (a second's grants at once, two replicas each at N).
// Seen once: 6 arrivals in a second at 5/s, with a compiler running beside the suite.
constexpr absl::Duration kDeliveryJitter = absl::Milliseconds(150);

// The sandbox's pacing entry of `number`, or an empty object when it sent nothing.
nlohmann::json PacingOf(const nlohmann::json& senders, std::string_view number) {
  for (const nlohmann::json& sender : senders) {
    if (sender["from"] == number) return sender;
  }
  return nlohmann::json::object();
}

class PacingE2eKafkaRedisPostgresTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(suite_.Start(
        {.sms_workers = 2,
         .env = {
             {"KLAXON_SMS_SENDERS",
              absl::StrCat(kSenders[0].number, "=", kSenders[0].rate, "/1s,", kSenders[1].number,
                           "=", kSenders[1].rate, "/1s,", kService, "=", kSenders[2].rate, "/1s")},
             {"TWILIO_SANDBOX_MESSAGING_SERVICES", absl::StrCat(kService, "=", kPoolNumber)},
             {"KLAXON_RECIPIENT_LIMITS", "none"}}}));
  }
  Suite suite_;
};

TEST_F(PacingE2eKafkaRedisPostgresTest, TwoReplicasHoldEachSenderToItsRate) {
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
    std::vector<nlohmann::json> messages;
    for (const nlohmann::json& entry : suite_.Ledger()) {
      if (entry["kind"] == "message") messages.push_back(entry);
    }
    arrivals = ReceivedTimes(messages);
    if (std::ssize(arrivals) >= kAlerts) break;
    absl::SleepFor(absl::Seconds(1));
  }
  ASSERT_EQ(std::ssize(arrivals), kAlerts) << "not every alert reached the sandbox in time";

  const absl::Time start = arrivals.front() + kWarmUp;
  ASSERT_GE(arrivals.back(), start + kMeasured) << "the senders ran dry before the window ended";
  const nlohmann::json measured = suite_.SenderPacing(absl::Seconds(1), start, start + kMeasured);
  const nlohmann::json whole = suite_.SenderPacing(absl::Seconds(1) - kDeliveryJitter);
  int all_measured = 0;
  for (const PacedNumber& sender : kSenders) {
    const nlohmann::json in_window = PacingOf(measured, sender.number);
    const nlohmann::json overall = PacingOf(whole, sender.number);
    const int own_measured = in_window.value("messages", 0);
    const int busiest = overall.value("busiest", 0);
    all_measured += own_measured;
    std::printf(
        "pacing: %s at %d/s: busiest window of 1 s less the jitter allowed %d (at %s); %d in the "
        "%d s measured (%.1f%% of its rate)\n",
        sender.number, sender.rate, busiest, overall.value("busiest_at", "-").c_str(), own_measured,
        kMeasuredSeconds, 100.0 * own_measured / (sender.rate * kMeasuredSeconds));
    EXPECT_LE(busiest, sender.rate) << sender.number;
    EXPECT_GE(own_measured, sender.rate * kMeasuredSeconds * 95 / 100) << sender.number;
    EXPECT_LE(own_measured, sender.rate * kMeasuredSeconds * 105 / 100) << sender.number;
  }
  std::printf("pacing: %d/s set in all; %d in the %d s measured (%.1f%% of the rate)\n", kRate,
              all_measured, kMeasuredSeconds, 100.0 * all_measured / (kRate * kMeasuredSeconds));
  EXPECT_GE(all_measured, kRate * kMeasuredSeconds * 95 / 100);
  EXPECT_LE(all_measured, kRate * kMeasuredSeconds * 105 / 100);
}

}  // namespace
}  // namespace klaxon::e2e::pacing_test
