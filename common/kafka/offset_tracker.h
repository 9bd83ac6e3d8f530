#pragma once
// OffsetTracker: which offset of each partition a consumer that handles several messages at once
// may store. Messages finish out of order, but Kafka keeps one committed offset per partition,
// so the storable offset is the lowest offset not finished yet (or one past the highest finished
// when none is open): committing past an unfinished message would lose it on a crash.
//
// A message is begun when it is handed out, then either finished (handled; its offset may be
// stored) or abandoned (its handler gave up on a retryable error because the consumer stops or
// lost the partition): an abandoned message no longer runs but still blocks the partition's
// storable offset, so its next owner redelivers it. Not thread-safe; the consumer guards it.

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>

namespace klaxon::kafka {

struct TopicPartition {
  std::string topic;
  int32_t partition = 0;

  friend auto operator<=>(const TopicPartition&, const TopicPartition&) = default;
};

class OffsetTracker {
 public:
  void Begin(const TopicPartition& where, int64_t offset);
  // The offset to store (the next one to read, as Kafka's committed offsets are) when finishing
  // `offset` moved the partition's storable offset forward; nullopt when it did not, or when the
  // partition was forgotten meanwhile.
  std::optional<int64_t> Finish(const TopicPartition& where, int64_t offset);
  void Abandon(const TopicPartition& where, int64_t offset);
  // Begun and neither finished nor abandoned yet.
  size_t Running(const TopicPartition& where) const;
  // Drops the partition's state, once it is revoked and nothing of it runs any more.
  void Forget(const TopicPartition& where);

 private:
  struct Partition {
    int64_t stored = -1;  // the last offset Finish returned, at first the first one begun
    std::set<int64_t> unfinished = {};  // begun, not finished (running or abandoned)
    size_t running = 0;
    int64_t highest_finished = -1;
  };
  std::map<TopicPartition, Partition> partitions_;
};

}  // namespace klaxon::kafka
