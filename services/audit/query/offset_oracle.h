#pragma once
// What audit needs to know from Kafka to give GetAlert read-your-writes (docs/adr/0002): where a
// key lands and how far a partition has been written. The Kafka adapter answers from broker
// metadata with the producers' partitioner; tests use FakeOffsetOracle.

#include <cstdint>
#include <string_view>

#include "absl/status/statusor.h"

namespace klaxon::audit {

class OffsetOracle {
 public:
  virtual ~OffsetOracle() = default;

  // The partition of `topic` a message keyed `key` is produced to. kUnavailable when the broker
  // cannot be asked.
  virtual absl::StatusOr<int32_t> PartitionFor(std::string_view topic, std::string_view key) = 0;

  // The offset the next message written to the partition will get (the high watermark): every
  // message acknowledged so far is below it. kUnavailable when the broker cannot be asked.
  virtual absl::StatusOr<int64_t> HighWatermark(std::string_view topic, int32_t partition) = 0;
};

}  // namespace klaxon::audit
