#pragma once

#include <optional>

#include "absl/time/time.h"
#include "google/protobuf/timestamp.pb.h"

// Conversions between absl::Time and google.protobuf.Timestamp, exact to the nanosecond; a time
// before the epoch keeps nanos in [0, 1e9) as Timestamp requires.
namespace klaxon::prototime {

absl::Time FromProto(const google::protobuf::Timestamp& timestamp);

// An optional field's time: nullopt when `has` (the message's has_...()) is false.
std::optional<absl::Time> FromProtoIfSet(bool has, const google::protobuf::Timestamp& timestamp);

google::protobuf::Timestamp ToProto(absl::Time time);

// Writes ToProto(time) into *out (a mutable_... field).
void SetTimestamp(absl::Time time, google::protobuf::Timestamp* out);

}  // namespace klaxon::prototime
