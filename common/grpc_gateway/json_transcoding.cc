#include "common/grpc_gateway/json_transcoding.h"

#include <set>
#include <utility>
#include <vector>

#include "absl/algorithm/container.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "common/http/form.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/util/json_util.h"
#include "nlohmann/json.hpp"

namespace klaxon::grpc_gateway {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::DescriptorPool;
using google::protobuf::EnumDescriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;

constexpr absl::string_view kTypeUrlPrefix = "type.googleapis.com/";

// What a value of protobuf's type name `type` ("TYPE_STRING", "type.googleapis.com/x.y.Enum")
// should look like, for an error message.
std::string Expected(absl::string_view type) {
  if (type == "TYPE_STRING" || type == "TYPE_BYTES") return "a string";
  if (type == "TYPE_BOOL") return "true or false";
  if (type == "TYPE_FLOAT" || type == "TYPE_DOUBLE") return "a number";
  if (type.substr(0, 5) == "TYPE_") return "an integer";
  if (type.substr(0, kTypeUrlPrefix.size()) == kTypeUrlPrefix)
    type.remove_prefix(kTypeUrlPrefix.size());
  if (type == "google.protobuf.Timestamp") return "an RFC 3339 time, e.g. \"2026-11-23T18:00:00Z\"";
  if (type == "google.protobuf.Duration") return "a duration in seconds, e.g. \"90s\"";
  const EnumDescriptor* enumeration =
      DescriptorPool::generated_pool()->FindEnumTypeByName(std::string(type));
  if (enumeration == nullptr) return absl::StrCat("a ", type);
  std::vector<std::string> names;
  for (int i = 0; i < enumeration->value_count(); ++i) {
    names.push_back(enumeration->value(i)->name());
  }
  return absl::StrCat("one of ", absl::StrJoin(names, ", "));
}

// A caller's wrong value, as an error may repeat it: only when short, printable and with fewer
// than six digits in all, so a phone number (however spaced) or an alert's text sent in the wrong
// type never comes back in a problem body (or a log line that records it).
std::string Shown(absl::string_view value) {
  const auto digits = absl::c_count_if(
      value, [](char c) { return absl::ascii_isdigit(static_cast<unsigned char>(c)); });
  const bool printable = absl::c_all_of(
      value, [](char c) { return absl::ascii_isprint(static_cast<unsigned char>(c)); });
  return digits < 6 && printable && value.size() <= 32 ? absl::StrCat(" ", value) : "";
}

// Protobuf's JSON parser names the field in its own words; this says the same for a caller.
//   "bogus: Cannot find field."                        -> unknown field "bogus"
//   "(a.b[0].c): invalid value 5 for type TYPE_STRING" -> field "a.b[0].c": invalid value 5, ...
//                                                        (the value only as Shown allows)
//   "text: Proto field is not repeating, ..."          -> field "text": a list where one ...
absl::Status DescribeJsonError(absl::string_view message) {
  constexpr absl::string_view kUnknown = ": Cannot find field.";
  if (message.size() > kUnknown.size() &&
      message.substr(message.size() - kUnknown.size()) == kUnknown) {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown field \"",
                     std::string(message.substr(0, message.size() - kUnknown.size())), "\""));
  }
  constexpr absl::string_view kInvalid = "): invalid value ";
  constexpr absl::string_view kForType = " for type ";
  const size_t invalid = message.find(kInvalid);
  const size_t for_type = message.rfind(kForType);
  if (!message.empty() && message.front() == '(' && invalid != absl::string_view::npos &&
      for_type != absl::string_view::npos && for_type > invalid) {
    const absl::string_view field = message.substr(1, invalid - 1);
    const size_t value_at = invalid + kInvalid.size();
    return absl::InvalidArgumentError(
        absl::StrCat("field \"", field, "\": invalid value",
                     Shown(message.substr(value_at, for_type - value_at)), ", expected ",
                     Expected(message.substr(for_type + kForType.size()))));
  }
  if (message.find("Root element must be a message") != absl::string_view::npos) {
    return absl::InvalidArgumentError("the body must be a JSON object");
  }
  // "text: Proto field is not repeating, cannot start list.": a field's value of the wrong shape.
  const size_t colon = message.find(": ");
  const absl::string_view path = message.substr(0, colon);
  if (colon != absl::string_view::npos && !path.empty() &&
      path.find_first_of(" ()") == absl::string_view::npos) {
    const absl::string_view problem = message.substr(colon + 2);
    const bool list = absl::StartsWith(problem, "Proto field is not repeating");
    return absl::InvalidArgumentError(
        absl::StrCat("field \"", path, "\": ", list ? "a list where one value belongs" : problem));
  }
  const absl::string_view first_line = message.substr(0, message.find('\n'));
  return absl::InvalidArgumentError(absl::StrCat("malformed JSON: ", std::string(first_line)));
}

absl::Status ParseJson(std::string_view json, Message& message) {
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  const auto status = google::protobuf::util::JsonStringToMessage(
      google::protobuf::StringPiece(json.data(), json.size()), &message, options);
  if (status.ok()) return absl::OkStatus();
  return DescribeJsonError(absl::string_view(status.message().data(), status.message().size()));
}

