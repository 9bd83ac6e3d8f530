#pragma once
// One route of the HTTP/JSON face of a gRPC API: an HTTP method and a path template naming the
// unary gRPC method it calls, e.g. "POST /v1/alerts/{alert_id}:cancel" for
// klaxon.alerts.v1.AlertIntake.CancelAlert, with the request's alert_id taken from the path.
//
// Path templates are literal text with variables in braces: "{field}" matches one non-empty
// path segment up to the next '/' or ':' (percent-decoded) and sets the request message's field
// of that name, which must be a top-level string field. A ":verb" suffix is literal text, as in
// Google's API design guide.

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "google/protobuf/descriptor.h"
#include "grpcpp/channel.h"

namespace klaxon::grpc_gateway {

enum class HttpMethod { kGet, kPost };

const char* HttpMethodName(HttpMethod method);

struct Route {
  HttpMethod method = HttpMethod::kGet;
  std::string path;  // the template
  // The gRPC method's full name, "package.Service.Method"; must be unary.
  std::string rpc;
  std::string summary;  // one line, for the OpenAPI document
  // Top-level request fields a GET may not take from its query string (personal data, which
  // proxies and access logs would keep with the URL); they are left out of the document too.
  std::set<std::string> not_in_query;
  // Where the method is served; null only where nothing is called (the OpenAPI document).
  std::shared_ptr<grpc::ChannelInterface> channel;
};

// A route checked against the generated descriptors, ready to match paths.
class CompiledRoute {
 public:
  // kInvalidArgument naming the route when its method is unknown or streaming, its template is
  // malformed, or a variable names no top-level string field of the request message.
  static absl::StatusOr<CompiledRoute> Compile(Route route);

  const Route& route() const { return route_; }
  const google::protobuf::MethodDescriptor& rpc() const { return *rpc_; }
  // The gRPC path, "/package.Service/Method".
  const std::string& rpc_path() const { return rpc_path_; }
  // The template's variables in order.
  std::vector<std::string> variables() const;

  // The variables' decoded values when `path` (without query) matches the template, else
  // nullopt. A variable whose value is not valid percent-encoding does not match.
  std::optional<std::map<std::string, std::string>> Match(std::string_view path) const;

 private:
  struct Part {
    bool variable = false;
    std::string text;  // literal text, or the variable's field name
  };

  CompiledRoute(Route route, const google::protobuf::MethodDescriptor* rpc,
                std::vector<Part> parts);

  Route route_;
  const google::protobuf::MethodDescriptor* rpc_;
  std::string rpc_path_;
  std::vector<Part> parts_;
};

}  // namespace klaxon::grpc_gateway
