// Kafka stopped: status callbacks get 503 and nothing is acknowledged that Kafka did not keep;
// Kafka back: Twilio's retry of the same callbacks (same idempotency tokens) succeeds and every
// event is on the topic. One ingress lives through two outages, the broker killed (kill -9) and
// then stopped (SIGTERM), as a long-running one would.
//
// What the topic may hold twice is only what ADR 0006 allows: a callback refused with 503 whose
// publish Kafka may have written after all (librdkafka sent it and heard no answer). A callback
// acknowledged with 2xx is on the topic exactly once, and a replay of it adds nothing.
//
// The broker must be stopped and restarted, so it is not the shared one of the test stack: the
// test formats and runs a single-node broker of its own with scripts/kafka.sh (Kafka's jars from
// scripts/deps.sh), and restarts it on the same ports with the same data. Redis is the test
// stack's (KLAXON_TEST_REDIS_URL). The callbacks are signed with common/twilio: the signature is
// not what is tested here (twilio_node_webhook_test.cc checks it against Twilio's library).

#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>

#include <future>
#include <set>
#include <span>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "common/http/form.h"
#include "common/kafka/topics.h"
#include "common/twilio/signature.h"
#include "common/twilio/webhook_routes.h"
#include "tests/support/redis.h"
#include "tests/support/support.h"
#include "tests/webhook/webhook_harness.h"

namespace klaxon::webhook_test {
namespace {

using testing::ChildProcess;
using testing::HttpResponse;

constexpr char kAuthToken[] = "0b7c4e9a1d2f48c3a5e6b7d8c9f0a1b2";
constexpr char kAccount[] = "AC0b7c4e9a1d2f48c3a5e6b7d8c9f0a1b2";
// Short, so a callback that Kafka cannot take is answered 503 quickly.
constexpr char kPublishTimeout[] = "2s";
// Generous for a broker's JVM on a loaded two-core machine.
constexpr absl::Duration kBrokerStart = absl::Seconds(90);

// How the broker goes away.
enum class Outage {
  kKilled,   // kill -9: no controlled shutdown, connections reset, the log recovered at restart
  kStopped,  // SIGTERM: controlled shutdown, clients told to go elsewhere first
};

// A single-node broker of this test's own: scripts/kafka.sh format once, then run, stopped and
// run again on the same ports with the same log directory.
class PrivateKafka {
 public:
  ~PrivateKafka() {
    if (process_ != nullptr) process_->Stop(absl::Seconds(30));
  }

  void Format(const std::string& dir) {
    dir_ = dir;
    port_ = testing::FreePort();
    do {
      controller_port_ = testing::FreePort();
    } while (controller_port_ == port_);
    ChildProcess format({KLAXON_KAFKA_SCRIPT, "format", dir_ + "/kafka", std::to_string(port_),
                         std::to_string(controller_port_)},
                        testing::ToolEnvironment(), dir_ + "/kafka-format.log");
    ASSERT_EQ(format.WaitForExit(absl::Seconds(120)), 0) << format.Log();
  }

  // Starts the broker process and waits until it serves clients.
  void Run() {
    process_ = std::make_unique<ChildProcess>(
        std::vector<std::string>{KLAXON_KAFKA_SCRIPT, "run", dir_ + "/kafka"},
        testing::ToolEnvironment(), dir_ + "/kafka.log");
    const absl::Status serving = WaitForBroker(brokers(), kBrokerStart);
    ASSERT_TRUE(serving.ok()) << serving << "\n" << process_->Log();
  }

  void End(Outage outage) {
    ASSERT_TRUE(process_->Running()) << "the broker died by itself:\n" << process_->Log();
    if (outage == Outage::kKilled) {
      EXPECT_EQ(process_->Kill(), 128 + SIGKILL);
    } else {
      process_->Stop(absl::Seconds(60));
    }
    ASSERT_FALSE(process_->Running()) << "the broker is still running";
  }

