#pragma once
// The OpenAPI 3.0 document of a gateway's routes, generated from the same Protobuf descriptors
// the gateway transcodes with, so the document cannot drift from what is served: a path per
// route (its variables as path parameters; a GET's request fields as query parameters, a POST's
// request message as the JSON body), a schema per message and enum reached (proto3 JSON names and
// types), bearer authentication, and the problem document of every error.

#include <string>
#include <vector>

#include "common/grpc_gateway/route.h"
#include "nlohmann/json.hpp"

namespace klaxon::grpc_gateway {

struct ApiInfo {
  std::string title = "API";
  std::string version = "v1";
  std::string description;
};

nlohmann::json OpenApiDocument(const std::vector<CompiledRoute>& routes, const ApiInfo& info);

}  // namespace klaxon::grpc_gateway
