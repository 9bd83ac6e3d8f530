#pragma once
// The RetentionStore adapter for Postgres (schema: services/audit/postgres/migrations/0004). Row
// deletes go in batches of short transactions that skip rows another run has locked; dropping or
// creating a partition locks audit_events, so it waits at most `lock_timeout` for ingest to let go
// and otherwise answers kAborted (the job tries again on its next run).

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/pg/database.h"
#include "services/audit/admin/retention.h"

namespace klaxon::audit {

struct PostgresRetentionOptions {
  // Longest a partition drop or create waits for audit_events' lock; ingest queues behind a
  // waiting DDL statement, so this is also the longest retention can hold ingest up.
  absl::Duration lock_timeout = absl::Seconds(2);
};

class PostgresRetentionStore final : public RetentionStore {
 public:
  // `db` is borrowed and must outlive the store.
  explicit PostgresRetentionStore(pg::Database& db, PostgresRetentionOptions options = {})
      : db_(db), options_(options) {}

  absl::StatusOr<std::vector<std::string>> ListEventPartitions() override;
  absl::StatusOr<int64_t> DropEventPartition(absl::string_view name) override;
  absl::Status EnsureEventPartition(absl::CivilMonth month) override;
  absl::StatusOr<int64_t> CountPartitionEvents(absl::string_view name) override;
  absl::StatusOr<int64_t> DeleteExpired(ExpiringRecords records, absl::Time cutoff,
                                        int64_t limit) override;
  absl::StatusOr<int64_t> CountExpired(ExpiringRecords records, absl::Time cutoff) override;

 private:
  pg::Database& db_;
  const PostgresRetentionOptions options_;
};

}  // namespace klaxon::audit
