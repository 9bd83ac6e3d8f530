#include "common/grpc_gateway/gateway.h"

#include <future>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "common/grpcutil/grpcutil.h"
#include "gmock/gmock.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/security/server_credentials.h"
#include "gtest/gtest.h"
#include "klaxon/alerts/v1/alerts.grpc.pb.h"
#include "nlohmann/json.hpp"

namespace klaxon::grpc_gateway {
namespace {

using alerts::v1::AlertIntake;
using alerts::v1::AlertQuery;
using ::testing::HasSubstr;
using ::testing::Pair;
using ::testing::UnorderedElementsAre;

// Records what reached it and answers as told.
class FakeIntake final : public AlertIntake::Service {
 public:
  grpc::Status SendAlert(grpc::ServerContext* context, const alerts::v1::SendAlertRequest* request,
                         alerts::v1::SendAlertResponse* response) override {
    std::lock_guard lock(mu_);
    sent = *request;
    const auto authorization = context->client_metadata().find("authorization");
    if (authorization != context->client_metadata().end()) {
      seen_authorization.assign(authorization->second.data(), authorization->second.size());
    }
    if (!answer.ok()) return grpcutil::ToGrpcStatus(answer, *context);
    response->set_alert_id("0190c1c4-0000-7000-8000-000000000001");
    return grpc::Status::OK;
  }

  grpc::Status CancelAlert(grpc::ServerContext*, const alerts::v1::CancelAlertRequest* request,
                           alerts::v1::CancelAlertResponse* response) override {
    std::lock_guard lock(mu_);
    cancelled = request->alert_id();
    response->set_already_cancelled(true);
    return grpc::Status::OK;
  }

  std::mutex mu_;
  alerts::v1::SendAlertRequest sent;
  std::string seen_authorization;
  std::string cancelled;
  absl::Status answer = absl::OkStatus();
};

class FakeQuery final : public AlertQuery::Service {
 public:
  grpc::Status ListAlerts(grpc::ServerContext*, const alerts::v1::ListAlertsRequest* request,
                          alerts::v1::ListAlertsResponse* response) override {
    listed = *request;
    response->set_next_page_token("next");
    return grpc::Status::OK;
  }
  alerts::v1::ListAlertsRequest listed;
};

class GatewayTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<grpcutil::StartedServer> started =
        grpcutil::StartServer({.address = "127.0.0.1:0",
                               .services = {intake_, query_},
                               .credentials = grpc::InsecureServerCredentials()});
    ASSERT_TRUE(started.ok()) << started.status();
    server_ = std::move(started->server);
    auto channel = server_->InProcessChannel(grpc::ChannelArguments());
    absl::StatusOr<std::unique_ptr<Gateway>> gateway = Gateway::Create(
        {
            {.method = HttpMethod::kPost,
             .path = "/v1/alerts",
             .rpc = "klaxon.alerts.v1.AlertIntake.SendAlert",
             .summary = "Send an alert",
             .channel = channel},
            {.method = HttpMethod::kPost,
             .path = "/v1/alerts/{alert_id}:cancel",
             .rpc = "klaxon.alerts.v1.AlertIntake.CancelAlert",
             .channel = channel},
            {.method = HttpMethod::kGet,
             .path = "/v1/alerts",
             .rpc = "klaxon.alerts.v1.AlertQuery.ListAlerts",
             .not_in_query = {"recipient"},
             .channel = channel},
            {.method = HttpMethod::kPost,
             .path = "/v1/alerts:search",
             .rpc = "klaxon.alerts.v1.AlertQuery.ListAlerts",
             .channel = channel},
        },
        {.deadline = absl::Seconds(5),
         .on_answered = [this](const std::string& rpc, int status, absl::Duration) {
           std::lock_guard lock(answered_mu_);
           answered_.emplace_back(rpc, status);
         }});
    ASSERT_TRUE(gateway.ok()) << gateway.status();
    gateway_ = *std::move(gateway);
  }

  void TearDown() override { server_->Shutdown(); }

  http::Response Serve(std::string method, std::string target, std::string body = "",
                       std::string content_type = "application/json") {
    http::Request request{.method = std::move(method), .target = target, .body = std::move(body)};
    const size_t query = target.find('?');
    request.path = target.substr(0, query);
    if (query != std::string::npos) request.query = target.substr(query + 1);
    if (!content_type.empty()) request.headers.emplace_back("Content-Type", content_type);
    request.headers.emplace_back("Authorization", "Bearer secret-key");
    std::promise<http::Response> answer;
    gateway_->Handle(std::move(request),
                     [&answer](http::Response response) { answer.set_value(std::move(response)); });
    return answer.get_future().get();
  }

