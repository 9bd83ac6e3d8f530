#pragma once
// The per-alert lock audit's writers share: a transaction-scoped advisory lock per alert id, taken
// in one sorted order so two writers never deadlock. PostgresAlertStore holds it while it folds a
// batch into its alerts (and numbers their caller callbacks); PostgresCallbackOutbox while it
// settles a callback and makes the alert's next change due (ADR 0028), taking only the locks it
// gets at once: a settle never waits for the store's batch, and holds one up only for its own
// short statement.

#include <functional>
#include <pqxx/pqxx>
#include <set>
#include <string>
#include <vector>

namespace klaxon::audit {

// Locks `alert_ids` (any order, repeats allowed) until `txn` ends.
void LockAlerts(pqxx::work& txn, const std::vector<std::string>& alert_ids);

// Locks those of `alert_ids` no other transaction holds until `txn` ends, without waiting; returns
// the others (busy).
std::set<std::string, std::less<>> TryLockAlerts(pqxx::work& txn,
                                                 const std::vector<std::string>& alert_ids);

}  // namespace klaxon::audit
