#include "tools/twilio-sandbox/sandbox.h"

#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"
#include "common/timing/fake_clock.h"
#include "common/twilio/signature.h"
#include "common/twilio/webhook_routes.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace klaxon::sandbox {
namespace {

constexpr char kMessages[] =
    "/2010-04-01/Accounts/AC00000000000000000000000000000000/Messages.json";
constexpr char kCalls[] = "/2010-04-01/Accounts/AC00000000000000000000000000000000/Calls.json";
constexpr char kService[] = "MG0123456789abcdef0123456789abcdef";
// A second account (a subaccount), and an API key of each.
constexpr char kOtherAccount[] = "AC11111111111111111111111111111111";
constexpr char kOtherToken[] = "other-token";
constexpr char kOtherMessages[] =
    "/2010-04-01/Accounts/AC11111111111111111111111111111111/Messages.json";
constexpr char kMainKey[] = "SK00000000000000000000000000000000";
constexpr char kMainKeySecret[] = "main-key-secret";
constexpr char kOtherKey[] = "SK11111111111111111111111111111111";
constexpr char kOtherSecret[] = "other-key-secret";
constexpr char kPoolFirst[] = "+15550002221";
constexpr char kPoolSecond[] = "+15550002222";

class RecordingSender : public CallbackSender {
 public:
  absl::Status Send(const StatusCallback& callback) override {
    std::lock_guard<std::mutex> lock(mutex_);
    sent_.push_back(callback);
    return absl::OkStatus();
  }
  std::vector<StatusCallback> sent() {
    std::lock_guard<std::mutex> lock(mutex_);
    return sent_;
  }
  // Polls until `count` callbacks arrived or a 5 s deadline passed.
  std::vector<StatusCallback> WaitFor(size_t count) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (sent().size() < count && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::yield();
    }
    return sent();
  }

 private:
  std::mutex mutex_;
  std::vector<StatusCallback> sent_;
};

std::string Param(const StatusCallback& callback, const std::string& key) {
  for (const auto& [name, value] : callback.params) {
    if (name == key) return value;
  }
  return "<absent>";
}

std::string Header(const StatusCallback& callback, const std::string& key) {
  for (const auto& [name, value] : callback.headers) {
    if (name == key) return value;
  }
  return "<absent>";
}

std::string Header(const SandboxResponse& response, const std::string& key) {
  for (const auto& [name, value] : response.headers) {
    if (name == key) return value;
  }
  return "<absent>";
}

class SandboxTest : public ::testing::Test {
 protected:
  void SetUp() override { StartSandbox({}); }

  struct Setup {
    // Time between a message's or call's status steps (real time).
    absl::Duration callback_delay = absl::Milliseconds(1);
    // How long each sender's queue may grow.
    absl::Duration queue_limit = absl::Hours(10);
    // Each account's requests in flight at most (0: no limit).
    int concurrency_limit = 0;
    // How long an answered call lasts: the sandbox waits that long (real time) to complete it.
    absl::Duration call_duration = absl::ZeroDuration();
  };
  void StartSandbox(const Setup& setup) {
    SandboxOptions options;
    options.sender_queue_limit = setup.queue_limit;
    options.concurrency_limit = setup.concurrency_limit;
    options.call_duration = setup.call_duration;
    options.accounts.front().api_keys = {{kMainKey, kMainKeySecret}};
    options.accounts.front().numbers = {"+15550001111", "12345"};
    options.accounts.push_back({.sid = kOtherAccount,
                                .auth_token = kOtherToken,
                                .api_keys = {{kOtherKey, kOtherSecret}},
                                .numbers = {"+15550002222"}});
    options.callback_delay = setup.callback_delay;
    options.max_hang = absl::Seconds(2);
    options.messaging_services = {{kService, {kPoolFirst, kPoolSecond}}};
    options.inbound_url = "http://127.0.0.1:8080/twilio/messages/inbound";
    auto created = TwilioSandbox::Create(options, clock_, sender_);
    ASSERT_TRUE(created.ok()) << created.status();
    sandbox_ = std::move(created).value();
  }

  SandboxResponse Send(const std::string& method, const std::string& path,
                       const std::string& body = "",
                       std::string_view token = twilio::kSandboxAuthToken) {
    return SendAs(kDefaultAccountSid, token, method, path, body);
  }
  // The Message or Call resource `sid` of the main account, as GET answers it.
  nlohmann::json FetchMessage(const std::string& sid) {
    return Body(Send("GET", absl::StrCat("/2010-04-01/Accounts/", kDefaultAccountSid, "/Messages/",
                                         sid, ".json")));
  }
  nlohmann::json FetchCall(const std::string& sid) {
    return Body(Send(
        "GET", absl::StrCat("/2010-04-01/Accounts/", kDefaultAccountSid, "/Calls/", sid, ".json")));
  }
  // As `user` (an account SID or an API key SID) with `password`.
  SandboxResponse SendAs(std::string_view user, std::string_view password,
                         const std::string& method, const std::string& path,
                         const std::string& body = "") {
    SandboxRequest request;
    request.method = method;
    const size_t question = path.find('?');
    request.path = path.substr(0, question);
    if (question != std::string::npos) request.query = path.substr(question + 1);
    request.authorization =
        "Basic " + absl::Base64Escape(std::string(user) + ":" + std::string(password));
    request.body = body;
    request.from_loopback = true;
    return sandbox_->Handle(request);
  }

  SandboxResponse AddFault(const std::string& json) {
    SandboxResponse response = Send("POST", "/sandbox/faults", json);
    EXPECT_EQ(response.status, 201) << response.body;
    return response;
  }

  static nlohmann::json Body(const SandboxResponse& response) {
    return nlohmann::json::parse(response.body);
  }

  timing::FakeClock clock_{absl::FromUnixMillis(1438287151123)};
  RecordingSender sender_;
  std::unique_ptr<TwilioSandbox> sandbox_;
};

constexpr char kSms[] = "To=%2B15551230000&From=%2B15550001111&Body=disk+full";

// --- accounts and API keys ---

TEST_F(SandboxTest, AnApiKeyAuthenticatesForItsOwnAccountOnly) {
  EXPECT_EQ(SendAs(kMainKey, kMainKeySecret, "POST", kMessages, kSms).status, 201);
  EXPECT_EQ(SendAs(kOtherKey, kOtherSecret, "POST", kOtherMessages, kSms).status, 201);
  EXPECT_EQ(SendAs(kOtherKey, kOtherSecret, "POST", kMessages, kSms).status, 401);
  EXPECT_EQ(SendAs(kMainKey, "wrong-secret", "POST", kMessages, kSms).status, 401);
  EXPECT_EQ(SendAs(kOtherAccount, twilio::kSandboxAuthToken, "POST", kOtherMessages, kSms).status,
            401);
  EXPECT_EQ(SendAs(kOtherAccount, kOtherToken, "POST", kOtherMessages, kSms).status, 201);
}

TEST_F(SandboxTest, EachAccountSeesAndSignsOnlyItsOwnResources) {
  const SandboxResponse created = SendAs(kOtherKey, kOtherSecret, "POST", kOtherMessages, kSms);
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string sid = Body(created)["sid"];
  EXPECT_EQ(Body(created)["account_sid"], kOtherAccount);
  const std::string other_fetch =
      absl::StrCat("/2010-04-01/Accounts/", kOtherAccount, "/Messages/", sid, ".json");
  const std::string main_fetch =
      absl::StrCat("/2010-04-01/Accounts/", kDefaultAccountSid, "/Messages/", sid, ".json");
  EXPECT_EQ(SendAs(kOtherAccount, kOtherToken, "GET", other_fetch).status, 200);
  EXPECT_EQ(Send("GET", main_fetch).status, 404);
  EXPECT_TRUE(Body(Send("GET", absl::StrCat(kMessages, "?To=%2B15551230000")))["messages"].empty());
  const nlohmann::json ledger = Body(Send("GET", "/sandbox/ledger"));
  ASSERT_EQ(ledger.size(), 1u);
  EXPECT_EQ(ledger[0]["account"], kOtherAccount);
  // A message's status callbacks are signed with its account's token.
  const SandboxResponse with_callback =
      SendAs(kOtherKey, kOtherSecret, "POST", kOtherMessages,
             absl::StrCat(kSms, "&StatusCallback=https%3A%2F%2Fexample.com%2Fcb"));
  ASSERT_EQ(with_callback.status, 201);
  const std::vector<StatusCallback> sent = sender_.WaitFor(1);
  ASSERT_FALSE(sent.empty());
  EXPECT_EQ(Param(sent[0], "AccountSid"), kOtherAccount);
  EXPECT_EQ(Header(sent[0], "X-Twilio-Signature"),
            twilio::ComputeSignature(kOtherToken, sent[0].url, sent[0].params));
}

