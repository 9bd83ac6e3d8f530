#include "services/ingress/webhook_handler.h"

#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/callbacks/in_memory_callback_ledger.h"
#include "common/http/form.h"
#include "common/log/log.h"
#include "common/messaging/testing/fake_publisher.h"
#include "common/messaging/testing/holding_publisher.h"
#include "common/timing/fake_clock.h"
#include "common/transit/testing.h"
#include "common/twilio/signature.h"
#include "common/twilio/webhook_signature.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "klaxon/events/v1/events.pb.h"
#include "services/ingress/in_memory_callback_dedupe.h"

namespace klaxon::ingress {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kToken[] = "primary-token";
constexpr char kSecondaryToken[] = "secondary-token";
constexpr char kCallbackAlertId[] = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b";
constexpr char kStatusTarget[] =
    "/twilio/messages/status?alert_id=0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b&attempt=1";

http::FormParams DeliveredParams() {
  return {{"MessageSid", "SM1"},    {"MessageStatus", "delivered"}, {"AccountSid", "AC1"},
          {"From", "+14155552671"}, {"To", "+14155550100"},         {"ErrorCode", ""}};
}

// A status callback of message `sid`, delivered.
http::FormParams DeliveredParamsOf(const std::string& sid) {
  http::FormParams params = DeliveredParams();
  params[0].second = sid;
  return params;
}

// Where a test's answers go: the latest one is kept.
struct Answers {
  std::shared_ptr<std::optional<http::Response>> latest =
      std::make_shared<std::optional<http::Response>>();
  http::Responder responder() const {
    return [latest = latest](http::Response response) { *latest = std::move(response); };
  }
};

// A call of `request` whose answer goes to `answers`.
WebhookCall CallOf(const http::Request& request, const Answers& answers) {
  return {.request = request, .answer = answers.responder()};
}

// The handler under test, one request at a time, answering before Handle returns: the fake
// publisher acknowledges at once and the steps after its answer run on its thread.
class AnsweredAtOnce {
 public:
  explicit AnsweredAtOnce(WebhookHandler& handler) : handler_(handler) {}

  http::Response Handle(const http::Request& request) {
    Answers answers;
    std::vector<WebhookCall> calls;
    calls.push_back(CallOf(request, answers));
    handler_.Handle(std::move(calls));
    EXPECT_TRUE(answers.latest->has_value()) << "not answered before Handle returned";
    return answers.latest->value_or(http::Response{});
  }

 private:
  WebhookHandler& handler_;
};

class WebhookHandlerTest : public ::testing::Test {
 protected:
  WebhookHandlerTest()
      : logger_({.service = "ingress"}, *log::PhoneRedactor::Create("0123456789abcdef0123"), sink_),
        telemetry_(registry_, logger_, clock_),
        limiter_(1000, clock_),
        strict_limiter_(1, clock_) {}

  AnsweredAtOnce Handler(WebhookOptions options = {}) {
    return AnsweredAtOnce(Build(std::move(options), publisher_));
  }

  // A handler whose limit lets each source one refused request.
  AnsweredAtOnce StrictlyLimitedHandler(WebhookOptions options = {}) {
    return AnsweredAtOnce(Build(std::move(options), publisher_, 0, &strict_limiter_));
  }

  // A handler with the fixture's adapters, publishing through `publisher`, with the steps after
  // Kafka's answers on the delivery thread unless `settle_threads` says otherwise, limited by
  // `limiter` (the fixture's lenient one when null).
  WebhookHandler& Build(WebhookOptions options, messaging::Publisher& publisher,
                        size_t settle_threads = 0, SourceRateLimiter* limiter = nullptr) {
    if (options.public_url.scheme.empty()) {
      options.public_url = *twilio::ParsePublicBaseUrl("https://hooks.example.com");
    }
    if (options.auth_tokens.empty() && options.account_tokens.empty()) {
      options.auth_tokens = {kToken, kSecondaryToken};
    }
    options.topic = "t.klaxon.twilio.events";
    options.settle_threads = settle_threads;
    handler_ = std::make_unique<WebhookHandler>(
        options, dedupe_, publisher, witness_,
        InboundPrivacy{.transit = transit_.cipher(), .tokens = tokens_},
        limiter == nullptr ? limiter_ : *limiter, telemetry_, clock_);
    return *handler_;
  }

  // A form POST to `target` signed like Twilio does over the public URL.
  static http::Request SignedPost(const std::string& target, const http::FormParams& params,
                                  const std::string& token = kToken,
                                  const std::string& signed_base = "https://hooks.example.com") {
    http::Request request{.method = "POST",
                          .target = target,
                          .body = http::EncodeForm(params),
                          .peer_address = "10.0.0.1"};
    const size_t question = target.find('?');
    request.path = target.substr(0, question);
    if (question != std::string::npos) request.query = target.substr(question + 1);
    request.headers = {
        {"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"},
        {"X-Twilio-Signature", twilio::ComputeSignature(token, signed_base + target, params)},
        {"I-Twilio-Idempotency-Token", "idem-" + std::to_string(++next_token_)}};
    return request;
  }

  static void SetHeader(http::Request& request, const std::string& name, std::string value) {
    for (auto& [key, existing] : request.headers) {
      if (key == name) {
        existing = std::move(value);
        return;
      }
    }
    request.headers.emplace_back(name, std::move(value));
  }

  std::string Metrics() { return prometheus::TextSerializer().Serialize(registry_.Collect()); }

