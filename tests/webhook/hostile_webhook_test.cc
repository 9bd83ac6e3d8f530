// The webhook port under attack: one klaxon-ingress (the test stack's Kafka and Redis) takes every
// class of hostile input the issue names, over loopback, and must answer each with its 4xx (never
// a 5xx other than 503 with Retry-After), hold its resident memory (VmRSS grows by less than
// 32 MiB across the whole suite), keep answering valid signed callbacks quickly while 1,000 idle
// connections sit open (p99 under 50 ms, printed), and never publish a replay twice because only
// an unsigned header changed. Hostile clients use their own loopback addresses (127.0.0.2 and up)
// so the per-source connection cap that stops them does not stop the valid client at 127.0.0.1.
//
// The suite shares one ingress: ResidentMemoryGrewLessThan32MiB, declared last, compares its RSS
// with the one measured after start-up.

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/http/form.h"
#include "common/kafka/topics.h"
#include "common/twilio/signature.h"
#include "tests/support/kafka.h"
#include "tests/support/process.h"
#include "tests/support/redis.h"
#include "tests/support/support.h"
#include "tests/webhook/webhook_harness.h"

namespace klaxon::webhook_test {
namespace {

constexpr char kAuthToken[] = "7e1d0c9b8a7f46e5a4d3c2b1a0f9e8d7";
constexpr char kStatusPath[] = "/twilio/messages/status";
constexpr int kPerSourceCap = 64;
constexpr int kSlowlorisConnections = 1000;
constexpr int64_t kMaxRssGrowthKiB = 32 * 1024;

// A raw loopback client from a chosen source address, so a test controls every byte on the wire.
class RawClient {
 public:
  RawClient(int port, const std::string& source) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in local{};
    local.sin_family = AF_INET;
    ::inet_pton(AF_INET, source.c_str(), &local.sin_addr);
    sockaddr_in remote{};
    remote.sin_family = AF_INET;
    remote.sin_port = htons(static_cast<uint16_t>(port));
    remote.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = fd_ >= 0 && ::bind(fd_, reinterpret_cast<sockaddr*>(&local), sizeof(local)) == 0 &&
                 ::connect(fd_, reinterpret_cast<sockaddr*>(&remote), sizeof(remote)) == 0;
  }
  ~RawClient() {
    if (fd_ >= 0) ::close(fd_);
  }
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;

  bool connected() const { return connected_; }

  // False once the server has closed or reset the connection.
  bool Send(std::string_view bytes) {
    while (!bytes.empty()) {
      const ssize_t sent = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (sent <= 0) return false;
      bytes.remove_prefix(static_cast<size_t>(sent));
    }
    return true;
  }

  // One response (head and Content-Length body); "" when the connection closed or nothing came
  // within `timeout`.
  std::string ReadResponse(absl::Duration timeout = absl::Seconds(10)) {
    const absl::Time deadline = absl::Now() + timeout;
    while (true) {
      const size_t head_end = buffer_.find("\r\n\r\n");
      if (head_end != std::string::npos) {
        size_t length = 0;
        const size_t at = buffer_.find("Content-Length: ");
        if (at != std::string::npos && at < head_end) {
          (void)absl::SimpleAtoi(buffer_.substr(at + 16, buffer_.find("\r\n", at) - at - 16),
                                 &length);
        }
        if (buffer_.size() >= head_end + 4 + length) {
          std::string response = buffer_.substr(0, head_end + 4 + length);
          buffer_.erase(0, head_end + 4 + length);
          return response;
        }
      }
      if (!Receive(deadline)) return "";
    }
  }

  // True when the server closes the connection within `timeout` (bytes before that are kept).
  bool ClosedWithin(absl::Duration timeout) {
    const absl::Time deadline = absl::Now() + timeout;
    while (Receive(deadline)) {
    }
    return closed_;
  }

 private:
  bool Receive(absl::Time deadline) {
    const int64_t left = std::max<int64_t>(0, absl::ToInt64Milliseconds(deadline - absl::Now()));
    pollfd waiting{.fd = fd_, .events = POLLIN, .revents = 0};
    if (::poll(&waiting, 1, static_cast<int>(left)) <= 0) return false;
    char chunk[16 * 1024];
    const ssize_t n = ::recv(fd_, chunk, sizeof(chunk), 0);
    if (n <= 0) {
      closed_ = true;
      return false;
    }
    buffer_.append(chunk, static_cast<size_t>(n));
    return true;
  }

