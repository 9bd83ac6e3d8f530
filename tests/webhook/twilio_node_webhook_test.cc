// Requests signed by Twilio's official helper library reach a running klaxon-ingress: each is
// accepted and published as exactly one TwilioEvent, and the same request with one byte changed
// (in the signature, a parameter value, the query string, the JSON body or its bodySHA256) is
// refused with 403 and publishes nothing, before and after the genuine one was accepted.
//
// The signing is done by tests/webhook/sign_requests.js with the `twilio` npm package
// (getExpectedTwilioSignature), so ingress and the signer share no code. Needs node, the package
// (KLAXON_TEST_TWILIO_NODE_MODULES, default ${KLAXON_CACHE:-$HOME/.cache/klaxon}/twilio-node/
// node_modules, where tests/webhook/install-twilio-node.sh and scripts/deps.sh put it), and the
// test stack's Kafka and Redis (KLAXON_TEST_KAFKA_BROKERS, KLAXON_TEST_REDIS_URL).

#include <gtest/gtest.h>

#include <cctype>
#include <filesystem>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/http/form.h"
#include "common/kafka/topics.h"
#include "common/log/log.h"
#include "common/transit/testing.h"
#include "common/twilio/webhook_routes.h"
#include "nlohmann/json.hpp"
#include "tests/support/kafka.h"
#include "tests/support/redis.h"
#include "tests/support/support.h"
#include "tests/webhook/webhook_harness.h"

