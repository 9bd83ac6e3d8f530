#include "common/grpc_gateway/route.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/http/form.h"

namespace klaxon::grpc_gateway {
namespace {

using google::protobuf::DescriptorPool;
using google::protobuf::FieldDescriptor;
using google::protobuf::MethodDescriptor;

absl::Status RouteError(const Route& route, const std::string& what) {
  return absl::InvalidArgumentError(
      absl::StrCat("route ", HttpMethodName(route.method), " ", route.path, ": ", what));
}

// Where a variable's value ends: the next '/' or ':', or the end of the path.
size_t VariableEnd(std::string_view path, size_t from) {
  const size_t end = path.find_first_of("/:", from);
  return end == std::string_view::npos ? path.size() : end;
}

}  // namespace

const char* HttpMethodName(HttpMethod method) {
  switch (method) {
    case HttpMethod::kGet:
      return "GET";
    case HttpMethod::kPost:
      return "POST";
  }
  return "GET";
}

absl::StatusOr<CompiledRoute> CompiledRoute::Compile(Route route) {
  const MethodDescriptor* rpc = DescriptorPool::generated_pool()->FindMethodByName(route.rpc);
  if (rpc == nullptr) return RouteError(route, absl::StrCat("no gRPC method ", route.rpc));
  if (rpc->client_streaming() || rpc->server_streaming()) {
    return RouteError(route, absl::StrCat(route.rpc, " streams; only unary methods have routes"));
  }
  if (route.path.empty() || route.path.front() != '/') {
    return RouteError(route, "the path must start with '/'");
  }
  std::vector<Part> parts;
  std::string_view rest = route.path;
  while (!rest.empty()) {
    const size_t open = rest.find('{');
    if (open != 0) {
      const std::string_view literal = rest.substr(0, open);
      if (literal.find('}') != std::string_view::npos) return RouteError(route, "unmatched '}'");
      parts.push_back({.variable = false, .text = std::string(literal)});
      if (open == std::string_view::npos) break;
      rest.remove_prefix(open);
    }
    const size_t close = rest.find('}');
    if (close == std::string_view::npos) return RouteError(route, "unmatched '{'");
    const std::string field_name(rest.substr(1, close - 1));
    const FieldDescriptor* field = rpc->input_type()->FindFieldByName(field_name);
    if (field == nullptr || field->type() != FieldDescriptor::TYPE_STRING || field->is_repeated()) {
      return RouteError(route, absl::StrCat("{", field_name, "} names no string field of ",
                                            rpc->input_type()->full_name()));
    }
    if (!parts.empty() && parts.back().variable) {
      return RouteError(route, "two variables need literal text between them");
    }
    parts.push_back({.variable = true, .text = field_name});
    rest.remove_prefix(close + 1);
  }
  for (const std::string& name : route.not_in_query) {
    if (rpc->input_type()->FindFieldByName(name) == nullptr) {
      return RouteError(route, absl::StrCat("not_in_query names no field \"", name, "\" of ",
                                            rpc->input_type()->full_name()));
    }
  }
  return CompiledRoute(std::move(route), rpc, std::move(parts));
}

CompiledRoute::CompiledRoute(Route route, const MethodDescriptor* rpc, std::vector<Part> parts)
    : route_(std::move(route)),
      rpc_(rpc),
      rpc_path_(absl::StrCat("/", rpc->service()->full_name(), "/", rpc->name())),
      parts_(std::move(parts)) {}

std::vector<std::string> CompiledRoute::variables() const {
  std::vector<std::string> names;
  for (const Part& part : parts_) {
    if (part.variable) names.push_back(part.text);
  }
  return names;
}

std::optional<std::map<std::string, std::string>> CompiledRoute::Match(
    std::string_view path) const {
  std::map<std::string, std::string> values;
  size_t at = 0;
  for (const Part& part : parts_) {
    if (!part.variable) {
      if (path.substr(at, part.text.size()) != part.text) return std::nullopt;
      at += part.text.size();
      continue;
    }
    const size_t end = VariableEnd(path, at);
    if (end == at) return std::nullopt;
    // A path segment is percent-encoded like a form value, except that '+' is itself.
    const std::string raw(path.substr(at, end - at));
    if (raw.find('+') != std::string::npos) return std::nullopt;
    absl::StatusOr<http::FormParams> decoded = http::DecodeForm(absl::StrCat("v=", raw));
    if (!decoded.ok() || decoded->size() != 1) return std::nullopt;
    values[part.text] = std::move(decoded->front().second);
    at = end;
  }
  if (at != path.size()) return std::nullopt;
  return values;
}

}  // namespace klaxon::grpc_gateway
