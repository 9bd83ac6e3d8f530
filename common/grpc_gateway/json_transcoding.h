#pragma once
// Between an HTTP request's JSON (body, query string, path variables) and a route's Protobuf
// request message, and from a response message back to JSON, by the proto3 JSON mapping
// (lowerCamelCase names in answers; either spelling accepted in requests; enums by name;
// Timestamps as RFC 3339; Durations as "1.5s"; 64-bit integers as strings).
//
// Nothing is guessed: an unknown field, a value of the wrong type and malformed JSON are each
// kInvalidArgument with a message that names the field (or says where the JSON broke).

#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "common/grpc_gateway/route.h"
#include "google/protobuf/message.h"

namespace klaxon::grpc_gateway {

// The route's request message from the path's variables and, for GET, the query string
// (each parameter a field by its JSON or proto name, dotted for a nested field, repeated for a
// repeated field) or, for POST, the JSON body (empty: an empty message). A variable also given
// in the body with another value is an error naming it.
absl::StatusOr<std::unique_ptr<google::protobuf::Message>> RequestMessage(
    const CompiledRoute& route, const std::map<std::string, std::string>& path_values,
    std::string_view query, std::string_view body);

// `message` as JSON, every field shown (zero values and empty lists included), so a client
// never has to know proto3's defaults.
std::string ResponseJson(const google::protobuf::Message& message);

}  // namespace klaxon::grpc_gateway
