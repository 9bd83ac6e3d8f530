#pragma once
// The OffsetOracle adapter: answers from the brokers through a KafkaWatermarks client (not audit's
// consumer, whose idle fetches would hold each query up to 500 ms), using the producers'
// partitioner (kafka::PartitionForKey, murmur2 like KafkaPublisher) so the partition it names is
// the one ingress wrote the alert's request to.

#include <map>
#include <mutex>
#include <string>

#include "absl/time/time.h"
#include "common/kafka/watermarks.h"
#include "services/audit/query/offset_oracle.h"

namespace klaxon::audit {

class KafkaOffsetOracle final : public OffsetOracle {
 public:
  // `watermarks` is borrowed and must outlive the oracle; each broker query is bounded by
  // `timeout`.
  KafkaOffsetOracle(kafka::KafkaWatermarks& watermarks, absl::Duration timeout)
      : watermarks_(watermarks), timeout_(timeout) {}

  // Partition counts are cached for the life of the process: adding partitions to a topic
  // remaps keys for producers too, and is an operation done with the services restarted.
  absl::StatusOr<int32_t> PartitionFor(std::string_view topic, std::string_view key) override;
  absl::StatusOr<int64_t> HighWatermark(std::string_view topic, int32_t partition) override;

 private:
  kafka::KafkaWatermarks& watermarks_;
  const absl::Duration timeout_;
  std::mutex mutex_;
  std::map<std::string, int32_t, std::less<>> partition_counts_;  // guarded by mutex_
};

}  // namespace klaxon::audit