TEST_F(SandboxTest, AnAccountsOutageLeavesTheOtherAccountAlone) {
  AddFault(absl::StrCat(R"({"type":"server_error","status":503,"account":")", kDefaultAccountSid,
                        R"("})"));
  EXPECT_EQ(Send("POST", kMessages, kSms).status, 503);
  EXPECT_EQ(SendAs(kOtherKey, kOtherSecret, "POST", kOtherMessages, kSms).status, 201);
  const nlohmann::json rejected = Body(Send("GET", "/sandbox/rejected"));
  ASSERT_EQ(rejected.size(), 1u);
  EXPECT_EQ(rejected[0]["account"], kDefaultAccountSid);
}

TEST(SandboxAccountsTest, ParsesAccountsAndRefusesBadOnes) {
  const std::vector<SandboxAccount> accounts =
      ParseAccounts(absl::StrCat(kOtherAccount, "=", kOtherToken, ",", kOtherKey, "=", kOtherSecret,
                                 "; ", "AC22222222222222222222222222222222=third-token"));
  ASSERT_EQ(accounts.size(), 2u);
  EXPECT_EQ(accounts[0].sid, kOtherAccount);
  EXPECT_EQ(accounts[0].auth_token, kOtherToken);
  EXPECT_EQ(accounts[0].api_keys.at(kOtherKey), kOtherSecret);
  EXPECT_TRUE(accounts[1].api_keys.empty());

  timing::FakeClock clock;
  RecordingSender sender;
  SandboxOptions twice;
  twice.accounts.push_back(twice.accounts.front());
  EXPECT_THAT(std::string(TwilioSandbox::Create(twice, clock, sender).status().message()),
              ::testing::HasSubstr("is given twice"));
  SandboxOptions bad_key;
  bad_key.accounts.front().api_keys = {{"SK123", "secret"}};
  EXPECT_THAT(std::string(TwilioSandbox::Create(bad_key, clock, sender).status().message()),
              ::testing::HasSubstr("API key \"SK123\" must be SK followed by 32 hex digits"));
}

TEST_F(SandboxTest, CreateMessageAnswersTwilioShapedResource) {
  const SandboxResponse response = Send("POST", kMessages, kSms);
  ASSERT_EQ(response.status, 201) << response.body;
  const nlohmann::json body = Body(response);
  const std::string sid = body["sid"];
  EXPECT_EQ(sid.size(), 34u);
  EXPECT_TRUE(absl::StartsWith(sid, "SM"));
  EXPECT_EQ(body["status"], "queued");
  EXPECT_EQ(body["body"], "disk full");
  EXPECT_EQ(body["to"], "+15551230000");
  EXPECT_EQ(body["account_sid"], kDefaultAccountSid);
  EXPECT_EQ(body["api_version"], "2010-04-01");
  EXPECT_EQ(body["direction"], "outbound-api");
  EXPECT_EQ(body["date_created"], "Thu, 30 Jul 2015 20:12:31 +0000");
  EXPECT_EQ(body["num_segments"], "1");
  EXPECT_TRUE(body["price"].is_null());
  EXPECT_TRUE(body["error_code"].is_null());
  EXPECT_EQ(body["uri"], std::string("/2010-04-01/Accounts/") + kDefaultAccountSid + "/Messages/" +
                             sid + ".json");
}

// From may be a number, a short code or an alphanumeric sender ID; anything else is 21212.
TEST_F(SandboxTest, FromTakesAShortCodeAndAnAlphanumericSenderButNotAnythingElse) {
  for (const char* from : {"12345", "123456", "KLAXON"}) {
    const SandboxResponse response =
        Send("POST", kMessages, absl::StrCat("To=%2B15551230000&Body=x&From=", from));
    EXPECT_EQ(response.status, 201) << from << ": " << response.body;
  }
  for (const char* from : {"1234", "1234567", "KLAXON_1"}) {
    const SandboxResponse response =
        Send("POST", kMessages, absl::StrCat("To=%2B15551230000&Body=x&From=", from));
    EXPECT_EQ(response.status, 400) << from;
    EXPECT_EQ(Body(response)["code"], 21212) << from;
  }
}

TEST_F(SandboxTest, WrongTokenIsRejectedWith20003) {
  const SandboxResponse response = Send("POST", kMessages, kSms, "wrong");
  EXPECT_EQ(response.status, 401);
  EXPECT_EQ(Body(response), nlohmann::json::parse(R"({"code":20003,"message":"Authenticate",
              "more_info":"https://www.twilio.com/docs/errors/20003","status":401})"));
  EXPECT_TRUE(sandbox_->ledger().Accepted().empty());
  EXPECT_EQ(sandbox_->ledger().Rejected().size(), 1u);
}

TEST_F(SandboxTest, OtherAccountInPathIsRejected) {
  const SandboxResponse response =
      Send("POST", "/2010-04-01/Accounts/AC11111111111111111111111111111111/Messages.json", kSms);
  EXPECT_EQ(response.status, 401);
}

struct ValidationCase {
  const char* path;
  const char* body;
  int code;
};

class SandboxValidationTest : public SandboxTest,
                              public ::testing::WithParamInterface<ValidationCase> {};

TEST_P(SandboxValidationTest, AnswersTwilioErrorCode) {
  const SandboxResponse response = Send("POST", GetParam().path, GetParam().body);
  EXPECT_EQ(response.status, 400);
  EXPECT_EQ(Body(response)["code"], GetParam().code);
  EXPECT_TRUE(sandbox_->ledger().Accepted().empty());
  ASSERT_EQ(sandbox_->ledger().Rejected().size(), 1u);
  EXPECT_EQ(sandbox_->ledger().Rejected()[0].reason, "validation");
}

const std::string kLongBody = "Body=" + std::string(1601, 'x');
const std::string kLongMessage = "To=%2B15551230000&From=%2B15550001111&" + kLongBody;

INSTANTIATE_TEST_SUITE_P(
    Twilio, SandboxValidationTest,
    ::testing::Values(ValidationCase{kMessages, "From=%2B15550001111&Body=x", 21604},
                      ValidationCase{kMessages, "To=5551230000&From=%2B15550001111&Body=x", 21211},
                      ValidationCase{kMessages, "To=%2B15551230000&Body=x", 21603},
                      ValidationCase{kMessages, "To=%2B15551230000&From=%2B15550001111", 21602},
                      ValidationCase{kMessages, kLongMessage.c_str(), 21617},
                      ValidationCase{kMessages,
                                     "To=%2B15551230000&From=%2B15550001111&Body=x"
                                     "&StatusCallback=ftp%3A%2F%2Fx",
                                     21609},
                      // "URL must contain a valid hostname and underscores are not allowed."
                      ValidationCase{kMessages,
                                     "To=%2B15551230000&From=%2B15550001111&Body=x"
                                     "&StatusCallback=https%3A%2F%2Fklaxon_hooks.io%2Fs",
                                     21609},
                      ValidationCase{kCalls,
                                     "To=%2B15551230000&From=%2B15550001111&Twiml=x"
                                     "&StatusCallback=https%3A%2F%2Fklaxon_hooks.io%2Fs",
                                     21609},
                      ValidationCase{kMessages,
                                     "To=%2B15551230000&MessagingServiceSid=MG0123&Body=x", 21705},
                      ValidationCase{kMessages,
                                     "To=%2B15551230000&MessagingServiceSid="
                                     "MGffffffffffffffffffffffffffffffff&Body=x",
                                     21701},
                      ValidationCase{kCalls, "From=%2B15550001111&Twiml=%3CResponse%2F%3E", 21201},
                      ValidationCase{kCalls, "To=%2B15551230000&Twiml=%3CResponse%2F%3E", 21213},
                      ValidationCase{kCalls, "To=%2B15551230000&From=%2B15550001111", 21205},
                      ValidationCase{kCalls,
                                     "To=%2B15551230000&From=%2B15550001111&Twiml=x"
                                     "&MachineDetection=enable",
                                     21234}));

std::string ThroughService(const std::string& to) {
  return absl::StrCat("To=", absl::StrReplaceAll(to, {{"+", "%2B"}}),
                      "&MessagingServiceSid=", kService,
                      "&Body=disk+full&StatusCallback=http%3A%2F%2Fh%2Fs");
}

