#include "common/kafka/partitioner.h"

#include <gtest/gtest.h>

namespace klaxon::kafka {
namespace {

// Expected values computed with the Java client (org.apache.kafka.common.utils.Utils.murmur2 and
// toPositive(hash) % 6, kafka-clients 3.9.1), whose default partitioner Klaxon must match.
TEST(PartitionForKeyTest, MatchesJavaClientPartitions) {
  EXPECT_EQ(PartitionForKey("21", 6).value(), 0);
  EXPECT_EQ(PartitionForKey("a-little-bit-long-string", 6).value(), 2);
  EXPECT_EQ(PartitionForKey("abc", 6).value(), 3);
  EXPECT_EQ(PartitionForKey("0190b2a4-7c1e-7d3a-9f00-1234567890ab", 6).value(), 5);
}

TEST(PartitionForKeyTest, SinglePartitionTakesEveryKey) {
  EXPECT_EQ(PartitionForKey("abc", 1).value(), 0);
}

TEST(PartitionForKeyTest, RejectsEmptyKey) {
  EXPECT_EQ(PartitionForKey("", 6).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(PartitionForKeyTest, RejectsNonPositivePartitionCount) {
  EXPECT_EQ(PartitionForKey("abc", 0).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace klaxon::kafka