namespace klaxon::webhook_test {
namespace {

using events::v1::TwilioEvent;
using testing::ChildProcess;
using testing::HttpResponse;

constexpr char kAuthToken[] = "f2a9c0b4d1e84c6a9e3b7d5c0a1f2e3d";
constexpr char kAccount[] = "AC7b1c9e0d2f4a6b8c0d1e2f3a4b5c6d7e";
constexpr char kKlaxonNumber[] = "+14155550100";
constexpr char kRecipient[] = "+14155550123";

std::string TwilioNodeModules() {
  const char* configured = std::getenv("KLAXON_TEST_TWILIO_NODE_MODULES");
  if (configured != nullptr && *configured != '\0') return configured;
  return klaxon::testing::ToolCacheDir() + "/twilio-node/node_modules";
}

// What Twilio sends, before signing: sign_requests.js turns it into the bytes on the wire.
struct Webhook {
  std::string name;
  std::string kind;         // "form", "get" or "json" (see sign_requests.js)
  std::string signed_base;  // scheme://host[:port] of the URL Twilio signs
  std::string path_and_query;
  http::FormParams params = {};
  std::string json = {};
  std::string token = {};
  // 204 or 200 when ingress must accept it; 403 when the signature must not verify.
  long status = 204;
  // For an accepted webhook: what its one event must say.
  std::function<void(const PublishedEvent&)> check = nullptr;
};

// How the test's ingress is told its public URL, and so which port rule a request can lean on.
enum class PublicUrl {
  // Unset: ingress's default, http://127.0.0.1:<port>. Twilio may sign without the port.
  kDefaultWithPort,
  // Behind a proxy on port 80: http://webhooks.klaxon.test. Twilio may sign with :80 added.
  kBehindProxyWithoutPort,
};

// Replaces the alphanumeric byte at `pos` with another one, so the text stays as well-formed
// (form encoding, JSON, base64, hex) as it was and only its meaning changes.
std::string ChangeByte(std::string text, size_t pos) {
  const char c = text.at(pos);
  if (std::isdigit(static_cast<unsigned char>(c))) {
    text[pos] = c == '9' ? '0' : static_cast<char>(c + 1);
  } else if (std::islower(static_cast<unsigned char>(c))) {
    text[pos] = c == 'z' ? 'a' : static_cast<char>(c + 1);
  } else {
    text[pos] = c == 'Z' ? 'A' : static_cast<char>(c + 1);
  }
  return text;
}

// The first alphanumeric byte at or after `from`; npos when there is none.
size_t FindAlnum(const std::string& text, size_t from) {
  if (from == std::string::npos) return std::string::npos;
  for (size_t i = from; i < text.size(); ++i) {
    if (std::isalnum(static_cast<unsigned char>(text[i]))) return i;
  }
  return std::string::npos;
}

struct Mutation {
  std::string what;
  WebhookRequest request;
};

// The one-byte changes that must each turn `signed_request` into a forgery.
std::vector<Mutation> OneByteChanges(const WebhookRequest& signed_request) {
  std::vector<Mutation> changes;
  auto add = [&](std::string what, auto&& change) {
    WebhookRequest changed = signed_request;
    change(changed);
    changes.push_back({std::move(what), std::move(changed)});
  };
  add("a byte of X-Twilio-Signature",
      [](WebhookRequest& r) { r.signature = ChangeByte(r.signature, FindAlnum(r.signature, 0)); });
  const std::string& target = signed_request.path_and_query;
  const size_t query = target.find('?');
  if (query != std::string::npos) {
    add("a byte of the first query value", [&](WebhookRequest& r) {
      r.path_and_query = ChangeByte(target, FindAlnum(target, target.find('=', query)));
    });
    const size_t last_value = target.rfind('=');
    if (FindAlnum(target, last_value) != FindAlnum(target, target.find('=', query))) {
      add("a byte of the last query value", [&](WebhookRequest& r) {
        r.path_and_query = ChangeByte(target, FindAlnum(target, last_value));
      });
    }
  }
  const std::string& body = signed_request.body;
  if (signed_request.content_type == "application/x-www-form-urlencoded") {
    add("a byte of the first form value",
        [&](WebhookRequest& r) { r.body = ChangeByte(body, FindAlnum(body, body.find('='))); });
  } else if (signed_request.content_type == "application/json") {
    add("a byte of the first JSON value",
        [&](WebhookRequest& r) { r.body = ChangeByte(body, FindAlnum(body, body.find("\":"))); });
  }
  for (const Mutation& change : changes) {
    EXPECT_NE(change.request.path_and_query + change.request.body + change.request.signature,
              target + body + signed_request.signature)
        << change.what << " changed nothing";
  }
  return changes;
}

class TwilioNodeSignedWebhookKafkaRedisTest : public ::testing::TestWithParam<PublicUrl> {
 protected:
  void SetUp() override {
    brokers_ = klaxon::testing::RequiredEnv("KLAXON_TEST_KAFKA_BROKERS");
    const std::string redis = klaxon::testing::RequiredEnv("KLAXON_TEST_REDIS_URL");
    ASSERT_FALSE(brokers_.empty() || redis.empty());
    const std::string node_modules = TwilioNodeModules();
    ASSERT_TRUE(std::filesystem::exists(node_modules + "/twilio/package.json"))
        << "Twilio's helper library is not in " << node_modules
        << "; run tests/webhook/install-twilio-node.sh (scripts/deps.sh does) or set "
           "KLAXON_TEST_TWILIO_NODE_MODULES";
    ASSERT_FALSE(dir_.path().empty());
    prefix_ = klaxon::testing::UniquePrefix();
    topics_deleted_at_end_.Own(brokers_, prefix_);
    keys_deleted_at_end_.Own(prefix_);
    const absl::Status topics = CreateTopics(brokers_, prefix_, absl::Seconds(60));
    ASSERT_TRUE(topics.ok()) << topics;
    absl::StatusOr<std::unique_ptr<TwilioEventTopic>> topic =
        TwilioEventTopic::Create(brokers_, *kafka::PrefixedTopic(prefix_, kafka::kTwilioEvents));
    ASSERT_TRUE(topic.ok()) << topic.status();
    topic_ = *std::move(topic);

    IngressOptions options{.kafka_brokers = brokers_,
                           .redis_url = redis,
                           .prefix = prefix_,
                           .auth_token = kAuthToken,
                           .log_path = dir_.path() + "/ingress.log"};
    if (GetParam() == PublicUrl::kBehindProxyWithoutPort) {
      options.public_url = "http://webhooks.klaxon.test";
    }
    ASSERT_NO_FATAL_FAILURE(ingress_.Start(options));
  }

