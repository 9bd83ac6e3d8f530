// The sandbox served over loopback, driven by Klaxon's real TwilioRestClient, with status
// callbacks received by a local HTTP server and checked with ComputeSignature.

#include "tools/twilio-sandbox/server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pistache/endpoint.h>
#include <pistache/http.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "common/http/form.h"
#include "common/twilio/signature.h"
#include "common/twilio/twilio_rest_client.h"
#include "common/twilio/webhook_routes.h"
#include "gtest/gtest.h"

namespace klaxon::sandbox {
namespace {

constexpr char kApiKey[] = "SK00000000000000000000000000000000";
constexpr char kApiKeySecret[] = "api-key-secret";

// Whether a plain TCP connect to 127.0.0.1:port succeeds.
bool Connects(uint16_t port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool connected =
      connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) == 0;
  close(fd);
  return connected;
}

struct ReceivedCallback {
  std::string resource;
  std::string signature;
  std::string idempotency_token;
  std::string body;
};

// A status-callback receiver, like Klaxon's ingress would be.
class Receiver {
 public:
  Receiver() : endpoint_(Pistache::Address("127.0.0.1", Pistache::Port(0))) {
    endpoint_.init(Pistache::Http::Endpoint::options().threads(1));
    endpoint_.setHandler(Pistache::Http::make_handler<Handler>(this));
    endpoint_.serveThreaded();
  }
  ~Receiver() { endpoint_.shutdown(); }

  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(static_cast<uint16_t>(endpoint_.getPort())) + path;
  }

  std::vector<ReceivedCallback> WaitFor(size_t count) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (std::chrono::steady_clock::now() < deadline) {
      {
        std::lock_guard<std::mutex> lock(mutex_);
        if (received_.size() >= count) return received_;
      }
      std::this_thread::yield();
    }
    std::lock_guard<std::mutex> lock(mutex_);
    return received_;
  }

 private:
  class Handler : public Pistache::Http::Handler {
   public:
    HTTP_PROTOTYPE(Handler)
    explicit Handler(Receiver* receiver) : receiver_(receiver) {}
    void onRequest(const Pistache::Http::Request& request,
                   Pistache::Http::ResponseWriter writer) override {
      ReceivedCallback callback;
      callback.resource = request.resource() + request.query().as_str();
      if (auto raw = request.headers().tryGetRaw("X-Twilio-Signature")) {
        callback.signature = raw->value();
      }
      if (auto raw = request.headers().tryGetRaw("I-Twilio-Idempotency-Token")) {
        callback.idempotency_token = raw->value();
      }
      callback.body = request.body();
      {
        std::lock_guard<std::mutex> lock(receiver_->mutex_);
        receiver_->received_.push_back(std::move(callback));
      }
      writer.send(Pistache::Http::Code::No_Content);
    }

   private:
    Receiver* receiver_;
  };

  Pistache::Http::Endpoint endpoint_;
  std::mutex mutex_;
  std::vector<ReceivedCallback> received_;
};

class SandboxServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SandboxOptions options;
    options.accounts.front().api_keys = {{kApiKey, kApiKeySecret}};
    options.callback_delay = absl::Milliseconds(5);
    options.max_hang = absl::Seconds(1);
    auto sandbox = TwilioSandbox::Create(options, clock_, sender_);
    ASSERT_TRUE(sandbox.ok()) << sandbox.status();
    sandbox_ = std::move(sandbox).value();
    auto server = SandboxServer::Start(SandboxServerOptions(), *sandbox_);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(server).value();
    client_ = MakeClient(twilio::kSandboxAuthToken, absl::Seconds(5));
  }

  std::unique_ptr<twilio::TwilioRestClient> MakeClient(std::string_view token,
                                                       absl::Duration timeout) {
    twilio::TwilioRestClientOptions options;
    options.base_url = "http://127.0.0.1:" + std::to_string(server_->port());
    options.account_sid = kDefaultAccountSid;
    options.auth_token = std::string(token);
    options.total_timeout = timeout;
    auto client = twilio::TwilioRestClient::Create(options);
    EXPECT_TRUE(client.ok()) << client.status();
    return std::move(client).value();
  }

  static twilio::CreateMessageRequest Sms(const std::string& status_callback = "") {
    twilio::CreateMessageRequest request;
    request.to = "+15551230000";
    request.from = "+15550001111";
    request.body = "disk full";
    if (!status_callback.empty()) request.status_callback = status_callback;
    return request;
  }

  timing::RealClock clock_;
  CurlCallbackSender sender_{absl::Seconds(5), /*max_idle=*/4};
  std::unique_ptr<TwilioSandbox> sandbox_;
  std::unique_ptr<SandboxServer> server_;
  std::unique_ptr<twilio::TwilioRestClient> client_;
};