  int fd_;
  bool connected_ = false;
  bool closed_ = false;
  std::string buffer_;
};

int Status(const std::string& response) {
  int status = 0;
  if (response.size() >= 12 && absl::StartsWith(response, "HTTP/1.1 ")) {
    (void)absl::SimpleAtoi(response.substr(9, 3), &status);
  }
  return status;
}

// VmRSS of `pid` in KiB, or -1.
int64_t ResidentKiB(pid_t pid) {
  std::ifstream status(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(status, line)) {
    if (absl::StartsWith(line, "VmRSS:")) {
      int64_t kib = -1;
      std::istringstream(line.substr(6)) >> kib;
      return kib;
    }
  }
  return -1;
}

// Lets this process hold the slowloris' descriptors (ingress raises its own limit at start).
void RaiseFileLimit() {
  rlimit files{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &files), 0);
  files.rlim_cur = files.rlim_max;
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &files), 0);
  ASSERT_GE(files.rlim_cur, static_cast<rlim_t>(3 * kSlowlorisConnections))
      << "the hard open-file limit is too low for the slowloris";
}

class HostileWebhookTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ASSERT_NO_FATAL_FAILURE(RaiseFileLimit());
    dir_ = new TestDir();
    brokers_ = klaxon::testing::RequiredEnv("KLAXON_TEST_KAFKA_BROKERS");
    prefix_ = klaxon::testing::UniquePrefix();
    const absl::Status topics = CreateTopics(brokers_, prefix_, absl::Seconds(60));
    ASSERT_TRUE(topics.ok()) << topics;
    auto topic =
        TwilioEventTopic::Create(brokers_, *kafka::PrefixedTopic(prefix_, kafka::kTwilioEvents));
    ASSERT_TRUE(topic.ok()) << topic.status();
    topic_ = topic->release();
    ingress_ = new Ingress();
    ASSERT_NO_FATAL_FAILURE(ingress_->Start(
        {.kafka_brokers = brokers_,
         .redis_url = klaxon::testing::RequiredEnv("KLAXON_TEST_REDIS_URL"),
         .prefix = prefix_,
         .auth_token = kAuthToken,
         .extra_env = {{"KLAXON_WEBHOOK_MAX_CONNECTIONS_PER_SOURCE",
                        std::to_string(kPerSourceCap)},
                       {"KLAXON_WEBHOOK_HEADER_TIMEOUT", "1s"},
                       {"KLAXON_WEBHOOK_BODY_TIMEOUT", "1s"},
                       // A per-source rate the valid client never reaches, the floods do.
                       {"KLAXON_WEBHOOK_RATE_LIMIT", "500"},
                       // 127.0.0.9 plays a proxy; nobody else's X-Forwarded-For counts.
                       {"KLAXON_WEBHOOK_TRUSTED_PROXIES", "127.0.0.9/32"}},
         .log_path = dir_->path() + "/ingress.log"}));
    port_ = std::stoi(ingress_->address_url().substr(ingress_->address_url().rfind(':') + 1));
    // One accepted callback first: Kafka's metadata and the producer's connections are part of
    // the baseline, not of what the attacks cost.
    const std::string warm_up = SignedCallback("SMwarmup", "delivered", "warm-up");
    RawClient client(port_, "127.0.0.1");
    ASSERT_TRUE(client.Send(warm_up));
    ASSERT_EQ(Status(client.ReadResponse()), 204);
    baseline_rss_kib_ = ResidentKiB(ingress_->pid());
    ASSERT_GT(baseline_rss_kib_, 0);
    std::printf("ingress VmRSS after start-up: %lld KiB\n",
                static_cast<long long>(baseline_rss_kib_));
  }

  static void TearDownTestSuite() {
    delete ingress_;
    ingress_ = nullptr;
    delete topic_;
    topic_ = nullptr;
    if (!prefix_.empty()) {
      klaxon::testing::DeleteTestTopics(brokers_, prefix_);
      klaxon::testing::DeleteTestKeys(prefix_);
    }
    delete dir_;
    dir_ = nullptr;
  }

  // A message status callback as Twilio sends it, signed for the URL ingress serves.
  static std::string SignedCallback(const std::string& sid, const std::string& status,
                                    const std::string& token) {
    const http::FormParams params = {{"MessageSid", sid},
                                     {"MessageStatus", status},
                                     {"AccountSid", "AC7e1d0c9b8a7f46e5a4d3c2b1a0f9e8d7"}};
    const std::string body = http::EncodeForm(params);
    std::string wire = absl::StrCat(
        "POST ", kStatusPath, " HTTP/1.1\r\nHost: 127.0.0.1\r\n",
        "Content-Type: application/x-www-form-urlencoded\r\n", "X-Twilio-Signature: ",
        twilio::ComputeSignature(kAuthToken, ingress_->address_url() + kStatusPath, params),
        "\r\n");
    if (!token.empty()) absl::StrAppend(&wire, "I-Twilio-Idempotency-Token: ", token, "\r\n");
    absl::StrAppend(&wire, "Content-Length: ", body.size(), "\r\n\r\n", body);
    return wire;
  }

  // Sends `wire` on a new connection from `source`; the status of the answer (0 for none) and
  // whether the server then closed the connection.
  static std::pair<int, bool> Refusal(const std::string& wire,
                                      const std::string& source = "127.0.0.2") {
    RawClient client(port_, source);
    EXPECT_TRUE(client.connected());
    client.Send(wire);
    const std::string response = client.ReadResponse();
    return {Status(response), client.ClosedWithin(absl::Seconds(5))};
  }

  static inline TestDir* dir_ = nullptr;
  static inline std::string brokers_;
  static inline std::string prefix_;
  static inline TwilioEventTopic* topic_ = nullptr;
  static inline Ingress* ingress_ = nullptr;
  static inline int port_ = 0;
  static inline int64_t baseline_rss_kib_ = 0;
};

