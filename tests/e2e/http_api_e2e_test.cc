// The caller API over HTTP/JSON (docs/adr/0023) against the whole suite: an alert sent with
// POST /v1/alerts reaches the sandbox and is read back DELIVERED with GET /v1/alerts/{id} (served
// by audit behind ingress's gateway); the same API keys, the same validation messages as gRPC,
// problem documents for errors, and the OpenAPI document. Needs KLAXON_TEST_KAFKA_BROKERS,
// KLAXON_TEST_REDIS_URL, KLAXON_TEST_PG_URL.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "google/protobuf/util/json_util.h"
#include "tests/e2e/suite.h"
#include "tests/support/http.h"

namespace klaxon::e2e::http_api_test {
namespace {

using ::testing::HasSubstr;
using testing::HttpResponse;

class HttpApiE2eKafkaRedisPostgresTest : public ::testing::Test {
 protected:
  // A batch of 1,000 takes its recipients in one by one (ADR 0023): in the sanitizer tree that
  // is longer than the default 10 s deadline.
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(suite_.Start({.env = {{"KLAXON_HTTP_API_DEADLINE", "60s"}}}));
  }

  HttpResponse Call(std::string method, const std::string& path, std::string body = "",
                    const std::string& api_key = Suite::kApiKey,
                    absl::Duration timeout = absl::Seconds(10)) {
    return suite_.CallHttpApi(std::move(method), path, std::move(body), api_key, timeout);
  }

  static nlohmann::json Json(const HttpResponse& response) {
    return nlohmann::json::parse(response.body, nullptr, /*allow_exceptions=*/false);
  }

