#include "common/prototime/prototime.h"

#include <cstdint>
#include <string>

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/time_util.h"

namespace klaxon::prototime {

absl::Time FromProto(const google::protobuf::Timestamp& timestamp) {
  return absl::FromUnixSeconds(timestamp.seconds()) + absl::Nanoseconds(timestamp.nanos());
}

std::optional<absl::Time> FromProtoIfSet(bool has, const google::protobuf::Timestamp& timestamp) {
  if (!has) return std::nullopt;
  return FromProto(timestamp);
}

absl::StatusOr<std::optional<absl::Time>> FromCallerIfSet(
    std::string_view field, bool has, const google::protobuf::Timestamp& timestamp) {
  if (!has) return std::nullopt;
  if (timestamp.seconds() < google::protobuf::util::TimeUtil::kTimestampMinSeconds ||
      timestamp.seconds() > google::protobuf::util::TimeUtil::kTimestampMaxSeconds ||
      timestamp.nanos() < 0 || timestamp.nanos() >= 1'000'000'000) {
    return absl::InvalidArgumentError(
        absl::StrCat(std::string(field),
                     ": is not a valid timestamp (years 0001 to 9999, nanos 0 to 999999999)"));
  }
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
