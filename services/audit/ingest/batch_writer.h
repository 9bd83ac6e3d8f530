#pragma once
// Group commit for audit's ingest (ADR 0008): the consumer's handlers, many at once, each hand
// one IngestItem to Write() and wait; a handler that finds fewer than max_writers batches being
// written becomes a writer and writes everything that waits (up to max_batch items) in one
// AlertStore::Write, then hands every waiter its result. Items that arrive while batches are being
// written form the next one, so the batch grows with the load and the linger is a commit's time:
// a lone message is written at once. Within a batch items keep their order of arrival; two
// batches written at once never hold the same message's predecessors (the consumer hands one
// key's messages over one after another), and the store serialises writers of one alert.
//
// A failed batch fails every item in it with the store's error (nothing of it was written), so
// each handler answers its message as the consumer contract says (retry). When the database
// refused a value (kInvalidArgument), the items of that batch are written again one by one so
// only the one that can never be written is refused.

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <optional>

#include "absl/status/statusor.h"
#include "services/audit/alert_store.h"

namespace klaxon::audit {

struct BatchWriterOptions {
  // Items written in one transaction at most (KLAXON_AUDIT_BATCH_SIZE).
  size_t max_batch = 1000;
  // Batches written at once at most (KLAXON_AUDIT_BATCH_WRITERS): a second one is prepared and
  // sent while the first commits.
  int max_writers = 1;
};

class BatchWriter {
 public:
  // `store` is borrowed and must outlive the writer.
  BatchWriter(AlertStore& store, BatchWriterOptions options);

  // Writes `item` in the next batch and returns its result once that batch committed, or the
  // error that failed it. Thread-safe; blocks.
  absl::StatusOr<IngestResult> Write(IngestItem item);

  // Items waiting for the next batch (not the one being written).
  size_t waiting() const;

 private:
  // One handler's item. Each waits on a condition of its own, so a finished batch wakes only
  // its own handlers and the one that writes next, not every handler of the consumer's pool.
  struct Waiter {
    IngestItem item;
    std::optional<absl::StatusOr<IngestResult>> result{};
    std::condition_variable woken{};  // result set, or this handler may write the next batch
  };

  // Writes `batch` (no lock held) and hands each waiter its result.
  void WriteBatch(const std::vector<Waiter*>& batch);
  // Sets `waiter`'s result and wakes it; mutex_ held.
  static void Answer(Waiter& waiter, absl::StatusOr<IngestResult> result);

  AlertStore& store_;
  const BatchWriterOptions options_;
  mutable std::mutex mutex_;
  std::deque<Waiter*> waiting_;  // guarded by mutex_
  int writers_ = 0;              // batches being written; guarded by mutex_
};

}  // namespace klaxon::audit
