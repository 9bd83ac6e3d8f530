// The webhook server's pool over real sockets: what it does when the pool is full.
#include "services/ingress/webhook_server.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <prometheus/registry.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/callbacks/in_memory_callback_ledger.h"
#include "common/http/form.h"
#include "common/log/log.h"
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

TEST(WebhookServerTest, AFullPoolShedsWith503AndReportsIt) {
  timing::FakeClock clock;
  log::MemorySink sink;
  log::Logger logger({.service = "ingress"}, *log::PhoneRedactor::Create("0123456789abcdef0123"),
                     sink);
  prometheus::Registry registry;
  WebhookTelemetry telemetry(registry, logger, clock);
  SourceRateLimiter limiter(1000, clock);
  InMemoryCallbackDedupe dedupe;
  GatedPublisher publisher;
  callbacks::InMemoryCallbackLedger ledger;
  CallbackWitness witness(ledger, telemetry, clock);
  transit::testing::TestTransit transit;
  const log::PhoneRedactor tokens = *log::PhoneRedactor::Create("0123456789abcdef0123");
  WebhookHandler handler({.public_url = *twilio::ParsePublicBaseUrl(kPublicUrl),
                          .auth_tokens = {kToken},
                          .topic = "t"},
                         dedupe, publisher, witness,
                         {.transit = transit.cipher(), .tokens = tokens}, limiter, telemetry,
                         clock);
  std::atomic<int> shed = 0;
  // One request handled at a time and one waiting: a third is shed.
  auto server = WebhookServer::Start(
      {.pool = {.threads = 1, .max_queued = 1}, .on_shed = [&shed] { ++shed; }}, handler);
  ASSERT_TRUE(server.ok()) << server.status();

  const auto post = [&](const std::string& sid) {
    const std::string target = "/twilio/messages/status";
    const http::FormParams params = {{"MessageSid", sid}, {"MessageStatus", "delivered"}};
    return testing::SendHttp(
               {.method = "POST",
                .url = absl::StrCat("http://127.0.0.1:", (*server)->port(), target),
                .headers = {{"Content-Type", "application/x-www-form-urlencoded"},
                            {"X-Twilio-Signature",
                             twilio::ComputeSignature(kToken, kPublicUrl + target, params)}},
                .body = http::EncodeForm(params)})
        .status;
  };
  std::vector<long> statuses(3);
  std::jthread first([&] { statuses[0] = post("SM1"); });
  publisher.WaitForOneWaiting();  // the pool's one thread is busy
  {
    std::jthread second([&] { statuses[1] = post("SM2"); });
    std::jthread third([&] { statuses[2] = post("SM3"); });
    // One of them waits in the pool's queue, the other is shed at once.
    const absl::Time give_up = absl::Now() + absl::Seconds(10);
    while (shed.load() == 0 && absl::Now() < give_up) absl::SleepFor(absl::Milliseconds(1));
    publisher.Open();
  }
  first.join();
  EXPECT_EQ(shed.load(), 1);
  EXPECT_EQ(statuses[0], 204);
  EXPECT_THAT((std::vector<long>{statuses[1], statuses[2]}),
              ::testing::UnorderedElementsAre(204, 503));
}

}  // namespace
}  // namespace klaxon::ingress
