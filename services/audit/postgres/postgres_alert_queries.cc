#include "services/audit/postgres/postgres_alert_queries.h"

#include <algorithm>
#include <string>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "services/audit/postgres/alert_rows.h"
#include "services/audit/postgres/query_params.h"

namespace klaxon::audit {
namespace {

// Every filter is a parameter that may be NULL; see the header for why that still uses indexes.
const std::string kListAlertsSql = absl::StrCat(
    "SELECT ", kAlertColumns,
    " FROM alerts a WHERE caller = $1 "
    "AND ($2::smallint IS NULL OR status = $2::smallint) "
    "AND ($3::smallint IS NULL OR channel = $3::smallint) "
    "AND ($4::text IS NULL OR recipient_index = decode($4::text, 'hex')) "
    "AND ($5::bigint IS NULL OR "
    "  created_at >= 'epoch'::timestamptz + $5::bigint * interval '1 microsecond') "
    "AND ($6::bigint IS NULL OR "
    "  created_at < 'epoch'::timestamptz + $6::bigint * interval '1 microsecond') "
    "AND ($7::bigint IS NULL OR (created_at, alert_id) < "
    "  ('epoch'::timestamptz + $7::bigint * interval '1 microsecond', $8::uuid)) "
    // Qualified: unqualified names would be the text output columns, which no index orders.
    "ORDER BY a.created_at DESC, a.alert_id DESC LIMIT $9");

constexpr char kAlertExistsSql[] = "SELECT 1 FROM alerts WHERE alert_id = $1::uuid AND caller = $2";

constexpr char kAuditTrailSql[] =
    "SELECT (extract(epoch FROM occurred_at) * 1000000)::bigint, "
    "  (extract(epoch FROM recorded_at) * 1000000)::bigint, kind, channel, attempt, "
    "  retry_count, status, twilio_sid, twilio_error_code, reason "
    "FROM audit_events WHERE alert_id = $1::uuid ORDER BY occurred_at, recorded_at, event_key";

// One pass over the period's alerts (alerts_caller_created), grouped four ways. Status classes as
// DeliveryReportRow defines them: DELIVERED 3, ACKNOWLEDGED 9; UNDELIVERED 4, FAILED 5;
// SUPPRESSED 7, CANCELLED 8; the rest pending. GROUPING(x) is 0 in the set grouped by x.
constexpr char kCountDeliveriesSql[] =
    "SELECT GROUPING(channel), GROUPING(recipient_country_code), GROUPING(twilio_error_code), "
    "  channel, recipient_country_code, twilio_error_code, count(*), "
    "  count(*) FILTER (WHERE status IN (3, 9)), count(*) FILTER (WHERE status IN (4, 5)), "
    "  count(*) FILTER (WHERE status IN (7, 8)) "
    "FROM alerts WHERE caller = $1 "
    "  AND created_at >= 'epoch'::timestamptz + $2::bigint * interval '1 microsecond' "
    "  AND created_at < 'epoch'::timestamptz + $3::bigint * interval '1 microsecond' "
    "GROUP BY GROUPING SETS ((), (channel), (recipient_country_code), (twilio_error_code))";

// What Twilio charged for the attempts of the same alerts as kCountDeliveriesSql counts.
constexpr char kSumChargesSql[] =
    "SELECT t.channel, coalesce(t.charge_account, ''), t.charge_currency, sum(t.charge_micros), "
    "  count(*), sum(coalesce(t.charge_segments, 0)), sum(coalesce(t.charge_duration_seconds, 0)) "
    "FROM alerts a JOIN attempts t ON t.alert_id = a.alert_id "
    "WHERE a.caller = $1 "
    "  AND a.created_at >= 'epoch'::timestamptz + $2::bigint * interval '1 microsecond' "
    "  AND a.created_at < 'epoch'::timestamptz + $3::bigint * interval '1 microsecond' "
    "  AND t.charge_micros IS NOT NULL "
    "GROUP BY 1, 2, 3 ORDER BY 1, 2, 3";

std::string ChannelKey(int channel) {
  switch (channel) {
    case klaxon::types::v1::CHANNEL_SMS:
      return "sms";
    case klaxon::types::v1::CHANNEL_VOICE:
      return "voice";
    default:
      return absl::StrCat(channel);
  }
}

}  // namespace

const std::string& ListAlertsStatement() { return kListAlertsSql; }

absl::StatusOr<std::vector<AlertRecord>> PostgresAlertQueries::ListAlerts(
    const AlertFilter& filter, const std::optional<ListCursor>& after, int32_t limit) {
  const std::optional<std::string> status =
      filter.status.has_value() ? std::optional(absl::StrCat(static_cast<int>(*filter.status)))
                                : std::nullopt;
  const std::optional<std::string> channel =
      filter.channel.has_value() ? std::optional(absl::StrCat(static_cast<int>(*filter.channel)))
                                 : std::nullopt;
  const std::optional<std::string> recipient =
      filter.recipient_index.has_value()
          ? std::optional(absl::BytesToHexString(*filter.recipient_index))
          : std::nullopt;
  const std::optional<std::string> from = MicrosParam(filter.created_from);
  const std::optional<std::string> before = MicrosParam(filter.created_before);
  const std::optional<std::string> after_time =
      after.has_value() ? MicrosParam(after->created_at) : std::nullopt;
  const std::optional<std::string> after_id =
      after.has_value() ? std::optional(after->alert_id) : std::nullopt;
  std::vector<AlertRecord> alerts;
  absl::Status status_of_query = db_.Transact([&](pqxx::work& txn) {
    const pqxx::result rows = txn.exec_params(
        kListAlertsSql, filter.caller, OrNull(status), OrNull(channel), OrNull(recipient),
        OrNull(from), OrNull(before), OrNull(after_time), OrNull(after_id), limit);
    alerts.reserve(rows.size());
    for (const pqxx::row row : rows) alerts.push_back(AlertFromRow(row));
    return absl::OkStatus();
  });
  if (!status_of_query.ok()) return status_of_query;
  return alerts;
}

absl::StatusOr<std::optional<std::vector<AuditEventRecord>>> PostgresAlertQueries::GetAuditTrail(
    std::string_view caller, std::string_view alert_id) {
  std::optional<std::vector<AuditEventRecord>> trail;
  absl::Status status = db_.Transact([&](pqxx::work& txn) {
    // Events carry the caller only once the request is known; the alert row decides ownership.
    if (txn.exec_params(kAlertExistsSql, std::string(alert_id), std::string(caller)).empty()) {
      return absl::OkStatus();
    }
    trail.emplace();
    for (const pqxx::row row : txn.exec_params(kAuditTrailSql, std::string(alert_id))) {
      trail->push_back({.occurred_at = absl::FromUnixMicros(row[0].as<int64_t>()),
                        .recorded_at = absl::FromUnixMicros(row[1].as<int64_t>()),
                        .kind = row[2].as<std::string>(),
                        .channel = static_cast<Channel>(row[3].as<int>()),
                        .attempt = row[4].as<uint32_t>(),
                        .retry_count = row[5].as<uint32_t>(),
                        .status = static_cast<AlertStatus>(row[6].as<int>()),
                        .twilio_sid = row[7].as<std::string>(),
                        .twilio_error_code = row[8].as<int32_t>(),
                        .reason = row[9].as<std::string>()});
    }
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return trail;
}

absl::StatusOr<DeliveryCountsByGroup> PostgresAlertQueries::CountDeliveries(std::string_view caller,
                                                                            absl::Time from,
                                                                            absl::Time before) {
  DeliveryCountsByGroup report;
  absl::Status status = db_.Transact([&](pqxx::work& txn) {
    const pqxx::result rows = txn.exec_params(kCountDeliveriesSql, std::string(caller),
                                              absl::ToUnixMicros(from), absl::ToUnixMicros(before));
    for (const pqxx::row row : rows) {
      const int64_t alerts = row[6].as<int64_t>();
      const int64_t succeeded = row[7].as<int64_t>();
      const int64_t failed = row[8].as<int64_t>();
      const int64_t not_sent = row[9].as<int64_t>();
      const DeliveryCounts counts{.alerts = alerts,
                                  .succeeded = succeeded,
                                  .failed = failed,
                                  .not_sent = not_sent,
                                  .pending = alerts - succeeded - failed - not_sent};
      const bool by_channel = row[0].as<int>() == 0;
      const bool by_country = row[1].as<int>() == 0;
      const bool by_code = row[2].as<int>() == 0;
      if (by_channel) {
        report.by_channel.push_back({.key = ChannelKey(row[3].as<int>()), .counts = counts});
      } else if (by_country) {
        report.by_country.push_back({.key = row[4].as<std::string>(), .counts = counts});
      } else if (by_code) {
        const int32_t code = row[5].as<int32_t>();
        if (code != 0)
          report.by_error_code.push_back({.key = absl::StrCat(code), .counts = counts});
      } else {
        report.total = counts;
      }
    }
    for (const pqxx::row row :
         txn.exec_params(kSumChargesSql, std::string(caller), absl::ToUnixMicros(from),
                         absl::ToUnixMicros(before))) {
      report.costs.push_back({.channel = static_cast<Channel>(row[0].as<int>()),
                              .twilio_account = row[1].as<std::string>(),
                              .currency = row[2].as<std::string>(),
                              .micros = row[3].as<int64_t>(),
                              .charged_attempts = row[4].as<int64_t>(),
                              .segments = row[5].as<int64_t>(),
                              .duration_seconds = row[6].as<int64_t>()});
    }
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  const auto by_key = [](const DeliveryGroup& a, const DeliveryGroup& b) { return a.key < b.key; };
  std::sort(report.by_channel.begin(), report.by_channel.end(), by_key);
  std::sort(report.by_country.begin(), report.by_country.end(), by_key);
  std::sort(report.by_error_code.begin(), report.by_error_code.end(),
            [](const DeliveryGroup& a, const DeliveryGroup& b) {
              return a.key.size() != b.key.size() ? a.key.size() < b.key.size() : a.key < b.key;
            });
  return report;
}

}  // namespace klaxon::audit
