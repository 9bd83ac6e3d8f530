#pragma once
// The AlertQueries adapter for Postgres (schema: services/audit/postgres/migrations, 0004 for the
// indexes). Each query is one statement whose every filter is a bound parameter; with libpq's
// unnamed statements Postgres plans each call with its values, so an unset filter
// ("$n IS NULL OR ...") folds away and the remaining ones pick their index:
//   ListAlerts                   alerts_caller_created, or alerts_caller_status_created with a
//                                status, or alerts_caller_recipient_created with a recipient
//                                (channel only filters rows of whichever index is used)
//   GetAuditTrail                audit_events_alert (alert_id, occurred_at), every partition
//   CountDeliveries              alerts_caller_created, one GROUPING SETS pass, then the
//                                charged attempts of the same alerts (attempts' primary key)

#include <string>

#include "common/pg/database.h"
#include "services/audit/query/alert_queries.h"

namespace klaxon::audit {

// ListAlerts' statement ($1 caller, $2 status, $3 channel, $4 recipient index in hex, $5 created
// from and $6 before in µs, $7 and $8 the cursor's created_at µs and alert id, $9 limit), for
// tests that EXPLAIN it.
const std::string& ListAlertsStatement();

class PostgresAlertQueries final : public AlertQueries {
 public:
  // `db` is borrowed and must outlive the adapter.
  explicit PostgresAlertQueries(pg::Database& db) : db_(db) {}

  absl::StatusOr<std::vector<AlertRecord>> ListAlerts(const AlertFilter& filter,
                                                      const std::optional<ListCursor>& after,
                                                      int32_t limit) override;
  absl::StatusOr<std::optional<std::vector<AuditEventRecord>>> GetAuditTrail(
      std::string_view caller, std::string_view alert_id) override;
  absl::StatusOr<DeliveryCountsByGroup> CountDeliveries(std::string_view caller, absl::Time from,
                                                        absl::Time before) override;

 private:
  pg::Database& db_;
};

}  // namespace klaxon::audit
