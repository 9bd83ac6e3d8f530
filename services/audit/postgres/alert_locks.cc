#include "services/audit/postgres/alert_locks.h"

#include <cstdint>

#include "common/pg/prepared_statement.h"
#include "nlohmann/json.hpp"

namespace klaxon::audit {
namespace {

// The advisory lock class of audit's alerts ("audt").
constexpr int32_t kAlertLockClass = 0x61756474;

constexpr pg::PreparedStatement kLockAlerts{
    "klaxon_audit_lock_alerts",
    "SELECT pg_advisory_xact_lock($1, k) FROM ("
    "  SELECT DISTINCT hashtext(id) AS k FROM jsonb_array_elements_text($2::jsonb) AS id "
    "  ORDER BY k) AS keys"};

}  // namespace

void LockAlerts(pqxx::work& txn, const std::vector<std::string>& alert_ids) {
  if (alert_ids.empty()) return;
  kLockAlerts.Exec(txn, kAlertLockClass, nlohmann::json(alert_ids).dump());
}

}  // namespace klaxon::audit