  static nlohmann::json Json(const http::Response& response) {
    return nlohmann::json::parse(response.body);
  }

  FakeIntake intake_;
  FakeQuery query_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<Gateway> gateway_;
  std::mutex answered_mu_;
  std::vector<std::pair<std::string, int>> answered_;
};

TEST_F(GatewayTest, PostsTheJsonBodyAsTheRequestAndAnswersTheResponseAsJson) {
  const http::Response response =
      Serve("POST", "/v1/alerts",
            R"({"channel":"CHANNEL_SMS","recipient":"+14155550100","text":"disk full",)"
            R"("idempotency_key":"k1","ttl":"90s","metadata":{"team":"db"}})");

  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.content_type, "application/json");
  EXPECT_EQ(Json(response)["alertId"], "0190c1c4-0000-7000-8000-000000000001");
  EXPECT_EQ(Json(response)["duplicate"], false);  // zero values are shown
  EXPECT_EQ(intake_.sent.recipient(), "+14155550100");
  EXPECT_EQ(intake_.sent.idempotency_key(), "k1");
  EXPECT_EQ(intake_.sent.ttl().seconds(), 90);
  EXPECT_EQ(intake_.sent.metadata().at("team"), "db");
  EXPECT_EQ(intake_.seen_authorization, "Bearer secret-key");
  std::lock_guard lock(answered_mu_);
  EXPECT_THAT(answered_,
              ::testing::ElementsAre(Pair("klaxon.alerts.v1.AlertIntake.SendAlert", 200)));
}

TEST_F(GatewayTest, AnUnknownFieldIsABadRequestNamingIt) {
  const http::Response response = Serve("POST", "/v1/alerts", R"({"recipent":"+14155550100"})");

  EXPECT_EQ(response.status, 400);
  EXPECT_EQ(response.content_type, "application/problem+json");
  EXPECT_EQ(Json(response)["detail"], "unknown field \"recipent\"");
  EXPECT_EQ(Json(response)["code"], "INVALID_ARGUMENT");
  EXPECT_EQ(Json(response)["status"], 400);
}

TEST_F(GatewayTest, AWrongTypeNamesTheFieldAndWhatWasExpected) {
  EXPECT_EQ(Json(Serve("POST", "/v1/alerts", R"({"text":5})"))["detail"],
            "field \"text\": invalid value 5, expected a string");
  EXPECT_THAT(
      Json(Serve("POST", "/v1/alerts", R"({"channel":"PIGEON"})"))["detail"].get<std::string>(),
      HasSubstr("field \"channel\": invalid value \"PIGEON\", expected one of "
                "CHANNEL_UNSPECIFIED, CHANNEL_SMS"));
  EXPECT_THAT(Json(Serve("POST", "/v1/alerts", R"({"ttl":"soon"})"))["detail"].get<std::string>(),
              HasSubstr("field \"ttl\""));
  EXPECT_EQ(Json(Serve("POST", "/v1/alerts", R"({"text":["a"]})"))["detail"],
            "field \"text\": a list where one value belongs");
}

// A phone number, or a text, sent in the wrong type must not come back in the answer.
TEST_F(GatewayTest, AWrongValueThatMayBePersonalIsNotRepeated) {
  EXPECT_EQ(Json(Serve("POST", "/v1/alerts", R"({"recipient":4915112345678})"))["detail"],
            "field \"recipient\": invalid value, expected a string");
  EXPECT_EQ(Json(Serve("POST", "/v1/alerts", R"({"channel":"+49 151 1234 5678"})"))["detail"]
                .get<std::string>()
                .find("5678"),
            std::string::npos);
  const std::string long_text(40, 'x');
  EXPECT_EQ(
      Json(Serve("POST", "/v1/alerts", absl::StrCat(R"({"channel":")", long_text, "\"}")))["detail"]
          .get<std::string>()
          .find(long_text),
      std::string::npos);
}

TEST_F(GatewayTest, MalformedJsonAndAJsonArrayAreRefusedSayingSo) {
  EXPECT_THAT(Json(Serve("POST", "/v1/alerts", R"({"text":)"))["detail"].get<std::string>(),
              HasSubstr("malformed JSON"));
  EXPECT_EQ(Json(Serve("POST", "/v1/alerts", "[1]"))["detail"], "the body must be a JSON object");
}

TEST_F(GatewayTest, ABodyThatIsNotJsonIsUnsupported) {
  const http::Response response = Serve("POST", "/v1/alerts", "text=hi", "text/plain");
  EXPECT_EQ(response.status, 415);
  EXPECT_THAT(Json(response)["detail"].get<std::string>(), HasSubstr("application/json"));
}