TEST_F(SandboxServerTest, CreatesAndFetchesMessageThroughRestClient) {
  const auto created = client_->CreateMessage(Sms());
  ASSERT_TRUE(created.ok()) << created.error().message;
  EXPECT_EQ(created.value().status, "queued");
  EXPECT_EQ(created.value().num_segments, 1);
  ASSERT_TRUE(created.value().date_created.has_value());
  const auto fetched = client_->FetchMessage(created.value().sid);
  ASSERT_TRUE(fetched.ok()) << fetched.error().message;
  EXPECT_EQ(fetched.value().sid, created.value().sid);
  EXPECT_EQ(sandbox_->ledger().Accepted("+15551230000").size(), 1u);
}

TEST_F(SandboxServerTest, CreatesCallThroughRestClient) {
  twilio::CreateCallRequest request;
  request.to = "+15551230000";
  request.from = "+15550001111";
  request.twiml = "<Response><Say>Disk full</Say></Response>";
  request.status_callback_events = {"initiated", "completed"};
  const auto created = client_->CreateCall(request);
  ASSERT_TRUE(created.ok()) << created.error().message;
  EXPECT_EQ(created.value().status, "queued");
  EXPECT_TRUE(created.value().sid.starts_with("CA"));
  EXPECT_EQ(sandbox_->ledger().Accepted()[0].twiml, request.twiml);
}

TEST_F(SandboxServerTest, RestClientAuthenticatesWithAnApiKey) {
  twilio::TwilioRestClientOptions options;
  options.base_url = "http://127.0.0.1:" + std::to_string(server_->port());
  options.account_sid = kDefaultAccountSid;
  options.api_key_sid = kApiKey;
  options.api_key_secret = kApiKeySecret;
  auto client = twilio::TwilioRestClient::Create(options);
  ASSERT_TRUE(client.ok()) << client.status();
  const auto created = (*client)->CreateMessage(Sms());
  ASSERT_TRUE(created.ok()) << created.error().message;
  options.api_key_secret = "wrong";
  auto wrong = twilio::TwilioRestClient::Create(options);
  ASSERT_TRUE(wrong.ok()) << wrong.status();
  EXPECT_EQ((*wrong)->CreateMessage(Sms()).error().http_status, 401);
}

TEST_F(SandboxServerTest, WrongTokenIsAnswered401) {
  const auto result = MakeClient("wrong", absl::Seconds(5))->CreateMessage(Sms());
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().transport, twilio::Transport::kAnswered);
  EXPECT_EQ(result.error().http_status, 401);
  EXPECT_EQ(result.error().code, 20003);
}

TEST_F(SandboxServerTest, InvalidNumberIsAnswered21211) {
  twilio::CreateMessageRequest request = Sms();
  request.to = "5551230000";
  const auto result = client_->CreateMessage(request);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().http_status, 400);
  EXPECT_EQ(result.error().code, 21211);
}

