#pragma once
// The DeadLetterStore adapter for Postgres: table dead_letters and its data_keys rows (schema:
// services/audit/postgres/migrations/0004_audit_records.sql). Add() inserts both in one
// transaction, ON CONFLICT DO NOTHING; ClaimReplay() is one conditional UPDATE, so concurrent
// replays of one dead letter serialise on its row and all see the first claim's id; the winning
// claim also writes the dead letter's "dead_letter_replayed" row in audit_events, in the same
// transaction.

#include "common/pg/database.h"
#include "services/audit/dead_letters/dead_letters.h"

namespace klaxon::audit {

class PostgresDeadLetterStore final : public DeadLetterStore {
 public:
  // `db` is borrowed and must outlive the store.
  explicit PostgresDeadLetterStore(pg::Database& db) : db_(db) {}

  absl::StatusOr<bool> Add(const NewDeadLetter& letter) override;
  absl::StatusOr<std::vector<DeadLetterSummary>> List(const DeadLetterQuery& query) override;
  absl::StatusOr<std::optional<StoredDeadLetter>> Get(absl::string_view caller,
                                                      absl::string_view alert_id) override;
  absl::StatusOr<std::optional<std::string>> FindOwner(absl::string_view alert_id) override;
  absl::StatusOr<ReplayClaim> ClaimReplay(absl::string_view caller, absl::string_view alert_id,
                                          absl::string_view new_alert_id, absl::Time now,
                                          absl::string_view replayed_by) override;
  absl::StatusOr<int64_t> CountPending() override;

 private:
  pg::Database& db_;
};

}  // namespace klaxon::audit
