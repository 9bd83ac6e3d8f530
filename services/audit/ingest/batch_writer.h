#pragma once
// Group commit for audit's ingest (ADR 0008, ADR 0017): the consumer's handler hands each
// message's IngestItem to Write() with a completion and moves on; up to max_writers writer threads
// of the BatchWriter's own each take everything that waits (up to max_batch items), write it in
// one AlertStore::Write, and hand every item's result to its completion. Items that arrive while
// batches are being written form the next one, so the batch grows with the load. A writer that
// finds fewer than max_batch items waits up to `linger` for more: under a steady load of events
// that each arrive alone, that makes a transaction of many instead of one each (at 300 alerts a
// second, 20 ms halved Postgres's CPU per alert: bench/README.md, "Audit's batches linger"). Within
// a batch items keep their order of arrival; two batches written at once never hold the same
// message's predecessors (the consumer hands one key's next message over only once the one before
// it completed), and the store serialises writers of one alert. The thread count is max_writers,
// however many items wait.
//
// A failed batch fails every item in it with the store's error (nothing of it was written), so
// each handler answers its message as the consumer contract says (retry). When the database
// refused a value (kInvalidArgument), the items of that batch are written again one by one so
// only the one that can never be written is refused.

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <stop_token>
#include <thread>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/audit/alert_store.h"

namespace klaxon::audit {

struct BatchWriterOptions {
  // Items written in one transaction at most (KLAXON_AUDIT_BATCH_SIZE).
  size_t max_batch = 1000;
  // Batches written at once at most, i.e. writer threads (KLAXON_AUDIT_BATCH_WRITERS): a second
  // one is prepared and sent while the first commits.
  int max_writers = 1;
  // How long a writer that finds fewer than max_batch items waits for more before it writes
  // (KLAXON_AUDIT_BATCH_LINGER): fewer, larger transactions for some latency. 0: at once.
  absl::Duration linger = absl::ZeroDuration();
};

// Receives an item's result: once its batch committed, or the error that failed it. Called
// exactly once, on a writer thread; it must not block, or it holds up the next batch.
using WriteDone = absl::AnyInvocable<void(absl::StatusOr<IngestResult>) &&>;

class BatchWriter {
 public:
  // `store` is borrowed and must outlive the writer. Starts the writer threads.
  BatchWriter(AlertStore& store, BatchWriterOptions options);
  BatchWriter(const BatchWriter&) = delete;
  BatchWriter& operator=(const BatchWriter&) = delete;
  // Writes what still waits, then joins the writer threads.
  ~BatchWriter();

  // Queues `item` for the next batch; `done` gets its result. Thread-safe; never blocks.
  void Write(IngestItem item, WriteDone done);

  // Items waiting for the next batch (not the ones being written).
  size_t waiting() const;
  // Writers waiting up to `linger` for a batch to fill (tests use it to line writers up).
  size_t lingering() const;

 private:
  struct Pending {
    IngestItem item;
    WriteDone done;
  };

  // A writer thread: takes the next batch as soon as there is one, until stopped with nothing
  // left.
  void Work(std::stop_token stop);
  // Writes `batch` (no lock held) and hands each item its result.
  void WriteBatch(std::vector<Pending> batch);

  AlertStore& store_;
  const BatchWriterOptions options_;
  mutable std::mutex mutex_;
  std::condition_variable_any arrived_;  // an item waits, or the writers stop
  std::deque<Pending> waiting_;          // guarded by mutex_
  size_t lingering_ = 0;                 // guarded by mutex_
  // Last: the threads stop (and drain waiting_) before the members they use are destroyed.
  std::vector<std::jthread> writers_;
};

}  // namespace klaxon::audit
