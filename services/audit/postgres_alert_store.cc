#include "services/audit/postgres_alert_store.h"

#include <string>
#include <utility>

#include "absl/status/status.h"
#include "services/audit/projection.h"

namespace klaxon::audit {
namespace {

// pg_advisory_xact_lock(class, key) namespace for "one writer per alert" ("audt").
constexpr int32_t kAlertLockClass = 0x61756474;

// Timestamps cross the wire as integer microseconds since the epoch, which Postgres converts
// exactly in both directions (no float rounding, no time zone parsing).
constexpr char kSelectAlertSql[] =
    "SELECT alert_id::text, caller, channel, status, requested, recipient_country_code, "
    "  recipient_last4, twilio_sid, twilio_error_code, reason, "
    "  (extract(epoch FROM created_at) * 1000000)::bigint, "
    "  (extract(epoch FROM updated_at) * 1000000)::bigint, "
    "  (extract(epoch FROM status_at) * 1000000)::bigint "
    "FROM alerts WHERE alert_id = $1::uuid";

constexpr char kSelectAttemptsSql[] =
    "SELECT attempt, status, twilio_sid, twilio_error_code, reason, "
    "  (extract(epoch FROM occurred_at) * 1000000)::bigint, channel "
    "FROM attempts WHERE alert_id = $1::uuid ORDER BY attempt";

constexpr char kUpsertAlertSql[] =
    "INSERT INTO alerts (alert_id, caller, channel, status, status_rank, requested, "
    "  recipient_country_code, recipient_last4, twilio_sid, twilio_error_code, reason, "
    "  created_at, updated_at, status_at) "
    "VALUES ($1::uuid, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, "
    "  'epoch'::timestamptz + $12::bigint * interval '1 microsecond', "
    "  'epoch'::timestamptz + $13::bigint * interval '1 microsecond', "
    "  'epoch'::timestamptz + $14::bigint * interval '1 microsecond') "
    "ON CONFLICT (alert_id) DO UPDATE SET "
    "  caller = EXCLUDED.caller, channel = EXCLUDED.channel, status = EXCLUDED.status, "
    "  status_rank = EXCLUDED.status_rank, requested = EXCLUDED.requested, "
    "  recipient_country_code = EXCLUDED.recipient_country_code, "
    "  recipient_last4 = EXCLUDED.recipient_last4, twilio_sid = EXCLUDED.twilio_sid, "
    "  twilio_error_code = EXCLUDED.twilio_error_code, reason = EXCLUDED.reason, "
    "  created_at = EXCLUDED.created_at, updated_at = EXCLUDED.updated_at, "
    "  status_at = EXCLUDED.status_at "
    "WHERE alerts.status_rank <= EXCLUDED.status_rank";

constexpr char kUpsertAttemptSql[] =
    "INSERT INTO attempts (alert_id, attempt, status, status_rank, twilio_sid, "
    "  twilio_error_code, reason, occurred_at, channel) "
    "VALUES ($1::uuid, $2, $3, $4, $5, $6, $7, "
    "  'epoch'::timestamptz + $8::bigint * interval '1 microsecond', $9) "
    "ON CONFLICT (alert_id, attempt) DO UPDATE SET "
    "  status = EXCLUDED.status, status_rank = EXCLUDED.status_rank, channel = EXCLUDED.channel, "
    "  twilio_sid = EXCLUDED.twilio_sid, twilio_error_code = EXCLUDED.twilio_error_code, "
    "  reason = EXCLUDED.reason, occurred_at = EXCLUDED.occurred_at "
    "WHERE attempts.status_rank <= EXCLUDED.status_rank";

constexpr char kAdvanceProgressSql[] =
    "INSERT INTO consumer_progress (topic, partition, next_offset) VALUES ($1, $2, $3) "
    "ON CONFLICT (topic, partition) DO UPDATE SET "
    "  next_offset = GREATEST(consumer_progress.next_offset, EXCLUDED.next_offset), "
    "  updated_at = now()";

// The row comparison is Supersedes(): later changed_at, then opted_out (true wins), then keyword
// (bytewise, as std::string compares). An equal row is a duplicate and writes nothing.
constexpr char kUpsertConsentSql[] =
    "INSERT INTO opt_outs (recipient_token, country_code, last4, opted_out, keyword, changed_at) "
    "VALUES ($1, $2, $3, $4, $5, 'epoch'::timestamptz + $6::bigint * interval '1 microsecond') "
    "ON CONFLICT (recipient_token) DO UPDATE SET "
    "  country_code = EXCLUDED.country_code, last4 = EXCLUDED.last4, "
    "  opted_out = EXCLUDED.opted_out, keyword = EXCLUDED.keyword, "
    "  changed_at = EXCLUDED.changed_at "
    "WHERE (opt_outs.changed_at, opt_outs.opted_out, opt_outs.keyword COLLATE \"C\") < "
    "  (EXCLUDED.changed_at, EXCLUDED.opted_out, EXCLUDED.keyword COLLATE \"C\")";

std::optional<AlertRecord> LoadAlert(pqxx::work& txn, const std::string& alert_id) {
  const pqxx::result rows = txn.exec_params(kSelectAlertSql, alert_id);
  if (rows.empty()) return std::nullopt;
  const pqxx::row row = rows[0];
  AlertRecord record{.alert_id = row[0].as<std::string>(),
                     .caller = row[1].as<std::string>(),
                     .channel = static_cast<Channel>(row[2].as<int>()),
                     .status = static_cast<AlertStatus>(row[3].as<int>()),
                     .requested = row[4].as<bool>(),
                     .recipient_country_code = row[5].as<std::string>(),
                     .recipient_last4 = row[6].as<std::string>(),
                     .twilio_sid = row[7].as<std::string>(),
                     .twilio_error_code = row[8].as<int32_t>(),
                     .reason = row[9].as<std::string>(),
                     .created_at = absl::FromUnixMicros(row[10].as<int64_t>()),
                     .updated_at = absl::FromUnixMicros(row[11].as<int64_t>()),
                     .status_at = absl::FromUnixMicros(row[12].as<int64_t>()),
                     .attempts = {}};
  for (const pqxx::row attempt : txn.exec_params(kSelectAttemptsSql, alert_id)) {
    record.attempts.push_back({.number = attempt[0].as<uint32_t>(),
                               .channel = static_cast<Channel>(attempt[6].as<int>()),
                               .status = static_cast<AlertStatus>(attempt[1].as<int>()),
                               .twilio_sid = attempt[2].as<std::string>(),
                               .twilio_error_code = attempt[3].as<int32_t>(),
                               .reason = attempt[4].as<std::string>(),
                               .occurred_at = absl::FromUnixMicros(attempt[5].as<int64_t>())});
  }
  return record;
}

void AdvanceProgress(pqxx::work& txn, const ConsumedOffset& progress) {
  txn.exec_params(kAdvanceProgressSql, progress.topic, progress.partition, progress.next_offset);
}

const AttemptRecord* FindAttempt(const std::optional<AlertRecord>& record, uint32_t number) {
  if (!record.has_value()) return nullptr;
  for (const AttemptRecord& attempt : record->attempts) {
    if (attempt.number == number) return &attempt;
  }
  return nullptr;
}

}  // namespace

absl::StatusOr<std::optional<StatusAdvance>> PostgresAlertStore::Apply(
    const AlertEvent& event, const ConsumedOffset& progress) {
  std::optional<StatusAdvance> advanced;
  absl::Status status = db_.Transact([&](pqxx::work& txn) -> absl::Status {
    txn.exec_params("SELECT pg_advisory_xact_lock($1, hashtext($2))", kAlertLockClass,
                    event.alert_id);
    const std::optional<AlertRecord> current = LoadAlert(txn, event.alert_id);
    const AlertRecord next = ApplyEvent(current, event);
    advanced = AdvancedStatus(current, next);
    if (!current.has_value() || next != *current) {
      const pqxx::result written = txn.exec_params(
          kUpsertAlertSql, next.alert_id, next.caller, static_cast<int>(next.channel),
          static_cast<int>(next.status), Rank(next.status), next.requested,
          next.recipient_country_code, next.recipient_last4, next.twilio_sid,
          next.twilio_error_code, next.reason, absl::ToUnixMicros(next.created_at),
          absl::ToUnixMicros(next.updated_at), absl::ToUnixMicros(next.status_at));
      if (written.affected_rows() != 1) {
        // Only a writer that bypassed the advisory lock can get here; redoing the transaction
        // re-reads what it wrote.
        return absl::AbortedError("the alert changed under the projection lock; retry");
      }
      for (const AttemptRecord& attempt : next.attempts) {
        const AttemptRecord* before = FindAttempt(current, attempt.number);
        if (before != nullptr && *before == attempt) continue;
        txn.exec_params(kUpsertAttemptSql, next.alert_id, static_cast<int64_t>(attempt.number),
                        static_cast<int>(attempt.status), Rank(attempt.status),
                        attempt.twilio_sid, attempt.twilio_error_code, attempt.reason,
                        absl::ToUnixMicros(attempt.occurred_at), static_cast<int>(attempt.channel));
      }
    }
    AdvanceProgress(txn, progress);
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return advanced;
}

absl::StatusOr<bool> PostgresAlertStore::RecordConsent(const ConsentChange& change,
                                                       const ConsumedOffset& progress) {
  bool changed = false;
  absl::Status status = db_.Transact([&](pqxx::work& txn) {
    const pqxx::result written = txn.exec_params(
        kUpsertConsentSql, change.recipient_token, change.country_code, change.last4,
        change.opted_out, change.keyword, absl::ToUnixMicros(change.changed_at));
    changed = written.affected_rows() == 1;
    AdvanceProgress(txn, progress);
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return changed;
}

absl::Status PostgresAlertStore::RecordProgress(const ConsumedOffset& progress) {
  return db_.Transact([&](pqxx::work& txn) {
    AdvanceProgress(txn, progress);
    return absl::OkStatus();
  });
}

absl::StatusOr<std::optional<AlertRecord>> PostgresAlertStore::GetAlert(std::string_view caller,
                                                                        std::string_view alert_id) {
  std::optional<AlertRecord> found;
  absl::Status status = db_.Transact([&](pqxx::work& txn) {
    found = LoadAlert(txn, std::string(alert_id));
    // Someone else's alert is reported exactly like a missing one.
    if (found.has_value() && found->caller != caller) found.reset();
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return found;
}

absl::StatusOr<int64_t> PostgresAlertStore::NextOffset(std::string_view topic, int32_t partition) {
  int64_t next_offset = 0;
  absl::Status status = db_.Transact([&](pqxx::work& txn) {
    const pqxx::result rows = txn.exec_params(
        "SELECT next_offset FROM consumer_progress WHERE topic = $1 AND partition = $2",
        std::string(topic), partition);
    if (!rows.empty()) next_offset = rows[0][0].as<int64_t>();
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return next_offset;
}

}  // namespace klaxon::audit