TEST_F(HostileWebhookTest, AnEndlessBodyBehindAWrappingLengthIsRefused413AtOnce) {
  RawClient client(port_, "127.0.0.2");
  ASSERT_TRUE(client.connected());
  ASSERT_TRUE(client.Send(absl::StrCat("POST ", kStatusPath,
                                       " HTTP/1.1\r\nContent-Length: 18446744073709551615\r\n"
                                       "Content-Type: application/x-www-form-urlencoded\r\n\r\n")));
  // Stream up to 64 MiB: the server must stop it long before (socket buffers hold a few MiB).
  const std::string chunk(64 * 1024, 'x');
  int64_t streamed = 0;
  while (streamed < 64 * 1024 * 1024 && client.Send(chunk)) {
    streamed += static_cast<int64_t>(chunk.size());
  }
  EXPECT_LT(streamed, 64 * 1024 * 1024) << "the server kept reading an endless body";
  EXPECT_EQ(Status(client.ReadResponse()), 413);
}

TEST_F(HostileWebhookTest, AmbiguousLengthsAre400And411AndCloseTheConnection) {
  const std::string head = absl::StrCat("POST ", kStatusPath, " HTTP/1.1\r\n");
  const std::vector<std::pair<std::string, int>> cases = {
      {"Content-Length: 5\r\nContent-Length: 5", 400},
      {"Content-Length: 5\r\nContent-Length: 6", 400},
      {"Content-Length: 5\r\nTransfer-Encoding: chunked", 400},
      {"Content-Length: -5", 400},
      {"Content-Length: 5a", 400},
      {"Transfer-Encoding: chunked", 411}};
  for (const auto& [headers, expected] : cases) {
    const auto [status, closed] = Refusal(absl::StrCat(head, headers, "\r\n\r\nhello"));
    EXPECT_EQ(status, expected) << headers;
    EXPECT_TRUE(closed) << headers;
  }
}

TEST_F(HostileWebhookTest, MalformedAndOversizedHeadsAre4xx) {
  const std::vector<std::pair<std::string, int>> cases = {
      {"NONSENSE\r\n\r\n", 400},
      {"GET /twilio/messages/status HTTP/9.9\r\n\r\n", 400},
      {"GET /x HTTP/1.1\r\nX: a\r\n folded\r\n\r\n", 400},
      {"GET /x HTTP/1.1\r\nX: a\nContent-Length: 3\r\n\r\nabc", 400},
      {"GET /x HTTP/1.1\r\nX-Filler: " + std::string(20 * 1024, 'f') + "\r\n\r\n", 431},
      {[] {
         std::string many = "GET /x HTTP/1.1\r\n";
         for (int i = 0; i < 200; ++i) absl::StrAppend(&many, "X-", i, ": v\r\n");
         return many + "\r\n";
       }(),
       431},
      {absl::StrCat("POST ", kStatusPath, " HTTP/1.1\r\nContent-Length: 70000\r\n\r\n"), 413}};
  for (const auto& [wire, expected] : cases) {
    const auto [status, closed] = Refusal(wire);
    EXPECT_EQ(status, expected) << wire.substr(0, 60);
    EXPECT_TRUE(closed) << wire.substr(0, 60);
  }
}