TEST_F(SandboxTest, MessagingServiceMessageIsAcceptedThenQueuedOnAPoolNumber) {
  const SandboxResponse response = Send("POST", kMessages, ThroughService("+15551230000"));
  ASSERT_EQ(response.status, 201) << response.body;
  const nlohmann::json created = Body(response);
  EXPECT_EQ(created["status"], "accepted");
  EXPECT_TRUE(created["from"].is_null());
  EXPECT_EQ(created["num_segments"], "0");
  EXPECT_EQ(created["messaging_service_sid"], kService);
  const std::vector<StatusCallback> callbacks = sender_.WaitFor(3);
  ASSERT_EQ(callbacks.size(), 3u);
  EXPECT_EQ(Param(callbacks[0], "MessageStatus"), "queued");
  EXPECT_EQ(Param(callbacks[0], "From"), kPoolFirst);
  EXPECT_EQ(Param(callbacks[0], "MessagingServiceSid"), kService);
  const nlohmann::json fetched =
      Body(Send("GET", absl::StrCat(absl::StripSuffix(kMessages, ".json"), "/",
                                    created["sid"].get<std::string>(), ".json")));
  EXPECT_EQ(fetched["from"], kPoolFirst);
  EXPECT_EQ(fetched["num_segments"], "1");
  ASSERT_EQ(sandbox_->ledger().Accepted().size(), 1u);
  EXPECT_EQ(sandbox_->ledger().Accepted()[0].from, kPoolFirst);
}

TEST_F(SandboxTest, MessagingServiceKeepsARecipientOnItsNumberAndTakesTurnsForOthers) {
  for (const char* to : {"+15551230000", "+15551230001", "+15551230000", "+15551230002"}) {
    ASSERT_EQ(Send("POST", kMessages, ThroughService(to)).status, 201) << to;
  }
  std::vector<std::string> froms;
  for (const LedgerEntry& entry : sandbox_->ledger().Accepted()) froms.push_back(entry.from);
  EXPECT_THAT(froms, ::testing::ElementsAre(kPoolFirst, kPoolSecond, kPoolFirst, kPoolFirst));
}

TEST_F(SandboxTest, PacingTellsEachNumbersMessagesAndBusiestWindow) {
  for (const char* to : {"+15551230000", "+15551230001", "+15551230002"}) {
    ASSERT_EQ(Send("POST", kMessages, ThroughService(to)).status, 201) << to;
  }
  const SandboxResponse response = Send("GET", "/sandbox/pacing?window_ms=1000");
  ASSERT_EQ(response.status, 200) << response.body;
  const nlohmann::json senders = Body(response)["senders"];
  ASSERT_EQ(senders.size(), 2u) << senders;
  EXPECT_EQ(senders[0]["from"], kPoolFirst);
  EXPECT_EQ(senders[0]["messages"], 2);
  EXPECT_EQ(senders[0]["busiest"], 2);  // the fake clock stands still
  EXPECT_EQ(senders[1]["from"], kPoolSecond);
  EXPECT_EQ(senders[1]["messages"], 1);
  EXPECT_EQ(Body(Send("GET", "/sandbox/pacing?since_ms=99999999999999"))["senders"].size(), 0u);
}

TEST_F(SandboxTest, PacingRefusesAQueryItCannotRead) {
  EXPECT_EQ(Send("GET", "/sandbox/pacing?window_ms=soon").status, 400);
  EXPECT_EQ(Send("GET", "/sandbox/pacing?window_ms=0").status, 400);
  EXPECT_EQ(Send("GET", "/sandbox/pacing?from=1").status, 400);
}

TEST(ParseMessagingServicesTest, ReadsEachServiceAndItsPool) {
  EXPECT_EQ(ParseMessagingServices(absl::StrCat(kService, " = +15550002221, +15550002222 ; ",
                                                "MGffffffffffffffffffffffffffffffff=+15550002223")),
            (std::map<std::string, std::vector<std::string>>{
                {kService, {"+15550002221", "+15550002222"}},
                {"MGffffffffffffffffffffffffffffffff", {"+15550002223"}}}));
  EXPECT_TRUE(ParseMessagingServices("").empty());
}

