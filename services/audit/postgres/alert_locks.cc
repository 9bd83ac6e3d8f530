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

// pg_try_advisory_xact_lock is volatile: evaluated once per distinct id, never pushed elsewhere.
constexpr pg::PreparedStatement kTryLockAlerts{
    "klaxon_audit_try_lock_alerts",
    "SELECT id FROM (SELECT DISTINCT id FROM jsonb_array_elements_text($2::jsonb) AS id) AS ids "
    "WHERE NOT pg_try_advisory_xact_lock($1, hashtext(id))"};

}  // namespace

void LockAlerts(pqxx::work& txn, const std::vector<std::string>& alert_ids) {
  if (alert_ids.empty()) return;
  kLockAlerts.Exec(txn, kAlertLockClass, nlohmann::json(alert_ids).dump());
}

std::set<std::string, std::less<>> TryLockAlerts(pqxx::work& txn,
                                                 const std::vector<std::string>& alert_ids) {
  std::set<std::string, std::less<>> busy;
  if (alert_ids.empty()) return busy;
  for (const pqxx::row row :
       kTryLockAlerts.Exec(txn, kAlertLockClass, nlohmann::json(alert_ids).dump())) {
    busy.insert(row[0].as<std::string>());
  }
  return busy;
}

}  // namespace klaxon::audit
