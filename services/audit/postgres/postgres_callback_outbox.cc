#include "services/audit/postgres/postgres_callback_outbox.h"

#include <map>
#include <set>
#include <tuple>

#include "common/pg/prepared_statement.h"
#include "nlohmann/json.hpp"
#include "services/audit/postgres/alert_locks.h"
#include "services/audit/postgres/query_params.h"

namespace klaxon::audit {
namespace {

// Row states (migration 0006).
constexpr int kPending = 0;
constexpr int kDelivered = 1;
constexpr int kDeadLettered = 2;

// Timestamps cross as integer microseconds since the epoch, as in PostgresAlertStore.
// Each alert's lowest pending row holds its due time; the alert's later rows wait at 'infinity'
// until the one before them is settled, which makes the next one due (kSettle). A claim therefore
// reads only rows it may send, and never walks the changes queued behind a retrying one.
// Since only an alert's lowest pending row is ever due and no settle reopens a finished row, an
// alert's pending rows are always its newest ones, numbered on from its newest row: the row after
// a settled head is sequence + 1, and an alert has a pending row exactly when its newest row is
// pending.
// Rows are reached by the primary key wherever a statement asks about one alert, and pending is
// tested there as `finished_at IS NULL` (null exactly while state is 0). A `state = 0` there could
// be served by the partial index caller_callbacks_due_by_caller, reading every pending row for
// each row asked about, which the planner does once an ANALYZE that found nothing pending makes
// that index look like one row (migration 0012). Only the claim's search for due rows keeps
// `state = 0`, on purpose: that index, with its conditions, is what serves it.
// Enqueue and settle both hold the alert's lock (alert_locks.h), so a change stored while its
// alert's head is being settled is either seen and made due by the settle, or finds no pending
// row and is due at once.
constexpr pg::PreparedStatement kEnqueue{
    "klaxon_audit_enqueue_callbacks",
    "INSERT INTO caller_callbacks (alert_id, sequence, caller, channel, status, attempt, "
    "  twilio_error_code, reason, occurred_at, url, next_attempt_at) "
    "SELECT c.alert_id::uuid, COALESCE(newest.sequence, 0) + c.ordinal, "
    "  c.caller, c.channel, c.status, c.attempt, c.twilio_error_code, c.reason, "
    "  'epoch'::timestamptz + c.occurred_at * interval '1 microsecond', c.url, "
    "  CASE WHEN c.ordinal = 1 AND (newest.sequence IS NULL OR newest.finished_at IS NOT NULL) "
    "  THEN now() ELSE 'infinity'::timestamptz END "
    "FROM jsonb_to_recordset($1::jsonb) AS c(alert_id text, ordinal integer, caller text, "
    "  channel smallint, status smallint, attempt integer, twilio_error_code integer, "
    "  reason text, occurred_at bigint, url text) "
    "LEFT JOIN LATERAL (SELECT p.sequence, p.finished_at FROM caller_callbacks p "
    "  WHERE p.alert_id = c.alert_id::uuid ORDER BY p.sequence DESC LIMIT 1) newest ON true"};

// Each caller's due rows come from its own part of caller_callbacks_due_by_caller (migration
// 0010), at most $1 of them: the callers with pending rows are found by skipping through that
// index, one probe each. Of those, the oldest due are chosen, `last` callers' only after everyone
// else's, so serving a caller last never reads past its backlog; only the chosen rows are locked,
// each checked again (another replica may have leased it since), and a locked one skipped.
constexpr pg::PreparedStatement kClaim{
    "klaxon_audit_claim_callbacks",
    "WITH RECURSIVE callers(caller) AS ("
    "  (SELECT caller FROM caller_callbacks WHERE state = 0 ORDER BY caller LIMIT 1) "
    "  UNION ALL "
    "  SELECT (SELECT n.caller FROM caller_callbacks n "
    "          WHERE n.state = 0 AND n.caller > callers.caller ORDER BY n.caller LIMIT 1) "
    "  FROM callers WHERE callers.caller IS NOT NULL), "
    "due AS ("
    "  SELECT h.alert_id, h.sequence, h.next_attempt_at, "
    "    h.caller IN (SELECT jsonb_array_elements_text($4::jsonb)) AS served_last "
    "  FROM callers, LATERAL ("
    "    SELECT d.alert_id, d.sequence, d.next_attempt_at, d.caller FROM caller_callbacks d "
    "    WHERE d.state = 0 AND d.caller = callers.caller "
    "      AND d.next_attempt_at <= 'epoch'::timestamptz + $2::bigint * interval '1 microsecond' "
    "    ORDER BY d.next_attempt_at LIMIT $1) h "
    "  WHERE callers.caller IS NOT NULL), "
    "chosen AS ("
    "  SELECT alert_id, sequence FROM due ORDER BY served_last, next_attempt_at LIMIT $1), "
    "locked AS (SELECT l.alert_id, l.sequence FROM caller_callbacks l "
    "  JOIN chosen ON l.alert_id = chosen.alert_id AND l.sequence = chosen.sequence "
    "  WHERE l.finished_at IS NULL "
    "    AND l.next_attempt_at <= 'epoch'::timestamptz + $2::bigint * interval '1 microsecond' "
    "  FOR UPDATE OF l SKIP LOCKED) "
    "UPDATE caller_callbacks c "
    "SET next_attempt_at = 'epoch'::timestamptz + $3::bigint * interval '1 microsecond', "
    "  attempts = c.attempts + 1 "
    "FROM locked "
    "WHERE c.alert_id = locked.alert_id AND c.sequence = locked.sequence "
    "RETURNING c.alert_id::text, c.sequence, c.caller, c.channel, c.status, c.attempt, "
    "  c.twilio_error_code, c.reason, (extract(epoch FROM c.occurred_at) * 1000000)::bigint, "
    "  c.attempts, (extract(epoch FROM c.stored_at) * 1000000)::bigint, c.url"};

// Only the claim that holds the row settles it (attempts unchanged since); a row that is done
// (delivered or dead-lettered) makes its alert's next pending change due from when it was stored,
// so it is due at once whatever the dispatcher's clock says and queues by its age. Returns the
// settlements applied, by the claim they answered; the others had lost their lease.
constexpr pg::PreparedStatement kSettle{
    "klaxon_audit_settle_callbacks",
    "WITH settled AS ("
    "  UPDATE caller_callbacks c "
    "  SET state = s.state, last_error = s.error, "
    "    next_attempt_at = CASE WHEN s.state = 0 "
    "      THEN 'epoch'::timestamptz + s.next_attempt_at * interval '1 microsecond' "
    "      ELSE c.next_attempt_at END, "
    "    finished_at = CASE WHEN s.state = 0 THEN NULL ELSE now() END "
    "  FROM jsonb_to_recordset($1::jsonb) AS s(alert_id text, sequence integer, "
    "    attempts integer, state smallint, next_attempt_at bigint, error text) "
    "  WHERE c.alert_id = s.alert_id::uuid AND c.sequence = s.sequence "
    "    AND c.attempts = s.attempts AND c.finished_at IS NULL "
    "  RETURNING c.alert_id, c.sequence, c.attempts, c.state), "
    "next_due AS ("
    "  UPDATE caller_callbacks n SET next_attempt_at = n.stored_at "
    "  FROM settled "
    "  WHERE settled.state <> 0 AND n.alert_id = settled.alert_id "
    "    AND n.sequence = settled.sequence + 1 "
    "    AND n.finished_at IS NULL AND n.next_attempt_at = 'infinity') "
    "SELECT alert_id::text, sequence, attempts FROM settled"};

constexpr pg::PreparedStatement kPendingSummary{
    "klaxon_audit_pending_callbacks",
    "SELECT count(*), (extract(epoch FROM min(stored_at)) * 1000000)::bigint "
    "FROM caller_callbacks WHERE state = 0"};

int StateOf(CallbackFate fate) {
  switch (fate) {
    case CallbackFate::kDelivered:
      return kDelivered;
    case CallbackFate::kRetry:
      return kPending;
    case CallbackFate::kDeadLettered:
      return kDeadLettered;
  }
  return kPending;  // unreachable: every fate is handled above
}

}  // namespace

void EnqueueStatusChanges(pqxx::work& txn, const std::vector<StatusChange>& changes,
                          const std::set<std::string, std::less<>>& callers) {
  nlohmann::json rows = nlohmann::json::array();
  std::map<std::string, int> ordinals;
  for (const StatusChange& change : changes) {
    // An alert with a URL of its own is queued even when its caller has no secret, so the
    // dispatcher dead-letters it with the reason rather than nobody noticing.
    if (!callers.contains(change.caller) && change.callback_url.empty()) continue;
    rows.push_back({{"alert_id", change.alert_id},
                    {"ordinal", ++ordinals[change.alert_id]},
                    {"caller", change.caller},
                    {"channel", static_cast<int>(change.channel)},
                    {"status", static_cast<int>(change.status)},
                    {"attempt", change.attempt},
                    {"twilio_error_code", change.twilio_error_code},
                    {"reason", change.reason},
                    {"occurred_at", absl::ToUnixMicros(change.occurred_at)},
                    {"url", change.callback_url}});
  }
  if (!rows.empty()) kEnqueue.Exec(txn, JsonParam(rows));
}

absl::StatusOr<std::vector<PendingCallback>> PostgresCallbackOutbox::Claim(
    size_t limit, absl::Time now, absl::Time lease_until,
    const std::vector<std::string>& last_callers) {
  std::vector<PendingCallback> claimed;
  absl::Status status = db_.Autocommit([&](pqxx::nontransaction& txn) {
    claimed.clear();
    for (const pqxx::row row :
         kClaim.Exec(txn, static_cast<int64_t>(limit), absl::ToUnixMicros(now),
                     absl::ToUnixMicros(lease_until), JsonParam(last_callers))) {
      claimed.push_back({.change = {.alert_id = row[0].as<std::string>(),
                                    .caller = row[2].as<std::string>(),
                                    .channel = static_cast<Channel>(row[3].as<int>()),
                                    .status = static_cast<AlertStatus>(row[4].as<int>()),
                                    .attempt = row[5].as<uint32_t>(),
                                    .twilio_error_code = row[6].as<int32_t>(),
                                    .reason = row[7].as<std::string>(),
                                    .occurred_at = absl::FromUnixMicros(row[8].as<int64_t>()),
                                    .callback_url = row[11].as<std::string>()},
                         .sequence = row[1].as<uint32_t>(),
                         .attempts = row[9].as<uint32_t>(),
                         .stored_at = absl::FromUnixMicros(row[10].as<int64_t>())});
    }
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return claimed;
}

absl::StatusOr<std::vector<SettlementOutcome>> PostgresCallbackOutbox::Settle(
    const std::vector<CallbackSettlement>& settlements) {
  std::vector<SettlementOutcome> outcomes;
  if (settlements.empty()) return outcomes;
  std::vector<std::string> alert_ids;
  for (const CallbackSettlement& settlement : settlements) {
    alert_ids.push_back(settlement.alert_id);
  }
  absl::Status status = db_.Transact([&](pqxx::work& txn) {
    // Each settlement sent is lost unless the statement says it was applied.
    outcomes.assign(settlements.size(), SettlementOutcome::kLeaseLost);
    const std::set<std::string, std::less<>> locked_elsewhere = TryLockAlerts(txn, alert_ids);
    nlohmann::json rows = nlohmann::json::array();
    for (size_t i = 0; i < settlements.size(); ++i) {
      const CallbackSettlement& settlement = settlements[i];
      if (locked_elsewhere.contains(settlement.alert_id)) {
        outcomes[i] = SettlementOutcome::kBusy;
        continue;
      }
      rows.push_back({{"alert_id", settlement.alert_id},
                      {"sequence", settlement.sequence},
                      {"attempts", settlement.attempts},
                      {"state", StateOf(settlement.fate)},
                      {"next_attempt_at", absl::ToUnixMicros(settlement.next_attempt_at)},
                      {"error", settlement.error}});
    }
    if (rows.empty()) return absl::OkStatus();
    std::set<std::tuple<std::string, uint32_t, uint32_t>> applied;
    for (const pqxx::row row : kSettle.Exec(txn, JsonParam(rows))) {
      applied.emplace(row[0].as<std::string>(), row[1].as<uint32_t>(), row[2].as<uint32_t>());
    }
    for (size_t i = 0; i < settlements.size(); ++i) {
      const CallbackSettlement& settlement = settlements[i];
      if (applied.contains({settlement.alert_id, settlement.sequence, settlement.attempts})) {
        outcomes[i] = SettlementOutcome::kRecorded;
      }
    }
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return outcomes;
}

absl::StatusOr<PendingCallbacks> PostgresCallbackOutbox::Pending() {
  PendingCallbacks pending;
  absl::Status status = db_.Autocommit([&](pqxx::nontransaction& txn) {
    const pqxx::row row = kPendingSummary.Exec(txn)[0];
    pending.count = row[0].as<int64_t>();
    if (!row[1].is_null()) pending.oldest_stored_at = absl::FromUnixMicros(row[1].as<int64_t>());
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return pending;
}

}  // namespace klaxon::audit