  static inline int next_token_ = 0;
  timing::FakeClock clock_;
  log::MemorySink sink_;
  log::Logger logger_;
  prometheus::Registry registry_;
  WebhookTelemetry telemetry_;
  SourceRateLimiter limiter_;
  SourceRateLimiter strict_limiter_;
  InMemoryCallbackDedupe dedupe_;
  messaging::FakePublisher publisher_;
  callbacks::InMemoryCallbackLedger ledger_;
  CallbackWitness witness_{ledger_, telemetry_, clock_};
  transit::testing::TestTransit transit_;
  const log::PhoneRedactor tokens_ = *log::PhoneRedactor::Create("0123456789abcdef0123");
  std::unique_ptr<WebhookHandler> handler_;
};

TEST_F(WebhookHandlerTest, PublishesAVerifiedStatusCallbackThenAnswers204) {
  const http::Response response = Handler().Handle(SignedPost(kStatusTarget, DeliveredParams()));
  EXPECT_EQ(response.status, 204);
  EXPECT_EQ(response.body, "");
  ASSERT_EQ(publisher_.published().size(), 1u);
  const messaging::OutboundMessage message = publisher_.published()[0];
  EXPECT_EQ(message.topic, "t.klaxon.twilio.events");
  EXPECT_EQ(message.key, kCallbackAlertId);
  events::v1::TwilioEvent event;
  ASSERT_TRUE(event.ParseFromString(message.value));
  EXPECT_EQ(event.message_status().message_status(), "delivered");
  EXPECT_EQ(event.header().alert_id(), kCallbackAlertId);
  EXPECT_THAT(Metrics(), HasSubstr("klaxon_webhook_requests_total{outcome=\"accepted\","
                                   "route=\"message_status\",status=\"204\"} 1"));
  EXPECT_THAT(Metrics(), HasSubstr("klaxon_webhook_kafka_ack_latency_seconds_count 1"));
}

// Nothing waits for Kafka: Handle returns with the publish in flight, and the answer comes from
// the acknowledgement. The mark after it makes a replay a duplicate.
TEST_F(WebhookHandlerTest, AnswersFromKafkasAcknowledgementWithoutWaitingForIt) {
  messaging::HoldingPublisher kafka;
  WebhookHandler& handler = Build({}, kafka);
  const http::Request request = SignedPost(kStatusTarget, DeliveredParams());
  Answers answers;
  handler.Handle({CallOf(request, answers)});
  EXPECT_FALSE(answers.latest->has_value());
  ASSERT_EQ(kafka.held(), 1u);

  kafka.ReleaseAll(absl::OkStatus());
  ASSERT_TRUE(answers.latest->has_value());
  EXPECT_EQ((*answers.latest)->status, 204);
  EXPECT_THAT(Metrics(), HasSubstr("klaxon_webhook_requests_total{outcome=\"accepted\","
                                   "route=\"message_status\",status=\"204\"} 1"));
  EXPECT_EQ(AnsweredAtOnce(handler).Handle(request).status, 204);
  EXPECT_EQ(kafka.held(), 0u);  // the replay was not published again
  EXPECT_THAT(Metrics(), HasSubstr("klaxon_webhook_dedupe_hits_total{route=\"message_status\"} 1"));
}

// A batch's callbacks are claimed in one call to the dedupe store, each answered on its own: a
// forged one refused, a copy of one the batch already claimed refused as in flight.
TEST_F(WebhookHandlerTest, ABatchIsClaimedTogetherAndEachCallAnsweredOnItsOwn) {
  messaging::HoldingPublisher kafka;
  WebhookHandler& handler = Build({}, kafka);
  const http::Request first = SignedPost(kStatusTarget, DeliveredParamsOf("SM1"));
  const http::Request second = SignedPost(kStatusTarget, DeliveredParamsOf("SM2"));
  const http::Request forged = SignedPost(kStatusTarget, DeliveredParamsOf("SM3"), "old-token");
  std::vector<Answers> answers(4);
  handler.Handle({CallOf(first, answers[0]), CallOf(forged, answers[1]), CallOf(second, answers[2]),
                  CallOf(first, answers[3])});
  EXPECT_EQ(dedupe_.claim_calls(), 1);
  ASSERT_TRUE(answers[1].latest->has_value());
  EXPECT_EQ((*answers[1].latest)->status, 403);
  ASSERT_TRUE(answers[3].latest->has_value());
  EXPECT_EQ((*answers[3].latest)->status, 503);  // the same callback, still being published
  EXPECT_EQ(kafka.held(), 2u);

  kafka.ReleaseAll(absl::OkStatus());
  ASSERT_TRUE(answers[0].latest->has_value() && answers[2].latest->has_value());
  EXPECT_EQ((*answers[0].latest)->status, 204);
  EXPECT_EQ((*answers[2].latest)->status, 204);
}

// On settle threads: each callback is answered from its acknowledgement, and marked afterwards;
// a mark that fails leaves the answer as it was and is counted accepted_unmarked.
TEST_F(WebhookHandlerTest, SettleThreadsMarkWhatWasAnsweredAndCountFailedMarks) {
  messaging::HoldingPublisher kafka;
  WebhookHandler& handler = Build({}, kafka, /*settle_threads=*/1);
  std::vector<Answers> answers(3);
  std::vector<http::Request> requests;
  for (size_t i = 0; i < answers.size(); ++i) {
    requests.push_back(SignedPost(kStatusTarget, DeliveredParamsOf(absl::StrCat("SM", i))));
  }
  handler.Handle({CallOf(requests[0], answers[0]), CallOf(requests[1], answers[1])});
  kafka.ReleaseAll(absl::OkStatus());
  for (size_t i = 0; i < 2; ++i) {
    ASSERT_TRUE(answers[i].latest->has_value());
    EXPECT_EQ((*answers[i].latest)->status, 204);
  }
  const auto counted = [this](const std::string& line) {
    for (int waited_ms = 0; waited_ms < 10'000; ++waited_ms) {
      if (Metrics().find(line) != std::string::npos) return true;
      absl::SleepFor(absl::Milliseconds(1));
    }
    return false;
  };
  EXPECT_TRUE(
      counted("klaxon_webhook_requests_total{outcome=\"accepted\",route=\"message_status\","
              "status=\"204\"} 2"));
  EXPECT_TRUE(
      dedupe_.IsPublished("token:" + requests[1].Header("I-Twilio-Idempotency-Token").value()));

  dedupe_.FailMarksWith(absl::UnavailableError("redis: connection refused"));
  handler.Handle({CallOf(requests[2], answers[2])});
  kafka.ReleaseAll(absl::OkStatus());
  ASSERT_TRUE(answers[2].latest->has_value());
  EXPECT_EQ((*answers[2].latest)->status, 204);
  EXPECT_TRUE(
      counted("klaxon_webhook_requests_total{outcome=\"accepted_unmarked\","
              "route=\"message_status\",status=\"204\"} 1"));
}

// A failed publish is answered 503 only once its claim is released, so Twilio's retry publishes.
TEST_F(WebhookHandlerTest, AFailedAcknowledgementReleasesTheClaimThenAnswers503) {
  messaging::HoldingPublisher kafka;
  WebhookHandler& handler = Build({}, kafka);
  const http::Request request = SignedPost(kStatusTarget, DeliveredParams());
  const std::string token_key = "token:" + request.Header("I-Twilio-Idempotency-Token").value();
  Answers answers;
  bool released_first = false;
  handler.Handle({{.request = request, .answer = [&](http::Response response) {
                     released_first = !dedupe_.Has(token_key);
                     *answers.latest = std::move(response);
                   }}});
  kafka.ReleaseAll(absl::UnavailableError("no broker"));
  ASSERT_TRUE(answers.latest->has_value());
  EXPECT_TRUE(released_first);
  EXPECT_EQ((*answers.latest)->status, 503);
  EXPECT_THAT((*answers.latest)->headers,
              ::testing::Contains(std::pair<std::string, std::string>("Retry-After", "1")));
  EXPECT_THAT(Metrics(), HasSubstr("klaxon_webhook_requests_total{outcome=\"kafka_unavailable\","
                                   "route=\"message_status\",status=\"503\"} 1"));

  handler.Handle({CallOf(request, answers)});
  EXPECT_EQ(kafka.held(), 1u);  // claimed and published again, not refused as in flight
  kafka.ReleaseAll(absl::OkStatus());
}

// A failed publish whose release comes after its claim's lease (ADR 0038) leaves the claim of a
// copy that claimed the callback since: that copy is being published.
TEST_F(WebhookHandlerTest, ALateReleaseLeavesTheClaimOfACopyThatClaimedSince) {
  messaging::HoldingPublisher kafka;
  WebhookHandler& handler = Build({}, kafka);
  const http::Request request = SignedPost(kStatusTarget, DeliveredParams());
  const std::string token_key = "token:" + request.Header("I-Twilio-Idempotency-Token").value();
  Answers answers;
  handler.Handle({CallOf(request, answers)});
  dedupe_.EndLeases();
  // Another replica's copy.
  ASSERT_EQ(dedupe_.Claim({{token_key}}, absl::Seconds(10)).front().value().outcome,
            DedupeClaim::kClaimed);

  kafka.ReleaseAll(absl::UnavailableError("no broker"));
  ASSERT_TRUE(answers.latest->has_value());
  EXPECT_EQ((*answers.latest)->status, 503);
  EXPECT_TRUE(dedupe_.Has(token_key));
}

// A slow Kafka sheds load at once instead of holding Twilio's connections.
TEST_F(WebhookHandlerTest, PastMaxPublishingANewCallbackIs503AtOnce) {
  messaging::HoldingPublisher kafka;
  WebhookHandler& handler = Build({.max_publishing = 1}, kafka);
  Answers answers;
  handler.Handle({CallOf(SignedPost(kStatusTarget, DeliveredParams()), answers)});
  ASSERT_EQ(kafka.held(), 1u);

  const http::Request second = SignedPost(kStatusTarget, DeliveredParamsOf("SM2"));
  EXPECT_EQ(AnsweredAtOnce(handler).Handle(second).status, 503);
  EXPECT_EQ(kafka.held(), 1u);
  EXPECT_THAT(Metrics(), HasSubstr("klaxon_webhook_requests_total{outcome=\"kafka_backlog\","
                                   "route=\"message_status\",status=\"503\"} 1"));

  kafka.ReleaseAll(absl::OkStatus());
  handler.Handle({CallOf(second, answers)});
  EXPECT_EQ(kafka.held(), 1u);  // room again: published
  kafka.ReleaseAll(absl::OkStatus());
}

TEST_F(WebhookHandlerTest, WithSeveralAccountsOnlyTheNamedAccountsTokenVerifies) {
  AnsweredAtOnce handler =
      Handler({.account_tokens = {{"AC1", {kToken}}, {"AC2", {"other-account-token"}}}});
  // AC1's callback signed by AC2's token (a subaccount forging another's callbacks): refused.
  EXPECT_EQ(
      handler.Handle(SignedPost(kStatusTarget, DeliveredParams(), "other-account-token")).status,
      403);
  http::FormParams unknown = DeliveredParams();
  for (auto& [name, value] : unknown) {
    if (name == "AccountSid") value = "AC9";
  }
  EXPECT_EQ(handler.Handle(SignedPost(kStatusTarget, unknown, kToken)).status, 403);
  EXPECT_TRUE(publisher_.published().empty());
  EXPECT_EQ(handler.Handle(SignedPost(kStatusTarget, DeliveredParams(), kToken)).status, 204);
}

TEST_F(WebhookHandlerTest, ReplayIsAcknowledgedWithoutASecondEvent) {
  AnsweredAtOnce handler = Handler();
  const http::Request request = SignedPost(kStatusTarget, DeliveredParams());
  ASSERT_EQ(handler.Handle(request).status, 204);
  EXPECT_EQ(handler.Handle(request).status, 204);
  // Without the token header, SID + status + sequence still recognise it.
  http::Request untokened = request;
  std::erase_if(untokened.headers,
                [](const auto& header) { return header.first == "I-Twilio-Idempotency-Token"; });
  ASSERT_EQ(handler.Handle(untokened).status, 204);
  EXPECT_EQ(handler.Handle(untokened).status, 204);
  EXPECT_EQ(publisher_.published().size(), 1u);
  EXPECT_THAT(Metrics(), HasSubstr("klaxon_webhook_dedupe_hits_total{route=\"message_status\"} 3"));
}

// The token header is not signed: a captured callback replayed under a new token, or none, is
// the same callback, for every route.
TEST_F(WebhookHandlerTest, AReplayUnderAnotherOrNoTokenIsNeverPublishedTwice) {
  AnsweredAtOnce handler = Handler();
  const std::vector<std::pair<std::string, http::FormParams>> callbacks = {
      {kStatusTarget, DeliveredParams()},
      {"/twilio/messages/inbound",
       {{"MessageSid", "SM9"}, {"From", "+14155550100"}, {"To", "+14155552671"}, {"Body", "STOP"}}},
      {"/twilio/calls/gather", {{"CallSid", "CA9"}, {"Digits", "1"}}},
      {"/twilio/calls/status", {{"CallSid", "CA9"}, {"CallStatus", "completed"}}}};
  for (const auto& [target, params] : callbacks) {
    const http::Request original = SignedPost(target, params);
    ASSERT_LT(handler.Handle(original).status, 300) << target;
    http::Request replay = original;
    SetHeader(replay, "I-Twilio-Idempotency-Token", "attacker-chosen");
    EXPECT_LT(handler.Handle(replay).status, 300) << target;
    std::erase_if(replay.headers,
                  [](const auto& header) { return header.first == "I-Twilio-Idempotency-Token"; });
    EXPECT_LT(handler.Handle(replay).status, 300) << target;
  }
  EXPECT_EQ(publisher_.published().size(), callbacks.size());
}

// Twilio's signature carries no time: a captured STOP or START replayed after the dedupe window
// would change who is paged, so consent changes are remembered far longer than other callbacks.
TEST_F(WebhookHandlerTest, ConsentChangesAreRememberedLongerThanOtherCallbacks) {
  AnsweredAtOnce handler = Handler();
  const auto inbound = [](const std::string& sid, const std::string& body) {
    return http::FormParams{
        {"MessageSid", sid}, {"From", "+14155550100"}, {"To", "+14155552671"}, {"Body", body}};
  };
  const std::string target = "/twilio/messages/inbound";
  for (const auto& [sid, body] : {std::pair<std::string, std::string>{"SM1", "STOP"},
                                  {"SM2", "on my way"},
                                  {"SM3", "start"}}) {
    ASSERT_EQ(handler.Handle(SignedPost(target, inbound(sid, body))).status, 200) << body;
  }
  EXPECT_EQ(dedupe_.WindowOf(SignedContentKey(target, inbound("SM1", "STOP"))),
            absl::Hours(24 * 400));
  EXPECT_EQ(dedupe_.WindowOf(SignedContentKey(target, inbound("SM2", "on my way"))),
            absl::Hours(48));
  EXPECT_EQ(dedupe_.WindowOf(SignedContentKey(target, inbound("SM3", "start"))),
            absl::Hours(24 * 400));
  EXPECT_EQ(dedupe_.WindowOf(SignedContentKey(kStatusTarget, DeliveredParams())),
            absl::ZeroDuration());
}

TEST(SignedContentKeyTest, CoversTheTargetAndEverySignedParameter) {
  const http::FormParams params = DeliveredParams();
  const std::string key = SignedContentKey(kStatusTarget, params);
  EXPECT_THAT(key, ::testing::StartsWith("signed:"));
  EXPECT_EQ(SignedContentKey(kStatusTarget, {params.rbegin(), params.rend()}), key)
      << "Twilio's signed data sorts the parameters";
  http::FormParams changed = params;
  changed[1].second = "failed";
  EXPECT_NE(SignedContentKey(kStatusTarget, changed), key);
  EXPECT_NE(SignedContentKey("/twilio/messages/status?alert_id=x&attempt=2", params), key);
}

TEST_F(WebhookHandlerTest, InboundMessagesAndKeyPressesGetTwiml) {
  AnsweredAtOnce handler = Handler();
  const http::Response inbound = handler.Handle(SignedPost(
      "/twilio/messages/inbound",
      {{"MessageSid", "SM2"}, {"From", "+14155550100"}, {"To", "+14155552671"}, {"Body", "STOP"}}));
  EXPECT_EQ(inbound.status, 200);
  EXPECT_EQ(inbound.content_type, "text/xml");
  EXPECT_EQ(inbound.body, "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response/>");
  const http::Response gather = handler.Handle(
      SignedPost(std::string("/twilio/calls/gather?alert_id=") + kCallbackAlertId + "&attempt=2",
                 {{"CallSid", "CA1"}, {"Digits", "1"}}));
  EXPECT_EQ(gather.status, 200);
  EXPECT_EQ(gather.content_type, "text/xml");
  ASSERT_EQ(publisher_.published().size(), 2u);
  events::v1::TwilioEvent opt_out;
  ASSERT_TRUE(opt_out.ParseFromString(publisher_.published()[0].value));
  EXPECT_TRUE(opt_out.has_opt_out());
}

TEST_F(WebhookHandlerTest, AnOrdinaryInboundMessageGetsItsNumbersAutoReplyOnceDurable) {
  AnsweredAtOnce handler =
      Handler({.auto_replies = *InboundAutoReplies::Parse(
                   R"({"+14155552671": "Pages only. Reply STOP to opt out & rest."})")});
  const auto inbound = [&](std::string sid, std::string body) {
    return handler.Handle(SignedPost("/twilio/messages/inbound", {{"MessageSid", std::move(sid)},
                                                                  {"From", "+14155550100"},
                                                                  {"To", "+14155552671"},
                                                                  {"Body", std::move(body)}}));
  };
  const http::Response answered = inbound("SM10", "who is this?");
  EXPECT_EQ(answered.status, 200);
  EXPECT_EQ(answered.content_type, "text/xml");
  EXPECT_EQ(answered.body, ReplyTwiml("Pages only. Reply STOP to opt out & rest."));
  EXPECT_EQ(publisher_.published().size(), 1u);  // kept, like every inbound message

  // Twilio answers opt-outs, opt-ins and requests for help itself; an ACK reply gets no text back
  // (the workers act on it, ADR 0024).
  for (const char* keyword : {"STOP", "start", "HELP", " info ", "ACK", "ack 4821"}) {
    EXPECT_EQ(inbound(std::string("SM-") + keyword, keyword).body,
              "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response/>")
        << keyword;
  }
}

TEST_F(WebhookHandlerTest, AnInboundMessageThatCannotBeKeptGetsNoReply) {
  publisher_.FailWith(absl::UnavailableError("Kafka is down"));
  const http::Response refused =
      Handler({.auto_replies = *InboundAutoReplies::Parse(R"({"*": "Pages only."})")})
          .Handle(SignedPost("/twilio/messages/inbound", {{"MessageSid", "SM11"},
                                                          {"From", "+14155550100"},
                                                          {"To", "+14155552671"},
                                                          {"Body", "hello"}}));
  EXPECT_EQ(refused.status, 503);
  EXPECT_EQ(refused.body.find("Pages only."), std::string::npos);
}

TEST_F(WebhookHandlerTest, AcceptsTheSecondaryToken) {
  EXPECT_EQ(Handler().Handle(SignedPost(kStatusTarget, DeliveredParams(), kSecondaryToken)).status,
            204);
}

TEST_F(WebhookHandlerTest, MissingOrWrongSignatureIs403WithNoDetail) {
  AnsweredAtOnce handler = Handler();
  http::Request unsigned_request = SignedPost(kStatusTarget, DeliveredParams());
  std::erase_if(unsigned_request.headers,
                [](const auto& header) { return header.first == "X-Twilio-Signature"; });
  const http::Request wrong_token = SignedPost(kStatusTarget, DeliveredParams(), "old-token");
  http::Request tampered = SignedPost(kStatusTarget, DeliveredParams());
  tampered.body.back() = 'X';  // ErrorCode= becomes ErrorCode=X... and the signature breaks
  http::Request other_alert = SignedPost(kStatusTarget, DeliveredParams());
  other_alert.target.back() = '2';
  other_alert.query.back() = '2';
  for (const http::Request& request : {unsigned_request, wrong_token, tampered, other_alert}) {
    const http::Response response = handler.Handle(request);
    EXPECT_EQ(response.status, 403);
    EXPECT_EQ(response.body, "forbidden\n");
  }
  EXPECT_TRUE(publisher_.published().empty());
  EXPECT_THAT(Metrics(),
              HasSubstr("klaxon_webhook_signature_failures_total{route=\"message_status\"} 4"));
}

TEST_F(WebhookHandlerTest, AcceptsEitherPortFormOfThePublicUrl) {
  AnsweredAtOnce handler = Handler();
  EXPECT_EQ(handler
                .Handle(SignedPost(kStatusTarget, DeliveredParams(), kToken,
                                   "https://hooks.example.com:443"))
                .status,
            204);
  AnsweredAtOnce with_port =
      Handler({.public_url = *twilio::ParsePublicBaseUrl("https://hooks.example.com:443/")});
  EXPECT_EQ(with_port.Handle(SignedPost(kStatusTarget, DeliveredParams())).status, 204);
}

TEST_F(WebhookHandlerTest, UsesThePublicUrlPrefix) {
  AnsweredAtOnce handler =
      Handler({.public_url = *twilio::ParsePublicBaseUrl("https://hooks.example.com/klaxon/")});
  EXPECT_EQ(handler
                .Handle(SignedPost(kStatusTarget, DeliveredParams(), kToken,
                                   "https://hooks.example.com/klaxon"))
                .status,
            204);
  EXPECT_EQ(handler.Handle(SignedPost(kStatusTarget, DeliveredParams())).status, 403);
}

TEST_F(WebhookHandlerTest, ForwardedHeadersCountOnlyWhenTrusted) {
  http::Request request =
      SignedPost(kStatusTarget, DeliveredParams(), kToken, "https://public.example.org");
  SetHeader(request, "X-Forwarded-Proto", "https");
  SetHeader(request, "X-Forwarded-Host", "public.example.org");
  EXPECT_EQ(Handler().Handle(request).status, 403);
  EXPECT_EQ(Handler({.trusted_proxies = *TrustedProxies::Parse("192.0.2.0/24"),
                     .public_url_from_proxy = true})
                .Handle(request)
                .status,
            403)
      << "the peer (10.0.0.1) is not one of the proxies";
  EXPECT_EQ(Handler({.trusted_proxies = *TrustedProxies::Parse("10.0.0.0/8"),
                     .public_url_from_proxy = true})
                .Handle(request)
                .status,
            204);
}

TEST_F(WebhookHandlerTest, AConfiguredPublicUrlIsNotReplacedByForwardedHeaders) {
  AnsweredAtOnce handler = Handler({.trusted_proxies = *TrustedProxies::Parse("10.0.0.0/8")});
  // Signed by Twilio for another host of the account, passed on with the client's own header.
  http::Request staging =
      SignedPost(kStatusTarget, DeliveredParams(), kToken, "https://staging.example.org");
  SetHeader(staging, "X-Forwarded-Host", "staging.example.org");
  EXPECT_EQ(handler.Handle(staging).status, 403);
  // Signed for the public URL, whatever the header says.
  http::Request ours = SignedPost(kStatusTarget, DeliveredParams());
  SetHeader(ours, "X-Forwarded-Host", "staging.example.org");
  EXPECT_EQ(handler.Handle(ours).status, 204);
}

TEST_F(WebhookHandlerTest, RateLimitsTheForwardedClientOnlyBehindATrustedProxy) {
  AnsweredAtOnce handler =
      StrictlyLimitedHandler({.trusted_proxies = *TrustedProxies::Parse("10.0.0.0/8")});
  // Unsigned: refused on its merits, which takes the source's one token.
  const auto from = [&](const std::string& forwarded_for) {
    http::Request request = SignedPost(kStatusTarget, DeliveredParams(), "not-the-token");
    SetHeader(request, "X-Forwarded-For", forwarded_for);
    return handler.Handle(request).status;
  };
  EXPECT_EQ(from("198.51.100.1"), 403);
  EXPECT_EQ(from("198.51.100.1"), 429);
  EXPECT_EQ(from("6.6.6.6, 198.51.100.1"), 429) << "what the client wrote itself is not believed";
  EXPECT_EQ(from("198.51.100.2"), 403);
  // A proxy that adds a line of its own instead of appending: its line is the one believed.
  http::Request two_lines = SignedPost(kStatusTarget, DeliveredParams(), "not-the-token");
  two_lines.headers.emplace_back("X-Forwarded-For", "198.51.100.3");  // the client's own claim
  two_lines.headers.emplace_back("X-Forwarded-For", "198.51.100.1");  // the proxy's
  EXPECT_EQ(handler.Handle(two_lines).status, 429);
}

TEST_F(WebhookHandlerTest, GetIsSignedOverTheWholeUrl) {
  const http::FormParams params = DeliveredParams();
  const std::string target = std::string(kStatusTarget) + "&" + http::EncodeForm(params);
  http::Request request{.method = "GET", .target = target, .peer_address = "10.0.0.1"};
  request.path = "/twilio/messages/status";
  request.query = target.substr(target.find('?') + 1);
  request.headers = {{"X-Twilio-Signature",
                      twilio::ComputeSignature(kToken, "https://hooks.example.com" + target, {})}};
  EXPECT_EQ(Handler().Handle(request).status, 204);
  ASSERT_EQ(publisher_.published().size(), 1u);
  events::v1::TwilioEvent event;
  ASSERT_TRUE(event.ParseFromString(publisher_.published()[0].value));
  EXPECT_EQ(event.message_status().message_sid(), "SM1");
}

TEST_F(WebhookHandlerTest, JsonBodyIsVerifiedThroughBodySha256) {
  const std::string body = R"({"MessageSid":"SM7","MessageStatus":"failed","ErrorCode":30008})";
  const std::string target =
      std::string(kStatusTarget) + "&bodySHA256=" + twilio::BodySha256Hex(body);
  http::Request request{
      .method = "POST", .target = target, .body = body, .peer_address = "10.0.0.1"};
  request.path = "/twilio/messages/status";
  request.query = target.substr(target.find('?') + 1);
  request.headers = {{"Content-Type", "application/json"},
                     {"X-Twilio-Signature",
                      twilio::ComputeSignature(kToken, "https://hooks.example.com" + target, {})}};
  AnsweredAtOnce handler = Handler();
  EXPECT_EQ(handler.Handle(request).status, 204);
  ASSERT_EQ(publisher_.published().size(), 1u);
  events::v1::TwilioEvent event;
  ASSERT_TRUE(event.ParseFromString(publisher_.published()[0].value));
  EXPECT_EQ(event.message_status().error_code(), 30008);

  request.body = R"({"MessageSid":"SM7","MessageStatus":"delivered","ErrorCode":30008})";
  EXPECT_EQ(handler.Handle(request).status, 403);
}

TEST_F(WebhookHandlerTest, HardeningRulesAnswerWithTheirStatusCodes) {
  AnsweredAtOnce handler = Handler();
  http::Request too_large = SignedPost(kStatusTarget, {{"Body", std::string(64 * 1024, 'x')}});
  EXPECT_EQ(handler.Handle(too_large).status, 413);

  http::Request wrong_type = SignedPost(kStatusTarget, DeliveredParams());
  SetHeader(wrong_type, "Content-Type", "text/plain");
  EXPECT_EQ(handler.Handle(wrong_type).status, 415);
  http::Request no_type = SignedPost(kStatusTarget, DeliveredParams());
  std::erase_if(no_type.headers, [](const auto& h) { return h.first == "Content-Type"; });
  EXPECT_EQ(handler.Handle(no_type).status, 415);

  http::Request malformed_form = SignedPost(kStatusTarget, DeliveredParams());
  malformed_form.body = "MessageSid=%ZZ";
  const http::Response bad_form = handler.Handle(malformed_form);
  EXPECT_EQ(bad_form.status, 400);
  EXPECT_THAT(bad_form.body, HasSubstr("hexadecimal"));

  http::Request malformed_json = SignedPost(kStatusTarget, DeliveredParams());
  SetHeader(malformed_json, "Content-Type", "application/json");
  malformed_json.body = "{\"MessageSid\": ";
  EXPECT_EQ(handler.Handle(malformed_json).status, 400);
  malformed_json.body = "[1, 2]";
  EXPECT_EQ(handler.Handle(malformed_json).status, 400);

  // Signed correctly but missing what the route needs.
  const http::Response missing =
      handler.Handle(SignedPost(kStatusTarget, {{"MessageStatus", "delivered"}}));
  EXPECT_EQ(missing.status, 400);
  EXPECT_THAT(missing.body, HasSubstr("MessageSid is required"));

  http::Request wrong_path = SignedPost("/twilio/other", DeliveredParams());
  EXPECT_EQ(handler.Handle(wrong_path).status, 404);
  http::Request put = SignedPost(kStatusTarget, DeliveredParams());
  put.method = "PUT";
  EXPECT_EQ(handler.Handle(put).status, 405);
  EXPECT_TRUE(publisher_.published().empty());
}

class StrictlyLimitedWebhookTest : public WebhookHandlerTest {
 protected:
  StrictlyLimitedWebhookTest()
      : strict_(3, clock_),
        limited_({.public_url = *twilio::ParsePublicBaseUrl("https://hooks.example.com"),
                  .auth_tokens = {kToken},
                  .topic = "t",
                  .settle_threads = 0},
                 dedupe_, publisher_, witness_, {.transit = transit_.cipher(), .tokens = tokens_},
                 strict_, telemetry_, clock_) {}