TEST(SandboxCreateTest, RefusesAMessagingServiceWithABadSidOrNoNumbers) {
  timing::FakeClock clock;
  RecordingSender sender;
  SandboxOptions options;
  options.messaging_services = {{"MG12", {kPoolFirst}}};
  EXPECT_EQ(TwilioSandbox::Create(options, clock, sender).status().code(),
            absl::StatusCode::kInvalidArgument);
  options.messaging_services = {{kService, {}}};
  EXPECT_EQ(TwilioSandbox::Create(options, clock, sender).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(SandboxTest, BodyOf1600MultibyteCharactersIsAccepted) {
  std::string body = "To=%2B15551230000&From=%2B15550001111&Body=";
  for (int i = 0; i < 1600; ++i) body += "%C3%A7";  // ç, not in GSM-7: UCS-2, 67 a segment
  const SandboxResponse response = Send("POST", kMessages, body);
  ASSERT_EQ(response.status, 201) << response.body;
  EXPECT_EQ(Body(response)["num_segments"], "24");
}

TEST_F(SandboxTest, GsmLettersBeyondAsciiAreCountedAsGsm7Segments) {
  std::string body = "To=%2B15551230000&From=%2B15550001111&Body=";
  for (int i = 0; i < 1600; ++i) body += "%C3%A9";  // é, in GSM-7: 153 a segment
  const SandboxResponse response = Send("POST", kMessages, body);
  ASSERT_EQ(response.status, 201) << response.body;
  EXPECT_EQ(Body(response)["num_segments"], "11");
}

TEST_F(SandboxTest, LedgerRecordsAcceptedRequestWithParams) {
  ASSERT_EQ(Send("POST", kMessages, kSms).status, 201);
  ASSERT_EQ(Send("POST", kMessages, "To=%2B15559990000&From=%2B15550001111&Body=x").status, 201);
  const SandboxResponse response = Send("GET", "/sandbox/ledger?to=%2B15551230000");
  ASSERT_EQ(response.status, 200);
  const nlohmann::json ledger = Body(response);
  ASSERT_EQ(ledger.size(), 1u);
  EXPECT_EQ(ledger[0]["kind"], "message");
  EXPECT_EQ(ledger[0]["body"], "disk full");
  EXPECT_EQ(ledger[0]["received_at"], "2015-07-30T20:12:31.123Z");
  EXPECT_EQ(ledger[0]["params"][2], nlohmann::json::array({"Body", "disk full"}));
  EXPECT_EQ(Send("DELETE", "/sandbox/ledger").status, 204);
  EXPECT_TRUE(sandbox_->ledger().Accepted().empty());
}

TEST_F(SandboxTest, ListMessagesFiltersByToAndFromNewestFirst) {
  ASSERT_EQ(Send("POST", kMessages, kSms).status, 201);
  clock_.SleepFor(absl::Seconds(1));
  ASSERT_EQ(Send("POST", kMessages, "To=%2B15551230000&From=%2B15550001111&Body=second").status,
            201);
  ASSERT_EQ(Send("POST", kMessages, "To=%2B15559990000&From=%2B15550001111&Body=x").status, 201);
  ASSERT_EQ(Send("POST", kMessages, "To=%2B15551230000&From=%2B15550002222&Body=x").status, 201);
  const SandboxResponse response =
      Send("GET", std::string(kMessages) + "?To=%2B15551230000&From=%2B15550001111");
  ASSERT_EQ(response.status, 200) << response.body;
  const nlohmann::json page = Body(response);
  ASSERT_EQ(page["messages"].size(), 2u);
  EXPECT_EQ(page["messages"][0]["body"], "second");
  EXPECT_EQ(page["messages"][1]["body"], "disk full");
}

TEST_F(SandboxTest, ListAnswersTwilioPagingFields) {
  for (int i = 0; i < 3; ++i) ASSERT_EQ(Send("POST", kMessages, kSms).status, 201);
  const nlohmann::json page =
      Body(Send("GET", std::string(kMessages) + "?To=%2B15551230000&PageSize=2&Page=0"));
  EXPECT_EQ(page["messages"].size(), 2u);
  EXPECT_EQ(page["page"], 0);
  EXPECT_EQ(page["page_size"], 2);
  EXPECT_EQ(page["start"], 0);
  EXPECT_EQ(page["end"], 1);
  EXPECT_TRUE(page["previous_page_uri"].is_null());
  EXPECT_EQ(page["next_page_uri"], std::string(kMessages) + "?To=%2B15551230000&PageSize=2&Page=1");
  const nlohmann::json last =
      Body(Send("GET", std::string(kMessages) + "?To=%2B15551230000&PageSize=2&Page=1"));
  EXPECT_EQ(last["messages"].size(), 1u);
  EXPECT_TRUE(last["next_page_uri"].is_null());
}

TEST_F(SandboxTest, DateSentFilterSkipsMessagesNotSentYet) {
  // Steps an hour apart, so the message is still queued when listed (with 1 ms steps a slow run,
  // ASan's, saw it sent first).
  ASSERT_NO_FATAL_FAILURE(StartSandbox({.callback_delay = absl::Hours(1)}));
  ASSERT_EQ(Send("POST", kMessages, kSms).status, 201);  // queued: date_sent is null
  const nlohmann::json page =
      Body(Send("GET", std::string(kMessages) + "?To=%2B15551230000&DateSent%3E=2015-07-30"));
  EXPECT_TRUE(page["messages"].empty());
}

TEST_F(SandboxTest, ListCallsFiltersByTo) {
  ASSERT_EQ(
      Send("POST", kCalls, "To=%2B15551230000&From=%2B15550001111&Twiml=%3CResponse%2F%3E").status,
      201);
  ASSERT_EQ(
      Send("POST", kCalls, "To=%2B15559990000&From=%2B15550001111&Twiml=%3CResponse%2F%3E").status,
      201);
  const nlohmann::json page = Body(Send("GET", std::string(kCalls) + "?To=%2B15551230000"));
  ASSERT_EQ(page["calls"].size(), 1u);
  EXPECT_EQ(page["calls"][0]["to"], "+15551230000");
}

TEST_F(SandboxTest, ListNeedsAuthentication) {
  EXPECT_EQ(Send("GET", kMessages, "", "wrong").status, 401);
}

TEST_F(SandboxTest, MalformedFormIsRejectedWith400) {
  const SandboxResponse response =
      Send("POST", kMessages, "To=%2B15551230000&From=%2B15550001111&Body=100%G1");
  EXPECT_EQ(response.status, 400);
  EXPECT_EQ(Body(response)["code"], 70002);
  EXPECT_EQ(Body(response)["message"],
            "Bad request: form field 3: '%' must be followed by two hexadecimal digits");
  EXPECT_TRUE(sandbox_->ledger().Accepted().empty());
  ASSERT_EQ(sandbox_->ledger().Rejected().size(), 1u);
  EXPECT_EQ(sandbox_->ledger().Rejected()[0].reason, "malformed");
}

TEST_F(SandboxTest, AdminQueryTakesPlusAsAPlusSign) {
  ASSERT_EQ(Send("POST", kMessages, kSms).status, 201);
  for (const char* query : {"?to=+15551230000", "?to=%2B15551230000"}) {
    const SandboxResponse response = Send("GET", std::string("/sandbox/ledger") + query);
    ASSERT_EQ(response.status, 200);
    EXPECT_EQ(Body(response).size(), 1u) << query;
  }
}

TEST_F(SandboxTest, MalformedAdminQueryIsRejectedWith400) {
  const SandboxResponse response = Send("GET", "/sandbox/ledger?to=%2");
  EXPECT_EQ(response.status, 400);
  EXPECT_EQ(Body(response)["error"],
            "query string: form field 1: '%' must be followed by two hexadecimal digits");
}

TEST_F(SandboxTest, AdminRefusesNonLoopbackPeer) {
  SandboxRequest request;
  request.method = "GET";
  request.path = "/sandbox/ledger";
  request.from_loopback = false;
  EXPECT_EQ(sandbox_->Handle(request).status, 403);
}

TEST_F(SandboxTest, RateLimitStormRejectsNextRequestsWithRetryAfter) {
  AddFault(R"({"type":"rate_limit","count":2,"retry_after_s":4})");
  for (int i = 0; i < 2; ++i) {
    const SandboxResponse response = Send("POST", kMessages, kSms);
    EXPECT_EQ(response.status, 429);
    EXPECT_EQ(Body(response)["code"], 20429);
    EXPECT_EQ(Header(response, "Retry-After"), "4");
  }
  EXPECT_EQ(Send("POST", kMessages, kSms).status, 201);
  EXPECT_EQ(sandbox_->ledger().Accepted().size(), 1u);
  EXPECT_EQ(sandbox_->ledger().Rejected().size(), 2u);
}

TEST_F(SandboxTest, ARequestBeyondTheAccountsConcurrencyLimitIsRefused20429AndNotProcessed) {
  StartSandbox({.concurrency_limit = 2});
  // An answer the server has not sent yet (it drops `in_flight` just before) keeps its place.
  std::optional<SandboxResponse> first = Send("POST", kMessages, kSms);
  const SandboxResponse second = Send("GET", kMessages);
  EXPECT_EQ(first->status, 201);
  EXPECT_EQ(Header(*first, "Twilio-Concurrent-Requests"), "1");
  EXPECT_EQ(second.status, 200);
  EXPECT_EQ(Header(second, "Twilio-Concurrent-Requests"), "2");
  {
    const SandboxResponse refused = Send("POST", kMessages, kSms);
    EXPECT_EQ(refused.status, 429);
    EXPECT_EQ(Body(refused)["code"], 20429);
    EXPECT_EQ(Header(refused, "Twilio-Concurrent-Requests"), "3");
    EXPECT_EQ(Send("GET", kMessages).status, 429) << "reads count too";
  }
  EXPECT_EQ(sandbox_->ledger().Accepted().size(), 1u) << "a refused request is never processed";
  ASSERT_EQ(sandbox_->ledger().Rejected().size(), 2u) << "the refused create and read";
  EXPECT_EQ(sandbox_->ledger().Rejected().front().reason, "concurrency");
  EXPECT_EQ(sandbox_->ledger().Rejected().back().reason, "concurrency");
  // Another account counts its own requests.
  const SandboxResponse other = SendAs(kOtherAccount, kOtherToken, "POST", kOtherMessages, kSms);
  EXPECT_EQ(other.status, 201);
  EXPECT_EQ(Header(other, "Twilio-Concurrent-Requests"), "1");

  first.reset();  // answered: its place is free again
  const SandboxResponse after = Send("POST", kMessages, kSms);
  EXPECT_EQ(after.status, 201);
  EXPECT_EQ(Header(after, "Twilio-Concurrent-Requests"), "2");
}

TEST_F(SandboxTest, WithoutALimitEveryRequestIsServedAndCounted) {
  std::vector<SandboxResponse> held;
  for (int i = 1; i <= 150; ++i) {
    held.push_back(Send("POST", kMessages, kSms));
    EXPECT_EQ(held.back().status, 201) << i;
    EXPECT_EQ(Header(held.back(), "Twilio-Concurrent-Requests"), absl::StrCat(i));
  }
}

TEST_F(SandboxTest, ServerErrorFaultAnswers503) {
  AddFault(R"({"type":"server_error","status":503})");
  const SandboxResponse response =
      Send("POST", kCalls, "To=%2B15551230000&From=%2B15550001111&Twiml=x");
  EXPECT_EQ(response.status, 503);
  EXPECT_EQ(Body(response)["code"], 20503);
  EXPECT_TRUE(sandbox_->ledger().Accepted().empty());
}

TEST_F(SandboxTest, ErrorFaultHitsOnlyItsNumber) {
  AddFault(R"({"type":"error","to":"+15551230000","code":21610,"message":"unsubscribed"})");
  const SandboxResponse blocked = Send("POST", kMessages, kSms);
  EXPECT_EQ(blocked.status, 400);
  EXPECT_EQ(Body(blocked)["code"], 21610);
  EXPECT_EQ(Send("POST", kMessages, "To=%2B15559990000&From=%2B15550001111&Body=x").status, 201);
}

// --- inbound messages and Advanced Opt-Out (TWILIO.md) ---

TEST_F(SandboxTest, AnInboundSmsIsPostedSignedToTheNumbersSmsUrl) {
  const SandboxResponse received =
      Send("POST", "/sandbox/inbound",
           R"({"from":"+15551230000","to":"+15550001111","body":"ACK 4821"})");
  ASSERT_EQ(received.status, 201) << received.body;
  const std::vector<StatusCallback> sent = sender_.WaitFor(1);
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].url, "http://127.0.0.1:8080/twilio/messages/inbound");
  EXPECT_EQ(Header(sent[0], "X-Twilio-Signature"),
            twilio::ComputeSignature(twilio::kSandboxAuthToken, sent[0].url, sent[0].params));
  EXPECT_EQ(Param(sent[0], "Body"), "ACK 4821");
  EXPECT_EQ(Param(sent[0], "From"), "+15551230000");
  EXPECT_EQ(Param(sent[0], "MessageSid"), Body(received)["sid"]);
  EXPECT_EQ(Param(sent[0], "OptOutType"), "<absent>") << "not a keyword";
}