const FieldDescriptor* FieldNamed(const Descriptor& type, std::string_view name) {
  for (int i = 0; i < type.field_count(); ++i) {
    const FieldDescriptor* field = type.field(i);
    if (field->json_name() == name || field->name() == name) return field;
  }
  return nullptr;
}

// The JSON value of one query parameter for `field`: booleans are literals; everything else is
// given to the parser as a string, which proto3's JSON mapping accepts for numbers too.
absl::StatusOr<nlohmann::json> QueryValue(const FieldDescriptor& field, const std::string& name,
                                          const std::string& value) {
  if (field.type() != FieldDescriptor::TYPE_BOOL) return nlohmann::json(value);
  if (value == "true") return nlohmann::json(true);
  if (value == "false") return nlohmann::json(false);
  return absl::InvalidArgumentError(absl::StrCat("query parameter \"", name, "\": invalid value",
                                                 Shown(absl::StrCat("\"", value, "\"")),
                                                 ", expected true or false"));
}

// The query string as the JSON object of the request message, so the parser checks types and
// reports errors the same way as for a body.
absl::StatusOr<nlohmann::json> QueryJson(const Descriptor& request, std::string_view query,
                                         const std::set<std::string>& not_in_query) {
  absl::StatusOr<http::FormParams> params = http::DecodeForm(query);
  if (!params.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("query string: ", params.status().message()));
  }
  nlohmann::json root = nlohmann::json::object();
  for (const auto& [name, value] : *params) {
    const std::vector<std::string> path = absl::StrSplit(name, '.');
    const Descriptor* type = &request;
    nlohmann::json* node = &root;
    for (size_t i = 0; i < path.size(); ++i) {
      const FieldDescriptor* field = FieldNamed(*type, path[i]);
      const bool leaf = i + 1 == path.size();
      if (field == nullptr ||
          (!leaf && (field->message_type() == nullptr || field->is_repeated()))) {
        return absl::InvalidArgumentError(absl::StrCat("unknown query parameter \"", name, "\""));
      }
      if (i == 0 && not_in_query.contains(field->name())) {
        return absl::InvalidArgumentError(absl::StrCat(
            "query parameter \"", name,
            "\" is not taken from a URL (proxies and access logs keep URLs): send it in a body"));
      }
      nlohmann::json& slot = (*node)[field->json_name()];
      if (!leaf) {
        if (!slot.is_null() && !slot.is_object()) {
          return absl::InvalidArgumentError(
              absl::StrCat("query parameter \"", name, "\": its message is also given as a value"));
        }
        type = field->message_type();
        node = &slot;
        continue;
      }
      absl::StatusOr<nlohmann::json> json = QueryValue(*field, name, value);
      if (!json.ok()) return json.status();
      if (field->is_repeated()) {
        slot.push_back(*std::move(json));
      } else if (!slot.is_null()) {
        return absl::InvalidArgumentError(
            absl::StrCat("query parameter \"", name, "\" is given more than once"));
      } else {
        slot = *std::move(json);
      }
    }
  }
  return root;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Message>> RequestMessage(
    const CompiledRoute& route, const std::map<std::string, std::string>& path_values,
    std::string_view query, std::string_view body) {
  const Descriptor& type = *route.rpc().input_type();
  std::unique_ptr<Message> message(
      google::protobuf::MessageFactory::generated_factory()->GetPrototype(&type)->New());
  if (route.route().method == HttpMethod::kGet) {
    absl::StatusOr<nlohmann::json> json = absl::InternalError("unset");
    try {
      json = QueryJson(type, query, route.route().not_in_query);
    } catch (const nlohmann::json::exception&) {
      // QueryJson checks each parameter's shape; this is the backstop for one it missed.
      return absl::InvalidArgumentError("query string: its parameters do not fit the request");
    }
    if (!json.ok()) return json.status();
    if (absl::Status parsed = ParseJson(json->dump(), *message); !parsed.ok()) return parsed;
  } else if (!body.empty()) {
    if (absl::Status parsed = ParseJson(body, *message); !parsed.ok()) return parsed;
  }
  const google::protobuf::Reflection& reflection = *message->GetReflection();
  for (const auto& [name, value] : path_values) {
    const FieldDescriptor* field = type.FindFieldByName(name);
    const std::string given = reflection.GetString(*message, field);
    if (!given.empty() && given != value) {
      return absl::InvalidArgumentError(absl::StrCat("field \"", field->json_name(), "\" is \"",
                                                     value, "\" in the path but \"", given,
                                                     "\" in the request; give it once"));
    }
    reflection.SetString(message.get(), field, value);
  }
  return message;
}

std::string ResponseJson(const Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.always_print_primitive_fields = true;
  std::string json;
  // Printing a message built from the generated descriptors cannot fail.
  (void)google::protobuf::util::MessageToJsonString(message, &json, options);
  return json;
}

}  // namespace klaxon::grpc_gateway
