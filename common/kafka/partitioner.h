#pragma once
// Which partition a key lands on. KafkaPublisher configures librdkafka's murmur2_random
// partitioner, the same hash as the Java client's default, so Klaxon's producers, Java tools and
// tests agree on where an alert's events are. Tests and tools use this to know which partition to
// watch for a given alert_id.

#include <cstdint>
#include <string_view>

#include "absl/status/statusor.h"

namespace klaxon::kafka {

// The librdkafka "partitioner" property KafkaPublisher sets.
inline constexpr std::string_view kPartitioner = "murmur2_random";

// The partition of `key` in a topic of `partition_count` partitions. kInvalidArgument for an
// empty key (KafkaPublisher sends it as a null key, which is spread at random) or a count < 1.
absl::StatusOr<int32_t> PartitionForKey(std::string_view key, int32_t partition_count);

}  // namespace klaxon::kafka
