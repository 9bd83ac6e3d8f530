// Routing rules end to end (KLAXON_ROUTING_FILE, ADR 0034): three countries routed to four
// senders (a British number, two American numbers, a Messaging Service for Germany), and every
// message in the sandbox's ledger left from a sender its country's rule names; an alert to a
// country no rule names ends FAILED with a reason that says so, and Twilio never hears of it.
// Needs KLAXON_TEST_KAFKA_BROKERS, KLAXON_TEST_REDIS_URL, KLAXON_TEST_PG_URL.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tests/e2e/suite.h"

namespace klaxon::e2e {
namespace {

constexpr char kUkSender[] = "+447400123400";
constexpr char kUsSenders[][13] = {"+14155552671", "+14155552672"};
constexpr char kGermanService[] = "MG0123456789abcdef0123456789abcdef";
constexpr char kGermanPoolNumber[] = "+4915123456700";
constexpr absl::Duration kWait = absl::Seconds(60);
constexpr int kUsAlerts = 4;

// Each rule for SMS only: the voice worker reads the same file and has none of these senders.
constexpr char kRules[] = R"({"rules": [
  {"name": "uk", "countries": ["GB"], "channels": ["sms"], "senders": ["+447400123400"]},
  {"name": "us", "prefixes": ["+1"], "channels": ["sms"],
   "senders": ["+14155552671", "+14155552672"]},
  {"name": "germany", "countries": ["DE"], "channels": ["sms"],
   "senders": ["MG0123456789abcdef0123456789abcdef"]}
]})";

struct Destination {
  std::string recipient;
  std::set<std::string> from;  // the numbers its rule's senders send from
};

class RoutingE2eKafkaRedisPostgresTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::ofstream(rules_path_) << kRules;
    ASSERT_NO_FATAL_FAILURE(suite_.Start(
        // The American numbers at their real pace (the suite paces every other sender at
        // 1000/s), so that a burst shows the rule's two numbers sharing it.
        {.env = {
             {"KLAXON_SMS_SENDERS", absl::StrCat(kUkSender, ",", kUsSenders[0], "=1/1s,",
                                                 kUsSenders[1], "=1/1s,", kGermanService, "=5/1s")},
             {"KLAXON_ROUTING_FILE", rules_path_},
             {"TWILIO_SANDBOX_MESSAGING_SERVICES",
              absl::StrCat(kGermanService, "=", kGermanPoolNumber)}}}));
  }
  void TearDown() override { std::filesystem::remove(rules_path_); }

  std::string Send(const std::string& recipient, const std::string& key) {
    alerts::v1::SendAlertRequest request;
    request.set_channel(types::v1::CHANNEL_SMS);
    request.set_recipient(recipient);
    request.set_text("routed");
    request.set_idempotency_key(key);
    alerts::v1::SendAlertResponse response;
    const grpc::Status rpc =
        suite_.IntakeStub()->SendAlert(Suite::CallContext().get(), request, &response);
    EXPECT_TRUE(rpc.ok()) << rpc.error_message();
    return response.alert_id();
  }

  const std::string rules_path_ = (std::filesystem::temp_directory_path() /
                                   absl::StrCat("klaxon-routing-", ::getpid(), ".json"))
                                      .string();
  Suite suite_;
};

TEST_F(RoutingE2eKafkaRedisPostgresTest, EachCountryLeavesFromItsRulesSendersAndOthersFail) {
  std::vector<Destination> destinations;
  for (int i = 0; i < kUsAlerts; ++i) {
    destinations.push_back({absl::StrCat("+1415555100", i), {kUsSenders[0], kUsSenders[1]}});
  }
  for (int i = 0; i < 3; ++i) {
    destinations.push_back({absl::StrCat("+44740012345", i), {kUkSender}});
    destinations.push_back({absl::StrCat("+49151234567", 10 + i), {kGermanPoolNumber}});
  }
  std::vector<std::string> routed;
  for (const Destination& destination : destinations) {
    routed.push_back(Send(destination.recipient, "routing-" + destination.recipient));
  }
  const std::string unrouted = Send("+33612345678", "routing-france");

  auto query = suite_.QueryStub();
  for (size_t i = 0; i < routed.size(); ++i) {
    const alerts::v1::Alert alert =
        WaitForStatus(*query, routed[i], types::v1::ALERT_STATUS_DELIVERED, kWait);
    EXPECT_EQ(alert.status(), types::v1::ALERT_STATUS_DELIVERED)
        << destinations[i].recipient << ": " << alert.reason();
  }
  const alerts::v1::Alert failed =
      WaitForStatus(*query, unrouted, types::v1::ALERT_STATUS_FAILED, kWait);
  EXPECT_EQ(failed.status(), types::v1::ALERT_STATUS_FAILED);
  EXPECT_EQ(failed.reason(),
            "no routing rule matches this alert (destination FR, +33; channel sms; caller "
            "\"e2e\"; priority normal); Twilio was not called");

  for (const Destination& destination : destinations) {
    const std::vector<nlohmann::json> sent = suite_.LedgerTo(destination.recipient, "message");
    ASSERT_EQ(sent.size(), 1u) << destination.recipient;
    EXPECT_TRUE(destination.from.contains(sent[0]["from"].get<std::string>()))
        << destination.recipient << " was sent from " << sent[0]["from"];
  }
  EXPECT_TRUE(suite_.LedgerTo("+33612345678", "message").empty());
  // Both American numbers carried the burst, each at one message a second.
  std::set<std::string> us_from;
  std::string us_sends;
  for (int i = 0; i < kUsAlerts; ++i) {
    for (const nlohmann::json& entry : suite_.LedgerTo(absl::StrCat("+1415555100", i), "message")) {
      us_from.insert(entry["from"].get<std::string>());
      absl::StrAppend(&us_sends, " ", entry.value("received_at", "?"), " from ",
                      entry["from"].get<std::string>(), ";");
    }
  }
  EXPECT_EQ(us_from.size(), 2u) << "the American sends:" << us_sends;
}

}  // namespace
}  // namespace klaxon::e2e
