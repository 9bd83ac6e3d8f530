#include "common/kafka/offset_tracker.h"

#include <algorithm>

namespace klaxon::kafka {

void OffsetTracker::Begin(const TopicPartition& where, int64_t offset) {
  // The first offset begun is where the group already stands, so it is not worth storing again.
  Partition& partition = partitions_.try_emplace(where, Partition{.stored = offset}).first->second;
  partition.unfinished.insert(offset);
  ++partition.running;
}

std::optional<int64_t> OffsetTracker::Finish(const TopicPartition& where, int64_t offset) {
  const auto found = partitions_.find(where);
  if (found == partitions_.end() || found->second.unfinished.erase(offset) == 0) {
    return std::nullopt;
  }
  Partition& partition = found->second;
  --partition.running;
  partition.highest_finished = std::max(partition.highest_finished, offset);
  const int64_t storable =
      partition.unfinished.empty() ? partition.highest_finished + 1 : *partition.unfinished.begin();
  if (storable <= partition.stored) return std::nullopt;
  partition.stored = storable;
  return storable;
}

void OffsetTracker::Abandon(const TopicPartition& where, int64_t offset) {
  const auto found = partitions_.find(where);
  if (found == partitions_.end() || !found->second.unfinished.contains(offset)) return;
  --found->second.running;
}

size_t OffsetTracker::Running(const TopicPartition& where) const {
  const auto found = partitions_.find(where);
  return found == partitions_.end() ? 0 : found->second.running;
}

void OffsetTracker::Forget(const TopicPartition& where) { partitions_.erase(where); }

}  // namespace klaxon::kafka
