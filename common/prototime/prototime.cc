#include "common/prototime/prototime.h"

#include <cstdint>

namespace klaxon::prototime {

absl::Time FromProto(const google::protobuf::Timestamp& timestamp) {
  return absl::FromUnixSeconds(timestamp.seconds()) + absl::Nanoseconds(timestamp.nanos());
}

std::optional<absl::Time> FromProtoIfSet(bool has, const google::protobuf::Timestamp& timestamp) {
  if (!has) return std::nullopt;
  return FromProto(timestamp);
}

google::protobuf::Timestamp ToProto(absl::Time time) {
  google::protobuf::Timestamp out;
  SetTimestamp(time, &out);
  return out;
}

void SetTimestamp(absl::Time time, google::protobuf::Timestamp* out) {
  // ToUnixSeconds rounds down, so the remainder is never negative.
  const int64_t seconds = absl::ToUnixSeconds(time);
  out->set_seconds(seconds);
  out->set_nanos(
      static_cast<int32_t>((time - absl::FromUnixSeconds(seconds)) / absl::Nanoseconds(1)));
}

}  // namespace klaxon::prototime