TEST_F(SandboxTest, AfterStopASendToThePersonIs21610UntilTheyTextStart) {
  const auto text = [this](const std::string& body) {
    return Send(
        "POST", "/sandbox/inbound",
        absl::StrCat(R"({"from":"+15551230000","to":"+15550001111","body":")", body, R"("})"));
  };
  ASSERT_EQ(text(" stop ").status, 201);
  EXPECT_EQ(Param(sender_.WaitFor(1).back(), "OptOutType"), "STOP");
  const SandboxResponse blocked = Send("POST", kMessages, kSms);
  EXPECT_EQ(blocked.status, 400);
  EXPECT_EQ(Body(blocked)["code"], 21610);
  EXPECT_EQ(Send("POST", kMessages, "To=%2B15551230000&From=%2B15550002222&Body=x").status, 201)
      << "another number of ours was not told STOP";
  ASSERT_EQ(text("Start").status, 201);
  EXPECT_EQ(Send("POST", kMessages, kSms).status, 201);
}

TEST_F(SandboxTest, AStopToAMessagingServicesNumberOptsOutOfTheWholeService) {
  ASSERT_EQ(
      Send("POST", "/sandbox/inbound",
           absl::StrCat(R"({"from":"+15551230000","to":")", kPoolSecond, R"(","body":"STOP"})"))
          .status,
      201);
  const SandboxResponse blocked =
      Send("POST", kMessages,
           absl::StrCat("To=%2B15551230000&MessagingServiceSid=", kService, "&Body=x"));
  EXPECT_EQ(blocked.status, 400);
  EXPECT_EQ(Body(blocked)["code"], 21610);
}

TEST_F(SandboxTest, AnInboundSmsMustComeFromANumberToOneOfOurs) {
  EXPECT_EQ(
      Send("POST", "/sandbox/inbound", R"({"from":"555","to":"+15550001111","body":"x"})").status,
      400);
  EXPECT_EQ(
      Send("POST", "/sandbox/inbound", R"({"from":"+15551230000","to":"+15559999999","body":"x"})")
          .status,
      400);
  EXPECT_EQ(Send("POST", "/sandbox/inbound", "not json").status, 400);
}

TEST_F(SandboxTest, LatencyFaultDelaysAcceptedAnswer) {
  AddFault(R"({"type":"latency","latency_ms":250})");
  const SandboxResponse response = Send("POST", kMessages, kSms);
  EXPECT_EQ(response.status, 201);
  EXPECT_EQ(response.delay, absl::Milliseconds(250));
}

TEST_F(SandboxTest, HangFaultIsCappedAndNotAccepted) {
  AddFault(R"({"type":"hang","hang_ms":60000})");
  const SandboxResponse response = Send("POST", kMessages, kSms);
  EXPECT_EQ(response.status, 503);
  EXPECT_EQ(response.delay, absl::Seconds(2));
  EXPECT_TRUE(sandbox_->ledger().Accepted().empty());
}

TEST_F(SandboxTest, AcceptingHangCreatesResource) {
  AddFault(R"({"type":"hang","hang_ms":500,"accept":true})");
  const SandboxResponse response = Send("POST", kMessages, kSms);
  EXPECT_EQ(response.status, 201);
  EXPECT_EQ(response.delay, absl::Milliseconds(500));
  EXPECT_EQ(sandbox_->ledger().Accepted().size(), 1u);
}

TEST_F(SandboxTest, FetchUnknownMessageIs20404) {
  const SandboxResponse response =
      Send("GET",
           "/2010-04-01/Accounts/AC00000000000000000000000000000000/Messages/"
           "SM00000000000000000000000000000000.json");
  EXPECT_EQ(response.status, 404);
  EXPECT_EQ(Body(response)["code"], 20404);
}

TEST_F(SandboxTest, MessageCallbacksAreSignedAndAdvanceStatus) {
  const std::string url = "http://127.0.0.1:9/status?alert=1";
  const SandboxResponse created =
      Send("POST", kMessages,
           std::string(kSms) + "&StatusCallback=http%3A%2F%2F127.0.0.1%3A9%2Fstatus%3Falert%3D1");
  ASSERT_EQ(created.status, 201);
  const std::string sid = Body(created)["sid"];
  const auto callbacks = sender_.WaitFor(2);
  ASSERT_EQ(callbacks.size(), 2u);
  EXPECT_EQ(Param(callbacks[0], "MessageStatus"), "sent");
  EXPECT_EQ(Param(callbacks[1], "MessageStatus"), "delivered");
  EXPECT_EQ(Param(callbacks[1], "MessageSid"), sid);
  EXPECT_EQ(Param(callbacks[1], "ErrorCode"), "<absent>");
  for (const StatusCallback& callback : callbacks) {
    EXPECT_EQ(callback.url, url);
    EXPECT_EQ(Header(callback, "X-Twilio-Signature"),
              twilio::ComputeSignature(twilio::kSandboxAuthToken, url, callback.params));
  }
  EXPECT_NE(Header(callbacks[0], "I-Twilio-Idempotency-Token"),
            Header(callbacks[1], "I-Twilio-Idempotency-Token"));
  const nlohmann::json fetched = FetchMessage(sid);
  EXPECT_EQ(fetched["status"], "delivered");
  EXPECT_FALSE(fetched["date_sent"].is_null());
}

// Twilio's callbacks "can arrive out of order or twice" (TWILIO.md); the sandbox's can be made to.
TEST_F(SandboxTest, ADuplicatedCallbackRepeatsWithTheSameIdempotencyToken) {
  AddFault(R"({"type":"delivery","outcome":"delivered","callbacks":"duplicated"})");
  ASSERT_EQ(
      Send("POST", kMessages, std::string(kSms) + "&StatusCallback=http%3A%2F%2Fh%2Fs").status,
      201);
  const auto callbacks = sender_.WaitFor(4);
  ASSERT_EQ(callbacks.size(), 4u);
  for (size_t i : {0u, 2u}) {
    EXPECT_EQ(callbacks[i].params, callbacks[i + 1].params);
    EXPECT_EQ(Header(callbacks[i], "I-Twilio-Idempotency-Token"),
              Header(callbacks[i + 1], "I-Twilio-Idempotency-Token"));
  }
  EXPECT_EQ(Param(callbacks[0], "MessageStatus"), "sent");
  EXPECT_EQ(Param(callbacks[2], "MessageStatus"), "delivered");
}

TEST_F(SandboxTest, ReversedCallbacksComeLastFirstAndTheMessageEndsAtItsLastStatus) {
  AddFault(R"({"type":"delivery","outcome":"delivered","callbacks":"reversed"})");
  const SandboxResponse created =
      Send("POST", kMessages, std::string(kSms) + "&StatusCallback=http%3A%2F%2Fh%2Fs");
  ASSERT_EQ(created.status, 201);
  const auto callbacks = sender_.WaitFor(2);
  ASSERT_EQ(callbacks.size(), 2u);
  EXPECT_EQ(Param(callbacks[0], "MessageStatus"), "delivered");
  EXPECT_EQ(Param(callbacks[1], "MessageStatus"), "sent");
  const nlohmann::json fetched = FetchMessage(Body(created)["sid"]);
  EXPECT_EQ(fetched["status"], "delivered");
}

TEST_F(SandboxTest, DeliveryFaultEndsInUndeliveredWithErrorCode) {
  AddFault(R"({"type":"delivery","to":"+15551230000","outcome":"undelivered"})");
  ASSERT_EQ(
      Send("POST", kMessages, std::string(kSms) + "&StatusCallback=http%3A%2F%2Fh%2Fs").status,
      201);
  const auto callbacks = sender_.WaitFor(2);
  ASSERT_EQ(callbacks.size(), 2u);
  EXPECT_EQ(Param(callbacks[1], "MessageStatus"), "undelivered");
  EXPECT_EQ(Param(callbacks[1], "ErrorCode"), "30003");
}

TEST_F(SandboxTest, AFailedOrUndeliveredMessageDescribesItsErrorAsTwilioDoes) {
  struct Case {
    const char* rule;
    const char* status;
    nlohmann::json error_message;
  };
  for (const Case& ending : {
           Case{R"({"outcome":"undelivered"})", "undelivered", "Unreachable destination handset"},
           Case{R"({"outcome":"failed"})", "failed", "Unknown error"},
           Case{R"({"outcome":"failed","error_code":30007})", "failed", "Message filtered"},
           Case{R"({"outcome":"undelivered","error_code":30006})", "undelivered",
                "Landline or unreachable carrier"},
           Case{R"({"outcome":"delivered"})", "delivered", nullptr},
       }) {
    nlohmann::json rule = nlohmann::json::parse(ending.rule);
    rule["type"] = "delivery";
    rule["count"] = 1;
    AddFault(rule.dump());
    const SandboxResponse created =
        Send("POST", kMessages, std::string(kSms) + "&StatusCallback=http%3A%2F%2Fh%2Fs");
    ASSERT_EQ(created.status, 201);
    const std::string sid = Body(created)["sid"];
    // Poll the resource until its last status (a deadline, no sleep).
    nlohmann::json fetched;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    do {
      fetched = FetchMessage(sid);
    } while (fetched["status"] != ending.status && std::chrono::steady_clock::now() < deadline);
    EXPECT_EQ(fetched["status"], ending.status) << ending.rule;
    EXPECT_EQ(fetched["error_message"], ending.error_message) << ending.rule;
  }
}

