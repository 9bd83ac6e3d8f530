#pragma once

#include <optional>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "google/protobuf/timestamp.pb.h"

// Conversions between absl::Time and google.protobuf.Timestamp, exact to the nanosecond; a time
// before the epoch keeps nanos in [0, 1e9) as Timestamp requires.
namespace klaxon::prototime {

absl::Time FromProto(const google::protobuf::Timestamp& timestamp);

// An optional field's time: nullopt when `has` (the message's has_...()) is false.
std::optional<absl::Time> FromProtoIfSet(bool has, const google::protobuf::Timestamp& timestamp);

// A caller's optional time, checked: nullopt when `has` is false; kInvalidArgument naming `field`
// when it lies outside RFC 3339's years 0001 to 9999 (as proto3 JSON defines a Timestamp) or its
// nanos outside [0, 1e9), which no query or schedule could mean.
absl::StatusOr<std::optional<absl::Time>> FromCallerIfSet(
    std::string_view field, bool has, const google::protobuf::Timestamp& timestamp);

google::protobuf::Timestamp ToProto(absl::Time time);

// Writes ToProto(time) into *out (a mutable_... field).
void SetTimestamp(absl::Time time, google::protobuf::Timestamp* out);

}  // namespace klaxon::prototime
