#include "tools/klaxon-admin/config_check.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "common/auth/api_keys.h"
#include "common/crypto/test_keyring.h"
#include "common/timing/clock.h"
#include "tools/klaxon-admin/online_check.h"
#include "tools/twilio-sandbox/sandbox.h"
#include "tools/twilio-sandbox/server.h"

namespace klaxon::admin {
namespace {

using ::testing::HasSubstr;

constexpr char kMain[] = "AC0123456789abcdef0123456789abcdef";
constexpr char kBackup[] = "ACfedcba9876543210fedcba9876543210";
constexpr char kKey[] = "SK0123456789abcdef0123456789abcdef";
constexpr char kService[] = "MG0123456789abcdef0123456789abcdef";

class ConfigCheckTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::filesystem::create_directories(dir_);
    Write("key", "key-secret");
    Write("main-token", "main-token");
    Write("backup-token", "backup-token");
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string Write(const std::string& name, const std::string& contents) {
    const std::string path = (dir_ / name).string();
    std::ofstream(path) << contents;
    return path;
  }

  // A whole suite's configuration with two accounts, routing and a Messaging Service, as the
  // local run gives every service.
  config::Environment Good() {
    const std::string accounts = Write(
        "accounts.json",
        absl::StrCat(R"({"accounts": [{"name": "main", "account_sid": ")", kMain,
                     R"(", "api_key_sid": ")", kKey, R"(", "api_key_secret_file": ")",
                     (dir_ / "key").string(), R"(", "auth_token_file": ")",
                     (dir_ / "main-token").string(), R"("}, {"name": "backup", "account_sid": ")",
                     kBackup, R"(", "auth_token_file": ")", (dir_ / "backup-token").string(),
                     R"("}]})"));
    const std::string routing = Write(
        "routing.json",
        absl::StrCat(R"({"rules": [{"name": "na", "prefixes": ["+1"], "channels": ["sms"], )",
                     R"("accounts": ["main", "backup"], "senders": ["+14155550100", ")", kService,
                     R"(", "+14155550101"]}, {"name": "calls", "channels": ["voice"], )",
                     R"("senders": ["+14155550100"]}]})"));
    const std::string budgets = Write("budgets.json",
                                      R"({"currency": "USD", "exempt": "critical",
            "budgets": [{"name": "billing-daily", "caller": "billing", "period": "day",
                         "limit": "50"},
                        {"name": "main-monthly", "account": "main", "period": "month",
                         "limit": "2000"}],
            "prices": {"sms": {"+1": "0.0079", "*": "0.05"}, "voice": {"*": "0.014"}}})");
    return {{"KLAXON_KAFKA_BROKERS", "127.0.0.1:9092"},
            {"KLAXON_BUDGETS_FILE", budgets},
            {"KLAXON_REDIS_URL", "redis://127.0.0.1:6379/0"},
            {"KLAXON_PG_URL", "postgresql://audit@127.0.0.1:5432/klaxon"},
            {"KLAXON_PII_HMAC_KEY", "0123456789abcdef0123"},
            {"KLAXON_TRANSIT_KEYRING", crypto::testing::KeyringDocument(1, {1})},
            {"KLAXON_KEYRING", crypto::testing::KeyringDocument(2, {1, 2})},
            {"KLAXON_BLIND_INDEX_KEY", "0123456789abcdef0123456789abcdef"},
            {"KLAXON_API_KEYS", "billing=" + auth::HashApiKey("billing-key")},
            {"KLAXON_GRPC_PLAINTEXT", "true"},
            {"KLAXON_TWILIO_ACCOUNTS_FILE", accounts},
            {"KLAXON_ROUTING_FILE", routing},
            {"KLAXON_SMS_SENDERS",
             absl::StrCat("+14155550100@main, ", kService, "@main=10/1s, +14155550101@backup")},
            {"KLAXON_VOICE_SENDERS", "+14155550100@main"}};
  }

  // What the check says of `service` in `environment`.
  absl::Status Of(const config::Environment& environment, const std::string& service) {
    const std::vector<ServiceCheck> checks = CheckConfiguration(environment, {service});
    EXPECT_EQ(checks.size(), 1u);
    return checks.empty() ? absl::UnknownError("no check") : checks[0].status;
  }

  const std::filesystem::path dir_ =
      std::filesystem::temp_directory_path() / absl::StrCat("config-check-", ::getpid());
};

TEST_F(ConfigCheckTest, AGoodConfigurationPassesForEveryService) {
  const std::vector<ServiceCheck> checks = CheckConfiguration(Good(), {});
  ASSERT_EQ(checks.size(), 4u);
  for (const ServiceCheck& check : checks) {
    EXPECT_TRUE(check.status.ok()) << check.service << ": " << check.status;
  }
}

