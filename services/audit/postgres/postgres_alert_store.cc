#include "services/audit/postgres/postgres_alert_store.h"

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/pg/prepared_statement.h"
#include "nlohmann/json.hpp"
#include "services/audit/ingest/ingest_plan.h"
#include "services/audit/postgres/alert_locks.h"
#include "services/audit/postgres/alert_rows.h"
#include "services/audit/postgres/postgres_callback_outbox.h"
#include "services/audit/postgres/query_params.h"

namespace klaxon::audit {
namespace {

// Rows cross the wire as one JSON array per statement (jsonb_to_recordset); timestamps as
// integer microseconds since the epoch, which Postgres converts exactly in both directions, and
// bytea as hex.

// Each alert with its data key and its attempts (a JSON array of rows ordered by number, or null
// when none), in one statement; the reads below add their WHERE clause.
const std::string kSelectAlerts = absl::StrCat(
    "SELECT ", kAlertColumns,
    ", a.retry_count, encode(a.recipient_index, 'hex'), "
    "  encode(a.recipient_ciphertext, 'hex'), encode(a.text_ciphertext, 'hex'), "
    "  k.kek_version, encode(k.wrapped_key, 'hex'), "
    "  (SELECT json_agg(json_build_array(t.attempt, t.channel, t.status, t.twilio_sid, "
    "     t.twilio_error_code, t.reason, (extract(epoch FROM t.occurred_at) * 1000000)::bigint, "
    "     t.charge_micros, t.charge_currency, t.charge_segments, t.charge_duration_seconds, "
    "     t.charge_account) "
    "     ORDER BY t.attempt) "
    "   FROM attempts t WHERE t.alert_id = a.alert_id) "
    "FROM alerts a LEFT JOIN data_keys k ON k.owner = 'alerts/' || a.alert_id ");

// The batch's alerts, by a JSON array of ids.
const pg::PreparedStatement& SelectAlerts() {
  static const std::string* const sql = new std::string(absl::StrCat(
      kSelectAlerts,
      "WHERE a.alert_id IN (SELECT id::uuid FROM jsonb_array_elements_text($1::jsonb) AS id)"));
  static const pg::PreparedStatement statement("klaxon_audit_select_alerts", *sql);
  return statement;
}

// One alert of one caller: GetAlert, audit's hottest read. The id is compared directly, not
// through a JSON array: the planner cannot tell how many ids an array holds and, on a table of a
// few thousand alerts, read all of them instead of one index entry.
const pg::PreparedStatement& SelectCallersAlert() {
  static const std::string* const sql =
      new std::string(absl::StrCat(kSelectAlerts, "WHERE a.alert_id = $1::uuid AND a.caller = $2"));
  static const pg::PreparedStatement statement("klaxon_audit_get_alert", *sql);
  return statement;
}

// The pages of one caller's escalation chain, in the order they are paged. escalation_id <> ''
// lets the generic plan use the partial index alerts_escalation (an empty id lists nothing rather
// than every alert of no chain).
const pg::PreparedStatement& SelectEscalationPages() {
  static const std::string* const sql = new std::string(
      absl::StrCat(kSelectAlerts,
                   "WHERE a.escalation_id = $1 AND a.escalation_id <> '' AND a.caller = $2 "
                   "ORDER BY a.escalation_step, a.created_at, a.alert_id"));
  static const pg::PreparedStatement statement("klaxon_audit_escalation_pages", *sql);
  return statement;
}

// The time bounds let Postgres probe only the monthly partitions they overlap, not every one.
constexpr pg::PreparedStatement kSelectStoredEvents{
    "klaxon_audit_select_stored_events",
    "SELECT event_key FROM audit_events "
    "WHERE occurred_at BETWEEN 'epoch'::timestamptz + $2::bigint * interval '1 microsecond' "
    "  AND 'epoch'::timestamptz + $3::bigint * interval '1 microsecond' "
    "  AND event_key IN (SELECT jsonb_array_elements_text($1::jsonb))"};

// How far apart two copies of one event may be stamped and still be recognised as one. A
// republished event carries its first copy's occurred_at; the margin covers a Twilio callback
// that two ingress replicas received (and stamped) apart.
constexpr absl::Duration kDuplicateStampMargin = absl::Hours(24);

constexpr pg::PreparedStatement kInsertEvents{
    "klaxon_audit_insert_events",
    "INSERT INTO audit_events (occurred_at, event_key, alert_id, kind, caller, channel, attempt, "
    "  retry_count, status, twilio_sid, twilio_error_code, reason, recipient_index, "
    "  recipient_country_code, recipient_last4, data_key_owner, personal_ciphertext) "
    "SELECT 'epoch'::timestamptz + e.occurred_at * interval '1 microsecond', e.event_key, "
    "e.alert_id::uuid, e.kind, e.caller, "
    "  e.channel, e.attempt, e.retry_count, e.status, e.twilio_sid, e.twilio_error_code, e.reason, "
    "  decode(e.recipient_index, 'hex'), e.recipient_country_code, e.recipient_last4, "
    "  e.data_key_owner, decode(e.personal_ciphertext, 'hex') "
    "FROM jsonb_to_recordset($1::jsonb) AS e(occurred_at bigint, event_key text, alert_id text, "
    "  kind text, caller text, channel smallint, attempt integer, retry_count integer, "
    "  status smallint, twilio_sid text, twilio_error_code integer, reason text, "
    "  recipient_index text, recipient_country_code text, recipient_last4 text, "
    "  data_key_owner text, personal_ciphertext text) "
    "ON CONFLICT DO NOTHING"};

constexpr pg::PreparedStatement kInsertDataKeys{
    "klaxon_audit_insert_data_keys",
    "INSERT INTO data_keys (owner, kek_version, wrapped_key, created_at) "
    "SELECT k.owner, k.kek_version, decode(k.wrapped_key, 'hex'), now() "
    "FROM jsonb_to_recordset($1::jsonb) AS k(owner text, kek_version integer, wrapped_key text) "
    "ON CONFLICT (owner) DO NOTHING"};

// The sealed columns are written once: a stored ciphertext is never replaced (PlanIngest already
// keeps the first; COALESCE keeps it against any other writer too).
constexpr pg::PreparedStatement kUpsertAlerts{
    "klaxon_audit_upsert_alerts",
    "INSERT INTO alerts (alert_id, caller, channel, status, status_rank, requested, "
    "  recipient_country_code, recipient_last4, twilio_sid, twilio_error_code, reason, "
    "  created_at, updated_at, status_at, retry_count, recipient_index, recipient_ciphertext, "
    "  text_ciphertext, callback_url, escalation_id, escalation_step, acknowledged_by, "
    "  acknowledged_step, acknowledged_at, template_name, template_locale, template_version) "
    "SELECT a.alert_id::uuid, a.caller, a.channel, a.status, a.status_rank, a.requested, "
    "  a.recipient_country_code, a.recipient_last4, a.twilio_sid, a.twilio_error_code, a.reason, "
    "  'epoch'::timestamptz + a.created_at * interval '1 microsecond', "
    "  'epoch'::timestamptz + a.updated_at * interval '1 microsecond', "
    "  'epoch'::timestamptz + a.status_at * interval '1 microsecond', "
    "  a.retry_count, decode(a.recipient_index, 'hex'), "
    "  decode(a.recipient_ciphertext, 'hex'), decode(a.text_ciphertext, 'hex'), a.callback_url, "
    "  a.escalation_id, a.escalation_step, a.acknowledged_by, a.acknowledged_step, "
    "  'epoch'::timestamptz + a.acknowledged_at * interval '1 microsecond', a.template_name, "
    "  a.template_locale, a.template_version "
    "FROM jsonb_to_recordset($1::jsonb) AS a(alert_id text, caller text, "
    "  channel smallint, status smallint, status_rank smallint, requested boolean, "
    "  recipient_country_code text, recipient_last4 text, twilio_sid text, "
    "  twilio_error_code integer, reason text, created_at bigint, updated_at bigint, "
    "  status_at bigint, retry_count integer, recipient_index text, "
    "  recipient_ciphertext text, text_ciphertext text, callback_url text, escalation_id text, "
    "  escalation_step integer, acknowledged_by text, acknowledged_step integer, "
    "  acknowledged_at bigint, template_name text, template_locale text, "
    "  template_version integer) "
    "ON CONFLICT (alert_id) DO UPDATE SET "
    "  caller = EXCLUDED.caller, channel = EXCLUDED.channel, status = EXCLUDED.status, "
    "  status_rank = EXCLUDED.status_rank, requested = EXCLUDED.requested, "
    "  recipient_country_code = EXCLUDED.recipient_country_code, "
    "  recipient_last4 = EXCLUDED.recipient_last4, twilio_sid = EXCLUDED.twilio_sid, "
    "  twilio_error_code = EXCLUDED.twilio_error_code, reason = EXCLUDED.reason, "
    "  created_at = EXCLUDED.created_at, updated_at = EXCLUDED.updated_at, "
    "  status_at = EXCLUDED.status_at, retry_count = EXCLUDED.retry_count, "
    "  recipient_index = COALESCE(alerts.recipient_index, EXCLUDED.recipient_index), "
    "  recipient_ciphertext = "
    "    COALESCE(alerts.recipient_ciphertext, EXCLUDED.recipient_ciphertext), "
    "  text_ciphertext = COALESCE(alerts.text_ciphertext, EXCLUDED.text_ciphertext), "
    "  callback_url = EXCLUDED.callback_url, escalation_id = EXCLUDED.escalation_id, "
    "  escalation_step = EXCLUDED.escalation_step, acknowledged_by = EXCLUDED.acknowledged_by, "
    "  acknowledged_step = EXCLUDED.acknowledged_step, acknowledged_at = EXCLUDED.acknowledged_at, "
    "  template_name = EXCLUDED.template_name, template_locale = EXCLUDED.template_locale, "
    "  template_version = EXCLUDED.template_version "
    "WHERE alerts.status_rank <= EXCLUDED.status_rank"};

constexpr pg::PreparedStatement kUpsertAttempts{
    "klaxon_audit_upsert_attempts",
    "INSERT INTO attempts (alert_id, attempt, status, status_rank, twilio_sid, "
    "  twilio_error_code, reason, occurred_at, channel, charge_micros, charge_currency, "
    "  charge_segments, charge_duration_seconds, charge_account) "
    "SELECT t.alert_id::uuid, t.attempt, t.status, t.status_rank, t.twilio_sid, "
    "  t.twilio_error_code, t.reason, 'epoch'::timestamptz + t.occurred_at * interval '1 "
    "microsecond', t.channel, t.charge_micros, t.charge_currency, t.charge_segments, "
    "  t.charge_duration_seconds, t.charge_account "
    "FROM jsonb_to_recordset($1::jsonb) AS t(alert_id text, attempt integer, status smallint, "
    "  status_rank smallint, twilio_sid text, twilio_error_code integer, reason text, "
    "  occurred_at bigint, channel smallint, charge_micros bigint, charge_currency text, "
    "  charge_segments integer, charge_duration_seconds integer, charge_account text) "
    "ON CONFLICT (alert_id, attempt) DO UPDATE SET "
    "  status = EXCLUDED.status, status_rank = EXCLUDED.status_rank, channel = EXCLUDED.channel, "
    "  twilio_sid = EXCLUDED.twilio_sid, twilio_error_code = EXCLUDED.twilio_error_code, "
    "  reason = EXCLUDED.reason, occurred_at = EXCLUDED.occurred_at, "
    "  charge_micros = COALESCE(attempts.charge_micros, EXCLUDED.charge_micros), "
    "  charge_currency = COALESCE(attempts.charge_currency, EXCLUDED.charge_currency), "
    "  charge_segments = COALESCE(attempts.charge_segments, EXCLUDED.charge_segments), "
    "  charge_duration_seconds = "
    "    COALESCE(attempts.charge_duration_seconds, EXCLUDED.charge_duration_seconds), "
    "  charge_account = COALESCE(attempts.charge_account, EXCLUDED.charge_account) "
    "WHERE attempts.status_rank <= EXCLUDED.status_rank"};

constexpr pg::PreparedStatement kAdvanceProgress{
    "klaxon_audit_advance_progress",
    "INSERT INTO consumer_progress (topic, partition, next_offset) "
    "SELECT p.topic, p.partition, p.next_offset "
    "FROM jsonb_to_recordset($1::jsonb) AS p(topic text, partition integer, next_offset bigint) "
    "ON CONFLICT (topic, partition) DO UPDATE SET "
    "  next_offset = GREATEST(consumer_progress.next_offset, EXCLUDED.next_offset), "
    "  updated_at = now()"};

constexpr pg::PreparedStatement kNotifyAdvanced{
    "klaxon_audit_notify_advanced",
    "SELECT pg_notify('klaxon_alert_status', id) FROM jsonb_array_elements_text($1::jsonb) AS id"};

// The row comparison is Supersedes(): later changed_at, then opted_out (true wins), then keyword
// (bytewise, as std::string compares). An equal row is a duplicate and writes nothing.
constexpr pg::PreparedStatement kUpsertConsent{
    "klaxon_audit_upsert_consent",
    "INSERT INTO opt_outs (recipient_token, country_code, last4, opted_out, keyword, changed_at) "
    "VALUES ($1, $2, $3, $4, $5, 'epoch'::timestamptz + $6::bigint * interval '1 microsecond') "
    "ON CONFLICT (recipient_token) DO UPDATE SET "
    "  country_code = EXCLUDED.country_code, last4 = EXCLUDED.last4, "
    "  opted_out = EXCLUDED.opted_out, keyword = EXCLUDED.keyword, "
    "  changed_at = EXCLUDED.changed_at "
    "WHERE (opt_outs.changed_at, opt_outs.opted_out, opt_outs.keyword COLLATE \"C\") < "
    "  (EXCLUDED.changed_at, EXCLUDED.opted_out, EXCLUDED.keyword COLLATE \"C\")"};

// bytea as hex, null when empty.
nlohmann::json Hex(const std::string& bytes) {
  if (bytes.empty()) return nullptr;
  return absl::BytesToHexString(bytes);
}

std::string Bytes(const pqxx::field& field) {
  return field.is_null() ? std::string() : absl::HexStringToBytes(field.as<std::string>());
}

// An alert as SelectAlerts() and SelectCallersAlert() return it.
AlertRecord StoredAlertFromRow(const pqxx::row& row) {
  AlertRecord record = AlertFromRow(row);
  constexpr int kFirst = kAlertColumnCount;
  record.retry_count = row[kFirst].as<uint32_t>();
  record.recipient_index = Bytes(row[kFirst + 1]);
  record.recipient_ciphertext = Bytes(row[kFirst + 2]);
  record.text_ciphertext = Bytes(row[kFirst + 3]);
  if (!row[kFirst + 4].is_null()) {
    record.data_key = crypto::WrappedKey{.kek_version = row[kFirst + 4].as<uint32_t>(),
                                         .sealed = Bytes(row[kFirst + 5])};
  }
  if (!row[kFirst + 6].is_null()) {
    for (const nlohmann::json& attempt : nlohmann::json::parse(row[kFirst + 6].as<std::string>())) {
      AttemptRecord& stored = record.attempts.emplace_back();
      stored.number = attempt[0].get<uint32_t>();
      stored.channel = static_cast<Channel>(attempt[1].get<int>());
      stored.status = static_cast<AlertStatus>(attempt[2].get<int>());
      stored.twilio_sid = attempt[3].get<std::string>();
      stored.twilio_error_code = attempt[4].get<int32_t>();
      stored.reason = attempt[5].get<std::string>();
      stored.occurred_at = absl::FromUnixMicros(attempt[6].get<int64_t>());
      if (!attempt[7].is_null()) {
        stored.charge = ChargeRecord{.micros = attempt[7].get<int64_t>(),
                                     .currency = attempt[8].get<std::string>(),
                                     .segments = attempt[9].get<uint32_t>(),
                                     .duration_seconds = attempt[10].get<uint32_t>(),
                                     .twilio_account = attempt[11].get<std::string>()};
      }
    }
  }
  return record;
}

// The alerts `statement` (kSelectAlerts with its WHERE clause) selects with `params`, in its
// order. One statement, so one round trip: no transaction around it.
template <typename... Params>
absl::StatusOr<std::vector<AlertRecord>> ReadAlerts(pg::Database& db,
                                                    const pg::PreparedStatement& statement,
                                                    const Params&... params) {
  std::vector<AlertRecord> alerts;
  absl::Status status = db.Autocommit([&](pqxx::nontransaction& txn) {
    for (const pqxx::row row : statement.Exec(txn, params...)) {
      alerts.push_back(StoredAlertFromRow(row));
    }
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return alerts;
}

// The stored records of `ids` with their attempts and data keys, read in one statement.
std::map<std::string, AlertRecord> LoadAlerts(pqxx::transaction_base& txn,
                                              const std::vector<std::string>& ids) {
  std::map<std::string, AlertRecord> records;
  if (ids.empty()) return records;
  for (const pqxx::row row : SelectAlerts().Exec(txn, JsonParam(ids))) {
    AlertRecord record = StoredAlertFromRow(row);
    records.emplace(record.alert_id, std::move(record));
  }
  return records;
}

const AttemptRecord* FindAttempt(const std::optional<AlertRecord>& record, uint32_t number) {
  if (!record.has_value()) return nullptr;
  for (const AttemptRecord& attempt : record->attempts) {
    if (attempt.number == number) return &attempt;
  }
  return nullptr;
}

nlohmann::json AlertRow(const AlertRecord& record) {
  return {{"alert_id", record.alert_id},
          {"caller", record.caller},
          {"channel", static_cast<int>(record.channel)},
          {"status", static_cast<int>(record.status)},
          {"status_rank", Rank(record.status)},
          {"requested", record.requested},
          {"recipient_country_code", record.recipient_country_code},
          {"recipient_last4", record.recipient_last4},
          {"twilio_sid", record.twilio_sid},
          {"twilio_error_code", record.twilio_error_code},
          {"reason", record.reason},
          {"created_at", absl::ToUnixMicros(record.created_at)},
          {"updated_at", absl::ToUnixMicros(record.updated_at)},
          {"status_at", absl::ToUnixMicros(record.status_at)},
          {"retry_count", record.retry_count},
          {"callback_url", record.callback_url},
          {"escalation_id", record.escalation_id},
          {"escalation_step", record.escalation_step},
          {"acknowledged_by", record.acknowledged_by},
          {"acknowledged_step", record.acknowledged_step},
          {"acknowledged_at", record.acknowledged_at.has_value()
                                  ? nlohmann::json(absl::ToUnixMicros(*record.acknowledged_at))
                                  : nlohmann::json(nullptr)},
          {"template_name", record.template_name},
          {"template_locale", record.template_locale},
          {"template_version", record.template_version},
          {"recipient_index", Hex(record.recipient_index)},
          {"recipient_ciphertext", Hex(record.recipient_ciphertext)},
          {"text_ciphertext", Hex(record.text_ciphertext)}};
}

nlohmann::json AttemptRow(const std::string& alert_id, const AttemptRecord& attempt) {
  nlohmann::json row = {{"alert_id", alert_id},
                        {"attempt", attempt.number},
                        {"status", static_cast<int>(attempt.status)},
                        {"status_rank", Rank(attempt.status)},
                        {"twilio_sid", attempt.twilio_sid},
                        {"twilio_error_code", attempt.twilio_error_code},
                        {"reason", attempt.reason},
                        {"occurred_at", absl::ToUnixMicros(attempt.occurred_at)},
                        {"channel", static_cast<int>(attempt.channel)}};
  if (attempt.charge.has_value()) {
    row["charge_micros"] = attempt.charge->micros;
    row["charge_currency"] = attempt.charge->currency;
    row["charge_segments"] = attempt.charge->segments;
    row["charge_duration_seconds"] = attempt.charge->duration_seconds;
    row["charge_account"] = attempt.charge->twilio_account;
  }
  return row;
}

nlohmann::json EventRow(const EventLogEntry& entry) {
  nlohmann::json row = {{"occurred_at", absl::ToUnixMicros(entry.occurred_at)},
                        {"event_key", entry.event_key},
                        {"alert_id", entry.alert_id.empty() ? nlohmann::json(nullptr)
                                                            : nlohmann::json(entry.alert_id)},
                        {"kind", entry.kind},
                        {"caller", entry.caller},
                        {"channel", static_cast<int>(entry.channel)},
                        {"attempt", entry.attempt},
                        {"retry_count", entry.retry_count},
                        {"status", static_cast<int>(entry.status)},
                        {"twilio_sid", entry.twilio_sid},
                        {"twilio_error_code", entry.twilio_error_code},
                        {"reason", entry.reason},
                        {"recipient_index", Hex(entry.recipient_index)},
                        {"recipient_country_code", entry.recipient_country_code},
                        {"recipient_last4", entry.recipient_last4},
                        {"data_key_owner", nullptr},
                        {"personal_ciphertext", nullptr}};
  if (entry.personal.has_value()) {
    row["data_key_owner"] = entry.personal->owner;
    auto sealed = entry.personal->ciphertext.find(kEventPersonalColumn);
    if (sealed != entry.personal->ciphertext.end()) {
      row["personal_ciphertext"] = Hex(sealed->second);
    }
  }
  return row;
}

// The earliest and latest occurred_at of the batch's log entries (of which there is one at least).
std::pair<absl::Time, absl::Time> OccurredRange(const std::vector<IngestItem>& batch) {
  absl::Time earliest = absl::InfiniteFuture();
  absl::Time latest = absl::InfinitePast();
  for (const IngestItem& item : batch) {
    earliest = std::min(earliest, item.entry.occurred_at);
    latest = std::max(latest, item.entry.occurred_at);
  }
  return {earliest, latest};
}

// Writes the alerts and attempts `plan` changed from `current`.
absl::Status WriteAlerts(pqxx::work& txn, const IngestPlan& plan,
                         const std::map<std::string, AlertRecord>& current) {
  nlohmann::json alerts = nlohmann::json::array();
  nlohmann::json attempts = nlohmann::json::array();
  for (const auto& [id, next] : plan.alerts) {
    auto found = current.find(id);
    const std::optional<AlertRecord> before =
        found == current.end() ? std::nullopt : std::optional(found->second);
    if (before.has_value() && *before == next) continue;
    alerts.push_back(AlertRow(next));
    for (const AttemptRecord& attempt : next.attempts) {
      const AttemptRecord* was = FindAttempt(before, attempt.number);
      if (was == nullptr || !(*was == attempt)) attempts.push_back(AttemptRow(id, attempt));
    }
  }
  if (!alerts.empty()) {
    const pqxx::result written = kUpsertAlerts.Exec(txn, JsonParam(alerts));
    if (written.affected_rows() != alerts.size()) {
      // Only a writer that bypassed the advisory locks can get here; redoing the transaction
      // re-reads what it wrote.
      return absl::AbortedError("an alert changed under the projection lock; retry");
    }
  }
  if (!attempts.empty()) kUpsertAttempts.Exec(txn, JsonParam(attempts));
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::vector<IngestResult>> PostgresAlertStore::Write(
    const std::vector<IngestItem>& batch) {
  IngestPlan plan;
  absl::Status status = db_.Transact([&](pqxx::work& txn) -> absl::Status {
    const std::vector<std::string> ids = AlertIdsOf(batch);
    LockAlerts(txn, ids);
    const std::map<std::string, AlertRecord> stored = LoadAlerts(txn, ids);
    std::map<std::string, std::optional<AlertRecord>> current;
    for (const std::string& id : ids) {
      auto found = stored.find(id);
      current[id] = found == stored.end() ? std::nullopt : std::optional(found->second);
    }
    std::set<std::string> stored_events;
    if (const std::vector<std::string> keys = EventKeysOf(batch); !keys.empty()) {
      const auto [earliest, latest] = OccurredRange(batch);
      for (const pqxx::row row : kSelectStoredEvents.Exec(
               txn, JsonParam(keys), absl::ToUnixMicros(earliest - kDuplicateStampMargin),
               absl::ToUnixMicros(latest + kDuplicateStampMargin))) {
        stored_events.insert(row[0].as<std::string>());
      }
    }
    plan = PlanIngest(batch, current, stored_events);

    if (!plan.events.empty()) {
      nlohmann::json rows = nlohmann::json::array();
      for (const EventLogEntry& entry : plan.events) rows.push_back(EventRow(entry));
      kInsertEvents.Exec(txn, JsonParam(rows));
    }
    if (!plan.data_keys.empty()) {
      nlohmann::json rows = nlohmann::json::array();
      for (const auto& [owner, wrapped] : plan.data_keys) {
        rows.push_back({{"owner", owner},
                        {"kek_version", wrapped.kek_version},
                        {"wrapped_key", absl::BytesToHexString(wrapped.sealed)}});
      }
      kInsertDataKeys.Exec(txn, JsonParam(rows));
    }
    if (absl::Status written = WriteAlerts(txn, plan, stored); !written.ok()) return written;
    for (const auto& [index, change] : plan.consents) {
      const pqxx::result written = kUpsertConsent.Exec(
          txn, change.recipient_token, change.country_code, change.last4, change.opted_out,
          change.keyword, absl::ToUnixMicros(change.changed_at));
      plan.results[index].consent_changed = written.affected_rows() == 1;
    }
    EnqueueStatusChanges(txn, plan.status_changes, callback_callers_);
    if (!plan.advanced_alerts.empty()) kNotifyAdvanced.Exec(txn, JsonParam(plan.advanced_alerts));
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return std::move(plan.results);
}

absl::StatusOr<std::optional<AlertRecord>> PostgresAlertStore::GetAlert(std::string_view caller,
                                                                        std::string_view alert_id) {
  // Someone else's alert is reported exactly like a missing one.
  absl::StatusOr<std::vector<AlertRecord>> found =
      ReadAlerts(db_, SelectCallersAlert(), std::string(alert_id), std::string(caller));
  if (!found.ok()) return found.status();
  if (found->empty()) return std::nullopt;
  return std::move(found->front());
}

absl::StatusOr<std::vector<AlertRecord>> PostgresAlertStore::EscalationPages(
    std::string_view caller, std::string_view escalation_id) {
  return ReadAlerts(db_, SelectEscalationPages(), std::string(escalation_id), std::string(caller));
}

absl::Status PostgresAlertStore::AdvanceProgress(const std::vector<ConsumedOffset>& progress) {
  if (progress.empty()) return absl::OkStatus();
  nlohmann::json rows = nlohmann::json::array();
  for (const ConsumedOffset& offset : progress) {
    rows.push_back({{"topic", offset.topic},
                    {"partition", offset.partition},
                    {"next_offset", offset.next_offset}});
  }
  return db_.Transact([&](pqxx::work& txn) {
    kAdvanceProgress.Exec(txn, JsonParam(rows));
    return absl::OkStatus();
  });
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

absl::Status PostgresAlertStore::EnsureEventPartitions(absl::Time now, int months_ahead) {
  const std::string month = absl::FormatTime("%Y-%m-01", now, absl::UTCTimeZone());
  return db_.Transact([&](pqxx::work& txn) {
    txn.exec_params(
        "SELECT audit_events_ensure_partition(($1::date + make_interval(months => m))::date) "
        "FROM generate_series(0, $2) AS m",
        month, months_ahead);
    return absl::OkStatus();
  });
}

}  // namespace klaxon::audit
