// The webhook server over real sockets: what it does when its queue is full, and that no thread
// waits for Kafka.
#include "services/ingress/webhook_server.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <prometheus/registry.h>

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/callbacks/in_memory_callback_ledger.h"
#include "common/http/form.h"
#include "common/log/log.h"
#include "common/messaging/testing/holding_publisher.h"
#include "common/timing/fake_clock.h"
#include "common/transit/testing.h"
#include "common/twilio/signature.h"
#include "services/ingress/in_memory_callback_dedupe.h"
#include "tests/support/http.h"

namespace klaxon::ingress {
namespace {

constexpr char kToken[] = "primary-token";
constexpr char kPublicUrl[] = "https://hooks.example.com";

// Holds every Publish until Open(); says when the first one is waiting.
class GatedPublisher final : public messaging::Publisher {
 public:
  absl::Status Publish(const messaging::OutboundMessage&, absl::Duration) override {
    std::unique_lock lock(mutex_);
    ++waiting_;
    changed_.notify_all();
    changed_.wait(lock, [this] { return open_; });
    return absl::OkStatus();
  }
  void PublishAsync(const messaging::OutboundMessage& message,
                    messaging::PublishDone done) override {
    std::move(done)(Publish(message, absl::InfiniteDuration()));
  }
  void WaitForOneWaiting() {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [this] { return waiting_ > 0; });
  }
  void Open() {
    std::lock_guard lock(mutex_);
    open_ = true;
    changed_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  int waiting_ = 0;
  bool open_ = false;
};

// The adapters around a handler publishing through a test's publisher, and a server over them.
class WebhookServerTest : public ::testing::Test {
 protected:
  WebhookServerTest()
      : logger_({.service = "ingress"}, *log::PhoneRedactor::Create("0123456789abcdef0123"), sink_),
        telemetry_(registry_, logger_, clock_) {}

  // Starts a server whose handler publishes through `publisher`, on `workers`; false if it could
  // not.
  bool Start(messaging::Publisher& publisher, concurrency::BatchWorkersOptions workers) {
    handler_ = std::make_unique<WebhookHandler>(
        WebhookOptions{.public_url = *twilio::ParsePublicBaseUrl(kPublicUrl),
                       .auth_tokens = {kToken},
                       .topic = "t"},
        dedupe_, publisher, witness_,
        InboundPrivacy{.transit = transit_.cipher(), .tokens = tokens_}, limiter_, telemetry_,
        clock_);
    auto server =
        WebhookServer::Start({.workers = workers, .on_shed = [this] { ++shed_; }}, *handler_);
    EXPECT_TRUE(server.ok()) << server.status();
    if (!server.ok()) return false;
    server_ = *std::move(server);
    return true;
  }

  // POSTs a signed delivered status callback of message `sid`; the HTTP status answered.
  long Post(const std::string& sid) {
    const std::string target = "/twilio/messages/status";
    const http::FormParams params = {{"MessageSid", sid}, {"MessageStatus", "delivered"}};
    return klaxon::testing::SendHttp(
               {.method = "POST",
                .url = absl::StrCat("http://127.0.0.1:", server_->port(), target),
                .headers = {{"Content-Type", "application/x-www-form-urlencoded"},
                            {"X-Twilio-Signature",
                             twilio::ComputeSignature(kToken, kPublicUrl + target, params)}},
                .body = http::EncodeForm(params)})
        .status;
  }

  timing::FakeClock clock_;
  log::MemorySink sink_;
  log::Logger logger_;
  prometheus::Registry registry_;
  WebhookTelemetry telemetry_;
  SourceRateLimiter limiter_{1000, clock_};
  InMemoryCallbackDedupe dedupe_;
  callbacks::InMemoryCallbackLedger ledger_;
  CallbackWitness witness_{ledger_, telemetry_, clock_};
  transit::testing::TestTransit transit_;
  const log::PhoneRedactor tokens_ = *log::PhoneRedactor::Create("0123456789abcdef0123");
  std::atomic<int> shed_ = 0;
  GatedPublisher gated_;
  messaging::HoldingPublisher kafka_;
  // The server goes first: its queued requests still reach the handler and the publishers.
  std::unique_ptr<WebhookHandler> handler_;
  std::unique_ptr<WebhookServer> server_;
};

TEST_F(WebhookServerTest, AFullQueueShedsWith503AndReportsIt) {
  // One request handled at a time (its publish blocks the thread) and one waiting: a third is shed.
  ASSERT_TRUE(Start(gated_, {.threads = 1, .max_batch = 1, .max_queued = 1}));
  std::vector<long> statuses(3);
  std::jthread first([&] { statuses[0] = Post("SM1"); });
  gated_.WaitForOneWaiting();  // the one thread is busy
  {
    std::jthread second([&] { statuses[1] = Post("SM2"); });
    std::jthread third([&] { statuses[2] = Post("SM3"); });
    // One of them waits in the queue, the other is shed at once.
    const absl::Time give_up = absl::Now() + absl::Seconds(10);
    while (shed_.load() == 0 && absl::Now() < give_up) absl::SleepFor(absl::Milliseconds(1));
    gated_.Open();
  }
  first.join();
  EXPECT_EQ(shed_.load(), 1);
  EXPECT_EQ(statuses[0], 204);
  EXPECT_THAT((std::vector<long>{statuses[1], statuses[2]}),
              ::testing::UnorderedElementsAre(204, 503));
}

// No thread waits for Kafka: one thread has several callbacks waiting for their acknowledgement,
// and each is answered 204 when it comes.
TEST_F(WebhookServerTest, OneThreadKeepsManyCallbacksWaitingForKafka) {
  ASSERT_TRUE(Start(kafka_, {.threads = 1, .max_batch = 1, .max_queued = 3}));
  std::vector<long> statuses(3);
  {
    std::vector<std::jthread> posts;
    for (size_t i = 0; i < statuses.size(); ++i) {
      posts.emplace_back([&, i] { statuses[i] = Post(absl::StrCat("SM", i)); });
    }
    ASSERT_TRUE(kafka_.WaitForHeld(3));
    kafka_.ReleaseAll(absl::OkStatus());
  }
  EXPECT_THAT(statuses, ::testing::Each(204));
  EXPECT_EQ(shed_.load(), 0);
}

}  // namespace
}  // namespace klaxon::ingress