TEST_F(ConfigCheckTest, FindsEachPlantedMistakeNamingIt) {
  config::Environment bad = Good();
  Write("accounts.json",
        absl::StrCat(R"({"accounts": [{"name": "main", "account_sid": "AC123", )",
                     R"("api_key_sid": "SKnothex", "api_key_secret_file": ")",
                     (dir_ / "key").string(), R"(", "auth_token_file": ")",
                     (dir_ / "main-token").string(), R"("}, {"name": "backup", "account_sid": ")",
                     kBackup, R"(", "auth_token_file": ")", (dir_ / "backup-token").string(),
                     R"("}]})"));
  bad["KLAXON_SMS_SENDERS"] = "+1415555@main, MG0123456789abcdef@main=5/1s, +14155550101@spare";
  bad["KLAXON_VOICE_SENDERS"] = "12345@main";
  const std::string sms(Of(bad, "sms-worker").message());
  EXPECT_THAT(sms, HasSubstr("account 1 (\"main\") account_sid: is required: AC and 32 lowercase "
                             "hex digits"));
  EXPECT_THAT(sms, HasSubstr("account 1 (\"main\") api_key_sid: is not SK and 32 lowercase hex "
                             "digits"));
  EXPECT_THAT(sms, HasSubstr("KLAXON_SMS_SENDERS: \"+1415555@main\" is neither"));
  const std::string voice(Of(bad, "voice-worker").message());
  EXPECT_THAT(voice, HasSubstr("KLAXON_VOICE_SENDERS: \"12345@main\" cannot place calls"));

  bad = Good();
  bad["KLAXON_SMS_SENDERS"] = absl::StrCat("+14155550100@main, MG0123456789abcdef@main=5/1s");
  EXPECT_THAT(std::string(Of(bad, "sms-worker").message()),
              HasSubstr("KLAXON_SMS_SENDERS: \"MG0123456789abcdef@main=5/1s\" is neither"));
  bad["KLAXON_SMS_SENDERS"] = "+14155550100@main, +14155550101@spare";
  EXPECT_THAT(std::string(Of(bad, "sms-worker").message()),
              HasSubstr("\"+14155550101@spare\": account \"spare\" is not one of main, backup"));
  bad = Good();
  Write("routing.json", R"({"rules": [{"name": "na", "prefixes": ["1"], "senders": ["+1999"]}]})");
  const std::string routing(Of(bad, "sms-worker").message());
  EXPECT_THAT(routing,
              HasSubstr("rule 1 (\"na\") prefixes: \"1\" is not \"+\" and 1 to 15 digits"));
  EXPECT_THAT(routing, HasSubstr("rule 1 (\"na\") senders: \"+1999\" is not one of "
                                 "KLAXON_SMS_SENDERS"));
}

TEST_F(ConfigCheckTest, ABudgetsMistakesAreNamedByIngressAndTheWorkers) {
  config::Environment bad = Good();
  Write("budgets.json",
        R"({"currency": "USD",
            "budgets": [{"name": "spare-daily", "account": "spare", "period": "day",
                         "limit": "5"},
                        {"name": "billing", "caller": "billing", "period": "week", "limit": "5"}],
            "prices": {"sms": {"+1": "0.0079"}, "voice": {"*": "0.014"}}})");
  const std::string ingress(Of(bad, "ingress").message());
  EXPECT_THAT(ingress, HasSubstr("budgets[1] (\"billing\").period: is required: day or month"));
  EXPECT_THAT(ingress, HasSubstr("prices.sms: needs a \"*\" price"));
  const std::string sms(Of(bad, "sms-worker").message());
  EXPECT_THAT(sms, HasSubstr("budgets[1] (\"billing\").period"));
  Write("budgets.json",
        R"({"currency": "USD",
            "budgets": [{"name": "spare-daily", "account": "spare", "period": "day",
                         "limit": "5"}],
            "prices": {"sms": {"*": "0.0079"}, "voice": {"*": "0.014"}}})");
  EXPECT_THAT(std::string(Of(bad, "voice-worker").message()),
              HasSubstr("KLAXON_BUDGETS_FILE: budget \"spare-daily\" caps account \"spare\", "
                        "which is none of main, backup"));
}

TEST_F(ConfigCheckTest, IngressNeedsEveryAccountsAuthTokenAndNamesTheAccount) {
  config::Environment bad = Good();
  Write("accounts.json",
        absl::StrCat(R"({"accounts": [{"name": "main", "account_sid": ")", kMain,
                     R"(", "api_key_sid": ")", kKey, R"(", "api_key_secret_file": ")",
                     (dir_ / "key").string(), R"("}]})"));
  EXPECT_THAT(std::string(Of(bad, "ingress").message()),
              HasSubstr("account 1 (\"main\") auth_token_file: is required"));
}

// --- klaxon-admin check --online, against the sandbox ---

class NoCallbacks final : public sandbox::CallbackSender {
 public:
  absl::Status Send(const sandbox::StatusCallback&) override { return absl::OkStatus(); }
};