  std::string brokers() const { return absl::StrCat("127.0.0.1:", port_); }
  std::string Log() const { return process_ != nullptr ? process_->Log() : ""; }

 private:
  std::string dir_;
  int port_ = 0;
  int controller_port_ = 0;
  std::unique_ptr<ChildProcess> process_;
};

class WebhookKafkaOutageRedisTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string redis = klaxon::testing::RequiredEnv("KLAXON_TEST_REDIS_URL");
    ASSERT_FALSE(redis.empty());
    ASSERT_FALSE(dir_.path().empty());
    prefix_ = klaxon::testing::UniquePrefix();
    keys_deleted_at_end_.Own(prefix_);

    ASSERT_NO_FATAL_FAILURE(kafka_.Format(dir_.path()));
    ASSERT_NO_FATAL_FAILURE(kafka_.Run());
    const absl::Status topics = CreateTopics(kafka_.brokers(), prefix_, kBrokerStart);
    ASSERT_TRUE(topics.ok()) << topics << "\n" << kafka_.Log();
    absl::StatusOr<std::unique_ptr<TwilioEventTopic>> topic = TwilioEventTopic::Create(
        kafka_.brokers(), *kafka::PrefixedTopic(prefix_, kafka::kTwilioEvents));
    ASSERT_TRUE(topic.ok()) << topic.status();
    topic_ = *std::move(topic);

    ASSERT_NO_FATAL_FAILURE(
        ingress_.Start({.kafka_brokers = kafka_.brokers(),
                        .redis_url = redis,
                        .prefix = prefix_,
                        .auth_token = kAuthToken,
                        .extra_env = {{"KLAXON_PUBLISH_TIMEOUT", kPublishTimeout}},
                        .log_path = dir_.path() + "/ingress.log"}));
  }

  // Message status callback number `n`, signed for ingress's default public URL, with its own
  // idempotency token.
  WebhookRequest StatusCallback(size_t n) const {
    const std::string alert_id = absl::StrFormat("01936f3c-8e2a-7b41-9c05-%012d", n);
    const std::string url =
        twilio::CallbackUrl(ingress_.address_url(), twilio::kMessageStatusPath, alert_id, 1);
    const http::FormParams params = {{"MessageSid", absl::StrFormat("SM%032d", n)},
                                     {"MessageStatus", "delivered"},
                                     {"AccountSid", kAccount},
                                     {"From", "+14155550100"},
                                     {"To", "+14155550123"},
                                     {"ApiVersion", "2010-04-01"}};
    return {.method = "POST",
            .path_and_query = PathAndQuery(url),
            .content_type = "application/x-www-form-urlencoded",
            .body = http::EncodeForm(params),
            .signature = twilio::ComputeSignature(kAuthToken, url, params),
            .idempotency_token = absl::StrCat(prefix_, "idem-", n)};
  }

