#pragma once
// An HTTP/JSON face for unary gRPC methods, driven by a table of routes (route.h): each request
// becomes the route's request message (json_transcoding.h), is called on the route's channel
// with the caller's Authorization header as the call's "authorization" metadata, and its answer
// becomes JSON, or a problem document with the usual HTTP status for the gRPC code (problem.h).
// The services behind it therefore authenticate, validate and answer exactly as for gRPC
// clients: one implementation, the same messages.
//
// Handle() never blocks: the call runs on gRPC's callback API and answers from its completion,
// so no thread waits on a backend. It also serves the OpenAPI 3 document of its routes
// (openapi.h), without authentication.

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/grpc_gateway/openapi.h"
#include "common/grpc_gateway/route.h"
#include "common/http/server.h"

namespace klaxon::grpc_gateway {

struct GatewayOptions {
  // Each backend call's deadline.
  absl::Duration deadline = absl::Seconds(10);
  std::string openapi_path = "/v1/openapi.json";
  ApiInfo info;
  // Told of each answer: the route's gRPC method (empty when no route matched), the HTTP status,
  // and the time from the request to the answer. Called on any thread; must not block.
  std::function<void(const std::string& rpc, int status, absl::Duration took)> on_answered;
};

class Gateway {
 public:
  // kInvalidArgument naming the first bad route (route.h), or a route without a channel.
  static absl::StatusOr<std::unique_ptr<Gateway>> Create(std::vector<Route> routes,
                                                         GatewayOptions options);

  // Waits for the answers of the calls still in flight (each ends by its deadline at the latest).
  ~Gateway();

  // From now on answers every request for a backend 503 with Retry-After (the service is going
  // away; the OpenAPI document, a 404 or a bad request are still answered as before), and
  // returns once every call in flight has answered, so a server in front can close its
  // connections without cutting an answer off.
  void Drain();

  // An http::RequestHandler.
  void Handle(http::Request request, http::Responder respond);

  const std::string& openapi_document() const { return openapi_document_; }

 private:
  Gateway(std::vector<CompiledRoute> routes, GatewayOptions options);

  std::vector<CompiledRoute> routes_;
  GatewayOptions options_;
  std::string openapi_document_;

 public:
  // The calls in flight, so that the gateway outlives them.
  struct InFlight {
    std::mutex mu;
    std::condition_variable drained;
    size_t calls = 0;
    bool draining = false;
  };

 private:
  InFlight in_flight_;
};

}  // namespace klaxon::grpc_gateway
