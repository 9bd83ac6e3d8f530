#include "common/kafka/partitioner.h"

#include <librdkafka/rdkafka.h>

#include "absl/strings/str_cat.h"

namespace klaxon::kafka {

absl::StatusOr<int32_t> PartitionForKey(std::string_view key, int32_t partition_count) {
  if (key.empty()) return absl::InvalidArgumentError("an empty key has no fixed partition");
  if (partition_count < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("partition count must be positive, not ", partition_count));
  }
  // librdkafka's own function, so the answer cannot drift from what the producer does. With a
  // non-null key it only hashes; the topic handle is read only for null keys, excluded above.
  return rd_kafka_msg_partitioner_murmur2_random(nullptr, key.data(), key.size(), partition_count,
                                                 nullptr, nullptr);
}

}  // namespace klaxon::kafka