TEST_F(SandboxTest, FailedDeliveryFaultEndsInFailedWith30008) {
  AddFault(R"({"type":"delivery","to":"+15551230000","outcome":"failed"})");
  ASSERT_EQ(
      Send("POST", kMessages, std::string(kSms) + "&StatusCallback=http%3A%2F%2Fh%2Fs").status,
      201);
  const auto callbacks = sender_.WaitFor(1);
  ASSERT_EQ(callbacks.size(), 1u);  // a failed message was never sent
  EXPECT_EQ(Param(callbacks[0], "MessageStatus"), "failed");
  EXPECT_EQ(Param(callbacks[0], "ErrorCode"), "30008");
}

TEST_F(SandboxTest, CallCallbacksFollowRequestedEventsInSequence) {
  const SandboxResponse created =
      Send("POST", kCalls,
           "To=%2B15551230000&From=%2B15550001111&Twiml=%3CResponse%2F%3E&StatusCallback=http%3A%"
           "2F%2Fh%2Fc"
           "&StatusCallbackEvent=initiated&StatusCallbackEvent=ringing&StatusCallbackEvent=answered"
           "&StatusCallbackEvent=completed&MachineDetection=Enable");
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(Body(created)["status"], "queued");
  const auto callbacks = sender_.WaitFor(4);
  ASSERT_EQ(callbacks.size(), 4u);
  const std::vector<std::string> statuses = {"initiated", "ringing", "in-progress", "completed"};
  for (size_t i = 0; i < callbacks.size(); ++i) {
    EXPECT_EQ(Param(callbacks[i], "CallStatus"), statuses[i]);
    EXPECT_EQ(Param(callbacks[i], "SequenceNumber"), std::to_string(i));
  }
  EXPECT_EQ(Param(callbacks[3], "CallDuration"), "0");  // the fixture's calls hang up at once
  EXPECT_EQ(Param(callbacks[3], "AnsweredBy"), "human");
  EXPECT_EQ(Param(callbacks[0], "CallDuration"), "<absent>");
}

// --- prices ---

TEST(ParsePricesTest, ReadsEachPrefixAndRateAndRefusesBadEntries) {
  const absl::StatusOr<twilio::PrefixPrices> prices = ParsePrices("+1=0.0079, +44=0.04,*=0.05");
  ASSERT_TRUE(prices.ok()) << prices.status();
  EXPECT_EQ(*prices, (twilio::PrefixPrices{{"+1", 7900}, {"+44", 40000}, {"*", 50000}}));
  for (const char* bad : {"44=0.04", "+1=abc", "+1=-0.01", "+=0.01", "+1"}) {
    const absl::StatusOr<twilio::PrefixPrices> parsed = ParsePrices(bad);
    ASSERT_FALSE(parsed.ok()) << bad;
    EXPECT_THAT(parsed.status().message(), ::testing::HasSubstr(absl::StrCat("\"", bad, "\"")));
  }
}

TEST_F(SandboxTest, AMessageIsPricedPerSegmentOnceSentAndNeverInACallback) {
  // 161 GSM-7 characters are two segments; +44 has no rate of its own, so "*" prices it.
  const std::string long_body(161, 'a');
  const SandboxResponse created = Send(
      "POST", kMessages,
      absl::StrCat("To=%2B447700900123&From=%2B15550001111&StatusCallback=http%3A%2F%2Fh%2Fs&Body=",
                   long_body));
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_TRUE(Body(created)["price"].is_null());
  const auto callbacks = sender_.WaitFor(2);
  ASSERT_EQ(callbacks.size(), 2u);
  EXPECT_EQ(Param(callbacks[1], "Price"), "<absent>");
  const nlohmann::json fetched =
      Body(Send("GET", absl::StrCat(absl::StripSuffix(kMessages, ".json"), "/",
                                    Body(created)["sid"].get<std::string>(), ".json")));
  EXPECT_EQ(fetched["num_segments"], "2");
  EXPECT_EQ(fetched["price"], "-0.10000");
  EXPECT_EQ(fetched["price_unit"], "USD");
}

TEST_F(SandboxTest, AFailedMessageCostsNothing) {
  AddFault(R"({"type":"delivery","outcome":"failed"})");
  const SandboxResponse created =
      Send("POST", kMessages, std::string(kSms) + "&StatusCallback=http%3A%2F%2Fh%2Fs");
  ASSERT_EQ(created.status, 201);
  ASSERT_EQ(sender_.WaitFor(1).size(), 1u);
  const nlohmann::json fetched =
      Body(Send("GET", absl::StrCat(absl::StripSuffix(kMessages, ".json"), "/",
                                    Body(created)["sid"].get<std::string>(), ".json")));
  EXPECT_EQ(fetched["status"], "failed");
  EXPECT_EQ(fetched["price"], "0.00000");
}

TEST_F(SandboxTest, ACompletedCallIsPricedPerStartedMinuteAndAnUnansweredOneCostsNothing) {
  StartSandbox({.call_duration = absl::Seconds(1)});
  const auto fetch_call = [this](const SandboxResponse& created) {
    return FetchCall(Body(created)["sid"]);
  };
  const SandboxResponse answered =
      Send("POST", kCalls,
           "To=%2B15551230000&From=%2B15550001111&Twiml=x&StatusCallback=http%3A%2F%2Fh%2Fc");
  ASSERT_EQ(answered.status, 201);
  ASSERT_EQ(sender_.WaitFor(1).size(), 1u);
  EXPECT_EQ(fetch_call(answered)["duration"], "1");
  EXPECT_EQ(fetch_call(answered)["price"], "-0.01400");  // 1 s is one started minute at +1's rate

  clock_.Advance(absl::Seconds(1));  // the account's next turn to dial
  AddFault(R"({"type":"delivery","outcome":"busy"})");
  const SandboxResponse busy =
      Send("POST", kCalls,
           "To=%2B15551230000&From=%2B15550001111&Twiml=x&StatusCallback=http%3A%2F%2Fh%2Fc");
  ASSERT_EQ(busy.status, 201);
  ASSERT_EQ(sender_.WaitFor(2).size(), 2u);
  EXPECT_EQ(fetch_call(busy)["price"], "0.00000");
  // Nobody answered: no duration or end time on the resource (Twilio's API description), and the
  // callback that ends the call says it lasted 0 s.
  EXPECT_TRUE(fetch_call(busy)["duration"].is_null());
  EXPECT_TRUE(fetch_call(busy)["end_time"].is_null());
  EXPECT_EQ(Param(sender_.WaitFor(2)[1], "CallDuration"), "0");
}

// The fixture's clock, which stamps every status step, as Twilio writes a time.
constexpr char kNow[] = "Thu, 30 Jul 2015 20:12:31 +0000";

TEST_F(SandboxTest, ACallHasAStartTimeOnceDialedEvenIfNobodyAnswers) {
  AddFault(R"({"type":"delivery","outcome":"busy"})");
  const SandboxResponse created =
      Send("POST", kCalls,
           "To=%2B15551230000&From=%2B15550001111&Twiml=x&StatusCallback=http%3A%2F%2Fh%2Fc");
  ASSERT_EQ(created.status, 201);
  ASSERT_EQ(sender_.WaitFor(1).size(), 1u);
  const nlohmann::json busy = FetchCall(Body(created)["sid"]);
  EXPECT_EQ(busy["status"], "busy");
  EXPECT_EQ(busy["start_time"], kNow);
  EXPECT_TRUE(busy["end_time"].is_null());
  EXPECT_TRUE(busy["duration"].is_null());
}

TEST_F(SandboxTest, AnAnsweredCallCompletesItsDurationAfterTheAnswerSoItsEndIsNeverAhead) {
  // Two seconds, so the read after the answer's callback finds the call still talking however
  // late this thread runs; the hang-up comes at least that long after the create.
  StartSandbox({.call_duration = absl::Seconds(2)});
  const auto created_at = std::chrono::steady_clock::now();
  const SandboxResponse created =
      Send("POST", kCalls,
           "To=%2B15551230000&From=%2B15550001111&Twiml=x&StatusCallback=http%3A%2F%2Fh%2Fc"
           "&StatusCallbackEvent=answered&StatusCallbackEvent=completed");
  ASSERT_EQ(created.status, 201);
  ASSERT_EQ(sender_.WaitFor(1).size(), 1u);
  const nlohmann::json talking = FetchCall(Body(created)["sid"]);
  EXPECT_EQ(talking["status"], "in-progress");
  EXPECT_TRUE(talking["end_time"].is_null());
  EXPECT_TRUE(talking["duration"].is_null());

  const std::vector<StatusCallback> callbacks = sender_.WaitFor(2);
  ASSERT_EQ(callbacks.size(), 2u);
  EXPECT_GE(std::chrono::steady_clock::now() - created_at, std::chrono::seconds(2));
  EXPECT_EQ(Param(callbacks[1], "CallStatus"), "completed");
  EXPECT_EQ(Param(callbacks[1], "CallDuration"), "2");
  const nlohmann::json completed = FetchCall(Body(created)["sid"]);
  EXPECT_EQ(completed["start_time"], kNow);
  // The fake clock stands still: the end is the answer plus the call's duration.
  EXPECT_EQ(completed["end_time"], "Thu, 30 Jul 2015 20:12:33 +0000");
  EXPECT_EQ(completed["duration"], "2");
}