  // The base Twilio signs for this ingress, and the two port forms: `port_rule_base` differs
  // from it only by a port that the rule lets through, `wrong_port_base` by one it does not.
  std::string signed_base() const {
    return GetParam() == PublicUrl::kDefaultWithPort ? ingress_.address_url()
                                                     : "http://webhooks.klaxon.test";
  }
  std::string port_rule_base() const {
    return GetParam() == PublicUrl::kDefaultWithPort ? "http://127.0.0.1"
                                                     : "http://webhooks.klaxon.test:80";
  }
  std::string wrong_port_base() const {
    return GetParam() == PublicUrl::kDefaultWithPort ? "http://127.0.0.1:80"
                                                     : "http://webhooks.klaxon.test:8080";
  }

  // Runs sign_requests.js over `webhooks`; the signed requests in the same order.
  std::vector<WebhookRequest> SignWithTwilioNode(const std::vector<Webhook>& webhooks) {
    nlohmann::json input = nlohmann::json::array();
    for (const Webhook& webhook : webhooks) {
      nlohmann::json params = nlohmann::json::array();
      for (const auto& [key, value] : webhook.params) params.push_back({key, value});
      input.push_back({{"kind", webhook.kind},
                       {"url", webhook.signed_base + webhook.path_and_query},
                       {"params", params},
                       {"json", webhook.json},
                       {"token", webhook.token}});
    }
    const std::string in_path = dir_.path() + "/unsigned.json";
    const std::string out_path = dir_.path() + "/signed.json";
    std::ofstream(in_path) << input.dump();
    std::map<std::string, std::string> env = testing::ToolEnvironment();
    env["NODE_PATH"] = TwilioNodeModules();
    ChildProcess node(
        {"/usr/bin/env", "node", KLAXON_SIGN_REQUESTS_SCRIPT, kAuthToken, in_path, out_path}, env,
        dir_.path() + "/node.log");
    const std::optional<int> code = node.WaitForExit(absl::Seconds(60));
    EXPECT_EQ(code, 0) << "sign_requests.js failed:\n" << node.Log();
    if (code != 0) return {};

    std::ifstream out(out_path);
    const nlohmann::json signed_json = nlohmann::json::parse(out, nullptr, false);
    EXPECT_TRUE(signed_json.is_array() && signed_json.size() == webhooks.size())
        << "sign_requests.js wrote " << signed_json.dump();
    if (!signed_json.is_array() || signed_json.size() != webhooks.size()) return {};
    std::vector<WebhookRequest> requests;
    for (const nlohmann::json& entry : signed_json) {
      requests.push_back(
          {.method = entry.at("method").get<std::string>(),
           .path_and_query = PathAndQuery(entry.at("url").get<std::string>()),
           .content_type = entry.at("content_type").get<std::string>(),
           .body = entry.at("body").get<std::string>(),
           .signature = entry.at("headers").at("X-Twilio-Signature").get<std::string>(),
           .idempotency_token =
               entry.at("headers").at("I-Twilio-Idempotency-Token").get<std::string>()});
    }
    return requests;
  }

  int64_t EndOffset() {
    absl::StatusOr<int64_t> end = topic_->EndOffset();
    EXPECT_TRUE(end.ok()) << end.status();
    return end.value_or(-1);
  }

  // Sends `request` and checks that ingress refused it as a forgery and published nothing.
  void ExpectRefused(const WebhookRequest& request, const std::string& what) {
    const int64_t before = EndOffset();
    const HttpResponse response = ingress_.Send(request);
    EXPECT_EQ(response.status, 403) << what << ": " << response.error << response.body;
    // Nothing that helps an attacker: no hint of which part failed.
    EXPECT_EQ(absl::StripAsciiWhitespace(response.body), "forbidden") << what;
    EXPECT_EQ(EndOffset(), before) << what << " published an event";
  }

