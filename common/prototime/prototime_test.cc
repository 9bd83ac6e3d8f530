#include "common/prototime/prototime.h"

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

}  // namespace
}  // namespace klaxon::prototime