TEST_F(SandboxTest, ASendersQueuePastItsLimitRefusesMoreWith21611UntilItDrains) {
  StartSandbox({.queue_limit = absl::Seconds(2)});
  // A +1 long code sends a segment a second: the third waits 2 s, the fourth would wait 3.
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(Send("POST", kMessages, kSms).status, 201) << i;
  }
  const SandboxResponse refused = Send("POST", kMessages, kSms);
  EXPECT_EQ(refused.status, 400);
  EXPECT_EQ(Body(refused)["code"], 21611);
  // Another sender has a queue of its own; a toll-free number sends 3 a second.
  for (int i = 0; i < 7; ++i) {
    ASSERT_EQ(Send("POST", kMessages, "To=%2B15551230000&From=%2B18005550100&Body=x").status, 201)
        << i;
  }
  EXPECT_EQ(Send("POST", kMessages, "To=%2B15551230000&From=%2B18005550100&Body=x").status, 400);
  clock_.SleepFor(absl::Seconds(2));
  EXPECT_EQ(Send("POST", kMessages, kSms).status, 201);
}

TEST_F(SandboxTest, AMessageQueuedPastItsValidityPeriodFailsUnsentWith30036) {
  StartSandbox({.queue_limit = absl::Seconds(10)});
  // A +1 long code sends a segment a second: the first two leave within 1 s, the third would
  // wait 2 s in the queue.
  const std::string sms =
      absl::StrCat(kSms, "&StatusCallback=https%3A%2F%2Fhooks.example%2Fs", "&ValidityPeriod=1");
  for (int i = 0; i < 2; ++i) ASSERT_EQ(Send("POST", kMessages, sms).status, 201) << i;
  const SandboxResponse expiring = Send("POST", kMessages, sms);
  ASSERT_EQ(expiring.status, 201) << "Twilio accepts it, then keeps it queued";
  EXPECT_EQ(Body(expiring)["status"], "queued");
  const std::string sid = Body(expiring)["sid"];

  // Two messages sent and delivered, and the third failed once its second in the queue ran out.
  const std::vector<StatusCallback> callbacks = sender_.WaitFor(5);
  ASSERT_EQ(callbacks.size(), 5u);
  std::vector<StatusCallback> third;
  for (const StatusCallback& callback : callbacks) {
    if (Param(callback, "MessageSid") == sid) third.push_back(callback);
  }
  ASSERT_EQ(third.size(), 1u);
  EXPECT_EQ(Param(third[0], "MessageStatus"), "failed");
  EXPECT_EQ(Param(third[0], "ErrorCode"), "30036");
  EXPECT_EQ(FetchMessage(sid)["error_code"], 30036);
  EXPECT_EQ(FetchMessage(sid)["error_message"], "Validity Period Expired");
  // It took no place in the queue: the next message waits 2 s, which its own validity allows,
  // and is delivered.
  const SandboxResponse next = Send(
      "POST", kMessages,
      absl::StrCat(kSms, "&StatusCallback=https%3A%2F%2Fhooks.example", "%2Fs&ValidityPeriod=2"));
  ASSERT_EQ(next.status, 201);
  const std::vector<StatusCallback> all = sender_.WaitFor(7);
  ASSERT_EQ(all.size(), 7u);
  EXPECT_EQ(Param(all[6], "MessageSid"), Body(next)["sid"]);
  EXPECT_EQ(Param(all[6], "MessageStatus"), "delivered");
}

TEST_F(SandboxTest, AMessagingServicesExpiringMessageIsQueuedOnItsNumberThenFails) {
  StartSandbox({.queue_limit = absl::Seconds(10)});
  const std::string sms =
      absl::StrCat("To=%2B15551230000&MessagingServiceSid=", kService,
                   "&Body=disk+full&StatusCallback=https%3A%2F%2Fhooks.example%2Fs");
  for (int i = 0; i < 2; ++i) ASSERT_EQ(Send("POST", kMessages, sms).status, 201) << i;
  const SandboxResponse expiring = Send("POST", kMessages, absl::StrCat(sms, "&ValidityPeriod=1"));
  ASSERT_EQ(expiring.status, 201);
  std::vector<std::string> statuses;
  for (const StatusCallback& callback : sender_.WaitFor(8)) {
    if (Param(callback, "MessageSid") == Body(expiring)["sid"]) {
      statuses.push_back(Param(callback, "MessageStatus"));
    }
  }
  EXPECT_EQ(statuses, (std::vector<std::string>{"queued", "failed"}));
}

TEST_F(SandboxTest, AValidityPeriodOutside1To36000SecondsIsRefusedWith90007) {
  for (const char* validity : {"0", "36001", "ten", "1.5"}) {
    const SandboxResponse refused =
        Send("POST", kMessages, absl::StrCat(kSms, "&ValidityPeriod=", validity));
    EXPECT_EQ(refused.status, 400) << validity;
    EXPECT_EQ(Body(refused)["code"], 90007) << validity;
  }
  EXPECT_EQ(Send("POST", kMessages, absl::StrCat(kSms, "&ValidityPeriod=36000")).status, 201);
  EXPECT_EQ(sandbox_->ledger().Accepted().size(), 1u);
}

// --- what klaxon-admin check --online asks ---

TEST_F(SandboxTest, AnAccountIsFetchedWithItsOwnCredentialsOnly) {
  const SandboxResponse fetched =
      Send("GET", std::string("/2010-04-01/Accounts/") + kDefaultAccountSid + ".json");
  ASSERT_EQ(fetched.status, 200) << fetched.body;
  EXPECT_EQ(Body(fetched)["sid"], kDefaultAccountSid);
  EXPECT_EQ(Body(fetched)["status"], "active");
  EXPECT_EQ(SendAs(kMainKey, kMainKeySecret, "GET",
                   std::string("/2010-04-01/Accounts/") + kDefaultAccountSid + ".json")
                .status,
            200);
  EXPECT_EQ(
      Send("GET", std::string("/2010-04-01/Accounts/") + kDefaultAccountSid + ".json", "", "wrong")
          .status,
      401);
}

TEST_F(SandboxTest, EachAccountListsOnlyItsOwnNumbersAndShortCodes) {
  const std::string numbers =
      std::string("/2010-04-01/Accounts/") + kDefaultAccountSid + "/IncomingPhoneNumbers.json";
  EXPECT_EQ(
      Body(Send("GET", numbers + "?PhoneNumber=%2B15550001111"))["incoming_phone_numbers"].size(),
      1u);
  EXPECT_EQ(
      Body(Send("GET", numbers + "?PhoneNumber=+15550001111"))["incoming_phone_numbers"].size(),
      1u);  // as typed in a query string
  EXPECT_TRUE(Body(Send("GET", numbers + "?PhoneNumber=%2B15550002222"))["incoming_phone_numbers"]
                  .empty());  // the other account's
  const std::string codes =
      std::string("/2010-04-01/Accounts/") + kDefaultAccountSid + "/SMS/ShortCodes.json";
  EXPECT_EQ(Body(Send("GET", codes + "?ShortCode=12345"))["short_codes"].size(), 1u);
  EXPECT_TRUE(Body(Send("GET", codes + "?ShortCode=54321"))["short_codes"].empty());
}

TEST_F(SandboxTest, AMessagingServiceIsTheFirstAccounts) {
  const std::string path = absl::StrCat("/v1/Services/", kService);
  const SandboxResponse found = Send("GET", path);
  ASSERT_EQ(found.status, 200) << found.body;
  EXPECT_EQ(Body(found)["account_sid"], kDefaultAccountSid);
  EXPECT_EQ(Send("GET", "/v1/Services/MG00000000000000000000000000000000").status, 404);
  EXPECT_EQ(SendAs(kOtherAccount, kOtherToken, "GET", path).status, 404);
  EXPECT_EQ(Send("GET", path, "", "wrong").status, 401);
}

