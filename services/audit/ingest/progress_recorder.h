#pragma once
// ProgressRecorder keeps consumer_progress true (ADR 0002). The rule that lets GetAlert answer
// NOT_FOUND: a partition's stored next_offset N means every message before N is in the store.
//
// Audit's consumer handles many messages of a partition at once, so the batch holding one
// message can commit before the batch holding an earlier one. Therefore the offset of the
// message a batch holds says nothing about the messages before it. The consumer does know: it
// stores a partition's offset for commit only once every message before it finished, and a
// message finishes after its batch committed. That offset, reported through
// ConsumerOptions::on_offset_stored, is what the recorder writes.
//
// Report() only remembers the highest offset per partition. Run() writes what changed at most
// once per flush_interval, so progress costs one small transaction per interval however fast
// messages arrive, and a GetAlert miss waits at most that much longer. A write that fails is
// logged and tried again at the next interval; nothing reported is dropped.

#include <cstdint>
#include <map>
#include <mutex>
#include <stop_token>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "common/log/log.h"
#include "services/audit/alert_store.h"

namespace klaxon::audit {

struct ProgressRecorderOptions {
  absl::Duration flush_interval = absl::Milliseconds(10);
};

class ProgressRecorder {
 public:
  // Both borrowed; they must outlive the recorder.
  ProgressRecorder(AlertStore& store, const log::Logger& logger, ProgressRecorderOptions options)
      : store_(store), logger_(logger), options_(options) {}

  // Every message of `topic`/`partition` before `next_offset` is in the store. Thread-safe and
  // quick: the consumer calls it from its handler threads.
  void Report(const std::string& topic, int32_t partition, int64_t next_offset);

  // Writes the offsets reported since the last write. OK when there was nothing to write; on
  // the store's error the offsets stay for the next flush.
  absl::Status Flush();

  // Flushes every flush_interval until `stop` is requested, then once more.
  void Run(std::stop_token stop);

 private:
  using Partition = std::pair<std::string, int32_t>;

  AlertStore& store_;
  const log::Logger& logger_;
  const ProgressRecorderOptions options_;
  std::mutex mutex_;
  std::map<Partition, int64_t> unwritten_;  // highest reported, not written yet; guarded
  bool failing_ = false;                    // the last flush failed; only Run's thread
};

}  // namespace klaxon::audit
