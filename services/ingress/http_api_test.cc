#include "services/ingress/http_api.h"

#include <prometheus/registry.h>

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/grpc_gateway/gateway.h"
#include "common/grpc_gateway/problem.h"
#include "gmock/gmock.h"
#include "google/protobuf/descriptor.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "klaxon/alerts/v1/alerts.grpc.pb.h"
#include "klaxon/verify/v1/verify.grpc.pb.h"

namespace klaxon::ingress {
namespace {

std::shared_ptr<grpc::Channel> Unused() {
  return grpc::CreateChannel("127.0.0.1:1", grpc::InsecureChannelCredentials());
}

TEST(CallerApiRoutesTest, EveryUnaryCallerRpcHasARouteAndEveryRouteCompiles) {
  const std::vector<grpc_gateway::Route> routes = CallerApiRoutes(Unused(), Unused());
  std::set<std::string> routed;
  for (const grpc_gateway::Route& route : routes) routed.insert(route.rpc);

  for (const char* name : {"klaxon.alerts.v1.AlertIntake", "klaxon.alerts.v1.AlertQuery",
                           "klaxon.alerts.v1.DeadLetters", "klaxon.alerts.v1.Templates",
                           "klaxon.alerts.v1.InboundMessages", "klaxon.verify.v1.Verification"}) {
    const google::protobuf::ServiceDescriptor* service =
        google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(name);
    ASSERT_NE(service, nullptr) << name;
    for (int i = 0; i < service->method_count(); ++i) {
      const auto* method = service->method(i);
      if (method->server_streaming()) continue;  // WatchAlert: gRPC only (docs/adr/0023)
      EXPECT_TRUE(routed.contains(method->full_name())) << method->full_name();
    }
  }
  absl::StatusOr<std::unique_ptr<grpc_gateway::Gateway>> gateway =
      grpc_gateway::Gateway::Create(routes, {});
  ASSERT_TRUE(gateway.ok()) << gateway.status();
  EXPECT_THAT((*gateway)->openapi_document(), ::testing::HasSubstr("\"/v1/alerts/{alert_id}\""));
}

TEST(RefuseWithoutApiKeyTest, PassesAValidKeyAndRefusesAnyOther401AsTheServiceWould) {
  absl::StatusOr<auth::ApiKeyRegistry> keys =
      auth::ApiKeyRegistry::Parse(absl::StrCat("local=", auth::HashApiKey("right-key")));
  ASSERT_TRUE(keys.ok()) << keys.status();
  auto head = [](std::optional<std::string> authorization) {
    http::Request request{.method = "POST", .target = "/v1/alerts", .path = "/v1/alerts"};
    if (authorization) request.headers.emplace_back("Authorization", *authorization);
    return request;
  };
  EXPECT_FALSE(RefuseWithoutApiKey(*keys, head("Bearer right-key")).has_value());
  EXPECT_FALSE(RefuseWithoutApiKey(*keys, head("bearer right-key")).has_value());
  for (const std::optional<std::string>& authorization : std::vector<std::optional<std::string>>{
           std::nullopt, "Bearer wrong-key", "Basic abc", "Bearer "}) {
    std::optional<http::Response> refusal = RefuseWithoutApiKey(*keys, head(authorization));
    ASSERT_TRUE(refusal.has_value()) << authorization.value_or("(none)");
    const http::Response expected = grpc_gateway::ProblemResponse(
        keys->Authenticate("wrong-key").status());  // the service's own answer
    EXPECT_EQ(refusal->status, 401);
    EXPECT_EQ(refusal->content_type, expected.content_type);
    EXPECT_EQ(refusal->body, expected.body);
    EXPECT_EQ(refusal->headers, expected.headers);
  }
}

TEST(HttpApiTelemetryTest, CountsByShortRpcNameAndStatus) {
  prometheus::Registry registry;
  HttpApiTelemetry telemetry(registry);
  telemetry.OnAnswered("klaxon.alerts.v1.AlertIntake.SendAlert", 200, absl::Milliseconds(3));
  telemetry.OnAnswered("", 404, absl::Milliseconds(1));

  std::set<std::string> seen;
  for (const auto& family : registry.Collect()) {
    if (family.name != "klaxon_http_api_requests_total") continue;
    for (const auto& metric : family.metric) {
      std::string labels;
      for (const auto& label : metric.label) labels += label.name + "=" + label.value + " ";
      seen.insert(labels);
    }
  }
  EXPECT_THAT(seen,
              ::testing::UnorderedElementsAre("rpc=SendAlert status=200 ", "rpc=none status=404 "));
}

}  // namespace
}  // namespace klaxon::ingress
