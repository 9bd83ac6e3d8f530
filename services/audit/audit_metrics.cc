#include "services/audit/audit_metrics.h"

#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/strip.h"
#include "prometheus/counter.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"

namespace klaxon::audit {
namespace {

std::string ResultLabel(const absl::Status& status) {
  return absl::AsciiStrToLower(absl::StatusCodeToString(status.code()));
}

// "CHANNEL_SMS" -> "sms", the label the workers use.
std::string ChannelLabel(Channel channel) {
  return absl::AsciiStrToLower(
      absl::StripPrefix(klaxon::types::v1::Channel_Name(channel), "CHANNEL_"));
}

// "ALERT_STATUS_DELIVERED" -> "DELIVERED".
std::string StatusLabel(AlertStatus status) {
  return std::string(
      absl::StripPrefix(klaxon::types::v1::AlertStatus_Name(status), "ALERT_STATUS_"));
}

}  // namespace

AuditMetrics::AuditMetrics(prometheus::Registry& registry)
    : events_consumed_(prometheus::BuildCounter()
                           .Name("klaxon_audit_events_consumed_total")
                           .Help("Kafka messages audit handled, by topic and result")
                           .Register(registry)),
      twilio_events_(prometheus::BuildCounter()
                         .Name("klaxon_audit_twilio_events_total")
                         .Help("Twilio webhook events audit consumed, by kind and result")
                         .Register(registry)),
      alert_status_(prometheus::BuildCounter()
                        .Name("klaxon_alert_status_total")
                        .Help("Alerts whose projected status moved to status, by channel")
                        .Register(registry)),
      projection_write_seconds_(
          prometheus::BuildHistogram()
              .Name("klaxon_audit_projection_write_seconds")
              .Help("Latency of one projection transaction (event plus consumed offset)")
              .Register(registry)
              .Add({}, prometheus::Histogram::BucketBoundaries{0.001, 0.0025, 0.005, 0.01, 0.025,
                                                               0.05, 0.1, 0.25, 0.5, 1, 2.5})),
      get_alert_requests_(prometheus::BuildCounter()
                              .Name("klaxon_audit_get_alert_requests_total")
                              .Help("GetAlert calls by result (gRPC code)")
                              .Register(registry)),
      read_your_writes_waits_(prometheus::BuildCounter()
                                  .Name("klaxon_audit_read_your_writes_waits_total")
                                  .Help("GetAlert calls that waited for audit to catch up with "
                                        "Kafka, by outcome")
                                  .Register(registry)),
      read_your_writes_wait_seconds_(
          prometheus::BuildHistogram()
              .Name("klaxon_audit_read_your_writes_wait_seconds")
              .Help("Time GetAlert spent waiting for audit to catch up with Kafka")
              .Register(registry)
              .Add({}, prometheus::Histogram::BucketBoundaries{0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                                               0.5, 1, 2, 3, 5})),
      query_requests_(prometheus::BuildCounter()
                          .Name("klaxon_audit_query_requests_total")
                          .Help("ListAlerts, WatchAlert, GetAuditTrail and GetDeliveryReport "
                                "calls by rpc and result (gRPC code)")
                          .Register(registry)),
      query_seconds_(prometheus::BuildHistogram()
                         .Name("klaxon_audit_query_seconds")
                         .Help("Latency of ListAlerts, GetAuditTrail and GetDeliveryReport")
                         .Register(registry)),
      watch_streams_(prometheus::BuildGauge()
                         .Name("klaxon_audit_watch_streams")
                         .Help("WatchAlert streams open now")
                         .Register(registry)
                         .Add({})) {}

void AuditMetrics::EventConsumed(std::string_view topic, std::string_view result) {
  events_consumed_.Add({{"topic", std::string(topic)}, {"result", std::string(result)}})
      .Increment();
}

void AuditMetrics::TwilioEvent(std::string_view kind, std::string_view result) {
  twilio_events_.Add({{"kind", std::string(kind)}, {"result", std::string(result)}}).Increment();
}

void AuditMetrics::StatusAdvanced(const StatusAdvance& advance) {
  alert_status_
      .Add({{"channel", ChannelLabel(advance.channel)}, {"status", StatusLabel(advance.status)}})
      .Increment();
}

void AuditMetrics::ProjectionWrite(absl::Duration latency) {
  projection_write_seconds_.Observe(absl::ToDoubleSeconds(latency));
}

void AuditMetrics::GetAlertRequest(const absl::Status& status) {
  get_alert_requests_.Add({{"result", ResultLabel(status)}}).Increment();
}

void AuditMetrics::QueryRequest(std::string_view rpc, const absl::Status& status,
                                absl::Duration latency) {
  query_requests_.Add({{"rpc", std::string(rpc)}, {"result", ResultLabel(status)}}).Increment();
  query_seconds_
      .Add({{"rpc", std::string(rpc)}},
           prometheus::Histogram::BucketBoundaries{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                                   0.25, 0.5, 1, 2.5})
      .Observe(absl::ToDoubleSeconds(latency));
}

void AuditMetrics::WatchEnded(const absl::Status& status) {
  query_requests_.Add({{"rpc", "WatchAlert"}, {"result", ResultLabel(status)}}).Increment();
}

void AuditMetrics::WatchStreams(double open) { watch_streams_.Set(open); }

void AuditMetrics::ReadYourWritesWait(std::string_view outcome, absl::Duration waited) {
  read_your_writes_waits_.Add({{"outcome", std::string(outcome)}}).Increment();
  read_your_writes_wait_seconds_.Observe(absl::ToDoubleSeconds(waited));
}

}  // namespace klaxon::audit
