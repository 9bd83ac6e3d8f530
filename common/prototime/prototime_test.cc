#include "common/prototime/prototime.h"

#include <utility>
#include <vector>

#include "gtest/gtest.h"

namespace klaxon::prototime {
namespace {

TEST(PrototimeTest, ToProtoSplitsSecondsAndNanos) {
  const google::protobuf::Timestamp timestamp =
      ToProto(absl::FromUnixSeconds(1'700'000'000) + absl::Nanoseconds(123'456'789));
  EXPECT_EQ(timestamp.seconds(), 1'700'000'000);
  EXPECT_EQ(timestamp.nanos(), 123'456'789);
}

TEST(PrototimeTest, ToProtoBeforeTheEpochKeepsNanosPositive) {
  const google::protobuf::Timestamp timestamp = ToProto(absl::FromUnixMicros(-1'500'000));
  EXPECT_EQ(timestamp.seconds(), -2);
  EXPECT_EQ(timestamp.nanos(), 500'000'000);
}

TEST(PrototimeTest, ToProtoOfWholeSecondBeforeTheEpochHasNoNanos) {
  const google::protobuf::Timestamp timestamp = ToProto(absl::FromUnixSeconds(-3));
  EXPECT_EQ(timestamp.seconds(), -3);
  EXPECT_EQ(timestamp.nanos(), 0);
}

TEST(PrototimeTest, FromProtoAddsNanos) {
  google::protobuf::Timestamp timestamp;
  timestamp.set_seconds(-2);
  timestamp.set_nanos(500'000'000);
  EXPECT_EQ(FromProto(timestamp), absl::FromUnixMicros(-1'500'000));
}

TEST(PrototimeTest, RoundTripsToTheNanosecond) {
  for (const absl::Time time :
       {absl::UnixEpoch(), absl::FromUnixNanos(1), absl::FromUnixNanos(-1),
        absl::FromUnixNanos(1'732'000'000'987'654'321), absl::FromUnixNanos(-86'400'000'000'001)}) {
    EXPECT_EQ(FromProto(ToProto(time)), time) << time;
  }
}

TEST(PrototimeTest, SetTimestampWritesTheField) {
  google::protobuf::Timestamp timestamp;
  SetTimestamp(absl::FromUnixMillis(-1), &timestamp);
  EXPECT_EQ(timestamp.seconds(), -1);
  EXPECT_EQ(timestamp.nanos(), 999'000'000);
}

TEST(PrototimeTest, FromCallerIfSetReadsRfc3339sRangeAndNamesTheFieldOutsideIt) {
  google::protobuf::Timestamp timestamp;
  EXPECT_EQ(*FromCallerIfSet("from", false, timestamp), std::nullopt);
  timestamp.set_seconds(-62'135'596'800);  // 0001-01-01T00:00:00Z
  EXPECT_EQ(*FromCallerIfSet("from", true, timestamp), absl::FromUnixSeconds(-62'135'596'800));
  for (const auto& [seconds, nanos] :
       std::vector<std::pair<int64_t, int32_t>>{{-62'135'596'801, 0},
                                                {253'402'300'800, 0},
                                                {-9'000'000'000'000, 0},
                                                {0, -1},
                                                {0, 1'000'000'000}}) {
    timestamp.set_seconds(seconds);
    timestamp.set_nanos(nanos);
    const absl::StatusOr<std::optional<absl::Time>> read =
        FromCallerIfSet("created_from", true, timestamp);
    EXPECT_EQ(read.status().code(), absl::StatusCode::kInvalidArgument) << seconds << " " << nanos;
    EXPECT_EQ(read.status().message().substr(0, 38), "created_from: is not a valid timestamp");
  }
}

}  // namespace
}  // namespace klaxon::prototime
