#include "common/kafka/offset_tracker.h"

#include <gtest/gtest.h>

namespace klaxon::kafka {
namespace {

const TopicPartition kP0{.topic = "t", .partition = 0};
const TopicPartition kP1{.topic = "t", .partition = 1};

TEST(OffsetTrackerTest, FinishingTheOnlyMessageStoresTheNextOffset) {
  OffsetTracker tracker;
  tracker.Begin(kP0, 7);
  EXPECT_EQ(tracker.Finish(kP0, 7), 8);
}

TEST(OffsetTrackerTest, LaterMessageFinishingFirstStoresNothing) {
  OffsetTracker tracker;
  tracker.Begin(kP0, 1);
  tracker.Begin(kP0, 2);
  EXPECT_EQ(tracker.Finish(kP0, 2), std::nullopt);
}

TEST(OffsetTrackerTest, EarliestMessageFinishingStoresPastEverythingFinished) {
  OffsetTracker tracker;
  tracker.Begin(kP0, 1);
  tracker.Begin(kP0, 2);
  tracker.Begin(kP0, 3);
  tracker.Begin(kP0, 4);
  ASSERT_EQ(tracker.Finish(kP0, 2), std::nullopt);
  ASSERT_EQ(tracker.Finish(kP0, 4), std::nullopt);
  // 3 still runs, so the storable offset stops there.
  EXPECT_EQ(tracker.Finish(kP0, 1), 3);
  EXPECT_EQ(tracker.Finish(kP0, 3), 5);
}

TEST(OffsetTrackerTest, AbandonedMessageBlocksLaterOffsets) {
  OffsetTracker tracker;
  tracker.Begin(kP0, 1);
  tracker.Begin(kP0, 2);
  tracker.Abandon(kP0, 1);
  EXPECT_EQ(tracker.Finish(kP0, 2), std::nullopt);
}

TEST(OffsetTrackerTest, AbandonedMessageNoLongerRuns) {
  OffsetTracker tracker;
  tracker.Begin(kP0, 1);
  tracker.Begin(kP0, 2);
  tracker.Abandon(kP0, 1);
  EXPECT_EQ(tracker.Running(kP0), 1u);
}

TEST(OffsetTrackerTest, PartitionsAreTrackedApart) {
  OffsetTracker tracker;
  tracker.Begin(kP0, 1);
  tracker.Begin(kP1, 5);
  EXPECT_EQ(tracker.Finish(kP1, 5), 6);
  EXPECT_EQ(tracker.Running(kP0), 1u);
}

TEST(OffsetTrackerTest, FinishAfterForgetStoresNothing) {
  OffsetTracker tracker;
  tracker.Begin(kP0, 1);
  tracker.Forget(kP0);
  EXPECT_EQ(tracker.Finish(kP0, 1), std::nullopt);
}

TEST(OffsetTrackerTest, ReassignedPartitionStartsAgainFromRedeliveredOffset) {
  OffsetTracker tracker;
  tracker.Begin(kP0, 10);
  ASSERT_EQ(tracker.Finish(kP0, 10), 11);
  tracker.Forget(kP0);
  tracker.Begin(kP0, 4);  // the group's committed offset was older than ours
  EXPECT_EQ(tracker.Finish(kP0, 4), 5);
}

}  // namespace
}  // namespace klaxon::kafka
