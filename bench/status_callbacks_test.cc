#include "bench/status_callbacks.h"

#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/ids/uuid.h"
#include "common/twilio/webhook_signature.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace klaxon::bench {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;

const absl::Time kNow = absl::FromUnixSeconds(1'750'000'000);

// A request as ingress reads it.
struct ParsedRequest {
  std::string request_line;
  std::map<std::string, std::string> headers;
  std::string body;
};

ParsedRequest Parse(absl::string_view bytes) {
  ParsedRequest parsed;
  const std::size_t head_end = bytes.find("\r\n\r\n");
  EXPECT_NE(head_end, absl::string_view::npos);
  std::vector<absl::string_view> lines = absl::StrSplit(bytes.substr(0, head_end), "\r\n");
  parsed.request_line = std::string(lines.front());
  for (std::size_t i = 1; i < lines.size(); ++i) {
    const std::size_t colon = lines[i].find(": ");
    EXPECT_NE(colon, absl::string_view::npos) << lines[i];
    parsed.headers[std::string(lines[i].substr(0, colon))] =
        std::string(lines[i].substr(colon + 2));
  }
  parsed.body = std::string(bytes.substr(head_end + 4));
  return parsed;
}

// The request target from "POST <target> HTTP/1.1".
std::string Target(const ParsedRequest& request) {
  std::vector<std::string> parts = absl::StrSplit(request.request_line, ' ');
  EXPECT_EQ(parts.size(), 3u);
  return parts.size() == 3 ? parts[1] : "";
}

bool SignedFor(const ParsedRequest& request, const std::string& public_url,
               const std::string& token) {
  absl::StatusOr<http::FormParams> params = http::DecodeForm(request.body);
  EXPECT_TRUE(params.ok()) << params.status();
  const std::vector<std::string> tokens = {token};
  return twilio::VerifySignature(
      tokens, {.url = public_url + Target(request), .params = params.value_or(http::FormParams{})},
      request.headers.at("X-Twilio-Signature"));
}

CallbackRequestOptions Options() {
  return {.public_url = "http://127.0.0.1:8080",
          .authority = "127.0.0.1:8080",
          .auth_token = "sandbox-token"};
}

StatusCallback Delivered() {
  return StatusCallback{.alert_id = "0190f1c4-7a3e-7b12-9c4d-1e2f3a4b5c6d",
                        .attempt = 2,
                        .idempotency_token = "token-1",
                        .params = {{"MessageSid", "SM0123456789abcdef0123456789abcdef"},
                                   {"MessageStatus", "delivered"},
                                   {"From", "+14155550100"},
                                   {"ErrorCode", ""}}};
}

TEST(ParseWebhookUrlTest, SplitsHostAndPort) {
  absl::StatusOr<WebhookTarget> target = ParseWebhookUrl("http://127.0.0.1:8080");
  ASSERT_TRUE(target.ok()) << target.status();
  EXPECT_EQ(target->host, "127.0.0.1");
  EXPECT_EQ(target->port, 8080);
  EXPECT_EQ(target->authority, "127.0.0.1:8080");
  EXPECT_EQ(target->origin, "http://127.0.0.1:8080");
}

TEST(ParseWebhookUrlTest, DefaultsToPort80AndDropsATrailingSlash) {
  absl::StatusOr<WebhookTarget> target = ParseWebhookUrl("http://ingress.local/");
  ASSERT_TRUE(target.ok()) << target.status();
  EXPECT_EQ(target->host, "ingress.local");
  EXPECT_EQ(target->port, 80);
  EXPECT_EQ(target->origin, "http://ingress.local");
}

TEST(ParseWebhookUrlTest, TakesBracketedIpv6) {
  absl::StatusOr<WebhookTarget> target = ParseWebhookUrl("http://[::1]:9000");
  ASSERT_TRUE(target.ok()) << target.status();
  EXPECT_EQ(target->host, "::1");
  EXPECT_EQ(target->port, 9000);
  EXPECT_EQ(target->authority, "[::1]:9000");
}

TEST(ParseWebhookUrlTest, RefusesWhatItCannotConnectTo) {
  for (const char* url :
       {"https://127.0.0.1:8443", "127.0.0.1:8080", "http://", "http://host:0", "http://host:70000",
        "http://host:", "http://host/x", "http://host?a=1", "http://user@host", "http://[::1"}) {
    const absl::Status status = ParseWebhookUrl(url).status();
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << url;
    EXPECT_THAT(status.message(), HasSubstr("http://host:port")) << url;
  }
}

TEST(StatusCallbackRequestTest, PostsTheFormToTheMessageStatusRoute) {
  const ParsedRequest request = Parse(StatusCallbackRequest(Delivered(), Options()));
  EXPECT_EQ(request.request_line,
            "POST /twilio/messages/status?alert_id=0190f1c4-7a3e-7b12-9c4d-1e2f3a4b5c6d&attempt=2 "
            "HTTP/1.1");
  EXPECT_EQ(request.headers.at("Host"), "127.0.0.1:8080");
  EXPECT_EQ(request.headers.at("Content-Type"), "application/x-www-form-urlencoded");
  EXPECT_EQ(request.headers.at("I-Twilio-Idempotency-Token"), "token-1");
  EXPECT_EQ(request.body,
            "MessageSid=SM0123456789abcdef0123456789abcdef&MessageStatus=delivered&"
            "From=%2B14155550100&ErrorCode=");
  std::size_t length = 0;
  ASSERT_TRUE(absl::SimpleAtoi(request.headers.at("Content-Length"), &length));
  EXPECT_EQ(length, request.body.size());
}

TEST(StatusCallbackRequestTest, IsSignedOverThePublicUrlIngressRebuilds) {
  const ParsedRequest request = Parse(StatusCallbackRequest(Delivered(), Options()));
  EXPECT_TRUE(SignedFor(request, "http://127.0.0.1:8080", "sandbox-token"));
  EXPECT_FALSE(SignedFor(request, "http://127.0.0.1:8080", "other-token"));
  EXPECT_FALSE(SignedFor(request, "http://localhost:8080", "sandbox-token"));
}

TEST(StatusCallbackRequestTest, SignsForAPublicUrlWithAPathPrefix) {
  CallbackRequestOptions options = Options();
  options.public_url = "https://hooks.example.com/klaxon/";
  const ParsedRequest request = Parse(StatusCallbackRequest(Delivered(), options));
  EXPECT_THAT(request.request_line, ::testing::StartsWith("POST /twilio/messages/status?"));
  EXPECT_TRUE(SignedFor(request, "https://hooks.example.com/klaxon", "sandbox-token"));
}

TEST(RandomStatusCallbackTest, DescribesANewMessage) {
  std::mt19937_64 gen(1);
  const StatusCallback callback = RandomStatusCallback("AC123", kNow, gen);
  EXPECT_TRUE(ids::UuidV7Time(callback.alert_id).ok()) << callback.alert_id;
  EXPECT_EQ(callback.attempt, 1u);
  EXPECT_EQ(callback.idempotency_token.size(), 32u);
  std::vector<std::string> keys;
  for (const auto& [key, value] : callback.params) keys.push_back(key);
  EXPECT_THAT(keys,
              ElementsAre("MessageSid", "MessageStatus", "AccountSid", "From", "To", "ErrorCode"));
  const std::string& sid = callback.params[0].second;
  EXPECT_EQ(sid.size(), 34u);
  EXPECT_TRUE(absl::StartsWith(sid, "SM"));
  EXPECT_EQ(sid.find_first_not_of("0123456789abcdef", 2), std::string::npos) << sid;
  EXPECT_EQ(callback.params[2].second, "AC123");
  EXPECT_TRUE(absl::StartsWith(callback.params[4].second, "+1415555"));
  EXPECT_EQ(callback.params[4].second.size(), 12u);
}

TEST(RandomStatusCallbackTest, MixesStatusesAndGivesUndeliveredItsErrorCode) {
  std::mt19937_64 gen(2);
  std::map<std::string, int> statuses;
  std::set<std::string> sids;
  std::set<std::string> tokens;
  for (int i = 0; i < 2000; ++i) {
    const StatusCallback callback = RandomStatusCallback("AC123", kNow, gen);
    const std::string& status = callback.params[1].second;
    ++statuses[status];
    EXPECT_EQ(callback.params[5].second, status == "undelivered" ? "30003" : "") << status;
    sids.insert(callback.params[0].second);
    tokens.insert(callback.idempotency_token);
  }
  EXPECT_THAT(
      statuses,
      ElementsAre(Pair("delivered", ::testing::Gt(800)), Pair("sent", ::testing::Gt(800)),
                  Pair("undelivered", ::testing::AllOf(::testing::Gt(50), ::testing::Lt(200)))));
  EXPECT_EQ(sids.size(), 2000u);
  EXPECT_EQ(tokens.size(), 2000u);
}

TEST(PlanStatusCallbacksTest, WithoutReplaysEveryRequestIsANewCallback) {
  std::mt19937_64 gen(3);
  const RequestPlan plan =
      PlanStatusCallbacks(500, {.request = Options(), .account_sid = "AC123"}, kNow, gen);
  ASSERT_EQ(plan.requests.size(), 500u);
  EXPECT_EQ(plan.replays, 0);
  std::set<std::string> tokens;
  for (std::size_t i = 0; i < plan.requests.size(); ++i) {
    EXPECT_FALSE(plan.replay[i]);
    const ParsedRequest request = Parse(plan.requests[i]);
    EXPECT_TRUE(SignedFor(request, "http://127.0.0.1:8080", "sandbox-token")) << i;
    tokens.insert(request.headers.at("I-Twilio-Idempotency-Token"));
  }
  EXPECT_EQ(tokens.size(), 500u);
}

TEST(PlanStatusCallbacksTest, AReplayRepeatsTheRequestReplayDistanceBefore) {
  std::mt19937_64 gen(4);
  const RequestPlan plan = PlanStatusCallbacks(
      20,
      {.request = Options(), .account_sid = "AC123", .replay_fraction = 1, .replay_distance = 3},
      kNow, gen);
  EXPECT_EQ(plan.replays, 17);
  for (std::size_t i = 0; i < 3; ++i) EXPECT_FALSE(plan.replay[i]);
  for (std::size_t i = 3; i < 20; ++i) {
    EXPECT_TRUE(plan.replay[i]);
    EXPECT_EQ(plan.requests[i], plan.requests[i - 3]);
  }
  EXPECT_NE(plan.requests[0], plan.requests[1]);
}

TEST(PlanStatusCallbacksTest, ReplaysAboutTheAskedFraction) {
  std::mt19937_64 gen(5);
  const RequestPlan plan = PlanStatusCallbacks(4000,
                                               {.request = Options(),
                                                .account_sid = "AC123",
                                                .replay_fraction = 0.05,
                                                .replay_distance = 100},
                                               kNow, gen);
  EXPECT_GT(plan.replays, 130);  // 195 expected of the 3900 that may be replays
  EXPECT_LT(plan.replays, 260);
  int64_t flagged = 0;
  for (std::size_t i = 0; i < plan.replay.size(); ++i) {
    if (!plan.replay[i]) continue;
    ++flagged;
    EXPECT_EQ(plan.requests[i], plan.requests[i - 100]);
  }
  EXPECT_EQ(flagged, plan.replays);
}

}  // namespace
}  // namespace klaxon::bench
