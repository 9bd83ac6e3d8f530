#include "bench/schedule.h"

#include <chrono>

#include "absl/status/status.h"
#include "gtest/gtest.h"

namespace klaxon::bench {
namespace {

using std::chrono::milliseconds;
using std::chrono::nanoseconds;
using std::chrono::seconds;

TEST(OpenLoopScheduleTest, SendsRateTimesDurationRequests) {
  const absl::StatusOr<OpenLoopSchedule> schedule = OpenLoopSchedule::Create(100, seconds(10));
  ASSERT_TRUE(schedule.ok()) << schedule.status();
  EXPECT_EQ(schedule->size(), 1000);
}

TEST(OpenLoopScheduleTest, CountsAPartialIntervalAtTheEnd) {
  const absl::StatusOr<OpenLoopSchedule> schedule = OpenLoopSchedule::Create(3, milliseconds(1100));
  ASSERT_TRUE(schedule.ok()) << schedule.status();
  // Due at 0, 333, 667 and 1000 ms: all before 1100 ms.
  EXPECT_EQ(schedule->size(), 4);
}

TEST(OpenLoopScheduleTest, SpacesRequestsEvenlyFromTheStart) {
  const absl::StatusOr<OpenLoopSchedule> schedule = OpenLoopSchedule::Create(4, seconds(1));
  ASSERT_TRUE(schedule.ok()) << schedule.status();
  EXPECT_EQ(schedule->OffsetOf(0), nanoseconds(0));
  EXPECT_EQ(schedule->OffsetOf(1), milliseconds(250));
  EXPECT_EQ(schedule->OffsetOf(3), milliseconds(750));
}

TEST(OpenLoopScheduleTest, DoesNotDriftWhenTheIntervalIsNotWholeNanoseconds) {
  const absl::StatusOr<OpenLoopSchedule> schedule = OpenLoopSchedule::Create(3, seconds(4000));
  ASSERT_TRUE(schedule.ok()) << schedule.status();
  // 333333333.33 ns per request: summing rounded intervals would be 3600 ns early here.
  EXPECT_EQ(schedule->OffsetOf(10'800), seconds(3600));
  EXPECT_EQ(schedule->OffsetOf(1), nanoseconds(333'333'333));
  EXPECT_EQ(schedule->OffsetOf(2), nanoseconds(666'666'667));
}

TEST(OpenLoopScheduleTest, SupportsFractionalRates) {
  const absl::StatusOr<OpenLoopSchedule> schedule = OpenLoopSchedule::Create(0.5, seconds(10));
  ASSERT_TRUE(schedule.ok()) << schedule.status();
  EXPECT_EQ(schedule->size(), 5);
  EXPECT_EQ(schedule->OffsetOf(1), seconds(2));
}

TEST(OpenLoopScheduleTest, RejectsNonPositiveRate) {
  EXPECT_EQ(OpenLoopSchedule::Create(0, seconds(1)).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(OpenLoopScheduleTest, RejectsNonPositiveDuration) {
  EXPECT_EQ(OpenLoopSchedule::Create(10, seconds(0)).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace klaxon::bench
