#pragma once
// The read-side port behind ListAlerts, GetAuditTrail and GetDeliveryReport: the queries that
// find and count a caller's alerts without opening any personal data.
// PostgresAlertQueries is the adapter; tests use FakeAlertQueries (services/audit/testing).
// Every method is safe to call from several threads and scopes everything to `caller`.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/audit/alert.h"

namespace klaxon::audit {

// Which of a caller's alerts ListAlerts returns; an unset field does not filter.
struct AlertFilter {
  std::string caller{};
  std::optional<AlertStatus> status{};
  std::optional<Channel> channel{};
  std::optional<std::string> recipient_index{};  // crypto::BlindIndex of the E.164 number
  std::optional<absl::Time> created_from{};      // inclusive
  std::optional<absl::Time> created_before{};    // exclusive
};

// A position in the newest-first order (created_at DESC, alert_id DESC): the last alert of the
// previous page. The next page starts strictly after it.
struct ListCursor {
  absl::Time created_at{};
  std::string alert_id{};

  friend bool operator==(const ListCursor&, const ListCursor&) = default;
};

// One audit_events row, as GetAuditTrail returns it.
struct AuditEventRecord {
  absl::Time occurred_at{};
  absl::Time recorded_at{};
  std::string kind{};
  Channel channel = klaxon::types::v1::CHANNEL_UNSPECIFIED;
  uint32_t attempt = 0;
  uint32_t retry_count = 0;
  AlertStatus status = klaxon::types::v1::ALERT_STATUS_UNSPECIFIED;
  std::string twilio_sid{};
  int32_t twilio_error_code = 0;
  std::string reason{};

  friend bool operator==(const AuditEventRecord&, const AuditEventRecord&) = default;
};

// How many of a group's alerts are in each status class (DeliveryReportRow in the proto).
struct DeliveryCounts {
  int64_t alerts = 0;
  int64_t succeeded = 0;  // DELIVERED, ACKNOWLEDGED
  int64_t failed = 0;     // UNDELIVERED, FAILED
  int64_t not_sent = 0;   // SUPPRESSED, CANCELLED
  int64_t pending = 0;    // not final yet

  friend bool operator==(const DeliveryCounts&, const DeliveryCounts&) = default;
};

struct DeliveryGroup {
  std::string key{};  // "sms"/"voice", a country calling code, or a Twilio error code
  DeliveryCounts counts{};

  friend bool operator==(const DeliveryGroup&, const DeliveryGroup&) = default;
};

// What Twilio charged for a group's attempts (CostReportRow in the proto, ADR 0036).
struct CostGroup {
  Channel channel = klaxon::types::v1::CHANNEL_UNSPECIFIED;  // the attempt's
  std::string twilio_account{};
  std::string currency{};
  int64_t micros = 0;
  int64_t charged_attempts = 0;
  int64_t segments = 0;
  int64_t duration_seconds = 0;

  friend bool operator==(const CostGroup&, const CostGroup&) = default;
};

struct DeliveryCountsByGroup {
  DeliveryCounts total{};
  std::vector<DeliveryGroup> by_channel{};     // ordered by key
  std::vector<DeliveryGroup> by_country{};     // ordered by key
  std::vector<DeliveryGroup> by_error_code{};  // non-zero codes only, ordered numerically
  // The charged attempts of the same alerts, by channel, account and currency, in that order.
  std::vector<CostGroup> costs{};
};

class AlertQueries {
 public:
  virtual ~AlertQueries() = default;

  // Up to `limit` of the filter's alerts, newest first, after `after` when set. The records
  // carry the alert row only: no attempts.
  virtual absl::StatusOr<std::vector<AlertRecord>> ListAlerts(
      const AlertFilter& filter, const std::optional<ListCursor>& after, int32_t limit) = 0;

  // Every recorded event of the alert, oldest first (occurred_at, then recorded_at); nullopt when
  // the alert does not exist or is another caller's.
  virtual absl::StatusOr<std::optional<std::vector<AuditEventRecord>>> GetAuditTrail(
      std::string_view caller, std::string_view alert_id) = 0;

  // The caller's alerts created in [from, before), counted as a whole and by group.
  virtual absl::StatusOr<DeliveryCountsByGroup> CountDeliveries(std::string_view caller,
                                                                absl::Time from,
                                                                absl::Time before) = 0;
};

}  // namespace klaxon::audit
