#pragma once
// The OffsetOracle adapter: answers from the brokers through audit's own KafkaConsumer, using the
// producers' partitioner (kafka::PartitionForKey, murmur2 like KafkaPublisher) so the partition it
// names is the one ingress wrote the alert's request to.

#include <map>
#include <mutex>
#include <string>

#include "absl/time/time.h"
#include "common/kafka/consumer.h"
#include "services/audit/offset_oracle.h"

namespace klaxon::audit {

class KafkaOffsetOracle final : public OffsetOracle {
 public:
  // `consumer` is borrowed and must outlive the oracle; each broker query is bounded by
  // `timeout`.
  KafkaOffsetOracle(kafka::KafkaConsumer& consumer, absl::Duration timeout)
      : consumer_(consumer), timeout_(timeout) {}

  // Partition counts are cached for the life of the process: adding partitions to a topic
  // remaps keys for producers too, and is an operation done with the services restarted.
  absl::StatusOr<int32_t> PartitionFor(std::string_view topic, std::string_view key) override;
  absl::StatusOr<int64_t> HighWatermark(std::string_view topic, int32_t partition) override;

 private:
  kafka::KafkaConsumer& consumer_;
  const absl::Duration timeout_;
  std::mutex mutex_;
  std::map<std::string, int32_t, std::less<>> partition_counts_;  // guarded by mutex_
};

}  // namespace klaxon::audit
