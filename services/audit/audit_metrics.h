#pragma once
// The Prometheus series audit exports. Created once in main against the service's registry and
// passed by reference to the event handler and the query logic; tests use a registry of their own
// and read the values back.

#include <memory>
#include <string_view>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"
#include "services/audit/alert.h"

namespace klaxon::audit {

class AuditMetrics {
 public:
  explicit AuditMetrics(prometheus::Registry& registry);

  // klaxon_audit_events_consumed_total{topic, result}: result is "applied", "ignored" (a valid
  // message that concerns no alert's status, see TwilioEvent), "invalid" (skipped, undecodable)
  // or "retry" (the store failed; the message will be handled again).
  void EventConsumed(std::string_view topic, std::string_view result);

  // klaxon_audit_twilio_events_total{kind, result}: a decoded klaxon.twilio.events message;
  // kind is TwilioEventReading::kind, result "applied" (folded into its alert's record),
  // "recorded" (an opt-out or opt-in that became its recipient's consent record), "stale" (one
  // the record already held or had a later change than) or why it was ignored: "no_alert_id",
  // "not_a_status_callback" or "unknown_status".
  void TwilioEvent(std::string_view kind, std::string_view result);

  // klaxon_alert_status_total{channel, status}: an alert's projected status moved to `status`;
  // channel is "sms" or "voice", status "QUEUED", "SENT", "DELIVERED", "UNDELIVERED" or "FAILED".
  void StatusAdvanced(const StatusAdvance& advance);

  // klaxon_audit_projection_write_seconds: one AlertStore::Apply transaction.
  void ProjectionWrite(absl::Duration latency);

  // klaxon_audit_get_alert_requests_total{result}: result is the lowercase gRPC code name
  // ("ok", "not_found", "invalid_argument", "unauthenticated", "unavailable", ...).
  void GetAlertRequest(const absl::Status& status);

  // klaxon_audit_query_requests_total{rpc, result} and klaxon_audit_query_seconds{rpc}: a
  // ListAlerts, GetAuditTrail or GetDeliveryReport call (result as for GetAlert) and how long it
  // took.
  void QueryRequest(std::string_view rpc, const absl::Status& status, absl::Duration latency);

  // klaxon_audit_query_requests_total{rpc="WatchAlert", result}: a watch ended (or was refused);
  // a watch's length is the client's to choose, so it has no latency.
  void WatchEnded(const absl::Status& status);

  // klaxon_audit_watch_streams: WatchAlert streams open now.
  void WatchStreams(double open);

  // klaxon_audit_read_your_writes_waits_total{outcome} and
  // klaxon_audit_read_your_writes_wait_seconds: GetAlert waits for audit to catch up with Kafka;
  // outcome is "found", "not_found" (caught up, the alert does not exist) or "timed_out".
  void ReadYourWritesWait(std::string_view outcome, absl::Duration waited);

 private:
  prometheus::Family<prometheus::Counter>& events_consumed_;
  prometheus::Family<prometheus::Counter>& twilio_events_;
  prometheus::Family<prometheus::Counter>& alert_status_;
  prometheus::Histogram& projection_write_seconds_;
  prometheus::Family<prometheus::Counter>& get_alert_requests_;
  prometheus::Family<prometheus::Counter>& read_your_writes_waits_;
  prometheus::Histogram& read_your_writes_wait_seconds_;
  prometheus::Family<prometheus::Counter>& query_requests_;
  prometheus::Family<prometheus::Histogram>& query_seconds_;
  prometheus::Gauge& watch_streams_;
};

}  // namespace klaxon::audit
