// Routing rules end to end (KLAXON_ROUTING_FILE, ADR 0034) over two Twilio accounts (ADR 0035):
// four countries routed to five senders (two American numbers, a Messaging Service for Germany and
// an alphanumeric sender ID for Spain on the main account, which the workers call with an API
// key; a British number on a backup subaccount, called with its auth token), and every message in
// the sandbox's ledger left from a sender its country's rule names, on that sender's account;
// ingress verifies both accounts' callbacks, so every alert is DELIVERED. An alert to a country no
// rule names ends FAILED with a reason that says so, and Twilio never hears of it. Needs
// KLAXON_TEST_KAFKA_BROKERS, KLAXON_TEST_REDIS_URL, KLAXON_TEST_PG_URL.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tests/e2e/suite.h"

namespace klaxon::e2e::routing_test {
namespace {

constexpr const char* kMainAccount = Suite::kAccountSid;
constexpr char kMainToken[] = "sandbox-token";
constexpr char kMainKey[] = "SK0123456789abcdef0123456789abcdef";
constexpr char kMainKeySecret[] = "main-key-secret";
constexpr char kBackupAccount[] = "AC11111111111111111111111111111111";
constexpr char kBackupToken[] = "backup-token";
constexpr char kUkSender[] = "+447400123400";
constexpr char kUsSenders[][13] = {"+14155552671", "+14155552672"};
constexpr char kGermanService[] = "MG0123456789abcdef0123456789abcdef";
constexpr char kGermanPoolNumber[] = "+4915123456700";
constexpr char kSpanishSender[] = "KLAXON";  // an alphanumeric sender ID
constexpr absl::Duration kWait = absl::Seconds(60);
constexpr int kUsAlerts = 4;

// The SMS rules name SMS senders only: the voice worker reads the same file, and has a rule of its
// own.
constexpr char kRules[] = R"({"rules": [
  {"name": "uk", "countries": ["GB"], "channels": ["sms"], "senders": ["+447400123400"]},
  {"name": "us", "prefixes": ["+1"], "channels": ["sms"],
   "senders": ["+14155552671", "+14155552672"]},
  {"name": "germany", "countries": ["DE"], "channels": ["sms"],
   "senders": ["MG0123456789abcdef0123456789abcdef"]},
  {"name": "spain", "countries": ["ES"], "channels": ["sms"], "senders": ["KLAXON"]},
  {"name": "calls", "channels": ["voice"], "senders": ["+14155552671"]}
]})";

struct Destination {
  std::string recipient;
  std::set<std::string> from;  // the numbers its rule's senders send from
  std::string account;         // the SID of their account
};

class RoutingE2eKafkaRedisPostgresTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::filesystem::create_directories(dir_);
    std::ofstream(Path("routing.json")) << kRules;
    std::ofstream(Path("main-key")) << kMainKeySecret;
    std::ofstream(Path("main-token")) << kMainToken;
    std::ofstream(Path("backup-token")) << kBackupToken;
    std::ofstream(Path("accounts.json"))
        << absl::StrCat(R"({"accounts": [{"name": "main", "account_sid": ")", kMainAccount,
                        R"(", "api_key_sid": ")", kMainKey, R"(", "api_key_secret_file": ")",
                        Path("main-key"), R"(", "auth_token_file": ")", Path("main-token"),
                        R"("}, {"name": "backup", )", R"("account_sid": ")", kBackupAccount,
                        R"(", "auth_token_file": ")", Path("backup-token"), R"("}]})");
    ASSERT_NO_FATAL_FAILURE(suite_.Start(
        // The American numbers at their real pace (the suite paces every other sender at
        // 1000/s), so that a burst shows the rule's two numbers sharing it.
        {.env = {
             {"KLAXON_SMS_SENDERS",
              absl::StrCat(kUkSender, "@backup,", kUsSenders[0], "@main=1/1s,", kUsSenders[1],
                           "@main=1/1s,", kGermanService, "@main=5/1s,", kSpanishSender, "@main")},
             {"KLAXON_VOICE_SENDERS", absl::StrCat(Suite::kSender, "@main")},
             {"KLAXON_ROUTING_FILE", Path("routing.json")},
             // Every account's credentials from the file; the single account's unset.
             {"KLAXON_TWILIO_ACCOUNTS_FILE", Path("accounts.json")},
             {"KLAXON_TWILIO_ACCOUNT_SID", ""},
             {"KLAXON_TWILIO_AUTH_TOKEN", ""},
             {"TWILIO_SANDBOX_API_KEYS", absl::StrCat(kMainKey, "=", kMainKeySecret)},
             {"TWILIO_SANDBOX_ACCOUNTS", absl::StrCat(kBackupAccount, "=", kBackupToken)},
             {"TWILIO_SANDBOX_MESSAGING_SERVICES",
              absl::StrCat(kGermanService, "=", kGermanPoolNumber)}}}));
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string Path(const std::string& name) const { return (dir_ / name).string(); }

  std::string Send(const std::string& recipient, const std::string& key) {
    return suite_.SendAlert(SmsAlert(recipient, "routed", key));
  }

  const std::filesystem::path dir_ =
      std::filesystem::temp_directory_path() / absl::StrCat("klaxon-routing-", ::getpid());
  Suite suite_;
};

TEST_F(RoutingE2eKafkaRedisPostgresTest, EachCountryLeavesFromItsRulesSendersAndOthersFail) {
  std::vector<Destination> destinations;
  for (int i = 0; i < kUsAlerts; ++i) {
    destinations.push_back(
        {absl::StrCat("+1415555100", i), {kUsSenders[0], kUsSenders[1]}, kMainAccount});
  }
  destinations.push_back({"+34612345678", {kSpanishSender}, kMainAccount});
  for (int i = 0; i < 3; ++i) {
    destinations.push_back({absl::StrCat("+44740012345", i), {kUkSender}, kBackupAccount});
    destinations.push_back(
        {absl::StrCat("+49151234567", 10 + i), {kGermanPoolNumber}, kMainAccount});
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
    EXPECT_EQ(sent[0]["account"], destination.account) << destination.recipient;
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
}  // namespace klaxon::e2e::routing_test
