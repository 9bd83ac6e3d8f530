#include "services/audit/postgres/postgres_dead_letter_store.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "services/audit/personal_data.h"
#include "services/audit/postgres/query_params.h"

namespace klaxon::audit {
namespace {

// Timestamps cross the wire as integer microseconds since the epoch (as in PostgresAlertStore).
constexpr char kSummaryColumns[] =
    "d.alert_id::text, d.caller, d.channel, d.attempt, d.reason, d.twilio_error_code, "
    "d.recipient_country_code, d.recipient_last4, "
    "(extract(epoch FROM d.dead_lettered_at) * 1000000)::bigint, d.replayed_as::text, "
    "(extract(epoch FROM d.replayed_at) * 1000000)::bigint, d.cause, d.replayed_by";
constexpr int kSummaryColumnCount = 13;

constexpr char kInsertSql[] =
    "INSERT INTO dead_letters (alert_id, caller, channel, attempt, reason, twilio_error_code, "
    "  recipient_index, recipient_country_code, recipient_last4, request_ciphertext, "
    "  dead_lettered_at, cause) "
    "VALUES ($1::uuid, $2, $3, $4, $5, $6, $7, $8, $9, $10, "
    "  'epoch'::timestamptz + $11::bigint * interval '1 microsecond', $12) "
    "ON CONFLICT (alert_id) DO NOTHING";

// A data key left behind without its dead letter can only be stale: the new ciphertext needs
// the new key.
constexpr char kUpsertKeySql[] =
    "INSERT INTO data_keys (owner, kek_version, wrapped_key, created_at) "
    "VALUES ($1, $2, $3, now()) "
    "ON CONFLICT (owner) DO UPDATE SET kek_version = EXCLUDED.kek_version, "
    "  wrapped_key = EXCLUDED.wrapped_key, created_at = EXCLUDED.created_at";

constexpr char kClaimSql[] =
    "UPDATE dead_letters SET replayed_as = $3::uuid, "
    "  replayed_at = 'epoch'::timestamptz + $4::bigint * interval '1 microsecond', "
    "  replayed_by = $5 "
    "WHERE alert_id = $1::uuid AND caller = $2 AND replayed_as IS NULL "
    "RETURNING replayed_as::text, (extract(epoch FROM replayed_at) * 1000000)::bigint";

// The replay in the dead letter's audit trail (GetAuditTrail of the dead-lettered alert): who,
// when, and the new alert. Once per dead letter, as the claim is.
constexpr char kRecordReplaySql[] =
    "INSERT INTO audit_events (occurred_at, event_key, alert_id, kind, caller, channel, attempt, "
    "  reason) "
    "SELECT d.replayed_at, 'dead_letter_replayed:' || d.alert_id::text, d.alert_id, "
    "  'dead_letter_replayed', d.caller, d.channel, d.attempt, "
    "  'replayed as ' || d.replayed_as::text || ' by ' || d.replayed_by "
    "FROM dead_letters d WHERE d.alert_id = $1::uuid "
    "ON CONFLICT DO NOTHING";

constexpr char kOwnerSql[] = "SELECT caller FROM dead_letters WHERE alert_id = $1::uuid";

constexpr char kClaimedSql[] =
    "SELECT replayed_as::text, (extract(epoch FROM replayed_at) * 1000000)::bigint "
    "FROM dead_letters WHERE alert_id = $1::uuid AND caller = $2";

DeadLetterSummary ReadSummary(const pqxx::row& row) {
  DeadLetterSummary summary{
      .alert_id = row[0].as<std::string>(),
      .caller = row[1].as<std::string>(),
      .channel = static_cast<Channel>(row[2].as<int>()),
      .attempt = row[3].as<uint32_t>(),
      .reason = row[4].as<std::string>(),
      .twilio_error_code = row[5].as<int32_t>(),
      .recipient_country_code = row[6].as<std::string>(),
      .recipient_last4 = row[7].as<std::string>(),
      .dead_lettered_at = absl::FromUnixMicros(row[8].as<int64_t>()),
  };
  if (!row[9].is_null()) summary.replayed_as = row[9].as<std::string>();
  if (!row[10].is_null()) summary.replayed_at = absl::FromUnixMicros(row[10].as<int64_t>());
  summary.cause = row[11].as<std::string>();
  if (!row[12].is_null()) summary.replayed_by = row[12].as<std::string>();
  return summary;
}

}  // namespace

absl::StatusOr<bool> PostgresDeadLetterStore::Add(const NewDeadLetter& letter) {
  const DeadLetterSummary& summary = letter.summary;
  bool added = false;
  absl::Status status = db_.Transact([&](pqxx::work& txn) {
    const pqxx::result inserted = txn.exec_params(
        kInsertSql, summary.alert_id, summary.caller, static_cast<int>(summary.channel),
        static_cast<int64_t>(summary.attempt), summary.reason, summary.twilio_error_code,
        pqxx::binarystring(letter.recipient_index), summary.recipient_country_code,
        summary.recipient_last4, pqxx::binarystring(letter.request_ciphertext),
        absl::ToUnixMicros(summary.dead_lettered_at), summary.cause);
    added = inserted.affected_rows() == 1;
    if (added) {
      txn.exec_params(kUpsertKeySql, DataKeyOwner(kDeadLettersTable, summary.alert_id),
                      static_cast<int64_t>(letter.wrapped_key.kek_version),
                      pqxx::binarystring(letter.wrapped_key.sealed));
    }
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return added;
}

absl::StatusOr<std::vector<DeadLetterSummary>> PostgresDeadLetterStore::List(
    const DeadLetterQuery& query) {
  // Unset filters are NULL parameters, so one statement serves every combination.
  std::string sql = absl::StrCat(
      "SELECT ", kSummaryColumns, " FROM dead_letters d ",
      "WHERE ($1 OR d.caller = $2) AND ($3 OR d.replayed_at IS NULL) ",
      "AND ($4::text IS NULL OR d.cause = $4) ",
      "AND ($5::integer IS NULL OR d.twilio_error_code = $5) ", "AND ($6::bigint IS NULL OR ",
      "  d.dead_lettered_at >= 'epoch'::timestamptz + $6::bigint * interval '1 microsecond') ",
      "AND ($7::bigint IS NULL OR ",
      "  d.dead_lettered_at < 'epoch'::timestamptz + $7::bigint * interval '1 microsecond') ",
      "AND ($9::bigint IS NULL OR (d.dead_lettered_at, d.alert_id) < ",
      "  ('epoch'::timestamptz + $9::bigint * interval '1 microsecond', $10::uuid)) ",
      "ORDER BY d.dead_lettered_at DESC, d.alert_id DESC LIMIT $8");
  const DeadLetterFilter& filter = query.filter;
  const std::optional<std::string> cause =
      filter.cause.empty() ? std::nullopt : std::optional(filter.cause);
  const std::optional<std::string> error_code =
      filter.twilio_error_code == 0 ? std::nullopt
                                    : std::optional(absl::StrCat(filter.twilio_error_code));
  const std::optional<std::string> from = MicrosParam(filter.from);
  const std::optional<std::string> before = MicrosParam(filter.before);
  const std::optional<std::string> after_time =
      query.after.has_value() ? MicrosParam(query.after->dead_lettered_at) : std::nullopt;
  const std::optional<std::string> after_id =
      query.after.has_value() ? std::optional(query.after->alert_id) : std::nullopt;
  std::vector<DeadLetterSummary> found;
  absl::Status status = db_.Transact([&](pqxx::work& txn) {
    const pqxx::result rows =
        txn.exec_params(sql, query.all_callers, query.caller, query.include_replayed, OrNull(cause),
                        OrNull(error_code), OrNull(from), OrNull(before), query.limit,
                        OrNull(after_time), OrNull(after_id));
    for (const pqxx::row row : rows) found.push_back(ReadSummary(row));
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return found;
}

absl::StatusOr<std::optional<StoredDeadLetter>> PostgresDeadLetterStore::Get(
    absl::string_view caller, absl::string_view alert_id) {
  const std::string sql = absl::StrCat("SELECT ", kSummaryColumns,
                                       ", d.request_ciphertext, k.kek_version, k.wrapped_key ",
                                       "FROM dead_letters d LEFT JOIN data_keys k ON k.owner = $3 ",
                                       "WHERE d.alert_id = $1::uuid AND d.caller = $2");
  std::optional<StoredDeadLetter> found;
  absl::Status status = db_.Transact([&](pqxx::work& txn) {
    const pqxx::result rows =
        txn.exec_params(sql, std::string(alert_id), std::string(caller),
                        DataKeyOwner(kDeadLettersTable, std::string(alert_id)));
    if (rows.empty()) return absl::OkStatus();
    const pqxx::row row = rows[0];
    found =
        StoredDeadLetter{.summary = ReadSummary(row),
                         .request_ciphertext = pqxx::binarystring(row[kSummaryColumnCount]).str()};
    if (!row[kSummaryColumnCount + 1].is_null()) {
      found->wrapped_key =
          crypto::WrappedKey{.kek_version = row[kSummaryColumnCount + 1].as<uint32_t>(),
                             .sealed = pqxx::binarystring(row[kSummaryColumnCount + 2]).str()};
    }
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return found;
}

absl::StatusOr<std::optional<std::string>> PostgresDeadLetterStore::FindOwner(
    absl::string_view alert_id) {
  std::optional<std::string> owner;
  absl::Status status = db_.Transact([&](pqxx::work& txn) {
    const pqxx::result rows = txn.exec_params(kOwnerSql, std::string(alert_id));
    if (!rows.empty()) owner = rows[0][0].as<std::string>();
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return owner;
}

absl::StatusOr<ReplayClaim> PostgresDeadLetterStore::ClaimReplay(absl::string_view caller,
                                                                 absl::string_view alert_id,
                                                                 absl::string_view new_alert_id,
                                                                 absl::Time now,
                                                                 absl::string_view replayed_by) {
  ReplayClaim claim;
  absl::Status status = db_.Transact([&](pqxx::work& txn) -> absl::Status {
    // A concurrent claim holds the row until it commits; this update then re-reads it, matches
    // nothing, and the select below sees the winner's id.
    pqxx::result rows = txn.exec_params(kClaimSql, std::string(alert_id), std::string(caller),
                                        std::string(new_alert_id), absl::ToUnixMicros(now),
                                        std::string(replayed_by));
    claim.claimed = !rows.empty();
    if (claim.claimed) txn.exec_params(kRecordReplaySql, std::string(alert_id));
    if (rows.empty())
      rows = txn.exec_params(kClaimedSql, std::string(alert_id), std::string(caller));
    if (rows.empty()) {
      return absl::NotFoundError(absl::StrCat("no dead letter for alert ", alert_id));
    }
    if (rows[0][0].is_null()) return absl::AbortedError("the replay claim raced; retry");
    claim.replayed_as = rows[0][0].as<std::string>();
    claim.replayed_at = absl::FromUnixMicros(rows[0][1].as<int64_t>());
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return claim;
}

absl::StatusOr<int64_t> PostgresDeadLetterStore::CountPending() {
  int64_t pending = 0;
  absl::Status status = db_.Transact([&](pqxx::work& txn) {
    pending =
        txn.exec("SELECT count(*) FROM dead_letters WHERE replayed_at IS NULL")[0][0].as<int64_t>();
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return pending;
}

}  // namespace klaxon::audit
