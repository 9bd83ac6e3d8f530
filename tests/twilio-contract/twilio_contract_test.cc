// Contract test (needs Prism, installed by tests/twilio-contract/install-prism.sh): every
// request TwilioRestClient sends is checked by `prism mock --errors` against Twilio's OpenAPI
// description (twilio_api_v2010.json), which answers 422 to any request the spec does not allow.
//
// Environment: KLAXON_TEST_PRISM (prism binary; default
// ${KLAXON_CACHE:-$HOME/.cache/klaxon}/prism/node_modules/.bin/prism), KLAXON_TEST_TWILIO_SPEC
// (default: ../shared/twilio/twilio_api_v2010.json beside the repository).

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>

#include "common/twilio/twilio_rest_client.h"
#include "gtest/gtest.h"
#include "tests/support/process.h"
#include "tests/support/support.h"

namespace klaxon::twilio {
namespace {

constexpr char kAccount[] = "AC00000000000000000000000000000000";

std::string EnvOr(const char* name, const std::string& fallback) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? value : fallback;
}

std::string PrismPath() {
  return EnvOr("KLAXON_TEST_PRISM",
               klaxon::testing::ToolCacheDir() + "/prism/node_modules/.bin/prism");
}

bool Accepts(uint16_t port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(port);
  const bool connected = connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
  close(fd);
  return connected;
}

// Runs `prism mock <spec> --errors` for the whole test binary and always stops it: the child
// gets SIGKILL if this process dies, and its process group gets SIGTERM at tear-down.
class PrismEnvironment : public ::testing::Environment {
 public:
  static inline uint16_t port = 0;