  SourceRateLimiter strict_;
  WebhookHandler limited_;
  AnsweredAtOnce handler_{limited_};
};

// A page storm: Twilio calls back from a few addresses, far faster than the limit. A refused
// callback is never retried, so not one may be refused for its number.
TEST_F(StrictlyLimitedWebhookTest, NewSignedCallbacksFromOneAddressAreNeverLimited) {
  for (int i = 0; i < 50; ++i) {
    ASSERT_EQ(
        handler_.Handle(SignedPost(kStatusTarget, DeliveredParamsOf(absl::StrCat("SM", i)))).status,
        204)
        << i;
  }
  EXPECT_EQ(publisher_.published().size(), 50u);
}

TEST_F(StrictlyLimitedWebhookTest, ASourceOverItsRefusalsGets429UntilItsBucketRefills) {
  std::vector<int> statuses;
  for (int i = 0; i < 4; ++i) {
    statuses.push_back(
        handler_.Handle(SignedPost(kStatusTarget, DeliveredParams(), "not-the-token")).status);
  }
  EXPECT_EQ(statuses, (std::vector<int>{403, 403, 403, 429}));
  // Twilio's addresses are every Twilio account's: another account's callbacks aimed at Klaxon,
  // refused 403, must not shut Klaxon's own out. A signed callback is heard over the limit.
  EXPECT_EQ(handler_.Handle(SignedPost(kStatusTarget, DeliveredParams())).status, 204);
  EXPECT_EQ(publisher_.published().size(), 1u);
  EXPECT_EQ(handler_.Handle(SignedPost("/twilio/nowhere", {})).status, 429);

  clock_.SleepFor(absl::Seconds(1));
  EXPECT_EQ(handler_.Handle(SignedPost("/twilio/nowhere", {})).status, 404) << "refilled";
}

// A replayed callback is answered as kept and published once; it costs the source a token, so
// the refusals that follow from that address are answered 429.
TEST_F(StrictlyLimitedWebhookTest, ReplaysTakeTokensAndAreStillAnsweredAsKept) {
  std::vector<int> statuses;
  for (int i = 0; i < 5; ++i) {
    statuses.push_back(handler_.Handle(SignedPost(kStatusTarget, DeliveredParams())).status);
  }
  EXPECT_EQ(statuses, (std::vector<int>{204, 204, 204, 204, 204}));
  EXPECT_EQ(publisher_.published().size(), 1u);
  EXPECT_EQ(handler_.Handle(SignedPost("/twilio/nowhere", {})).status, 429);
}

TEST_F(WebhookHandlerTest, KafkaDownIs503AndTheRetryPublishesOnce) {
  AnsweredAtOnce handler = Handler();
  const http::Request request = SignedPost(kStatusTarget, DeliveredParams());
  publisher_.FailWith(absl::UnavailableError("publish: not written (Local: Message timed out)"));
  const http::Response refused = handler.Handle(request);
  EXPECT_EQ(refused.status, 503);
  EXPECT_THAT(refused.headers,
              ::testing::Contains(std::pair<std::string, std::string>("Retry-After", "1")));
  EXPECT_FALSE(dedupe_.Has("token:" + request.Header("I-Twilio-Idempotency-Token").value()));
  publisher_.FailWith(absl::OkStatus());
  EXPECT_EQ(handler.Handle(request).status, 204);
  EXPECT_EQ(handler.Handle(request).status, 204);
  EXPECT_EQ(publisher_.published().size(), 1u);
}

// --- what the status checks are told (docs/adr/0014) ---

// Whether the ledger has a loss written (the witness flushed), and when.
std::optional<absl::Time> LostAt(callbacks::CallbackLedger& ledger) {
  return ledger.Read("any").value().lost_at;
}

TEST_F(WebhookHandlerTest, ACallbackKafkaMayHaveWrittenIsPublishedAgainRatherThanLost) {
  // "May have been written" is usually "was not": a broker killed under a sent request. The retry
  // publishes again; a second copy is dropped downstream by its dedupe key (docs/adr/0006).
  AnsweredAtOnce handler = Handler();
  const http::Request request = SignedPost(kStatusTarget, DeliveredParams());
  publisher_.FailWith(absl::DeadlineExceededError("publish: may have been written"));
  EXPECT_EQ(handler.Handle(request).status, 503);
  publisher_.FailWith(absl::OkStatus());
  EXPECT_EQ(handler.Handle(request).status, 204);
  EXPECT_EQ(publisher_.published().size(), 1u);
}

TEST_F(WebhookHandlerTest, ADurableFinalStatusIsRecordedForItsSid) {
  AnsweredAtOnce handler = Handler();
  ASSERT_EQ(handler.Handle(SignedPost(kStatusTarget, DeliveredParams())).status, 204);
  ASSERT_EQ(handler
                .Handle(SignedPost("/twilio/calls/status",
                                   {{"CallSid", "CA1"}, {"CallStatus", "no-answer"}}))
                .status,
            204);
  EXPECT_TRUE(ledger_.Read("SM1")->final_arrived);
  EXPECT_TRUE(ledger_.Read("CA1")->final_arrived);
}

TEST_F(WebhookHandlerTest, AStatusThatIsNotFinalRecordsNoArrival) {
  http::FormParams sent = DeliveredParams();
  sent[1].second = "sent";
  AnsweredAtOnce handler = Handler();
  ASSERT_EQ(handler.Handle(SignedPost(kStatusTarget, sent)).status, 204);
  ASSERT_EQ(handler
                .Handle(SignedPost("/twilio/calls/status",
                                   {{"CallSid", "CA1"}, {"CallStatus", "ringing"}}))
                .status,
            204);
  EXPECT_FALSE(ledger_.Read("SM1")->final_arrived);
  EXPECT_FALSE(ledger_.Read("CA1")->final_arrived);
}

TEST_F(WebhookHandlerTest, AFinalStatusKafkaRefusedRecordsNoArrival) {
  publisher_.FailWith(absl::UnavailableError("kafka down"));
  ASSERT_EQ(Handler().Handle(SignedPost(kStatusTarget, DeliveredParams())).status, 503);
  EXPECT_FALSE(ledger_.Read("SM1")->final_arrived);
}

TEST_F(WebhookHandlerTest, AnUnrecordedFinalStatusIsStillAcknowledged) {
  ledger_.FailWith(absl::UnavailableError("redis down"));
  EXPECT_EQ(Handler().Handle(SignedPost(kStatusTarget, DeliveredParams())).status, 204);
  ASSERT_EQ(publisher_.published().size(), 1u);
  EXPECT_THAT(Metrics(), HasSubstr("outcome=\"accepted_final_unrecorded\""));
}

TEST_F(WebhookHandlerTest, AStatusCallbackRefusedBecauseKafkaFailedIsALoss) {
  publisher_.FailWith(absl::UnavailableError("kafka down"));
  ASSERT_EQ(Handler().Handle(SignedPost(kStatusTarget, DeliveredParams())).status, 503);
  clock_.SleepFor(absl::Seconds(1));
  ASSERT_TRUE(witness_.Flush().ok());
  EXPECT_EQ(LostAt(ledger_), clock_.Now());
  EXPECT_THAT(Metrics(), HasSubstr("klaxon_webhook_callbacks_lost_timestamp_seconds"));
}

TEST_F(WebhookHandlerTest, AStatusCallbackRefusedBecauseRedisFailedIsALoss) {
  dedupe_.FailWith(absl::UnavailableError("redis down"));
  ASSERT_EQ(Handler()
                .Handle(SignedPost("/twilio/calls/status",
                                   {{"CallSid", "CA1"}, {"CallStatus", "completed"}}))
                .status,
            503);
  ASSERT_TRUE(witness_.Flush().ok());
  EXPECT_EQ(LostAt(ledger_), clock_.Now());
}

TEST_F(WebhookHandlerTest, RefusalsThatLoseNoStatusAreNoLoss) {
  AnsweredAtOnce handler = Handler();
  // Unsigned: anyone may send it.
  http::Request forged = SignedPost(kStatusTarget, DeliveredParams(), "not-the-token");
  ASSERT_EQ(handler.Handle(forged).status, 403);
  // Another request is publishing the same callback: that one is published or noted.
  const http::Request request = SignedPost(kStatusTarget, DeliveredParams());
  ASSERT_EQ(dedupe_
                .Claim({{"token:" + request.Header("I-Twilio-Idempotency-Token").value()}},
                       absl::Seconds(10))
                .front()
                .value()
                .outcome,
            DedupeClaim::kClaimed);
  ASSERT_EQ(handler.Handle(request).status, 503);
  // An inbound message is not a status; no status check would repair it.
  publisher_.FailWith(absl::UnavailableError("kafka down"));
  ASSERT_EQ(handler
                .Handle(SignedPost("/twilio/messages/inbound", {{"MessageSid", "SM9"},
                                                                {"From", "+14155550100"},
                                                                {"To", "+14155552671"},
                                                                {"Body", "hello"}}))
                .status,
            503);
  ASSERT_TRUE(witness_.Flush().ok());
  EXPECT_EQ(LostAt(ledger_), std::nullopt);
}

// Anyone can get a source rate-limited; a loss noted for it would have every pending attempt read
// from Twilio on a stranger's say (docs/adr/0014).
TEST_F(WebhookHandlerTest, ARateLimitedRequestIsNoLoss) {
  AnsweredAtOnce handler = StrictlyLimitedHandler();
  ASSERT_EQ(handler.Handle(SignedPost("/twilio/nowhere", {})).status, 404);  // takes the token
  ASSERT_EQ(handler.Handle(SignedPost(kStatusTarget, DeliveredParams(), "not-the-token")).status,
            429);
  ASSERT_TRUE(witness_.Flush().ok());
  EXPECT_EQ(LostAt(ledger_), std::nullopt);
}

TEST_F(WebhookHandlerTest, RedisDownIs503AndNothingIsPublished) {
  dedupe_.FailWith(absl::UnavailableError("redis: connection refused"));
  EXPECT_EQ(Handler().Handle(SignedPost(kStatusTarget, DeliveredParams())).status, 503);
  EXPECT_TRUE(publisher_.published().empty());
}

TEST_F(WebhookHandlerTest, TheSameCallbackInFlightElsewhereIs503) {
  const http::Request request = SignedPost(kStatusTarget, DeliveredParams());
  ASSERT_EQ(dedupe_
                .Claim({{"token:" + request.Header("I-Twilio-Idempotency-Token").value()}},
                       absl::Seconds(10))
                .front()
                .value()
                .outcome,
            DedupeClaim::kClaimed);
  EXPECT_EQ(Handler().Handle(request).status, 503);
  EXPECT_TRUE(publisher_.published().empty());
}

TEST_F(WebhookHandlerTest, LogsNoPhoneNumber) {
  AnsweredAtOnce handler = Handler();
  handler.Handle(SignedPost("/twilio/messages/inbound", {{"MessageSid", "SM3"},
                                                         {"From", "+14155550100"},
                                                         {"To", "+14155552671"},
                                                         {"Body", "hello"}}));
  handler.Handle(SignedPost("/twilio/messages/inbound", {{"From", "+14155550100"}}));
  for (const std::string& line : sink_.Lines()) {
    EXPECT_THAT(line, Not(HasSubstr("4155550100")));
    EXPECT_THAT(line, Not(HasSubstr("hello")));
  }
}

}  // namespace
}  // namespace klaxon::ingress
