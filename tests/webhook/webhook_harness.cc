#include "tests/webhook/webhook_harness.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/auth/api_keys.h"
#include "common/crypto/test_keyring.h"
#include "common/kafka/topics.h"

namespace klaxon::webhook_test {
namespace {

using testing::ChildProcess;
using testing::FreePort;

// The test's own Kafka clients notice a restarted broker within half a second, and keep quiet
// about the refused connections a test provokes: their failures come back as a Status.
constexpr char kReconnectBackoffMaxMs[] = "500";
constexpr char kLogLevel[] = "2";

std::string LoopbackAddress(int port) { return absl::StrCat("127.0.0.1:", port); }

}  // namespace

TestDir::TestDir() {
  char path[] = "/tmp/klaxon-webhook-XXXXXX";
  if (mkdtemp(path) == nullptr) {
    ADD_FAILURE() << "mkdtemp failed";
    return;
  }
  path_ = path;
}

TestDir::~TestDir() {
  if (path_.empty()) return;
  if (::testing::Test::HasFailure()) {
    std::cerr << "files and logs of the failed test kept in " << path_ << "\n";
  } else {
    std::filesystem::remove_all(path_);
  }
}

Ingress::~Ingress() {
  if (process_ == nullptr) return;
  const int code = process_->Stop();
  EXPECT_EQ(code, 0) << "ingress did not drain cleanly:\n" << process_->Log();
}

void Ingress::Start(const IngressOptions& options) {
  const int webhook_port = FreePort();
  const int admin_port = FreePort();
  std::map<std::string, std::string> env = {
      {"PATH", "/usr/bin:/bin"},
      {"KLAXON_LOG_LEVEL", "info"},
      {"KLAXON_PII_HMAC_KEY", kPiiHmacKey},
      {"KLAXON_TRANSIT_KEYRING", crypto::testing::KeyringDocument(1, {1})},
      {"KLAXON_KAFKA_BROKERS", options.kafka_brokers},
      {"KLAXON_TOPIC_PREFIX", options.prefix},
      {"KLAXON_REDIS_URL", options.redis_url},
      {"KLAXON_REDIS_KEY_PREFIX", options.prefix},
      // SendAlert is not under test, but ingress serves it and will not start without callers.
      {"KLAXON_API_KEYS", "webhook-test=" + auth::HashApiKey("webhook-test-api-key")},
      {"KLAXON_GRPC_ADDR", LoopbackAddress(FreePort())},
      {"KLAXON_GRPC_PLAINTEXT", "true"},  // loopback, and no gRPC call is made
      {"KLAXON_ADMIN_ADDR", LoopbackAddress(admin_port)},
      {"KLAXON_WEBHOOK_ADDR", LoopbackAddress(webhook_port)},
      {"KLAXON_HTTP_API_ADDR", LoopbackAddress(FreePort())},
      {"KLAXON_TWILIO_AUTH_TOKEN", options.auth_token},
      // Every request of a test comes from 127.0.0.1; the rate limit is not what is tested.
      {"KLAXON_WEBHOOK_RATE_LIMIT", "100000"}};
  if (options.public_url) env["KLAXON_WEBHOOK_PUBLIC_URL"] = *options.public_url;
  for (const auto& [name, value] : options.extra_env) env[name] = value;
  env.merge(testing::SanitizerEnvironment());
  address_url_ = absl::StrCat("http://", LoopbackAddress(webhook_port));
  process_ = std::make_unique<ChildProcess>(std::vector<std::string>{KLAXON_INGRESS_BINARY}, env,
                                            options.log_path);
  ASSERT_TRUE(testing::WaitUntilServing(
      *process_, absl::StrCat("http://", LoopbackAddress(admin_port), "/readyz"),
      absl::Seconds(60)))
      << "ingress is not ready";
}

testing::HttpResponse Ingress::Send(const WebhookRequest& request) const {
  testing::HttpRequest http{.method = request.method,
                            .url = address_url_ + request.path_and_query,
                            .headers = {{"User-Agent", "TwilioProxy/1.1"},
                                        {"X-Twilio-Signature", request.signature},
                                        {"I-Twilio-Idempotency-Token", request.idempotency_token}},
                            .body = request.body,
                            // A 503 must come within the publish timeout; this only stops a hang.
                            .timeout = absl::Seconds(30)};
  if (!request.content_type.empty())
    http.headers.emplace_back("Content-Type", request.content_type);
  return testing::SendHttp(http);
}

std::string PathAndQuery(const std::string& url) {
  const size_t authority = url.find("://");
  const size_t path = url.find('/', authority == std::string::npos ? 0 : authority + 3);
  return path == std::string::npos ? "/" : url.substr(path);
}

absl::Status CreateTopics(const std::string& brokers, const std::string& prefix,
                          absl::Duration timeout) {
  return kafka::CreateTopics(
             {.brokers = brokers, .prefix = prefix, .partitions = 1, .timeout = timeout})
      .status();
}

absl::Status WaitForBroker(const std::string& brokers, absl::Duration timeout) {
  absl::StatusOr<kafka::ConfPtr> conf =
      kafka::MakeConf({{"bootstrap.servers", brokers},
                       {"reconnect.backoff.max.ms", kReconnectBackoffMaxMs},
                       {"log_level", kLogLevel}});
  if (!conf.ok()) return conf.status();
  absl::StatusOr<kafka::KafkaPtr> client = kafka::MakeClient(RD_KAFKA_PRODUCER, *std::move(conf));
  if (!client.ok()) return client.status();
  const absl::Time deadline = absl::Now() + timeout;
  rd_kafka_resp_err_t error = RD_KAFKA_RESP_ERR_NO_ERROR;
  do {
    const rd_kafka_metadata_t* metadata = nullptr;
    error = rd_kafka_metadata(client->get(), 0, nullptr, &metadata, 1000);
    if (error == RD_KAFKA_RESP_ERR_NO_ERROR) {
      rd_kafka_metadata_destroy(metadata);
      return absl::OkStatus();
    }
    absl::SleepFor(absl::Milliseconds(100));  // a poll interval, in case the failure was at once
  } while (absl::Now() < deadline);
  return kafka::KafkaErrorToStatus(error, absl::StrCat("no broker of ", brokers, " answered in ",
                                                       absl::FormatDuration(timeout)));
}

absl::StatusOr<std::unique_ptr<TwilioEventTopic>> TwilioEventTopic::Create(
    const std::string& brokers, std::string topic) {
  // A consumer that is only ever assigned partitions: group.id is required by librdkafka, but
  // the group is never joined and nothing is committed.
  absl::StatusOr<kafka::ConfPtr> conf =
      kafka::MakeConf({{"bootstrap.servers", brokers},
                       {"group.id", topic + ".webhook-test-reader"},
                       {"enable.auto.commit", "false"},
                       {"enable.auto.offset.store", "false"},
                       {"enable.partition.eof", "false"},
                       {"reconnect.backoff.max.ms", kReconnectBackoffMaxMs},
                       {"log_level", kLogLevel}});
  if (!conf.ok()) return conf.status();
  absl::StatusOr<kafka::KafkaPtr> client = kafka::MakeClient(RD_KAFKA_CONSUMER, *std::move(conf));
  if (!client.ok()) return client.status();
  return std::unique_ptr<TwilioEventTopic>(
      new TwilioEventTopic(*std::move(client), std::move(topic)));
}

TwilioEventTopic::~TwilioEventTopic() { rd_kafka_consumer_close(client_.get()); }

absl::StatusOr<int64_t> TwilioEventTopic::EndOffset(absl::Duration timeout) {
  // Right after a broker restart this client may still be backing off its reconnection (up to
  // librdkafka's 10 s), so a failed query is asked again until the deadline.
  const absl::Time deadline = absl::Now() + timeout;
  for (;;) {
    int64_t low = 0;
    int64_t high = 0;
    const rd_kafka_resp_err_t error = rd_kafka_query_watermark_offsets(
        client_.get(), topic_.c_str(), 0, &low, &high, kafka::ToTimeoutMs(deadline - absl::Now()));
    if (error == RD_KAFKA_RESP_ERR_NO_ERROR) return high;
    if (absl::Now() >= deadline) {
      return kafka::KafkaErrorToStatus(error, absl::StrCat("end offset of ", topic_));
    }
    absl::SleepFor(absl::Milliseconds(200));
  }
}

absl::StatusOr<std::vector<PublishedEvent>> TwilioEventTopic::ReadAll(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  absl::StatusOr<int64_t> end = EndOffset(timeout);
  if (!end.ok()) return end.status();
  std::vector<PublishedEvent> events;
  if (*end == 0) return events;

  kafka::PartitionListPtr partitions(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(partitions.get(), topic_.c_str(), 0)->offset =
      RD_KAFKA_OFFSET_BEGINNING;
  if (rd_kafka_resp_err_t error = rd_kafka_assign(client_.get(), partitions.get())) {
    return kafka::KafkaErrorToStatus(error, absl::StrCat("assign ", topic_));
  }
  absl::Status status;
  while (status.ok() && (events.empty() || events.back().offset + 1 < *end)) {
    if (absl::Now() >= deadline) {
      status = absl::DeadlineExceededError(absl::StrCat("read ", events.size(), " of ", *end,
                                                        " events of ", topic_, " in ",
                                                        absl::FormatDuration(timeout)));
      break;
    }
    kafka::MessagePtr message(rd_kafka_consumer_poll(client_.get(), 100));
    if (message == nullptr) continue;
    if (message->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      status = kafka::KafkaErrorToStatus(message->err, absl::StrCat("read ", topic_));
      break;
    }
    PublishedEvent published{.offset = message->offset};
    if (message->key != nullptr) {
      published.key.assign(static_cast<const char*>(message->key), message->key_len);
    }
    if (!published.event.ParseFromArray(message->payload, static_cast<int>(message->len))) {
      status = absl::InternalError(
          absl::StrCat("offset ", message->offset, " of ", topic_, " is not a TwilioEvent"));
      break;
    }
    events.push_back(std::move(published));
  }
  rd_kafka_assign(client_.get(), nullptr);
  if (!status.ok()) return status;
  return events;
}

}  // namespace klaxon::webhook_test
