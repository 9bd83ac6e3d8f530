#include "common/grpc_gateway/openapi.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <optional>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/descriptor.h"

namespace klaxon::grpc_gateway {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::EnumDescriptor;
using google::protobuf::FieldDescriptor;
using nlohmann::json;

constexpr char kProblem[] = "Problem";

json Ref(const std::string& name) {
  return {{"$ref", absl::StrCat("#/components/schemas/", name)}};
}

// Collects the schemas of every message and enum a document refers to.
class SchemaBuilder {
 public:
  json& schemas() { return schemas_; }

  json ForMessage(const Descriptor& type) {
    if (std::optional<json> known = WellKnown(type)) return *known;
    const std::string& name = type.full_name();
    if (!schemas_.contains(name)) {
      schemas_[name] = json::object();  // reserved first: messages may refer to themselves
      json properties = json::object();
      for (int i = 0; i < type.field_count(); ++i) {
        properties[type.field(i)->json_name()] = ForField(*type.field(i));
      }
      schemas_[name] = {{"type", "object"},
                        {"additionalProperties", false},
                        {"properties", std::move(properties)}};
    }
    return Ref(name);
  }

  json ForField(const FieldDescriptor& field) {
    if (field.is_map()) {
      return {{"type", "object"},
              {"additionalProperties", ForSingle(*field.message_type()->map_value())}};
    }
    json single = ForSingle(field);
    if (!field.is_repeated()) return single;
    return {{"type", "array"}, {"items", std::move(single)}};
  }

 private:
  static std::optional<json> WellKnown(const Descriptor& type) {
    const std::string& name = type.full_name();
    if (name == "google.protobuf.Timestamp") {
      return json{{"type", "string"}, {"format", "date-time"}};
    }
    if (name == "google.protobuf.Duration") {
      return json{{"type", "string"}, {"pattern", "^-?[0-9]+(\\.[0-9]+)?s$"}, {"example", "90s"}};
    }
    if (name == "google.protobuf.Struct" || name == "google.protobuf.Empty") {
      return json{{"type", "object"}};
    }
    return std::nullopt;
  }

  json ForEnum(const EnumDescriptor& type) {
    const std::string& name = type.full_name();
    if (!schemas_.contains(name)) {
      json values = json::array();
      for (int i = 0; i < type.value_count(); ++i) values.push_back(type.value(i)->name());
      schemas_[name] = {{"type", "string"}, {"enum", std::move(values)}};
    }
    return Ref(name);
  }

  json ForSingle(const FieldDescriptor& field) {
    switch (field.type()) {
      case FieldDescriptor::TYPE_MESSAGE:
      case FieldDescriptor::TYPE_GROUP:
        return ForMessage(*field.message_type());
      case FieldDescriptor::TYPE_ENUM:
        return ForEnum(*field.enum_type());
      case FieldDescriptor::TYPE_STRING:
        return {{"type", "string"}};
      case FieldDescriptor::TYPE_BYTES:
        return {{"type", "string"}, {"format", "byte"}};
      case FieldDescriptor::TYPE_BOOL:
        return {{"type", "boolean"}};
      case FieldDescriptor::TYPE_FLOAT:
      case FieldDescriptor::TYPE_DOUBLE:
        return {{"type", "number"}};
      case FieldDescriptor::TYPE_INT64:
      case FieldDescriptor::TYPE_UINT64:
      case FieldDescriptor::TYPE_SINT64:
      case FieldDescriptor::TYPE_FIXED64:
      case FieldDescriptor::TYPE_SFIXED64:
        // proto3's JSON mapping writes 64-bit integers as strings and reads either.
        return {{"type", "string"}, {"format", "int64"}, {"pattern", "^-?[0-9]+$"}};
      default:
        return {{"type", "integer"}, {"format", "int32"}};
    }
  }

