#include "common/grpc_gateway/openapi.h"

#include <functional>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace klaxon::grpc_gateway {
namespace {

using nlohmann::json;

std::vector<CompiledRoute> Routes() {
  return {*CompiledRoute::Compile({.method = HttpMethod::kPost,
                                   .path = "/v1/alerts",
                                   .rpc = "klaxon.alerts.v1.AlertIntake.SendAlert",
                                   .summary = "Send an alert"}),
          *CompiledRoute::Compile({.method = HttpMethod::kGet,
                                   .path = "/v1/alerts/{alert_id}",
                                   .rpc = "klaxon.alerts.v1.AlertQuery.GetAlert"}),
          *CompiledRoute::Compile({.method = HttpMethod::kGet,
                                   .path = "/v1/alerts",
                                   .rpc = "klaxon.alerts.v1.AlertQuery.ListAlerts",
                                   .not_in_query = {"recipient"}})};
}

// Every "$ref" anywhere in `node`.
void CollectRefs(const json& node, std::vector<std::string>& refs) {
  if (node.is_object()) {
    for (const auto& [key, value] : node.items()) {
      if (key == "$ref") refs.push_back(value.get<std::string>());
      CollectRefs(value, refs);
    }
  } else if (node.is_array()) {
    for (const json& value : node) CollectRefs(value, refs);
  }
}

TEST(OpenApiTest, DescribesEachRouteFromItsMessages) {
  const json document = OpenApiDocument(Routes(), {.title = "Klaxon", .version = "v1"});

  EXPECT_EQ(document["openapi"], "3.0.3");
  const json& send = document["paths"]["/v1/alerts"]["post"];
  EXPECT_EQ(send["operationId"], "SendAlert");
  EXPECT_EQ(send["summary"], "Send an alert");
  EXPECT_EQ(send["requestBody"]["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/klaxon.alerts.v1.SendAlertRequest");
  EXPECT_EQ(send["responses"]["default"]["content"]["application/problem+json"]["schema"]["$ref"],
            "#/components/schemas/Problem");

  const json& request = document["components"]["schemas"]["klaxon.alerts.v1.SendAlertRequest"];
  EXPECT_EQ(request["additionalProperties"], false);
  EXPECT_EQ(request["properties"]["idempotencyKey"]["type"], "string");
  EXPECT_EQ(request["properties"]["ttl"]["pattern"], "^-?[0-9]+(\\.[0-9]+)?s$");
  EXPECT_EQ(request["properties"]["metadata"]["additionalProperties"]["type"], "string");
  EXPECT_THAT(document["components"]["schemas"]["klaxon.types.v1.Channel"]["enum"],
              ::testing::Contains("CHANNEL_SMS"));

  const json& get = document["paths"]["/v1/alerts/{alert_id}"]["get"];
  EXPECT_EQ(get["parameters"][0]["name"], "alert_id");
  EXPECT_EQ(get["parameters"][0]["in"], "path");
  EXPECT_EQ(get["parameters"].size(), 1u);  // the variable is not also a query parameter

  std::vector<std::string> list_parameters;
  for (const json& parameter : document["paths"]["/v1/alerts"]["get"]["parameters"]) {
    EXPECT_EQ(parameter["in"], "query");
    list_parameters.push_back(parameter["name"]);
  }
  EXPECT_THAT(list_parameters, ::testing::Contains("pageSize"));
  EXPECT_THAT(list_parameters, ::testing::Contains("createdFrom"));
  EXPECT_THAT(list_parameters, ::testing::Not(::testing::Contains("recipient")));
  EXPECT_EQ(document["security"][0].count("bearer"), 1u);
}

TEST(OpenApiTest, AnRpcAtTwoRoutesHasTwoOperationIds) {
  std::vector<CompiledRoute> routes = Routes();
  routes.push_back(*CompiledRoute::Compile({.method = HttpMethod::kPost,
                                            .path = "/v1/alerts:search",
                                            .rpc = "klaxon.alerts.v1.AlertQuery.ListAlerts"}));
  const json document = OpenApiDocument(routes, {});
  EXPECT_EQ(document["paths"]["/v1/alerts"]["get"]["operationId"], "ListAlerts");
  EXPECT_EQ(document["paths"]["/v1/alerts:search"]["post"]["operationId"], "ListAlerts_2");
}

TEST(OpenApiTest, EveryReferenceResolves) {
  const json document = OpenApiDocument(Routes(), {});
  std::vector<std::string> refs;
  CollectRefs(document, refs);
  ASSERT_FALSE(refs.empty());
  for (const std::string& ref : refs) {
    const std::string prefix = "#/components/schemas/";
    ASSERT_EQ(ref.substr(0, prefix.size()), prefix);
    EXPECT_TRUE(document["components"]["schemas"].contains(ref.substr(prefix.size()))) << ref;
  }
}

}  // namespace
}  // namespace klaxon::grpc_gateway