class OnlineCheckTest : public ConfigCheckTest {
 protected:
  // A sandbox holding Good()'s two accounts: main (its API key, the Messaging Service and
  // +14155550100) and backup (+14155550101).
  void SetUp() override {
    ConfigCheckTest::SetUp();
    sandbox::SandboxOptions options;
    options.accounts = {
        {.sid = kMain,
         .auth_token = "main-token",
         .api_keys = {{kKey, "key-secret"}},
         .numbers = {"+14155550100"}},
        {.sid = kBackup, .auth_token = "backup-token", .numbers = {"+14155550101"}}};
    options.messaging_services = {{kService, {"+14155550100"}}};
    auto created = sandbox::TwilioSandbox::Create(options, clock_, callbacks_);
    ASSERT_TRUE(created.ok()) << created.status();
    sandbox_ = *std::move(created);
    auto server = sandbox::SandboxServer::Start({}, *sandbox_);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
  }

  config::Environment Online() {
    config::Environment environment = Good();
    const std::string url = absl::StrCat("http://127.0.0.1:", server_->port());
    environment["KLAXON_TWILIO_BASE_URL"] = url;
    environment["KLAXON_TWILIO_MESSAGING_BASE_URL"] = url;
    return environment;
  }

  // "subject: ok" or "subject: <message>" of every finding.
  static std::vector<std::string> Said(const std::vector<OnlineFinding>& findings) {
    std::vector<std::string> said;
    for (const OnlineFinding& finding : findings) {
      said.push_back(absl::StrCat(finding.subject, ": ",
                                  finding.status.ok() ? "ok" : finding.status.message()));
    }
    return said;
  }

  timing::RealClock clock_;
  NoCallbacks callbacks_;
  std::unique_ptr<sandbox::TwilioSandbox> sandbox_;
  std::unique_ptr<sandbox::SandboxServer> server_;
};

TEST_F(OnlineCheckTest, AGoodConfigurationsAccountsAndSendersAreAllTheirs) {
  EXPECT_THAT(Said(CheckOnline(Online())),
              ::testing::ElementsAre(absl::StrCat("account main (", kMain, "): ok"),
                                     absl::StrCat("account backup (", kBackup, "): ok"),
                                     "sender +14155550100 of account main: ok",
                                     absl::StrCat("sender ", kService, " of account main: ok"),
                                     "sender +14155550101 of account backup: ok"));
}

TEST_F(OnlineCheckTest, RefusedCredentialsAndSendersOfAnotherAccountAreNamed) {
  config::Environment bad = Online();
  Write("backup-token", "not-the-token");
  bad["KLAXON_SMS_SENDERS"] =
      absl::StrCat("+14155550101@main, ", kService, "@main=10/1s, +14155550100@backup");
  const std::vector<std::string> said = Said(CheckOnline(bad));
  EXPECT_THAT(said, ::testing::Contains(absl::StrCat("account main (", kMain, "): ok")));
  EXPECT_THAT(said,
              ::testing::Contains(::testing::AllOf(
                  HasSubstr(absl::StrCat("account backup (", kBackup,
                                         "): fetching the account with its credentials failed")),
                  HasSubstr("20003"))));
  EXPECT_THAT(said, ::testing::Contains(
                        "sender +14155550101 of account main: the account does not have it: it "
                        "is not among its phone numbers (IncomingPhoneNumbers)"));
}

// Online() with a voice-worker configuration that does not load.
constexpr char kVoiceFailed[] = "voice-worker's configuration";

TEST_F(OnlineCheckTest, WithNoServiceNamedBothWorkersAreChecked) {
  config::Environment bad = Online();
  bad["KLAXON_VOICE_SENDERS"] = "+14155550101@nowhere";
  EXPECT_THAT(Said(CheckOnline(bad)), ::testing::Contains(HasSubstr(kVoiceFailed)));
}

TEST_F(OnlineCheckTest, OnlyTheWorkersNamedAreChecked) {
  config::Environment bad = Online();
  bad["KLAXON_VOICE_SENDERS"] = "+14155550101@nowhere";
  EXPECT_THAT(Said(CheckOnline(bad, {"sms-worker"})),
              ::testing::AllOf(::testing::Not(::testing::Contains(HasSubstr(kVoiceFailed))),
                               ::testing::Contains("sender +14155550100 of account main: ok")));
  EXPECT_THAT(Said(CheckOnline(bad, {"voice-worker"})),
              ::testing::ElementsAre(HasSubstr(kVoiceFailed)));
}

TEST_F(OnlineCheckTest, IngressAndAuditAloneLeaveNothingToAsk) {
  EXPECT_THAT(CheckOnline(Online(), {"ingress", "audit"}), ::testing::IsEmpty());
}

TEST_F(ConfigCheckTest, AnUnknownServiceIsNamed) {
  EXPECT_THAT(std::string(Of(Good(), "mailer").message()),
              HasSubstr("\"mailer\" is none of ingress, sms-worker, voice-worker, audit"));
}

}  // namespace
}  // namespace klaxon::admin