  void SetUp() override {
    const std::string prism = PrismPath();
    const std::string spec = EnvOr("KLAXON_TEST_TWILIO_SPEC", KLAXON_TWILIO_SPEC);
    ASSERT_EQ(access(prism.c_str(), X_OK), 0)
        << "prism not found at " << prism
        << "; run tests/twilio-contract/install-prism.sh or set KLAXON_TEST_PRISM";
    ASSERT_EQ(access(spec.c_str(), R_OK), 0) << "Twilio spec not found at " << spec;
    port = static_cast<uint16_t>(klaxon::testing::FreePort());
    const std::string port_text = std::to_string(port);
    pid_ = fork();
    ASSERT_GE(pid_, 0);
    if (pid_ == 0) {
      setpgid(0, 0);
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      execl(prism.c_str(), prism.c_str(), "mock", spec.c_str(), "--errors", "-h", "127.0.0.1", "-p",
            port_text.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    // Prism parses a 1.8 MB spec before it listens.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (!Accepts(port)) {
      int status = 0;
      ASSERT_EQ(waitpid(pid_, &status, WNOHANG), 0) << "prism exited before listening";
      ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "prism did not start in 60 s";
      std::this_thread::sleep_for(std::chrono::milliseconds(50));  // poll interval, not a wait
    }
  }

  void TearDown() override {
    if (pid_ <= 0) return;
    kill(-pid_, SIGTERM);
    kill(pid_, SIGTERM);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
  }

 private:
  pid_t pid_ = -1;
};

std::unique_ptr<TwilioRestClient> Client() {
  TwilioRestClientOptions options;
  options.base_url = "http://127.0.0.1:" + std::to_string(PrismEnvironment::port);
  options.account_sid = kAccount;
  options.auth_token = "contract-token";
  auto client = TwilioRestClient::Create(options);
  EXPECT_TRUE(client.ok()) << client.status();
  return std::move(client).value();
}

std::string Describe(const TwilioError& error) {
  return "HTTP " + std::to_string(error.http_status) + " " + error.message;
}

TEST(TwilioContractPrismTest, CreateMessageMatchesSpec) {
  CreateMessageRequest request;
  request.to = "+15551230000";
  request.from = "+15550001111";
  request.body = "Disk full on db-1 & db-2 (100%)";
  request.status_callback = "https://klaxon.example.com/twilio/status?alert=a1";
  request.validity_period = absl::Seconds(600);
  const auto result = Client()->CreateMessage(request);
  ASSERT_TRUE(result.ok()) << Describe(result.error());
  EXPECT_TRUE(result.value().sid.starts_with("SM"));
}

TEST(TwilioContractPrismTest, CreateCallMatchesSpec) {
  CreateCallRequest request;
  request.to = "+15551230000";
  request.from = "+15550001111";
  request.twiml = "<Response><Say>Disk full</Say></Response>";
  request.status_callback = "https://klaxon.example.com/twilio/call-status";
  // status_callback_events stays empty: Twilio reads an array field as a repeated key
  // (StatusCallbackEvent=initiated&StatusCallbackEvent=completed), which is what the client
  // sends (twilio_rest_client_test checks the bytes), but Prism 5 keeps only the last
  // repeated key and reports "must be array" (stoplightio/prism#2473, still open).
  request.machine_detection = "Enable";
  request.timeout = absl::Seconds(30);
  const auto result = Client()->CreateCall(request);
  ASSERT_TRUE(result.ok()) << Describe(result.error());
  EXPECT_TRUE(result.value().sid.starts_with("CA"));
}

TEST(TwilioContractPrismTest, FetchMessageMatchesSpec) {
  const auto result = Client()->FetchMessage("SM0123456789abcdef0123456789abcdef");
  ASSERT_TRUE(result.ok()) << Describe(result.error());
  EXPECT_FALSE(result.value().status.empty());
}

TEST(TwilioContractPrismTest, FetchCallMatchesSpec) {
  const auto result = Client()->FetchCall("CA0123456789abcdef0123456789abcdef");
  ASSERT_TRUE(result.ok()) << Describe(result.error());
  EXPECT_FALSE(result.value().status.empty());
}

// Prism checks a list request like any other (422 when the spec does not allow it), but the
// example list answers of twilio_api_v2010.json fail Prism's own response check (it then answers
// 500), which says nothing about the request: only a 422 fails these.
template <typename Page>
void ExpectRequestAllowed(const TwilioResult<Page>& result) {
  if (!result.ok()) {
    EXPECT_NE(result.error().http_status, 422) << Describe(result.error());
  }
}

TEST(TwilioContractPrismTest, ListMessagesMatchesSpec) {
  ExpectRequestAllowed(Client()->ListMessages({.to = "+14155550100", .from = "+14155552671"}));
}

TEST(TwilioContractPrismTest, ListCallsMatchesSpec) {
  ExpectRequestAllowed(Client()->ListCalls({.to = "+14155550100", .from = "+14155552671"}));
}

size_t Collect(char* data, size_t size, size_t count, void* user) {
  static_cast<std::string*>(user)->append(data, size * count);
  return size * count;
}

// Proves the check can fail: a create without To is answered 422 by Prism.
TEST(TwilioContractPrismTest, PrismRejectsMessageWithoutTo) {
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), &curl_easy_cleanup);
  ASSERT_NE(curl, nullptr);
  const std::string url = "http://127.0.0.1:" + std::to_string(PrismEnvironment::port) +
                          "/2010-04-01/Accounts/" + kAccount + "/Messages.json";
  const std::string form = "From=%2B15550001111&Body=hi";
  std::string body;
  curl_easy_setopt(curl.get(), CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl.get(), CURLOPT_USERPWD, "AC00000000000000000000000000000000:token");
  curl_easy_setopt(curl.get(), CURLOPT_POSTFIELDS, form.c_str());
  curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, &Collect);
  curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, &body);
  ASSERT_EQ(curl_easy_perform(curl.get()), CURLE_OK);
  long status = 0;  // NOLINT(runtime/int): libcurl's type
  curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &status);
  EXPECT_EQ(status, 422);
  EXPECT_NE(body.find("required property 'To'"), std::string::npos) << body;
}

}  // namespace
}  // namespace klaxon::twilio

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  ::testing::AddGlobalTestEnvironment(new klaxon::twilio::PrismEnvironment);
  return RUN_ALL_TESTS();
}
