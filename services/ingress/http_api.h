#pragma once
// The caller API as HTTP/JSON, for backends that do not speak gRPC (docs/adr/0023): every unary
// RPC of AlertIntake and Verification (served by this ingress, called in process) and of
// AlertQuery, DeadLetters and Templates (served by audit, called over gRPC) at a REST-style path,
// through grpc_gateway::Gateway. The same API keys (Authorization: Bearer), the same validation and
// the same messages as gRPC, because the same services answer.

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/auth/api_keys.h"
#include "common/config/config.h"
#include "common/grpc_gateway/gateway.h"
#include "common/grpc_gateway/route.h"
#include "common/grpcutil/channel_security.h"
#include "common/http/server.h"
#include "grpcpp/channel.h"
#include "grpcpp/server.h"
#include "services/ingress/client_address.h"

namespace klaxon::ingress {

// The routes; `ingress` serves AlertIntake and Verification, `audit` AlertQuery, DeadLetters and
// Templates.
std::vector<grpc_gateway::Route> CallerApiRoutes(std::shared_ptr<grpc::ChannelInterface> ingress,
                                                 std::shared_ptr<grpc::ChannelInterface> audit);

// The API's title, version and description in its OpenAPI document.
grpc_gateway::ApiInfo CallerApiInfo();

// The OpenAPI document served at /v1/openapi.json, made without serving anything.
std::string CallerApiDocument();

// Requests by the RPC they called and HTTP status, and how long each took.
class HttpApiTelemetry {
 public:
  explicit HttpApiTelemetry(prometheus::Registry& registry);

  // `rpc`: the full method name, empty when no route matched (counted as "none").
  void OnAnswered(const std::string& rpc, int status, absl::Duration took);

 private:
  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Family<prometheus::Histogram>& durations_;
};

// The API's head screen (http::HeadScreen): a request whose body is still to come is refused
// there, 401 with the problem document the service would answer, unless it carries a valid API
// key. So a client without a key holds a request head, not a body, on each connection it opens.
std::optional<http::Response> RefuseWithoutApiKey(const auth::CallerAuthenticator& api_keys,
                                                  const http::Request& head);

// Where the API listens, and how ingress reaches audit: for the API's queries and dead letters,
// and for SendAlert's templates (whether the API is on or off).
struct HttpApiSettings {
  bool enabled = true;   // KLAXON_HTTP_API_ADDR=off turns the API off
  bool loopback = true;  // the address is a loopback one; else plain HTTP crosses a network
  config::HostPort address;
  std::string audit_target;  // audit's gRPC address
  grpcutil::ChannelSecurity audit_security;
  absl::Duration deadline;  // each call behind a request
};

// The API serving: the gateway and the HTTP server in front of it, which goes first.
struct RunningHttpApi {
  std::unique_ptr<grpc_gateway::Gateway> gateway;
  std::unique_ptr<http::Server> server;
};

// Serves the routes, calling `ingress`'s own services in process; `api_keys` screens heads
// (RefuseWithoutApiKey). Published through the same load balancer as the webhooks, so its
// connections are treated alike: `proxies` have no per-source cap, and an idle connection is
// kept longer than the proxy keeps its own (ADR 0009). kUnavailable when the address cannot be
// bound.
absl::StatusOr<RunningHttpApi> StartHttpApi(const HttpApiSettings& settings, grpc::Server& ingress,
                                            std::shared_ptr<grpc::ChannelInterface> audit,
                                            const auth::CallerAuthenticator& api_keys,
                                            const TrustedProxies& proxies,
                                            HttpApiTelemetry& telemetry);

}  // namespace klaxon::ingress