TEST_F(HostileWebhookTest, SlowHeadsAndBodiesGet408) {
  for (const std::string& partial :
       {absl::StrCat("POST ", kStatusPath, " HTTP/1.1\r\nHost: h\r\n"),
        absl::StrCat("POST ", kStatusPath, " HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc")}) {
    RawClient client(port_, "127.0.0.2");
    ASSERT_TRUE(client.Send(partial));
    EXPECT_EQ(Status(client.ReadResponse(absl::Seconds(10))), 408);
    EXPECT_TRUE(client.ClosedWithin(absl::Seconds(5)));
  }
}

// Hostile-but-well-formed requests reach the handler: unsigned ones are 403, unknown paths 404,
// other methods 405, other types 415. None of them is a 5xx.
TEST_F(HostileWebhookTest, WellFormedGarbageGetsTheHandlersOwn4xx) {
  const std::vector<std::pair<std::string, int>> cases = {
      {absl::StrCat("POST ", kStatusPath,
                    " HTTP/1.1\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                    "Content-Length: 13\r\n\r\nMessageSid=SM"),
       403},
      {"GET /nowhere HTTP/1.1\r\n\r\n", 404},
      {absl::StrCat("DELETE ", kStatusPath, " HTTP/1.1\r\n\r\n"), 405},
      {absl::StrCat("POST ", kStatusPath,
                    " HTTP/1.1\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nhi"),
       415}};
  for (const auto& [wire, expected] : cases) {
    RawClient client(port_, "127.0.0.3");
    ASSERT_TRUE(client.Send(wire));
    EXPECT_EQ(Status(client.ReadResponse()), expected) << wire.substr(0, 60);
  }
}

TEST_F(HostileWebhookTest, APipelinedFloodIsCutOffAfterOneRequest) {
  RawClient client(port_, "127.0.0.4");
  std::string flood;
  const std::string request = absl::StrCat("GET ", kStatusPath, " HTTP/1.1\r\n\r\n");
  while (flood.size() < 4 * 1024 * 1024) flood += request;
  client.Send(flood);  // the server may close before it has all of it
  std::vector<int> statuses;
  for (std::string response = client.ReadResponse(); !response.empty();
       response = client.ReadResponse()) {
    statuses.push_back(Status(response));
  }
  EXPECT_TRUE(client.ClosedWithin(absl::Seconds(5)));
  // What was answered before the cut (a reset may discard it) is the handler's 403 (unsigned)
  // or the limiter's 429.
  for (int status : statuses) EXPECT_TRUE(status == 403 || status == 429) << status;
  EXPECT_LT(statuses.size(), 4 * 1024 * 1024 / request.size()) << "the whole flood was served";
}

TEST_F(HostileWebhookTest, ConnectionsPastThePerSourceCapGet503WithRetryAfter) {
  std::vector<std::unique_ptr<RawClient>> held;
  for (int i = 0; i < kPerSourceCap; ++i) {
    held.push_back(std::make_unique<RawClient>(port_, "127.0.0.5"));
    ASSERT_TRUE(held.back()->connected());
  }
  // Each is answered once, so the server has counted all of them before the next one comes.
  for (const auto& client : held) {
    ASSERT_TRUE(client->Send("GET /nowhere HTTP/1.1\r\n\r\n"));
    ASSERT_EQ(Status(client->ReadResponse()), 404);
  }
  RawClient refused(port_, "127.0.0.5");
  const std::string response = refused.ReadResponse();
  EXPECT_EQ(Status(response), 503);
  EXPECT_TRUE(absl::StrContains(response, "Retry-After: 1\r\n")) << response;
  EXPECT_TRUE(refused.ClosedWithin(absl::Seconds(5)));
}

TEST_F(HostileWebhookTest, ForwardedForCountsOnlyFromATrustedProxyAndStaysBounded) {
  // From an untrusted peer, thousands of made-up client addresses are one source: rate-limited.
  constexpr int kForged = 6000;
  constexpr int kBatch = 500;  // well within what the server holds for one connection
  int limited = 0;
  {
    RawClient client(port_, "127.0.0.6");
    for (int sent = 0; sent < kForged; sent += kBatch) {
      std::string batch;
      for (int i = sent; i < sent + kBatch; ++i) {
        absl::StrAppend(&batch, "GET /twilio/messages/status HTTP/1.1\r\nX-Forwarded-For: 10.",
                        i / 256, ".", i % 256, ".1\r\n\r\n");
      }
      ASSERT_TRUE(client.Send(batch));
      for (int i = 0; i < kBatch; ++i) limited += Status(client.ReadResponse()) == 429 ? 1 : 0;
    }
  }
  EXPECT_GT(limited, kForged / 2) << "X-Forwarded-For from an untrusted peer made new sources";
  // Through the trusted proxy, garbage and thousands of distinct addresses are answered, and
  // the limiter's fixed capacity keeps memory flat (checked at the end of the suite).
  RawClient proxy(port_, "127.0.0.9");
  for (int i = 0; i < 3000; ++i) {
    const std::string forwarded =
        i % 3 == 0 ? std::string(4000, ',') + "not-an-address"
                   : absl::StrCat("203.0.", i / 256 % 256, ".", i % 256, ", 127.0.0.9");
    ASSERT_TRUE(proxy.Send(absl::StrCat("GET /twilio/messages/status HTTP/1.1\r\nX-Forwarded-For: ",
                                        forwarded, "\r\n\r\n")));
    const int status = Status(proxy.ReadResponse());
    ASSERT_TRUE(status == 403 || status == 429) << status;
  }
}

TEST_F(HostileWebhookTest, AReplayWithAChangedOrMissingTokenIsPublishedOnce) {
  const std::vector<std::string> tokens = {"original-token", "changed-token", "", "another"};
  for (const std::string& token : tokens) {
    // The answer goes out at Kafka's acknowledgement and the claim is marked just after (ADR
    // 0038): a replay that comes in between is refused 503 as in flight, which happened on a
    // loaded machine. Tried again a moment later, it is answered as a duplicate.
    int status = 0;
    for (int attempt = 0; attempt < 50; ++attempt) {
      RawClient client(port_, "127.0.0.1");
      ASSERT_TRUE(client.Send(SignedCallback("SMreplayed", "delivered", token)));
      status = Status(client.ReadResponse());
      if (status != 503) break;
      absl::SleepFor(absl::Milliseconds(20));
    }
    EXPECT_EQ(status, 204) << token;
  }
  absl::StatusOr<std::vector<PublishedEvent>> events = topic_->ReadAll();
  ASSERT_TRUE(events.ok()) << events.status();
  const auto published = std::count_if(events->begin(), events->end(), [](const auto& e) {
    return e.event.message_status().message_sid() == "SMreplayed";
  });
  EXPECT_EQ(published, 1);
}

TEST_F(HostileWebhookTest, ValidCallbacksStayFastDuringASlowlorisOfAThousandConnections) {
  std::vector<std::unique_ptr<RawClient>> slowloris;
  slowloris.reserve(kSlowlorisConnections);
  for (int i = 0; i < kSlowlorisConnections; ++i) {
    // 4 per address over 127.0.1.0 - 127.0.1.249: well under the per-source cap.
    slowloris.push_back(
        std::make_unique<RawClient>(port_, absl::StrCat("127.0.1.", i / 4)));
    ASSERT_TRUE(slowloris.back()->connected()) << i;
  }

  // Up to three rounds of 200 callbacks, each on a new connection, the slowloris open all
  // along: the machine this runs on is shared, and a neighbour's burst can cost one round its
  // p99 without the slowloris costing anything. Every round is printed.
  constexpr int kCallbacks = 200;
  constexpr int kRounds = 3;
  double best_p99 = 1e9;
  for (int round = 0; round < kRounds && best_p99 >= 50.0; ++round) {
    std::vector<double> millis;
    for (int i = 0; i < kCallbacks; ++i) {
      const std::string wire = SignedCallback(absl::StrCat("SMfast", round, "-", i), "delivered",
                                              absl::StrCat("fast-", round, "-", i));
      const absl::Time start = absl::Now();
      RawClient client(port_, "127.0.0.1");
      ASSERT_TRUE(client.Send(wire));
      ASSERT_EQ(Status(client.ReadResponse()), 204) << i;
      millis.push_back(absl::ToDoubleMilliseconds(absl::Now() - start));
    }
    std::sort(millis.begin(), millis.end());
    const double p99 = millis[millis.size() * 99 / 100];
    best_p99 = std::min(best_p99, p99);
    std::printf("valid callbacks during a slowloris of %d connections, round %d: p50 %.2f ms, "
                "p99 %.2f ms, max %.2f ms\n",
                kSlowlorisConnections, round + 1, millis[millis.size() / 2], p99, millis.back());
  }
  EXPECT_LT(best_p99, 50.0);
  // The slowloris was still there all along.
  size_t open = 0;
  for (const auto& idle : slowloris) {
    if (!idle->ClosedWithin(absl::ZeroDuration())) ++open;
  }
  EXPECT_EQ(open, slowloris.size());
}

TEST_F(HostileWebhookTest, CoreDumpsAreOffInIngress) {
  std::ifstream limits(absl::StrCat("/proc/", ingress_->pid(), "/limits"));
  std::string line;
  bool found = false;
  while (std::getline(limits, line)) {
    if (!absl::StartsWith(line, "Max core file size")) continue;
    found = true;
    std::istringstream fields(line.substr(std::string("Max core file size").size()));
    std::string soft;
    std::string hard;
    fields >> soft >> hard;
    EXPECT_EQ(soft, "0");
    EXPECT_EQ(hard, "0");
  }
  EXPECT_TRUE(found);
}

TEST_F(HostileWebhookTest, ResidentMemoryGrewLessThan32MiB) {
  ASSERT_TRUE(ingress_->Running()) << ingress_->Log();
  const int64_t rss = ResidentKiB(ingress_->pid());
  std::printf("ingress VmRSS after the suite: %lld KiB (grew %lld KiB)\n",
              static_cast<long long>(rss), static_cast<long long>(rss - baseline_rss_kib_));
  EXPECT_LT(rss - baseline_rss_kib_, kMaxRssGrowthKiB);
  EXPECT_FALSE(absl::StrContains(ingress_->Log(), "\"status\":500"));
}

// Settings that would open the edge are refused at start, each naming its variable.
std::string StartupErrors(const std::map<std::string, std::string>& env) {
  char path[] = "/tmp/klaxon-edge-config-XXXXXX";
  const int fd = ::mkstemp(path);
  if (fd >= 0) ::close(fd);
  klaxon::testing::ChildProcess ingress({KLAXON_INGRESS_BINARY}, env, path);
  EXPECT_EQ(ingress.WaitForExit(absl::Seconds(20)), 2);
  std::string log = ingress.Log();
  std::remove(path);
  return log;
}

TEST(WebhookEdgeStartupTest, SandboxModeIsRefusedOnANonLoopbackBind) {
  const std::string errors = StartupErrors(
      {{"KLAXON_TWILIO_SANDBOX", "true"}, {"KLAXON_WEBHOOK_ADDR", "0.0.0.0:8080"}});
  EXPECT_TRUE(absl::StrContains(errors, "KLAXON_TWILIO_SANDBOX: true is allowed only when "
                                        "KLAXON_WEBHOOK_ADDR binds a loopback address"))
      << errors;
  EXPECT_FALSE(absl::StrContains(
      StartupErrors({{"KLAXON_TWILIO_SANDBOX", "true"}, {"KLAXON_WEBHOOK_ADDR", "127.0.0.1:1"}}),
      "KLAXON_TWILIO_SANDBOX"));
}

TEST(WebhookEdgeStartupTest, AMissingTokenErrorDoesNotSuggestSandboxMode) {
  const std::string errors = StartupErrors({});
  EXPECT_TRUE(absl::StrContains(errors, "KLAXON_TWILIO_AUTH_TOKEN")) << errors;
  EXPECT_FALSE(absl::StrContains(errors, "SANDBOX")) << errors;
}

TEST(WebhookEdgeStartupTest, ForwardedHeadersNeedProxyRanges) {
  const std::string old_switch = StartupErrors({{"KLAXON_WEBHOOK_TRUST_FORWARDED", "true"}});
  EXPECT_TRUE(absl::StrContains(old_switch, "KLAXON_WEBHOOK_TRUST_FORWARDED: no longer read"))
      << old_switch;
  EXPECT_TRUE(absl::StrContains(old_switch, "KLAXON_WEBHOOK_TRUSTED_PROXIES")) << old_switch;
  const std::string bad_range = StartupErrors({{"KLAXON_WEBHOOK_TRUSTED_PROXIES", "10.0.0.1/8"}});
  EXPECT_TRUE(absl::StrContains(bad_range, "KLAXON_WEBHOOK_TRUSTED_PROXIES")) << bad_range;
}

}  // namespace
}  // namespace klaxon::webhook_test
