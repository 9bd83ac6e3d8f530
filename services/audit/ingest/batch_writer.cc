#include "services/audit/ingest/batch_writer.h"

#include <algorithm>
#include <iterator>
#include <utility>

#include "absl/status/status.h"

namespace klaxon::audit {

BatchWriter::BatchWriter(AlertStore& store, BatchWriterOptions options)
    : store_(store), options_(options) {
  const int writers = std::max(options_.max_writers, 1);
  writers_.reserve(static_cast<size_t>(writers));
  for (int i = 0; i < writers; ++i) {
    writers_.emplace_back([this](std::stop_token stop) { Work(stop); });
  }
}

BatchWriter::~BatchWriter() {
  for (std::jthread& writer : writers_) writer.request_stop();
  writers_.clear();  // joins, once every waiting item was written
}

void BatchWriter::Write(IngestItem item, WriteDone done) {
  {
    std::lock_guard lock(mutex_);
    waiting_.push_back({.item = std::move(item), .done = std::move(done)});
  }
  arrived_.notify_one();
}

size_t BatchWriter::waiting() const {
  std::lock_guard lock(mutex_);
  return waiting_.size();
}

size_t BatchWriter::lingering() const {
  std::lock_guard lock(mutex_);
  return lingering_;
}

void BatchWriter::Work(std::stop_token stop) {
  const size_t max_batch = std::max<size_t>(options_.max_batch, 1);
  while (true) {
    std::vector<Pending> batch;
    {
      std::unique_lock lock(mutex_);
      arrived_.wait(lock, stop, [this] { return !waiting_.empty(); });
      if (waiting_.empty()) return;  // stopped, and nothing is left to write
      if (options_.linger > absl::ZeroDuration()) {
        ++lingering_;
        arrived_.wait_for(lock, stop, absl::ToChronoMilliseconds(options_.linger),
                          [this, max_batch] { return waiting_.size() >= max_batch; });
        --lingering_;
        // Another writer that lingered too may have taken everything meanwhile.
        if (waiting_.empty()) continue;
      }
      const auto end = waiting_.begin() + static_cast<long>(std::min(waiting_.size(), max_batch));
      batch.assign(std::make_move_iterator(waiting_.begin()), std::make_move_iterator(end));
      waiting_.erase(waiting_.begin(), end);
    }
    WriteBatch(std::move(batch));
  }
}

void BatchWriter::WriteBatch(std::vector<Pending> batch) {
  std::vector<IngestItem> items;
  items.reserve(batch.size());
  for (const Pending& pending : batch) items.push_back(pending.item);
  absl::StatusOr<std::vector<IngestResult>> results = store_.Write(items);
  if (!results.ok() && absl::IsInvalidArgument(results.status()) && batch.size() > 1) {
    // One item the database refuses must not hold back the others: each alone.
    for (Pending& pending : batch) {
      absl::StatusOr<std::vector<IngestResult>> alone = store_.Write({pending.item});
      std::move(pending.done)(alone.ok() ? absl::StatusOr<IngestResult>(alone->front())
                                         : alone.status());
    }
    return;
  }
  for (size_t i = 0; i < batch.size(); ++i) {
    if (!results.ok()) {
      std::move(batch[i].done)(results.status());
    } else if (results->size() != batch.size()) {
      std::move(batch[i].done)(
          absl::InternalError("the audit store answered a batch with too few results"));
    } else {
      std::move(batch[i].done)((*results)[i]);
    }
  }
}

}  // namespace klaxon::audit