TEST_F(SandboxServerTest, RateLimitCarriesRetryAfterToClient) {
  auto rules = ParseFaultRules(R"({"type":"rate_limit","count":1,"retry_after_s":2})");
  ASSERT_TRUE(rules.ok());
  sandbox_->faults().Add(rules->front());
  const auto limited = client_->CreateMessage(Sms());
  ASSERT_FALSE(limited.ok());
  EXPECT_EQ(limited.error().code, 20429);
  EXPECT_EQ(limited.error().retry_after, absl::Seconds(2));
  EXPECT_TRUE(client_->CreateMessage(Sms()).ok());
}

TEST_F(SandboxServerTest, HangLeavesClientWithUnknownOutcome) {
  auto rules = ParseFaultRules(R"({"type":"hang","hang_ms":800,"accept":true})");
  ASSERT_TRUE(rules.ok());
  sandbox_->faults().Add(rules->front());
  const auto result =
      MakeClient(twilio::kSandboxAuthToken, absl::Milliseconds(200))->CreateMessage(Sms());
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().transport, twilio::Transport::kUnknown);
  // The request was processed: reading the resource back settles the outcome.
  ASSERT_EQ(sandbox_->ledger().Accepted().size(), 1u);
  EXPECT_TRUE(client_->FetchMessage(sandbox_->ledger().Accepted()[0].sid).ok());
}

TEST_F(SandboxServerTest, StatusCallbacksArriveSignedAtReceiver) {
  Receiver receiver;
  const std::string url = receiver.url("/twilio/status?alert=a1");
  const auto created = client_->CreateMessage(Sms(url));
  ASSERT_TRUE(created.ok()) << created.error().message;
  const auto callbacks = receiver.WaitFor(2);
  ASSERT_EQ(callbacks.size(), 2u);
  for (const ReceivedCallback& callback : callbacks) {
    EXPECT_EQ(callback.resource, "/twilio/status?alert=a1");
    const absl::StatusOr<twilio::FormParams> params = http::DecodeForm(callback.body);
    ASSERT_TRUE(params.ok()) << params.status();
    EXPECT_TRUE(twilio::SignatureMatches(
        twilio::ComputeSignature(twilio::kSandboxAuthToken, url, *params), callback.signature));
    EXPECT_FALSE(twilio::SignatureMatches(twilio::ComputeSignature("other-token", url, *params),
                                          callback.signature));
    EXPECT_FALSE(callback.idempotency_token.empty());
  }
  const auto fetched = client_->FetchMessage(created.value().sid);
  ASSERT_TRUE(fetched.ok());
  EXPECT_EQ(fetched.value().status, "delivered");
}

// Twilio signs the StatusCallback exactly as given and requests it as given; an HTTP client that
// normalised the path (curl squashes "/./" and "/../" by default) would post to a URL other than
// the one signed, and a verifier rebuilding the URL from the request would reject it.
TEST_F(SandboxServerTest, StatusCallbacksArePostedToTheSignedUrlVerbatim) {
  Receiver receiver;
  const std::string url = receiver.url("/hooks/./twilio/../twilio/status?alert=a1");
  ASSERT_TRUE(client_->CreateMessage(Sms(url)).ok());
  const auto callbacks = receiver.WaitFor(1);
  ASSERT_FALSE(callbacks.empty());
  EXPECT_EQ(callbacks[0].resource, "/hooks/./twilio/../twilio/status?alert=a1");
  const absl::StatusOr<twilio::FormParams> params = http::DecodeForm(callbacks[0].body);
  ASSERT_TRUE(params.ok()) << params.status();
  EXPECT_TRUE(twilio::SignatureMatches(
      twilio::ComputeSignature(twilio::kSandboxAuthToken, url, *params), callbacks[0].signature));
}

// Pistache 0.0.5 keeps the listening socket open after shutdown() until the endpoint is
// destroyed, so a stopped sandbox would otherwise accept connections and never answer.
TEST_F(SandboxServerTest, ShutdownStopsAcceptingConnections) {
  const uint16_t port = server_->port();
  ASSERT_TRUE(Connects(port));
  server_->Shutdown();
  EXPECT_FALSE(Connects(port));
  server_->Shutdown();  // idempotent
}

}  // namespace
}  // namespace klaxon::sandbox