TEST_F(GatewayTest, PathVariablesFillTheirFields) {
  const http::Response response = Serve("POST", "/v1/alerts/abc-123:cancel", "", "");

  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(intake_.cancelled, "abc-123");
  EXPECT_EQ(Json(response)["alreadyCancelled"], true);
}

TEST_F(GatewayTest, AVariableGivenAgainInTheBodyWithAnotherValueIsRefused) {
  const http::Response response = Serve("POST", "/v1/alerts/abc:cancel", R"({"alertId":"other"})");
  EXPECT_EQ(response.status, 400);
  EXPECT_THAT(Json(response)["detail"].get<std::string>(), HasSubstr("\"alertId\""));
}

TEST_F(GatewayTest, QueryParametersFillAGetRequestWithTypesChecked) {
  const http::Response response = Serve(
      "GET", "/v1/alerts?status=ALERT_STATUS_SENT&pageSize=20&created_from=2026-11-01T00:00:00Z",
      "", "");

  ASSERT_EQ(response.status, 200) << response.body;
  EXPECT_EQ(query_.listed.status(), types::v1::ALERT_STATUS_SENT);
  EXPECT_EQ(query_.listed.page_size(), 20);
  EXPECT_EQ(query_.listed.created_from().seconds(), 1'793'491'200);
  EXPECT_EQ(Json(response)["nextPageToken"], "next");
  EXPECT_EQ(Json(response)["alerts"], nlohmann::json::array());

  EXPECT_EQ(Json(Serve("GET", "/v1/alerts?pageSise=20", "", ""))["detail"],
            "unknown query parameter \"pageSise\"");
  EXPECT_THAT(Json(Serve("GET", "/v1/alerts?pageSize=many", "", ""))["detail"].get<std::string>(),
              HasSubstr("field \"page_size\": invalid value \"many\", expected an integer"));
  EXPECT_THAT(
      Json(Serve("GET", "/v1/alerts?pageSize=1&pageSize=2", "", ""))["detail"].get<std::string>(),
      HasSubstr("more than once"));
}

TEST_F(GatewayTest, AMessageGivenBothAsAValueAndByItsFieldsIsRefused) {
  for (const char* query : {"createdFrom=2026-11-01T00:00:00Z&createdFrom.seconds=1",
                            "createdFrom.seconds=1&createdFrom=2026-11-01T00:00:00Z"}) {
    const http::Response response = Serve("GET", std::string("/v1/alerts?") + query, "", "");
    EXPECT_EQ(response.status, 400) << query;
    EXPECT_THAT(Json(response)["detail"].get<std::string>(), HasSubstr("createdFrom")) << query;
  }
}

TEST_F(GatewayTest, AFieldKeptOutOfUrlsIsRefusedInAQueryAndTakenFromABody) {
  const http::Response refused = Serve("GET", "/v1/alerts?recipient=%2B14155550100", "", "");
  EXPECT_EQ(refused.status, 400);
  EXPECT_THAT(Json(refused)["detail"].get<std::string>(),
              HasSubstr("\"recipient\" is not taken from a URL"));
  EXPECT_EQ(query_.listed.recipient(), "");

  EXPECT_EQ(Serve("POST", "/v1/alerts:search", R"({"recipient":"+14155550100"})").status, 200);
  EXPECT_EQ(query_.listed.recipient(), "+14155550100");
}

TEST_F(GatewayTest, ADrainedGatewayAnswersUnavailable) {
  gateway_->Drain();
  const http::Response response = Serve("POST", "/v1/alerts", "{}");
  EXPECT_EQ(response.status, 503);
  EXPECT_THAT(response.headers, ::testing::Contains(Pair("Retry-After", "1")));
  EXPECT_TRUE(intake_.sent.idempotency_key().empty());  // never called
}

TEST_F(GatewayTest, GrpcCodesBecomeTheirHttpStatusesWithARetryHint) {
  intake_.answer = grpcutil::WithRetryPushback(
      absl::ResourceExhaustedError("ingress is at capacity"), absl::Milliseconds(2500));
  http::Response response = Serve("POST", "/v1/alerts", "{}");
  EXPECT_EQ(response.status, 429);
  EXPECT_EQ(Json(response)["detail"], "ingress is at capacity");
  EXPECT_EQ(Json(response)["code"], "RESOURCE_EXHAUSTED");
  EXPECT_THAT(response.headers, ::testing::Contains(Pair("Retry-After", "3")));

  intake_.answer = absl::UnauthenticatedError("unknown API key");
  response = Serve("POST", "/v1/alerts", "{}");
  EXPECT_EQ(response.status, 401);
  EXPECT_THAT(response.headers, ::testing::Contains(Pair("WWW-Authenticate", "Bearer")));

  intake_.answer = absl::NotFoundError("no such alert");
  EXPECT_EQ(Serve("POST", "/v1/alerts", "{}").status, 404);
  intake_.answer = absl::AlreadyExistsError("taken");
  EXPECT_EQ(Serve("POST", "/v1/alerts", "{}").status, 409);
  intake_.answer = absl::UnavailableError("Kafka is down");
  response = Serve("POST", "/v1/alerts", "{}");
  EXPECT_EQ(response.status, 503);
  EXPECT_THAT(response.headers, ::testing::Contains(Pair("Retry-After", "1")));
}

TEST_F(GatewayTest, AnUnknownPathIsNotFoundAndAWrongMethodSaysWhichAreAllowed) {
  const http::Response missing = Serve("GET", "/v1/alarms", "", "");
  EXPECT_EQ(missing.status, 404);
  EXPECT_THAT(Json(missing)["detail"].get<std::string>(), HasSubstr("/v1/openapi.json"));

  const http::Response wrong = Serve("DELETE", "/v1/alerts", "", "");
  EXPECT_EQ(wrong.status, 405);
  EXPECT_THAT(wrong.headers, ::testing::Contains(Pair("Allow", "POST, GET")));
}

TEST_F(GatewayTest, AnUnreachableBackendIsUnavailable) {
  auto channel = grpc::CreateChannel("127.0.0.1:1", grpc::InsecureChannelCredentials());
  auto gateway = Gateway::Create({{.method = HttpMethod::kPost,
                                   .path = "/v1/alerts",
                                   .rpc = "klaxon.alerts.v1.AlertIntake.SendAlert",
                                   .channel = channel}},
                                 {.deadline = absl::Seconds(5)});
  ASSERT_TRUE(gateway.ok());
  std::promise<http::Response> answer;
  (*gateway)->Handle({.method = "POST", .target = "/v1/alerts", .path = "/v1/alerts"},
                     [&answer](http::Response response) { answer.set_value(std::move(response)); });
  const http::Response response = answer.get_future().get();
  EXPECT_EQ(response.status, 503);
  EXPECT_THAT(response.headers, ::testing::Contains(Pair("Retry-After", "1")));
}

TEST(CompiledRouteTest, RefusesWhatCannotBeServed) {
  EXPECT_THAT(CompiledRoute::Compile({.path = "/v1/x", .rpc = "klaxon.alerts.v1.Nope.Send"})
                  .status()
                  .message(),
              HasSubstr("no gRPC method klaxon.alerts.v1.Nope.Send"));
  EXPECT_THAT(CompiledRoute::Compile({.path = "/v1/x/{alert_id}:watch",
                                      .rpc = "klaxon.alerts.v1.AlertQuery.WatchAlert"})
                  .status()
                  .message(),
              HasSubstr("streams"));
  EXPECT_THAT(CompiledRoute::Compile(
                  {.path = "/v1/alerts/{alert}", .rpc = "klaxon.alerts.v1.AlertQuery.GetAlert"})
                  .status()
                  .message(),
              HasSubstr("{alert} names no string field"));
  EXPECT_THAT(CompiledRoute::Compile({.path = "/v1/alerts",
                                      .rpc = "klaxon.alerts.v1.AlertQuery.ListAlerts",
                                      .not_in_query = {"recipent"}})
                  .status()
                  .message(),
              HasSubstr("not_in_query names no field \"recipent\""));
  EXPECT_THAT(CompiledRoute::Compile(
                  {.path = "/v1/alerts/{alert_id", .rpc = "klaxon.alerts.v1.AlertQuery.GetAlert"})
                  .status()
                  .message(),
              HasSubstr("unmatched '{'"));
}

TEST(CompiledRouteTest, MatchesWholeSegmentsAndDecodesThem) {
  const CompiledRoute route = *CompiledRoute::Compile(
      {.path = "/v1/alerts/{alert_id}:cancel", .rpc = "klaxon.alerts.v1.AlertIntake.CancelAlert"});
  EXPECT_THAT(*route.Match("/v1/alerts/a%2Db:cancel"),
              UnorderedElementsAre(Pair("alert_id", "a-b")));
  EXPECT_FALSE(route.Match("/v1/alerts/:cancel").has_value());
  EXPECT_FALSE(route.Match("/v1/alerts/a/b:cancel").has_value());
  EXPECT_FALSE(route.Match("/v1/alerts/a:cancel/more").has_value());
  EXPECT_FALSE(route.Match("/v1/alerts/a%zz:cancel").has_value());
}

}  // namespace
}  // namespace klaxon::grpc_gateway
