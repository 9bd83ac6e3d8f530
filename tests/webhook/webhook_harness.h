#pragma once
// What the webhook tests share: klaxon-ingress running as a process with topics and Redis keys of
// its own, a Twilio webhook request sent to it byte for byte, and the klaxon.twilio.events topic
// read back from the beginning, so a test sees exactly which events ingress published.

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/kafka/client.h"
#include "klaxon/events/v1/events.pb.h"
#include "tests/support/http.h"
#include "tests/support/process.h"

namespace klaxon::webhook_test {

// The harness's ingress keys phone tokens with this key and seals inbound senders under the test
// transit keyring (crypto::testing::KeyringDocument(1, {1}), transit::testing::TestTransit's).
inline constexpr char kPiiHmacKey[] = "webhook-test-pii-hmac-key-0123456789";

// A directory for one test's files and process logs: removed when the test passed, kept and named
// on stderr when it failed. Declare it before the processes that log into it.
class TestDir {
 public:
  TestDir();
  ~TestDir();
  TestDir(const TestDir&) = delete;
  TestDir& operator=(const TestDir&) = delete;

  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// A webhook as Twilio sends it: the bytes after scheme://host[:port] of the URL Twilio requested,
// the body and the headers Twilio adds.
struct WebhookRequest {
  std::string method = "POST";
  std::string path_and_query = {};
  std::string content_type = {};  // empty for a GET
  std::string body = {};
  std::string signature = {};          // X-Twilio-Signature
  std::string idempotency_token = {};  // I-Twilio-Idempotency-Token
};

struct IngressOptions {
  std::string kafka_brokers = {};
  std::string redis_url = {};
  // KLAXON_TOPIC_PREFIX and KLAXON_REDIS_KEY_PREFIX.
  std::string prefix = {};
  std::string auth_token = {};
  // KLAXON_WEBHOOK_PUBLIC_URL; unset leaves ingress its default, http:// + KLAXON_WEBHOOK_ADDR.
  std::optional<std::string> public_url = {};
  // More settings, e.g. KLAXON_PUBLISH_TIMEOUT.
  std::map<std::string, std::string> extra_env = {};
  // Where the process's output goes (appended).
  std::string log_path = {};
};

// klaxon-ingress as a child process, stopped (and checked to drain cleanly) when destroyed.
class Ingress {
 public:
  Ingress() = default;
  ~Ingress();
  Ingress(const Ingress&) = delete;
  Ingress& operator=(const Ingress&) = delete;

  // Starts it on free loopback ports and waits until /readyz answers 200. Records a fatal
  // failure otherwise: call it as ASSERT_NO_FATAL_FAILURE(ingress.Start(...)).
  void Start(const IngressOptions& options);

  // http://127.0.0.1:<webhook port>, where requests are really sent.
  const std::string& address_url() const { return address_url_; }
  // Sends `request` to address_url() + request.path_and_query.
  testing::HttpResponse Send(const WebhookRequest& request) const;
  bool Running() { return process_ != nullptr && process_->Running(); }
  pid_t pid() const { return process_ != nullptr ? process_->pid() : -1; }
  std::string Log() const { return process_ != nullptr ? process_->Log() : ""; }

 private:
  std::unique_ptr<testing::ChildProcess> process_;
  std::string address_url_;
};

// `url` from its path on: "http://host:1/a?b" -> "/a?b". `url` must have a scheme://authority.
std::string PathAndQuery(const std::string& url);

// Creates Klaxon's topics under `prefix` with one partition each, so a topic's end offset counts
// its events; waits up to `timeout` for the cluster.
absl::Status CreateTopics(const std::string& brokers, const std::string& prefix,
                          absl::Duration timeout);

// Waits until a broker of `brokers` answers a metadata request. Retries every half second at
// most, where librdkafka's clients back off up to 10 s after refused connections, so a test sees
// a (re)started broker as soon as it serves.
absl::Status WaitForBroker(const std::string& brokers, absl::Duration timeout);

// One event as ingress published it.
struct PublishedEvent {
  int64_t offset = 0;
  std::string key = {};
  events::v1::TwilioEvent event = {};
};

// Reads one single-partition topic of TwilioEvents from the side: no consumer group, nothing
// committed, so it can look as often as it likes.
class TwilioEventTopic {
 public:
  static absl::StatusOr<std::unique_ptr<TwilioEventTopic>> Create(const std::string& brokers,
                                                                  std::string topic);
  ~TwilioEventTopic();
  TwilioEventTopic(const TwilioEventTopic&) = delete;
  TwilioEventTopic& operator=(const TwilioEventTopic&) = delete;

  // The offset the next event will get, i.e. how many events the topic holds; asked again until
  // `timeout` while the broker does not answer (it may just have restarted).
  absl::StatusOr<int64_t> EndOffset(absl::Duration timeout = absl::Seconds(30));
  // Every event from offset 0 to EndOffset(); kInternal names an offset whose value is not a
  // TwilioEvent.
  absl::StatusOr<std::vector<PublishedEvent>> ReadAll(absl::Duration timeout = absl::Seconds(30));

 private:
  TwilioEventTopic(kafka::KafkaPtr client, std::string topic)
      : client_(std::move(client)), topic_(std::move(topic)) {}

  kafka::KafkaPtr client_;
  std::string topic_;
};

}  // namespace klaxon::webhook_test