  json schemas_ = json::object();
};

// A GET's request fields as query parameters, nested messages as dotted names.
void AddQueryParameters(SchemaBuilder& schemas, const Descriptor& type, const std::string& prefix,
                        const std::set<std::string>& not_listed, json& parameters) {
  for (int i = 0; i < type.field_count(); ++i) {
    const FieldDescriptor& field = *type.field(i);
    if (not_listed.contains(field.name())) continue;
    const std::string name = absl::StrCat(prefix, field.json_name());
    const bool nested = field.message_type() != nullptr && !field.is_repeated() &&
                        !absl::StartsWith(field.message_type()->full_name(), "google.protobuf.");
    if (nested) {
      AddQueryParameters(schemas, *field.message_type(), absl::StrCat(name, "."), {}, parameters);
      continue;
    }
    json parameter = {{"name", name}, {"in", "query"}, {"schema", schemas.ForField(field)}};
    if (field.is_repeated()) {
      parameter["explode"] = true;
      parameter["style"] = "form";
    }
    parameters.push_back(std::move(parameter));
  }
}

// `operation_id` is unique in the document: an RPC served at several routes gets "_2", "_3"...
json Operation(SchemaBuilder& schemas, const CompiledRoute& route,
               const std::string& operation_id) {
  const auto& rpc = route.rpc();
  json operation = {{"operationId", operation_id},
                    {"summary", route.route().summary},
                    {"tags", json::array({rpc.service()->name()})},
                    {"description", absl::StrCat("Calls ", rpc.full_name(), " (gRPC).")}};
  json parameters = json::array();
  std::set<std::string> in_path;
  for (const std::string& variable : route.variables()) {
    in_path.insert(variable);
    parameters.push_back(
        {{"name", variable}, {"in", "path"}, {"required", true}, {"schema", {{"type", "string"}}}});
  }
  if (route.route().method == HttpMethod::kGet) {
    std::set<std::string> not_listed = in_path;
    not_listed.insert(route.route().not_in_query.begin(), route.route().not_in_query.end());
    AddQueryParameters(schemas, *rpc.input_type(), "", not_listed, parameters);
  } else {
    operation["requestBody"] = {
        {"required", false},
        {"content", {{"application/json", {{"schema", schemas.ForMessage(*rpc.input_type())}}}}}};
  }
  if (!parameters.empty()) operation["parameters"] = std::move(parameters);
  const json problem = {{"application/problem+json", {{"schema", Ref(kProblem)}}}};
  operation["responses"] = {
      {"200",
       {{"description", "OK"},
        {"content", {{"application/json", {{"schema", schemas.ForMessage(*rpc.output_type())}}}}}}},
      {"default",
       {{"description",
         "An error: the gRPC status's code as the usual HTTP status, its message as detail"},
        {"content", problem}}}};
  return operation;
}

json ProblemSchema() {
  return {{"type", "object"},
          {"properties",
           {{"type", {{"type", "string"}}},
            {"title", {{"type", "string"}}},
            {"status", {{"type", "integer"}}},
            {"detail", {{"type", "string"}}},
            {"code", {{"type", "string"}, {"description", "the gRPC status code's name"}}}}}};
}

}  // namespace

json OpenApiDocument(const std::vector<CompiledRoute>& routes, const ApiInfo& info) {
  SchemaBuilder schemas;
  json paths = json::object();
  std::map<std::string, int> routes_of_rpc;
  for (const CompiledRoute& route : routes) {
    const int seen = ++routes_of_rpc[route.rpc().name()];
    const std::string operation_id =
        seen == 1 ? route.rpc().name() : absl::StrCat(route.rpc().name(), "_", seen);
    std::string method(HttpMethodName(route.route().method));
    std::transform(method.begin(), method.end(), method.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    paths[route.route().path][method] = Operation(schemas, route, operation_id);
  }
  schemas.schemas()[kProblem] = ProblemSchema();
  return {{"openapi", "3.0.3"},
          {"info",
           {{"title", info.title}, {"version", info.version}, {"description", info.description}}},
          {"paths", std::move(paths)},
          {"components",
           {{"schemas", std::move(schemas.schemas())},
            {"securitySchemes", {{"bearer", {{"type", "http"}, {"scheme", "bearer"}}}}}}},
          {"security", json::array({{{"bearer", json::array()}}})}};
}

}  // namespace klaxon::grpc_gateway
