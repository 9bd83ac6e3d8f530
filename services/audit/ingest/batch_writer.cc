#include "services/audit/ingest/batch_writer.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/status/status.h"

namespace klaxon::audit {

BatchWriter::BatchWriter(AlertStore& store, BatchWriterOptions options)
    : store_(store), options_(options) {}

absl::StatusOr<IngestResult> BatchWriter::Write(IngestItem item) {
  Waiter waiter{.item = std::move(item)};
  std::unique_lock lock(mutex_);
  waiting_.push_back(&waiter);
  while (!waiter.result.has_value()) {
    if (writers_ >= std::max(options_.max_writers, 1) || waiting_.empty()) {
      waiter.woken.wait(lock);
      continue;
    }
    // This handler writes the next batch (its own item may be in a later one when many wait).
    ++writers_;
    const size_t size = std::min(waiting_.size(), std::max<size_t>(options_.max_batch, 1));
    std::vector<Waiter*> batch(waiting_.begin(), waiting_.begin() + static_cast<long>(size));
    waiting_.erase(waiting_.begin(), waiting_.begin() + static_cast<long>(size));
    lock.unlock();
    WriteBatch(batch);
    lock.lock();
    --writers_;
    // The free place goes to the oldest item still waiting: its handler writes the next batch.
    if (!waiting_.empty()) waiting_.front()->woken.notify_one();
  }
  return *std::move(waiter.result);
}

size_t BatchWriter::waiting() const {
  std::lock_guard lock(mutex_);
  return waiting_.size();
}

void BatchWriter::WriteBatch(const std::vector<Waiter*>& batch) {
  std::vector<IngestItem> items;
  items.reserve(batch.size());
  for (const Waiter* waiter : batch) items.push_back(waiter->item);
  absl::StatusOr<std::vector<IngestResult>> results = store_.Write(items);
  if (!results.ok() && absl::IsInvalidArgument(results.status()) && batch.size() > 1) {
    // One item the database refuses must not hold back the others: each alone.
    for (Waiter* waiter : batch) {
      absl::StatusOr<std::vector<IngestResult>> alone = store_.Write({waiter->item});
      std::unique_lock lock(mutex_);
      Answer(*waiter, alone.ok() ? absl::StatusOr<IngestResult>(alone->front()) : alone.status());
    }
    return;
  }
  std::unique_lock lock(mutex_);
  for (size_t i = 0; i < batch.size(); ++i) {
    if (!results.ok()) {
      Answer(*batch[i], results.status());
    } else if (results->size() != batch.size()) {
      Answer(*batch[i],
             absl::InternalError("the audit store answered a batch with too few results"));
    } else {
      Answer(*batch[i], (*results)[i]);
    }
  }
}

void BatchWriter::Answer(Waiter& waiter, absl::StatusOr<IngestResult> result) {
  waiter.result = std::move(result);
  waiter.woken.notify_one();
}

}  // namespace klaxon::audit
