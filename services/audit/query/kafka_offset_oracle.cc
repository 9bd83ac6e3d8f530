#include "services/audit/query/kafka_offset_oracle.h"

#include "common/kafka/partitioner.h"

namespace klaxon::audit {

absl::StatusOr<int32_t> KafkaOffsetOracle::PartitionFor(std::string_view topic,
                                                        std::string_view key) {
  int32_t count = 0;
  {
    std::lock_guard lock(mutex_);
    if (auto found = partition_counts_.find(topic); found != partition_counts_.end()) {
      count = found->second;
    }
  }
  if (count == 0) {
    absl::StatusOr<int32_t> fetched = watermarks_.PartitionCount(std::string(topic), timeout_);
    if (!fetched.ok()) return fetched.status();
    count = *fetched;
    std::lock_guard lock(mutex_);
    partition_counts_.emplace(std::string(topic), count);
  }
  return kafka::PartitionForKey(key, count);
}

absl::StatusOr<int64_t> KafkaOffsetOracle::HighWatermark(std::string_view topic,
                                                         int32_t partition) {
  return watermarks_.HighWatermark(std::string(topic), partition, timeout_);
}

}  // namespace klaxon::audit
