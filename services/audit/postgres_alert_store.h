#pragma once
// The AlertStore adapter for Postgres (schema: services/audit/migrations). Apply() runs the pure
// projection inside one transaction that also advances consumer_progress; writers of one alert
// are serialised by a transaction-scoped advisory lock on its id, and the row writes carry a
// status-rank guard in SQL as well, so no interleaving can lower a stored status. RecordConsent
// upserts opt_outs with Supersedes() as the SQL guard, in the transaction that advances progress.

#include <memory>

#include "common/pg/database.h"
#include "services/audit/alert_store.h"

namespace klaxon::audit {

class PostgresAlertStore final : public AlertStore {
 public:
  // `db` is borrowed and must outlive the store.
  explicit PostgresAlertStore(pg::Database& db) : db_(db) {}

  absl::StatusOr<std::optional<StatusAdvance>> Apply(const AlertEvent& event,
                                                     const ConsumedOffset& progress) override;
  absl::StatusOr<bool> RecordConsent(const ConsentChange& change,
                                     const ConsumedOffset& progress) override;
  absl::Status RecordProgress(const ConsumedOffset& progress) override;
  absl::StatusOr<std::optional<AlertRecord>> GetAlert(std::string_view caller,
                                                      std::string_view alert_id) override;
  absl::StatusOr<int64_t> NextOffset(std::string_view topic, int32_t partition) override;

 private:
  pg::Database& db_;
};

}  // namespace klaxon::audit