  // The broker goes away as `outage` says while `during` are sent at once: each is answered 503,
  // never 2xx. Once it is back (with every event kept so far), Twilio's retries of `during` are
  // answered 204.
  void GoThroughOutage(Outage outage, std::span<const WebhookRequest> during) {
    const absl::StatusOr<int64_t> kept = topic_->EndOffset();
    ASSERT_TRUE(kept.ok()) << kept.status();
    ASSERT_NO_FATAL_FAILURE(kafka_.End(outage));
    std::vector<std::future<HttpResponse>> answers;
    const absl::Time sent = absl::Now();
    for (const WebhookRequest& callback : during) {
      answers.push_back(std::async(std::launch::async, [&] { return ingress_.Send(callback); }));
    }
    for (std::future<HttpResponse>& answer : answers) {
      const HttpResponse response = answer.get();
      // A 2xx would tell Twilio an event is kept that is not.
      EXPECT_EQ(response.status, 503) << response.error << response.body;
      EXPECT_NE(response.Header("retry-after"), "") << "a 503 says when to come back";
    }
    EXPECT_LT(absl::Now() - sent, absl::Seconds(15))
        << "Twilio gives up after 15 s; ingress must answer within the publish timeout";
    ASSERT_TRUE(ingress_.Running()) << "ingress died while Kafka was down:\n" << ingress_.Log();

    ASSERT_NO_FATAL_FAILURE(kafka_.Run());
    // What was kept survived the outage. A callback answered 503 is there only if Kafka wrote it
    // after all.
    const absl::StatusOr<int64_t> end = topic_->EndOffset();
    ASSERT_TRUE(end.ok()) << end.status();
    EXPECT_GE(*end, *kept);
    EXPECT_LE(*end, *kept + static_cast<int64_t>(during.size()));
    // Twilio retries each callback unchanged. Until ingress's producer has reconnected
    // (librdkafka backs off up to 10 s between attempts) a retry may still get 503, nothing else.
    const absl::Time deadline = absl::Now() + absl::Seconds(60);
    for (const WebhookRequest& callback : during) {
      HttpResponse response = ingress_.Send(callback);
      while (response.status == 503 && absl::Now() < deadline) {
        absl::SleepFor(absl::Milliseconds(200));  // a pause between retries, as Twilio makes
        response = ingress_.Send(callback);
      }
      ASSERT_EQ(response.status, 204) << response.error << response.body << "\n" << ingress_.Log();
    }
  }

  // The test's keys go after ingress.
  klaxon::testing::KeysDeletedAtEnd keys_deleted_at_end_;
  TestDir dir_;
  std::string prefix_;
  PrivateKafka kafka_;
  std::unique_ptr<TwilioEventTopic> topic_;
  Ingress ingress_;
};

TEST_F(WebhookKafkaOutageRedisTest, CallbacksGet503WhileKafkaIsDownAndEveryOneLands) {
  constexpr size_t kPerPhase = 3;
  std::vector<WebhookRequest> callbacks;
  for (size_t n = 1; n <= 3 * kPerPhase; ++n) callbacks.push_back(StatusCallback(n));
  const std::span<const WebhookRequest> all(callbacks);

  for (const WebhookRequest& callback : all.subspan(0, kPerPhase)) {
    const HttpResponse response = ingress_.Send(callback);
    ASSERT_EQ(response.status, 204) << response.error << response.body << "\n" << ingress_.Log();
  }
  ASSERT_EQ(topic_->EndOffset().value_or(-1), static_cast<int64_t>(kPerPhase));
  {
    SCOPED_TRACE("broker killed");
    ASSERT_NO_FATAL_FAILURE(GoThroughOutage(Outage::kKilled, all.subspan(kPerPhase, kPerPhase)));
  }
  {
    SCOPED_TRACE("broker stopped");
    ASSERT_NO_FATAL_FAILURE(
        GoThroughOutage(Outage::kStopped, all.subspan(2 * kPerPhase, kPerPhase)));
  }
  // A replay of a callback acknowledged before the outages is acknowledged and adds nothing.
  const HttpResponse replay = ingress_.Send(callbacks[0]);
  EXPECT_EQ(replay.status, 204) << replay.error << replay.body;

  absl::StatusOr<std::vector<PublishedEvent>> published = topic_->ReadAll();
  ASSERT_TRUE(published.ok()) << published.status();
  std::multiset<std::string> dedupe_keys;
  for (const PublishedEvent& event : *published) dedupe_keys.insert(event.event.dedupe_key());
  for (size_t n = 0; n < callbacks.size(); ++n) {
    const std::string& token = callbacks[n].idempotency_token;
    const size_t copies = dedupe_keys.count("token:" + token);
    if (n < kPerPhase) {
      EXPECT_EQ(copies, 1u) << token << " was acknowledged, then written again";
    } else {
      // Refused with 503 at first: on the topic once, or twice if Kafka wrote the refused copy.
      EXPECT_GE(copies, 1u) << token << " was lost";
      EXPECT_LE(copies, 2u) << token << " was written more than once per refusal";
    }
  }
}

}  // namespace
}  // namespace klaxon::webhook_test