  // Sends `request` and checks the answer Twilio needs for `webhook` and the number of events
  // it added to the topic (1 the first time, 0 for a replay).
  void ExpectAccepted(const Webhook& webhook, const WebhookRequest& request, int64_t new_events) {
    const int64_t before = EndOffset();
    HttpResponse response = ingress_.Send(request);
    // A replay that comes between the first copy's answer (at Kafka's acknowledgement) and its
    // mark is refused 503 as in flight (ADR 0038), as seen on a loaded machine; a moment later it
    // is answered as a duplicate.
    for (int attempt = 0; new_events == 0 && response.status == 503 && attempt < 50; ++attempt) {
      absl::SleepFor(absl::Milliseconds(20));
      response = ingress_.Send(request);
    }
    ASSERT_EQ(response.status, webhook.status) << response.error << response.body;
    if (webhook.status == 204) {
      EXPECT_EQ(response.body, "");
    } else {
      EXPECT_TRUE(absl::StartsWith(response.Header("content-type"), "text/xml"))
          << "Content-Type: " << response.Header("content-type");
      EXPECT_TRUE(absl::StrContains(response.body, "<Response")) << response.body;
    }
    EXPECT_EQ(EndOffset(), before + new_events);
  }

  // The test's topics and keys go after ingress and the topic reader.
  klaxon::testing::TopicsDeletedAtEnd topics_deleted_at_end_;
  klaxon::testing::KeysDeletedAtEnd keys_deleted_at_end_;
  TestDir dir_;
  std::string brokers_;
  std::string prefix_;
  std::unique_ptr<TwilioEventTopic> topic_;
  Ingress ingress_;
};

std::string AlertId(int n) { return absl::StrFormat("01936f3c-8e2a-7b41-9c05-%012d", n); }
std::string Sid(std::string_view kind, int n) { return absl::StrFormat("%s%032d", kind, n); }
// A callback URL's path and query, as twilio::CallbackUrl builds them for the workers.
std::string CallbackQuery(std::string_view path, int n, uint32_t attempt) {
  return twilio::CallbackUrl("", path, AlertId(n), attempt);
}

void ExpectHeader(const PublishedEvent& published, int n, uint32_t attempt) {
  EXPECT_EQ(published.key, AlertId(n)) << "an alert's events are keyed by its id";
  EXPECT_EQ(published.event.header().alert_id(), AlertId(n));
  EXPECT_EQ(published.event.header().attempt(), attempt);
}

void ExpectMessageStatus(const PublishedEvent& published, int n, std::string_view status,
                         int32_t error_code) {
  ExpectHeader(published, n, 1);
  ASSERT_TRUE(published.event.has_message_status()) << published.event.DebugString();
  EXPECT_EQ(published.event.message_status().message_sid(), Sid("SM", n));
  EXPECT_EQ(published.event.message_status().account_sid(), kAccount);
  EXPECT_EQ(published.event.message_status().message_status(), status);
  EXPECT_EQ(published.event.message_status().error_code(), error_code);
}

void ExpectInbound(const PublishedEvent& published, int n, std::string_view body) {
  EXPECT_EQ(published.key, log::PhoneRedactor::Create(kPiiHmacKey)->Token(kRecipient))
      << "a sender's messages are keyed by the sender's token, in order";
  ASSERT_TRUE(published.event.has_inbound_message()) << published.event.DebugString();
  EXPECT_EQ(published.event.inbound_message().message_sid(), Sid("SM", n));
  EXPECT_EQ(published.event.inbound_message().to(), kKlaxonNumber);
  transit::testing::TestTransit transit;
  absl::StatusOr<transit::SenderPersonalData> sender =
      transit.cipher().OpenInbound(published.event.inbound_message());
  ASSERT_TRUE(sender.ok()) << sender.status();
  EXPECT_EQ(sender->from, kRecipient);
  EXPECT_EQ(sender->body, body);
}

http::FormParams MessageStatusParams(int n, std::string_view status) {
  return {{"SmsSid", Sid("SM", n)},
          {"SmsStatus", std::string(status)},
          {"MessageStatus", std::string(status)},
          {"To", kRecipient},
          {"MessageSid", Sid("SM", n)},
          {"AccountSid", kAccount},
          {"From", kKlaxonNumber},
          {"ApiVersion", "2010-04-01"}};
}

http::FormParams InboundParams(int n, std::string_view body) {
  return {{"ToCountry", "US"},
          {"SmsMessageSid", Sid("SM", n)},
          {"NumMedia", "0"},
          {"SmsSid", Sid("SM", n)},
          {"SmsStatus", "received"},
          {"Body", std::string(body)},
          {"To", kKlaxonNumber},
          {"NumSegments", "1"},
          {"MessageSid", Sid("SM", n)},
          {"AccountSid", kAccount},
          {"From", kRecipient},
          {"ApiVersion", "2010-04-01"}};
}

TEST_P(TwilioNodeSignedWebhookKafkaRedisTest, AcceptedAsSignedAndRefusedWithOneByteChanged) {
  const std::string base = signed_base();
  const std::string unicode_text = "Reçu ✅ — on s'en occupe 👍 «ok»";
  std::vector<Webhook> webhooks = {
      {.name = "message status callback",
       .kind = "form",
       .signed_base = base,
       .path_and_query = CallbackQuery(twilio::kMessageStatusPath, 1, 1),
       .params = MessageStatusParams(1, "delivered"),
       .check = [](const PublishedEvent& e) { ExpectMessageStatus(e, 1, "delivered", 0); }},
      {.name = "call status callback with SequenceNumber",
       .kind = "form",
       .signed_base = base,
       .path_and_query = CallbackQuery(twilio::kCallStatusPath, 2, 2),
       .params = {{"Called", kRecipient},
                  {"Direction", "outbound-api"},
                  {"Timestamp", "Sat, 21 Nov 2026 03:00:00 +0000"},
                  {"CallbackSource", "call-progress-events"},
                  {"SequenceNumber", "3"},
                  {"CallSid", Sid("CA", 2)},
                  {"To", kRecipient},
                  {"CallStatus", "completed"},
                  {"CallDuration", "17"},
                  {"AnsweredBy", "human"},
                  {"AccountSid", kAccount},
                  {"From", kKlaxonNumber},
                  {"ApiVersion", "2010-04-01"}},
       .check =
           [](const PublishedEvent& e) {
             ExpectHeader(e, 2, 2);
             ASSERT_TRUE(e.event.has_call_status()) << e.event.DebugString();
             EXPECT_EQ(e.event.call_status().call_sid(), Sid("CA", 2));
             EXPECT_EQ(e.event.call_status().call_status(), "completed");
             EXPECT_EQ(e.event.call_status().sequence_number(), 3u);
             EXPECT_EQ(e.event.call_status().call_duration_seconds(), 17u);
             EXPECT_EQ(e.event.call_status().answered_by(), "human");
           }},
      {.name = "inbound SMS",
       .kind = "form",
       .signed_base = base,
       .path_and_query = std::string(twilio::kInboundMessagePath),
       .params = InboundParams(3, "Acknowledged, on my way"),
       .status = 200,
       .check = [](const PublishedEvent& e) { ExpectInbound(e, 3, "Acknowledged, on my way"); }},
      {.name = "gather key press (FinishedOnKey empty, as Twilio sends it)",
       .kind = "form",
       .signed_base = base,
       .path_and_query = CallbackQuery(twilio::kGatherPath, 4, 1),
       .params = {{"AccountSid", kAccount},
                  {"ApiVersion", "2010-04-01"},
                  {"CallSid", Sid("CA", 4)},
                  {"CallStatus", "in-progress"},
                  {"Called", kRecipient},
                  {"Digits", "1"},
                  {"Direction", "outbound-api"},
                  {"FinishedOnKey", ""},
                  {"From", kKlaxonNumber},
                  {"To", kRecipient},
                  {"msg", "Gather End"}},
       .status = 200,
       .check =
           [](const PublishedEvent& e) {
             ExpectHeader(e, 4, 1);
             ASSERT_TRUE(e.event.has_key_press()) << e.event.DebugString();
             EXPECT_EQ(e.event.key_press().call_sid(), Sid("CA", 4));
             EXPECT_EQ(e.event.key_press().digits(), "1");
           }},
      {.name = "repeated keys (unsorted, one duplicate)",
       .kind = "form",
       .signed_base = base,
       .path_and_query = CallbackQuery(twilio::kCallStatusPath, 5, 1),
       .params = {{"CallSid", Sid("CA", 5)},
                  {"CallStatus", "ringing"},
                  {"SequenceNumber", "1"},
                  {"StatusCallbackEvent", "ringing"},
                  {"StatusCallbackEvent", "answered"},
                  {"StatusCallbackEvent", "ringing"},
                  {"StatusCallbackEvent", "completed"},
                  {"AccountSid", kAccount}},
       .check =
           [](const PublishedEvent& e) {
             ExpectHeader(e, 5, 1);
             ASSERT_TRUE(e.event.has_call_status()) << e.event.DebugString();
             EXPECT_EQ(e.event.call_status().call_status(), "ringing");
             EXPECT_EQ(e.event.call_status().sequence_number(), 1u);
           }},
      {.name = "empty value (an MMS with no text)",
       .kind = "form",
       .signed_base = base,
       .path_and_query = std::string(twilio::kInboundMessagePath),
       .params =
           [] {
             http::FormParams params = InboundParams(6, "");
             for (auto& [key, value] : params) {
               if (key == "NumMedia") value = "1";
             }
             params.push_back({"MediaContentType0", "image/jpeg"});
             params.push_back({"MediaUrl0", "https://api.twilio.com/2010-04-01/Accounts/" +
                                                std::string(kAccount) + "/Messages/" +
                                                Sid("MM", 6) + "/Media/" + Sid("ME", 6)});
             return params;
           }(),
       .status = 200,
       .check = [](const PublishedEvent& e) { ExpectInbound(e, 6, ""); }},
      {.name = "unknown parameters",
       .kind = "form",
       .signed_base = base,
       .path_and_query = CallbackQuery(twilio::kMessageStatusPath, 7, 1),
       .params =
           [] {
             http::FormParams params = MessageStatusParams(7, "undelivered");
             params.push_back({"ErrorCode", "30003"});
             params.push_back({"ChannelToAddress", "+1415555XXXX"});
             params.push_back({"RawDlrDoneDate", "2611210300"});
             params.push_back({"KlaxonFutureField", "added by Twilio next year & later"});
             return params;
           }(),
       .check = [](const PublishedEvent& e) { ExpectMessageStatus(e, 7, "undelivered", 30003); }},
      {.name = "unicode text",
       .kind = "form",
       .signed_base = base,
       .path_and_query = std::string(twilio::kInboundMessagePath),
       .params = InboundParams(8, unicode_text),
       .status = 200,
       .check = [unicode_text](const PublishedEvent& e) { ExpectInbound(e, 8, unicode_text); }},
      {.name = "URL signed with the port form the port rule accepts",
       .kind = "form",
       .signed_base = port_rule_base(),
       .path_and_query = CallbackQuery(twilio::kMessageStatusPath, 9, 1),
       .params = MessageStatusParams(9, "sent"),
       .check = [](const PublishedEvent& e) { ExpectMessageStatus(e, 9, "sent", 0); }},
      {.name = "GET with the parameters in the query",
       .kind = "get",
       .signed_base = base,
       .path_and_query = CallbackQuery(twilio::kMessageStatusPath, 10, 1),
       .params = MessageStatusParams(10, "read"),
       .check = [](const PublishedEvent& e) { ExpectMessageStatus(e, 10, "read", 0); }},
      {.name = "JSON body with bodySHA256",
       .kind = "json",
       .signed_base = base,
       .path_and_query = CallbackQuery(twilio::kMessageStatusPath, 11, 1),
       .json = nlohmann::json{{"MessageSid", Sid("SM", 11)},
                              {"MessageStatus", "failed"},
                              {"ErrorCode", "30008"},
                              {"AccountSid", kAccount},
                              {"From", kKlaxonNumber},
                              {"To", kRecipient}}
                   .dump(),
       .check = [](const PublishedEvent& e) { ExpectMessageStatus(e, 11, "failed", 30008); }},
      {.name = "URL signed with a port the rule does not accept",
       .kind = "form",
       .signed_base = wrong_port_base(),
       .path_and_query = CallbackQuery(twilio::kMessageStatusPath, 12, 1),
       .params = MessageStatusParams(12, "sent"),
       .status = 403},
  };
  for (size_t i = 0; i < webhooks.size(); ++i) {
    webhooks[i].token = absl::StrCat(prefix_, "idem-", i + 1);
  }
  const std::vector<WebhookRequest> requests = SignWithTwilioNode(webhooks);
  ASSERT_EQ(requests.size(), webhooks.size());

  for (size_t i = 0; i < webhooks.size(); ++i) {
    const Webhook& webhook = webhooks[i];
    SCOPED_TRACE(absl::StrCat(webhook.name, ": ", requests[i].method, " ",
                              requests[i].path_and_query, " ", requests[i].body));
    if (webhook.status == 403) {
      ExpectRefused(requests[i], "the request as signed");
      continue;
    }
    const std::vector<Mutation> changes = OneByteChanges(requests[i]);
    // A forgery that comes first must not poison the genuine request's idempotency token...
    for (const Mutation& change : changes) ExpectRefused(change.request, change.what);
    ASSERT_NO_FATAL_FAILURE(ExpectAccepted(webhook, requests[i], 1));
    // ...a replay is acknowledged again without a second event...
    ASSERT_NO_FATAL_FAILURE(ExpectAccepted(webhook, requests[i], 0));
    // ...and a forgery carrying an already-acknowledged token is still a forgery, not a replay.
    for (const Mutation& change : changes) ExpectRefused(change.request, change.what);
  }

  absl::StatusOr<std::vector<PublishedEvent>> published = topic_->ReadAll();
  ASSERT_TRUE(published.ok()) << published.status();
  std::map<std::string, const PublishedEvent*> by_dedupe_key;
  for (const PublishedEvent& event : *published) {
    EXPECT_TRUE(by_dedupe_key.emplace(event.event.dedupe_key(), &event).second)
        << "two events with dedupe key " << event.event.dedupe_key();
  }
  size_t accepted = 0;
  for (const Webhook& webhook : webhooks) {
    if (webhook.status == 403) continue;
    ++accepted;
    SCOPED_TRACE(webhook.name);
    const auto it = by_dedupe_key.find("token:" + webhook.token);
    ASSERT_NE(it, by_dedupe_key.end()) << "no event deduplicated on its idempotency token";
    webhook.check(*it->second);
  }
  EXPECT_EQ(published->size(), accepted);
}

INSTANTIATE_TEST_SUITE_P(PublicUrls, TwilioNodeSignedWebhookKafkaRedisTest,
                         ::testing::Values(PublicUrl::kDefaultWithPort,
                                           PublicUrl::kBehindProxyWithoutPort),
                         [](const ::testing::TestParamInfo<PublicUrl>& param) {
                           return param.param == PublicUrl::kDefaultWithPort
                                      ? "DefaultPublicUrlWithPort"
                                      : "PublicUrlWithoutPortBehindProxy";
                         });

}  // namespace
}  // namespace klaxon::webhook_test