  Suite suite_;
};

TEST_F(HttpApiE2eKafkaRedisPostgresTest, AnAlertSentOverHttpIsDeliveredAndReadBack) {
  const std::string request =
      R"({"channel":"CHANNEL_SMS","recipient":"+14155550188","text":"disk full on db-7",)"
      R"("idempotencyKey":"http-1"})";
  const HttpResponse sent = Call("POST", "/v1/alerts", request);
  ASSERT_EQ(sent.status, 200) << sent.error << sent.body;
  EXPECT_EQ(sent.Header("content-type"), "application/json");
  const std::string alert_id = Json(sent)["alertId"];
  EXPECT_EQ(Json(sent)["duplicate"], false);

  // The same idempotency key: the same alert, nothing sent twice.
  const HttpResponse again = Call("POST", "/v1/alerts", request);
  ASSERT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(Json(again)["alertId"], alert_id);
  EXPECT_EQ(Json(again)["duplicate"], true);

  nlohmann::json alert;
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (absl::Now() < deadline) {
    const HttpResponse got = Call("GET", "/v1/alerts/" + alert_id);
    // 503 "retry shortly" while audit has not recorded the alert yet, as gRPC's UNAVAILABLE.
    if (got.status != 503) {
      ASSERT_EQ(got.status, 200) << got.body;
      alert = Json(got);
      if (alert["status"] == "ALERT_STATUS_DELIVERED") break;
    }
    absl::SleepFor(absl::Milliseconds(200));
  }
  EXPECT_EQ(alert["status"], "ALERT_STATUS_DELIVERED") << alert.dump();
  EXPECT_EQ(alert["recipientLast4"], "0188");
  ASSERT_EQ(suite_.Ledger().size(), 1u);
  EXPECT_EQ(suite_.Ledger()[0]["body"], "disk full on db-7");

  // Another caller's key: the alert does not exist for it, exactly as over gRPC.
  const HttpResponse foreign = Call("GET", "/v1/alerts/" + alert_id, "", Suite::kOtherApiKey);
  EXPECT_EQ(foreign.status, 404) << foreign.body;
  EXPECT_EQ(foreign.Header("content-type"), "application/problem+json");

  // The list, filtered by query parameters, and the audit trail.
  const HttpResponse listed = Call("GET", "/v1/alerts?channel=CHANNEL_SMS&pageSize=10");
  ASSERT_EQ(listed.status, 200) << listed.body;
  ASSERT_EQ(Json(listed)["alerts"].size(), 1u) << listed.body;
  EXPECT_EQ(Json(listed)["alerts"][0]["alertId"], alert_id);
  const HttpResponse trail = Call("GET", "/v1/alerts/" + alert_id + "/trail");
  ASSERT_EQ(trail.status, 200) << trail.body;
  EXPECT_FALSE(Json(trail)["events"].empty()) << trail.body;

  // Cancelling a delivered alert is OK and says so, as CancelAlert does.
  const HttpResponse cancelled = Call("POST", "/v1/alerts/" + alert_id + ":cancel");
  EXPECT_EQ(cancelled.status, 200) << cancelled.body;
  // An alert cancelled first cannot be acknowledged: FAILED_PRECONDITION, 400.
  const HttpResponse acknowledged = Call("POST", "/v1/alerts/" + alert_id + ":acknowledge");
  EXPECT_EQ(acknowledged.status, 400) << acknowledged.body;
  EXPECT_NE(acknowledged.body.find("cancelled before it was acknowledged"), std::string::npos)
      << acknowledged.body;

  // Phone verification, served by ingress in process like SendAlert.
  const HttpResponse started =
      Call("POST", "/v1/verifications", R"({"recipient":"+14155550189","channel":"CHANNEL_SMS"})");
  ASSERT_EQ(started.status, 200) << started.body;
  const std::string verification_id = Json(started)["verificationId"];
  EXPECT_FALSE(verification_id.empty());
  const HttpResponse ended = Call("POST", "/v1/verifications/" + verification_id + ":cancel");
  EXPECT_EQ(ended.status, 200) << ended.body;
  EXPECT_EQ(Json(ended)["alreadyEnded"], false);
}

TEST_F(HttpApiE2eKafkaRedisPostgresTest, ABatchOfAThousandWithFiveBadNumbersPagesTheRestOnce) {
  constexpr size_t kRecipients = 1000;
  const std::set<size_t> bad = {3, 250, 500, 750, 999};
  nlohmann::json recipients = nlohmann::json::array();
  for (size_t i = 0; i < kRecipients; ++i) {
    // +1 415 555 0000 to 0999; the bad ones lack their country code.
    const std::string local = absl::StrFormat("4155550%03d", i);
    recipients.push_back(bad.contains(i) ? local : "+1" + local);
  }
  const nlohmann::json batch = {{"channel", "CHANNEL_SMS"},
                                {"recipients", recipients},
                                {"text", "db-7 is down"},
                                {"idempotencyKey", "batch-1"}};
  const HttpResponse sent =
      Call("POST", "/v1/alerts:batch", batch.dump(), Suite::kApiKey, absl::Seconds(90));
  ASSERT_EQ(sent.status, 200) << sent.error << sent.body.substr(0, 500);
  const nlohmann::json outcomes = Json(sent)["outcomes"];
  EXPECT_EQ(Json(sent)["accepted"], kRecipients - 5);
  EXPECT_EQ(Json(sent)["refused"], 5);
  ASSERT_EQ(outcomes.size(), kRecipients);
  for (size_t i : bad) {
    EXPECT_EQ(outcomes[i]["statusCode"], 3) << i;  // INVALID_ARGUMENT
    EXPECT_THAT(outcomes[i]["statusMessage"].get<std::string>(), HasSubstr("recipient")) << i;
    EXPECT_EQ(outcomes[i]["alertId"], "") << i;
  }

  // Retried whole (a timeout on the caller's side, say): the same alerts, nothing sent again.
  const HttpResponse again =
      Call("POST", "/v1/alerts:batch", batch.dump(), Suite::kApiKey, absl::Seconds(90));
  ASSERT_EQ(again.status, 200) << again.body.substr(0, 500);
  EXPECT_EQ(Json(again)["outcomes"][0]["alertId"], outcomes[0]["alertId"]);
  EXPECT_EQ(Json(again)["outcomes"][0]["duplicate"], true);

  nlohmann::json ledger;
  const absl::Time deadline = absl::Now() + absl::Seconds(180);
  while (absl::Now() < deadline && (ledger = suite_.Ledger()).size() < kRecipients - 5) {
    absl::SleepFor(absl::Milliseconds(500));
  }
  std::set<std::string> paged;
  for (const nlohmann::json& entry : ledger) paged.insert(entry["to"].get<std::string>());
  EXPECT_EQ(ledger.size(), kRecipients - 5);
  EXPECT_EQ(paged.size(), kRecipients - 5);  // each number once
}

// Templates over HTTP (docs/adr/0030): created, listed and previewed, then a batch naming one
// renders each recipient's own parameters beside the batch's, and a recipient missing one is
// refused on its own, naming it.
TEST_F(HttpApiE2eKafkaRedisPostgresTest, ABatchNamingATemplateRendersEachRecipientsParameters) {
  const nlohmann::json created_template = {
      {"template",
       {{"name", "db-down"}, {"locale", "en-US"}, {"smsText", "{{host}} is down, ask {{team}}"}}}};
  const HttpResponse created = Call("POST", "/v1/templates", created_template.dump());
  ASSERT_EQ(created.status, 200) << created.error << created.body;
  EXPECT_EQ(Json(created)["version"], 1);
  const HttpResponse listed = Call("GET", "/v1/templates?name=db-down");
  ASSERT_EQ(listed.status, 200) << listed.body;
  EXPECT_EQ(Json(listed)["templates"][0]["smsText"], "{{host}} is down, ask {{team}}");

  const nlohmann::json batch = {
      {"channel", "CHANNEL_SMS"},
      {"recipients", {"+14155550181", "+14155550182", "+14155550183"}},
      {"template", {{"name", "db-down"}, {"parameters", {{"team", "dba"}}}}},
      {"recipientParameters",
       {{{"values", {{"host", "db-1"}}}},
        {{"values", {{"host", "db-2"}, {"team", "storage"}}}},
        {{"values", {{"hots", "db-3"}}}}}},
      {"idempotencyKey", "templated-batch-1"}};
  const HttpResponse sent = Call("POST", "/v1/alerts:batch", batch.dump());
  ASSERT_EQ(sent.status, 200) << sent.error << sent.body;
  EXPECT_EQ(Json(sent)["accepted"], 2);
  const nlohmann::json refused = Json(sent)["outcomes"][2];
  EXPECT_EQ(refused["statusCode"], 3);  // INVALID_ARGUMENT
  EXPECT_THAT(refused["statusMessage"].get<std::string>(), HasSubstr("host"));

  for (const auto& [to, body] : {std::pair{"+14155550181", "db-1 is down, ask dba"},
                                 std::pair{"+14155550182", "db-2 is down, ask storage"}}) {
    std::vector<nlohmann::json> messages;
    const absl::Time deadline = absl::Now() + absl::Seconds(60);
    while (absl::Now() < deadline && (messages = suite_.LedgerTo(to, "message")).empty()) {
      absl::SleepFor(absl::Milliseconds(200));
    }
    ASSERT_EQ(messages.size(), 1u) << to;
    EXPECT_EQ(messages[0].value("body", ""), body) << to;
  }
  EXPECT_TRUE(suite_.LedgerTo("+14155550183", "message").empty());
}

// The same bad requests over HTTP/JSON and over gRPC: the same code and the same message.
TEST_F(HttpApiE2eKafkaRedisPostgresTest, TheHttpApiPassesTheSameValidationCasesAsGrpc) {
  const std::string long_text(1601, 'x');
  const std::vector<std::string> cases = {
      R"({})",
      R"({"channel":"CHANNEL_SMS","text":"x","idempotencyKey":"v1"})",
      R"({"channel":"CHANNEL_SMS","recipient":"+1415555","text":"x","idempotencyKey":"v2"})",
      R"({"channel":"CHANNEL_SMS","recipient":"+14155550100","idempotencyKey":"v3"})",
      R"({"channel":"CHANNEL_SMS","recipient":"+14155550100","text":")" + long_text +
          R"(","idempotencyKey":"v4"})",
      R"({"channel":"CHANNEL_SMS","recipient":"+14155550100","text":"x"})",
      R"({"channel":"CHANNEL_SMS","recipient":"+14155550100","text":"x","idempotencyKey":"v6",)"
      R"("ttl":"0.5s"})",
      R"({"channel":"CHANNEL_SMS","recipient":"+14155550100","text":"x","idempotencyKey":"v7",)"
      R"("voice":{"maxCalls":2}})",
  };
  auto intake = suite_.IntakeStub();
  for (const std::string& body : cases) {
    alerts::v1::SendAlertRequest request;
    ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(body, &request).ok()) << body;
    alerts::v1::SendAlertResponse ignored;
    const grpc::Status over_grpc = intake->SendAlert(Suite::CallContext().get(), request, &ignored);
    ASSERT_EQ(over_grpc.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << body;

    const HttpResponse over_http = Call("POST", "/v1/alerts", body);
    EXPECT_EQ(over_http.status, 400) << body;
    EXPECT_EQ(Json(over_http)["code"], "INVALID_ARGUMENT") << body;
    EXPECT_EQ(Json(over_http)["detail"], over_grpc.error_message()) << body;
  }
  EXPECT_TRUE(suite_.Ledger().empty());
}