TEST_F(SandboxTest, CallWithoutEventsGetsOnlyCompleted) {
  AddFault(R"({"type":"delivery","outcome":"busy"})");
  const SandboxResponse created =
      Send("POST", kCalls,
           "To=%2B15551230000&From=%2B15550001111&Twiml=x&StatusCallback=http%3A%2F%2Fh%2Fc");
  ASSERT_EQ(created.status, 201);
  const std::string sid = Body(created)["sid"];
  const auto callbacks = sender_.WaitFor(1);
  ASSERT_EQ(callbacks.size(), 1u);
  EXPECT_EQ(Param(callbacks[0], "CallStatus"), "busy");
  EXPECT_EQ(Param(callbacks[0], "SequenceNumber"), "0");
  EXPECT_EQ(Param(callbacks[0], "CallDuration"), "0");
  const nlohmann::json fetched = FetchCall(sid);
  EXPECT_EQ(fetched["status"], "busy");
}

TEST_F(SandboxTest, MachineOutcomeIsAnsweredByAMachine) {
  AddFault(R"({"type":"delivery","outcome":"machine"})");
  const SandboxResponse created =
      Send("POST", kCalls,
           "To=%2B15551230000&From=%2B15550001111&Twiml=x&StatusCallback=http%3A%2F%2Fh%2Fc"
           "&MachineDetection=Enable");
  ASSERT_EQ(created.status, 201);
  const auto callbacks = sender_.WaitFor(1);
  ASSERT_EQ(callbacks.size(), 1u);
  EXPECT_EQ(Param(callbacks[0], "CallStatus"), "completed");
  EXPECT_EQ(Param(callbacks[0], "AnsweredBy"), "machine_start");
  // The Call resource says only "human" or "machine" (OpenAPI's answered_by).
  const nlohmann::json fetched = FetchCall(Body(created)["sid"]);
  EXPECT_EQ(fetched["answered_by"], "machine");
}

TEST_F(SandboxTest, AnAccountsCallsAreDialedOneASecondAndTheRestWaitQueued) {
  const std::string call =
      "To=%2B15551230000&From=%2B15550001111&Twiml=x&StatusCallback=http%3A%2F%2Fh%2Fc"
      "&StatusCallbackEvent=initiated";
  std::vector<nlohmann::json> created;
  for (int i = 0; i < 3; ++i) created.push_back(Body(Send("POST", kCalls, call)));
  const nlohmann::json other =
      Body(SendAs(kOtherAccount, kOtherToken, "POST",
                  absl::StrCat("/2010-04-01/Accounts/", kOtherAccount, "/Calls.json"), call));
  EXPECT_EQ(created[0]["queue_time"], "0");
  EXPECT_EQ(created[1]["queue_time"], "1000");
  EXPECT_EQ(created[2]["queue_time"], "2000");
  EXPECT_EQ(other["queue_time"], "0") << "each account has its own turns";

  // The first of each account is dialed at once; the second waits its turn, still queued.
  ASSERT_EQ(sender_.WaitFor(2).size(), 2u);
  const nlohmann::json waiting = FetchCall(created[1]["sid"]);
  EXPECT_EQ(waiting["status"], "queued");
  EXPECT_TRUE(waiting["start_time"].is_null());

  clock_.Advance(absl::Seconds(3));
  EXPECT_EQ(Body(Send("POST", kCalls, call))["queue_time"], "0") << "the queue has been worked off";
}

TEST(SandboxCreateTest, RefusesANegativeCallRate) {
  timing::FakeClock clock;
  RecordingSender sender;
  SandboxOptions options;
  options.calls_per_second = -1;
  EXPECT_EQ(TwilioSandbox::Create(options, clock, sender).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(SandboxTest, MachineDetectionIsEnableOrDetectMessageEndAndNothingElse) {
  const std::string call = "To=%2B15551230000&From=%2B15550001111&Twiml=x&MachineDetection=";
  EXPECT_EQ(Send("POST", kCalls, call + "Enable").status, 201);
  EXPECT_EQ(Send("POST", kCalls, call + "DetectMessageEnd").status, 201);
  const SandboxResponse refused = Send("POST", kCalls, call + "true");
  EXPECT_EQ(refused.status, 400);
  EXPECT_EQ(Body(refused)["code"], 21234);
  EXPECT_THAT(Body(refused)["message"].get<std::string>(),
              ::testing::HasSubstr("MachineDetection"));
}

TEST_F(SandboxTest, WithDetectMessageEndAMachineIsReportedAtTheEndOfItsGreeting) {
  AddFault(R"({"type":"delivery","outcome":"machine"})");
  const SandboxResponse created =
      Send("POST", kCalls,
           "To=%2B15551230000&From=%2B15550001111&Twiml=x&StatusCallback=http%3A%2F%2Fh%2Fc"
           "&MachineDetection=DetectMessageEnd");
  ASSERT_EQ(created.status, 201);
  const auto callbacks = sender_.WaitFor(1);
  ASSERT_EQ(callbacks.size(), 1u);
  EXPECT_EQ(Param(callbacks[0], "AnsweredBy"), "machine_end_beep");
  EXPECT_EQ(FetchCall(Body(created)["sid"])["answered_by"], "machine");
}

TEST_F(SandboxTest, ADeliveryRuleChoosesWhoAnswersAndTheResourceSaysHumanOrMachine) {
  struct Case {
    const char* answered_by;
    nlohmann::json resource;  // the Call resource's answered_by
  };
  for (const Case& answer : {Case{"fax", "machine"}, Case{"machine_end_silence", "machine"},
                             Case{"human", "human"}, Case{"unknown", nullptr}}) {
    AddFault(absl::StrCat(R"({"type":"delivery","outcome":"answered","count":1,"answered_by":")",
                          answer.answered_by, R"("})"));
    const size_t seen = sender_.sent().size();
    const SandboxResponse created =
        Send("POST", kCalls,
             "To=%2B15551230000&From=%2B15550001111&Twiml=x&StatusCallback=http%3A%2F%2Fh%2Fc"
             "&MachineDetection=Enable");
    ASSERT_EQ(created.status, 201);
    const auto callbacks = sender_.WaitFor(seen + 1);
    ASSERT_EQ(callbacks.size(), seen + 1);
    EXPECT_EQ(Param(callbacks.back(), "AnsweredBy"), answer.answered_by);
    EXPECT_EQ(FetchCall(Body(created)["sid"])["answered_by"], answer.resource)
        << answer.answered_by;
    clock_.Advance(absl::Seconds(1));  // the account's next turn to dial
  }
}

TEST_F(SandboxTest, WithoutMachineDetectionNobodyReportsWhoAnswered) {
  AddFault(R"({"type":"delivery","outcome":"answered","answered_by":"fax"})");
  const SandboxResponse created =
      Send("POST", kCalls,
           "To=%2B15551230000&From=%2B15550001111&Twiml=x&StatusCallback=http%3A%2F%2Fh%2Fc");
  ASSERT_EQ(created.status, 201);
  const auto callbacks = sender_.WaitFor(1);
  ASSERT_EQ(callbacks.size(), 1u);
  EXPECT_EQ(Param(callbacks[0], "AnsweredBy"), "<absent>");
  EXPECT_TRUE(FetchCall(Body(created)["sid"])["answered_by"].is_null());
}

TEST_F(SandboxTest, KeyPressIsPostedSignedToTheGatherActionBeforeTheCallCompletes) {
  AddFault(R"({"type":"delivery","outcome":"key-press","digits":"7"})");
  // <Response><Gather numDigits="1"
  // action="http://h/g?a=1&amp;b=2"><Say>x</Say></Gather></Response>
  ASSERT_EQ(Send("POST", kCalls,
                 "To=%2B15551230000&From=%2B15550001111&StatusCallback=http%3A%2F%2Fh%2Fc"
                 "&Twiml=%3CResponse%3E%3CGather%20numDigits%3D%221%22%20action%3D%22http%3A%2F%2Fh"
                 "%2Fg%3Fa%3D1%26amp%3Bb%3D2%22%3E%3CSay%3Ex%3C%2FSay%3E%3C%2FGather%3E%3C%2F"
                 "Response%3E")
                .status,
            201);
  const auto sent = sender_.WaitFor(2);
  ASSERT_EQ(sent.size(), 2u);
  const StatusCallback& press = sent[0];
  EXPECT_EQ(press.url, "http://h/g?a=1&b=2");
  EXPECT_EQ(Param(press, "Digits"), "7");
  EXPECT_EQ(Param(press, "CallStatus"), "in-progress");
  EXPECT_EQ(Header(press, "X-Twilio-Signature"),
            twilio::ComputeSignature(twilio::kSandboxAuthToken, press.url, press.params));
  EXPECT_EQ(Param(sent[1], "CallStatus"), "completed");
}

}  // namespace
}  // namespace klaxon::sandbox
