#include "services/audit/ingest/progress_recorder.h"

#include <algorithm>
#include <vector>

#include "common/lifecycle/sleep.h"

namespace klaxon::audit {

void ProgressRecorder::Report(const std::string& topic, int32_t partition, int64_t next_offset) {
  std::lock_guard lock(mutex_);
  int64_t& highest = unwritten_[{topic, partition}];
  highest = std::max(highest, next_offset);
}

absl::Status ProgressRecorder::Flush() {
  std::map<Partition, int64_t> taken;
  {
    std::lock_guard lock(mutex_);
    taken.swap(unwritten_);
  }
  if (taken.empty()) return absl::OkStatus();
  std::vector<ConsumedOffset> progress;
  progress.reserve(taken.size());
  for (const auto& [where, next_offset] : taken) {
    progress.push_back(
        {.topic = where.first, .partition = where.second, .next_offset = next_offset});
  }
  absl::Status written = store_.AdvanceProgress(progress);
  if (!written.ok()) {
    // Put back what was taken; an offset reported meanwhile is kept when it is higher.
    std::lock_guard lock(mutex_);
    for (const auto& [where, next_offset] : taken) {
      int64_t& highest = unwritten_[where];
      highest = std::max(highest, next_offset);
    }
  }
  return written;
}

void ProgressRecorder::Run(std::stop_token stop) {
  while (true) {
    const bool stopping = !lifecycle::SleepUnlessStopped(options_.flush_interval, stop);
    const absl::Status written = Flush();
    if (!written.ok() && !failing_) {
      logger_.Error("consumer_progress_write_failed",
                    {{"error", written.ToString()},
                     {"effect",
                      "GetAlert cannot tell a missing alert from a late one and answers "
                      "UNAVAILABLE after its wait; retried every flush interval"},
                     {"action", "check audit's Postgres (KLAXON_PG_URL)"}});
    } else if (written.ok() && failing_) {
      logger_.Info("consumer_progress_written_again", {});
    }
    failing_ = !written.ok();
    if (stopping) return;
  }
}

}  // namespace klaxon::audit
