#pragma once
// The CallbackOutbox adapter for Postgres (table caller_callbacks, migration 0006, ADR 0028).
// Rows are added by PostgresAlertStore::Write (EnqueueStatusChanges) in the transaction that
// stores their status change. Only an alert's lowest pending row is ever due (the later ones wait
// at 'infinity' until it is settled), so a claim takes due rows oldest first with FOR UPDATE SKIP
// LOCKED and leases them by moving next_attempt_at to the lease's end: several audit replicas
// share the outbox without sending one callback twice at once or an alert's changes out of order.

#include <set>
#include <string>
#include <vector>

#include "common/pg/database.h"
#include "pqxx/pqxx"
#include "services/audit/caller_callbacks/callback_outbox.h"

namespace klaxon::audit {

class PostgresCallbackOutbox final : public CallbackOutbox {
 public:
  // `db` is borrowed and must outlive the outbox.
  explicit PostgresCallbackOutbox(pg::Database& db) : db_(db) {}

  absl::StatusOr<std::vector<PendingCallback>> Claim(
      size_t limit, absl::Time now, absl::Time lease_until,
      const std::vector<std::string>& last_callers) override;
  absl::StatusOr<std::vector<SettlementOutcome>> Settle(
      const std::vector<CallbackSettlement>& settlements) override;
  absl::StatusOr<PendingCallbacks> Pending() override;

 private:
  pg::Database& db_;
};

// Adds the changes of `callers` to the outbox inside `txn`, numbering each alert's after the
// sequences it holds already. The caller of this function holds the alerts' locks (the store's
// advisory locks), so no other writer numbers the same alert at once.
void EnqueueStatusChanges(pqxx::work& txn, const std::vector<StatusChange>& changes,
                          const std::set<std::string, std::less<>>& callers);

}  // namespace klaxon::audit
