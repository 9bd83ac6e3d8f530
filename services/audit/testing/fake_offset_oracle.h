#pragma once
// In-memory OffsetOracle for unit tests: partitions and high watermarks are set by the test.

#include <map>
#include <mutex>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "services/audit/query/offset_oracle.h"

namespace klaxon::audit {

class FakeOffsetOracle final : public OffsetOracle {
 public:
  absl::StatusOr<int32_t> PartitionFor(std::string_view topic, std::string_view key) override {
    std::lock_guard lock(mutex_);
    if (!fail_with_.ok()) return fail_with_;
    auto found = partitions_.find({std::string(topic), std::string(key)});
    return found == partitions_.end() ? 0 : found->second;
  }

  absl::StatusOr<int64_t> HighWatermark(std::string_view topic, int32_t partition) override {
    std::lock_guard lock(mutex_);
    if (!fail_with_.ok()) return fail_with_;
    auto found = high_watermarks_.find({std::string(topic), partition});
    return found == high_watermarks_.end() ? 0 : found->second;
  }

  void SetPartition(const std::string& topic, const std::string& key, int32_t partition) {
    std::lock_guard lock(mutex_);
    partitions_[{topic, key}] = partition;
  }

  void SetHighWatermark(const std::string& topic, int32_t partition, int64_t high_watermark) {
    std::lock_guard lock(mutex_);
    high_watermarks_[{topic, partition}] = high_watermark;
  }

  void FailWith(absl::Status status) {
    std::lock_guard lock(mutex_);
    fail_with_ = std::move(status);
  }

 private:
  std::mutex mutex_;
  absl::Status fail_with_;
  std::map<std::pair<std::string, std::string>, int32_t> partitions_;
  std::map<std::pair<std::string, int32_t>, int64_t> high_watermarks_;
};

}  // namespace klaxon::audit