TEST_F(HttpApiE2eKafkaRedisPostgresTest, ErrorsAreProblemsWithTheGrpcMessagesAndStatuses) {
  // No key: 401, and the challenge says how to authenticate.
  const HttpResponse anonymous = Call("POST", "/v1/alerts", "{}", "");
  EXPECT_EQ(anonymous.status, 401) << anonymous.body;
  EXPECT_EQ(anonymous.Header("www-authenticate"), "Bearer");
  EXPECT_EQ(Json(anonymous)["code"], "UNAUTHENTICATED");

  // A request whose body is still to come is refused from its head without a key: 401 at once,
  // not after the body's 10 s deadline, and the body is never held (ADR 0023).
  const absl::Time asked = absl::Now();
  const HttpResponse early =
      testing::SendHttp({.method = "POST",
                         .url = absl::StrCat("http://", suite_.HttpApiAddress(), "/v1/alerts"),
                         .headers = {{"Authorization", "Bearer not-a-key"},
                                     {"Content-Type", "application/json"},
                                     {"Content-Length", "200000"}},
                         .body = "{",
                         .timeout = absl::Seconds(5)});
  EXPECT_EQ(early.status, 401) << early.error;
  EXPECT_EQ(Json(early)["code"], "UNAUTHENTICATED");
  EXPECT_LT(absl::Now() - asked, absl::Seconds(3));

  // JSON the service never sees: named by the gateway.
  EXPECT_EQ(Json(Call("POST", "/v1/alerts", R"({"recipients":"+14155550188"})"))["detail"],
            "unknown field \"recipients\"");
  EXPECT_THAT(Json(Call("POST", "/v1/alerts", R"({"text":["a"]})"))["detail"].get<std::string>(),
              HasSubstr("\"text\""));
  EXPECT_EQ(Call("GET", "/v1/nothing-here").status, 404);
  EXPECT_EQ(Call("PUT", "/v1/alerts", "{}").status, 405);

  // The OpenAPI document, without a key.
  const HttpResponse document = Call("GET", "/v1/openapi.json", "", "");
  ASSERT_EQ(document.status, 200);
  const nlohmann::json openapi = Json(document);
  EXPECT_EQ(openapi["openapi"], "3.0.3");
  EXPECT_TRUE(openapi["paths"]["/v1/alerts"].contains("post"));
  EXPECT_TRUE(openapi["paths"]["/v1/verifications"].contains("post"));
  EXPECT_TRUE(openapi["components"]["schemas"].contains("klaxon.alerts.v1.SendAlertRequest"));

  // ingress counts what the API answered.
  EXPECT_THAT(suite_.Metrics("ingress"),
              HasSubstr(R"(klaxon_http_api_requests_total{rpc="SendAlert",status="400"})"));
}

}  // namespace
}  // namespace klaxon::e2e::http_api_test
