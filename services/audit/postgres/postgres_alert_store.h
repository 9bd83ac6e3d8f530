#pragma once
// The AlertStore adapter for Postgres (schema: services/audit/postgres/migrations, ADR 0008).
// Write() runs one transaction per batch: it locks the batch's alerts (transaction-scoped advisory
// locks, taken in the order of their keys, so two replicas writing overlapping batches wait for
// each other instead of deadlocking, and an alert not stored yet is locked too), loads them and
// asks the log which events it holds, folds the batch in memory with PlanIngest, and writes
// everything back with one multi-row statement per table (rows travel as one JSON parameter each).
// The row writes keep a status-rank guard in SQL as well, so no interleaving can lower a stored
// status. Alerts whose status advanced are announced with pg_notify('klaxon_alert_status',
// alert_id) in the same transaction, and the status changes of callers that take caller
// callbacks are added to their outbox there too (ADR 0028). Ciphertext and keys are written as the
// logic sealed them: plaintext never reaches this adapter.

#include <functional>
#include <memory>
#include <set>
#include <string>
#include <utility>

#include "absl/time/time.h"
#include "common/pg/database.h"
#include "services/audit/alert_store.h"

namespace klaxon::audit {

class PostgresAlertStore final : public AlertStore {
 public:
  // `db` is borrowed and must outlive the store. The status changes of `callback_callers`'
  // alerts go to the caller_callbacks outbox (PostgresCallbackOutbox).
  explicit PostgresAlertStore(pg::Database& db,
                              std::set<std::string, std::less<>> callback_callers = {})
      : db_(db), callback_callers_(std::move(callback_callers)) {}

  absl::StatusOr<std::vector<IngestResult>> Write(const std::vector<IngestItem>& batch) override;
  absl::StatusOr<std::optional<AlertRecord>> GetAlert(std::string_view caller,
                                                      std::string_view alert_id) override;
  absl::StatusOr<std::vector<AlertRecord>> EscalationPages(std::string_view caller,
                                                           std::string_view escalation_id) override;
  absl::Status AdvanceProgress(const std::vector<ConsumedOffset>& progress) override;
  absl::StatusOr<int64_t> NextOffset(std::string_view topic, int32_t partition) override;

  // Creates the audit_events partitions of the month (UTC) holding `now` and the `months_ahead`
  // after it, unless they exist (audit_events_ensure_partition).
  absl::Status EnsureEventPartitions(absl::Time now, int months_ahead);

 private:
  pg::Database& db_;
  const std::set<std::string, std::less<>> callback_callers_;
};

}  // namespace klaxon::audit
