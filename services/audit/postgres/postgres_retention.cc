#include "services/audit/postgres/postgres_retention.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace klaxon::audit {
namespace {

// SQLSTATE lock_not_available: lock_timeout expired.
constexpr char kLockNotAvailable[] = "55P03";

// Where each kind of expiring row lives. Keys are what a batch selects and deletes by.
struct ExpiringTable {
  const char* table;
  const char* key;  // the primary key's columns
  const char* expires_by;
  const char* also = "true";  // what an expired row must also meet to go
};

ExpiringTable TableOf(ExpiringRecords records) {
  switch (records) {
    case ExpiringRecords::kDefaultPartitionEvents:
      return {"audit_events_default", "event_key, occurred_at", "occurred_at"};
    case ExpiringRecords::kDeadLetters:
      return {"dead_letters", "alert_id", "dead_lettered_at"};
    case ExpiringRecords::kCallerCallbacks:
      // finished_at is NULL while pending: a pending callback never expires. An alert's newest
      // row stays with the alert, whatever its age: the next change is numbered on from it, so a
      // late change never reuses a sequence (and Klaxon-Event-Id) its receiver has already seen.
      return {"caller_callbacks", "alert_id, sequence", "finished_at",
              "EXISTS (SELECT 1 FROM caller_callbacks later "
              "WHERE later.alert_id = caller_callbacks.alert_id "
              "AND later.sequence > caller_callbacks.sequence)"};
    case ExpiringRecords::kDataKeys:
      return {"data_keys", "owner", "created_at"};
    case ExpiringRecords::kAlerts:
      return {"alerts", "alert_id", "created_at"};
  }
  return {"", "", ""};  // unreachable: every enumerator is handled above
}

std::string Expired(const ExpiringTable& table) {
  return absl::StrCat(table.expires_by,
                      " < 'epoch'::timestamptz + $1::bigint * interval '1 microsecond' AND ",
                      table.also);
}

int64_t CountRows(pqxx::work& txn, absl::string_view table) {
  return txn.exec1(absl::StrCat("SELECT count(*) FROM ", txn.quote_name(std::string(table))))[0]
      .as<int64_t>();
}

// Runs `ddl` after setting the transaction's lock_timeout; kAborted when the lock did not
// come in time.
absl::Status RunWithLockTimeout(pqxx::work& txn, absl::Duration lock_timeout,
                                const std::string& ddl, absl::string_view what) {
  txn.exec(
      absl::StrCat("SET LOCAL lock_timeout = '", absl::ToInt64Milliseconds(lock_timeout), "ms'"));
  try {
    txn.exec(ddl);
  } catch (const pqxx::sql_error& e) {
    if (e.sqlstate() != kLockNotAvailable) throw;
    return absl::AbortedError(absl::StrCat(what, ": audit_events stayed locked for ",
                                           absl::FormatDuration(lock_timeout)));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::vector<std::string>> PostgresRetentionStore::ListEventPartitions() {
  std::vector<std::string> names;
  absl::Status status = db_.Transact([&](pqxx::work& txn) {
    names.clear();
    for (const auto& row :
         txn.exec("SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                  "WHERE i.inhparent = 'audit_events'::regclass ORDER BY c.relname")) {
      names.push_back(row[0].as<std::string>());
    }
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return names;
}

absl::StatusOr<int64_t> PostgresRetentionStore::DropEventPartition(absl::string_view name) {
  int64_t events = 0;
  absl::Status status = db_.Transact([&](pqxx::work& txn) {
    // A run at the same time may have dropped it since it was listed.
    if (txn.exec_params1("SELECT to_regclass($1) IS NULL", txn.quote_name(std::string(name)))[0]
            .as<bool>()) {
      return absl::NotFoundError(absl::StrCat(name, " no longer exists"));
    }
    // Counted before the drop, in the same transaction; an expired month takes no new events.
    events = CountRows(txn, name);
    // Dropping a partition detaches it from audit_events in the same step.
    return RunWithLockTimeout(txn, options_.lock_timeout,
                              absl::StrCat("DROP TABLE ", txn.quote_name(std::string(name))),
                              absl::StrCat("drop ", name));
  });
  if (!status.ok()) return status;
  return events;
}

absl::Status PostgresRetentionStore::EnsureEventPartition(absl::CivilMonth month) {
  return db_.Transact([&](pqxx::work& txn) {
    return RunWithLockTimeout(
        txn, options_.lock_timeout,
        absl::StrFormat("SELECT audit_events_ensure_partition('%04d-%02d-01')", month.year(),
                        month.month()),
        absl::StrFormat("create the partition of %04d-%02d", month.year(), month.month()));
  });
}

absl::StatusOr<int64_t> PostgresRetentionStore::CountPartitionEvents(absl::string_view name) {
  int64_t events = 0;
  absl::Status status = db_.Transact([&](pqxx::work& txn) {
    events = CountRows(txn, name);
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return events;
}

absl::StatusOr<int64_t> PostgresRetentionStore::DeleteExpired(ExpiringRecords records,
                                                              absl::Time cutoff, int64_t limit) {
  const ExpiringTable table = TableOf(records);
  // The batch locks its rows with SKIP LOCKED, so two runs at once split the work instead of
  // waiting on each other.
  const std::string sql = absl::StrCat("DELETE FROM ", table.table, " WHERE (", table.key,
                                       ") IN (SELECT ", table.key, " FROM ", table.table, " WHERE ",
                                       Expired(table), " LIMIT $2 FOR UPDATE SKIP LOCKED)");
  int64_t deleted = 0;
  absl::Status status = db_.Transact([&](pqxx::work& txn) {
    deleted = static_cast<int64_t>(
        txn.exec_params0(sql, absl::ToUnixMicros(cutoff), limit).affected_rows());
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return deleted;
}

absl::StatusOr<int64_t> PostgresRetentionStore::CountExpired(ExpiringRecords records,
                                                             absl::Time cutoff) {
  const ExpiringTable table = TableOf(records);
  const std::string sql =
      absl::StrCat("SELECT count(*) FROM ", table.table, " WHERE ", Expired(table));
  int64_t count = 0;
  absl::Status status = db_.Transact([&](pqxx::work& txn) {
    count = txn.exec_params1(sql, absl::ToUnixMicros(cutoff))[0].as<int64_t>();
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return count;
}

}  // namespace klaxon::audit
