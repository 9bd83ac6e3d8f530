#include "services/ingress/intake_telemetry.h"

#include <prometheus/counter.h>
#include <prometheus/histogram.h>

#include "absl/status/status.h"

namespace klaxon::ingress {

namespace {

// Refusals of bad input are the caller's business; infrastructure failures are ours.
log::Level RefusalLevel(const absl::Status& status) {
  return status.code() == absl::StatusCode::kUnavailable ||
                 status.code() == absl::StatusCode::kInternal
             ? log::Level::kError
             : log::Level::kInfo;
}

}  // namespace

IntakeTelemetry::IntakeTelemetry(prometheus::Registry& registry, const log::Logger& logger,
                                 timing::Clock& clock, log::SamplingLimits refusal_lines)
    : requests_(prometheus::BuildCounter()
                    .Name("klaxon_sendalert_requests_total")
                    .Help("SendAlert calls by caller and result (accepted, duplicate, or the "
                          "gRPC code of the refusal)")
                    .Register(registry)),
      cancels_(prometheus::BuildCounter()
                   .Name("klaxon_cancelalert_requests_total")
                   .Help("CancelAlert calls by caller and result (cancelled, already_cancelled, "
                         "already_acknowledged, or the gRPC code of the refusal)")
                   .Register(registry)),
      acknowledgements_(prometheus::BuildCounter()
                            .Name("klaxon_acknowledgealert_requests_total")
                            .Help("AcknowledgeAlert calls by caller and result (acknowledged, "
                                  "already_acknowledged, or the gRPC code of the refusal: "
                                  "FailedPrecondition for an alert cancelled first)")
                            .Register(registry)),
      publish_latency_(
          prometheus::BuildHistogram()
              .Name("klaxon_kafka_ack_latency_seconds")
              .Help("Time from publishing an alert request to Kafka's "
                    "acknowledgement (acks=all)")
              .Register(registry)
              .Add({{"topic_kind", "requests"}},
                   prometheus::Histogram::BucketBoundaries{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                           0.1, 0.25, 0.5, 1, 2.5, 5})),
      logger_(logger),
      bad_input_lines_(clock, refusal_lines),
      failure_lines_(clock, refusal_lines) {}

std::optional<int64_t> IntakeTelemetry::AdmitRefusalLine(const absl::Status& status) {
  return (RefusalLevel(status) == log::Level::kError ? failure_lines_ : bad_input_lines_).Admit();
}

void IntakeTelemetry::OnAccepted(std::string_view caller,
                                 const alerts::v1::SendAlertRequest& request,
                                 std::string_view alert_id, bool duplicate,
                                 absl::Duration publish_latency) {
  requests_.Add({{"caller", std::string(caller)}, {"result", duplicate ? "duplicate" : "accepted"}})
      .Increment();
  if (!duplicate) publish_latency_.Observe(absl::ToDoubleSeconds(publish_latency));
  logger_.Info(duplicate ? "alert_repeated" : "alert_accepted",
               {{"alert_id", std::string(alert_id)},
                {"caller", std::string(caller)},
                {"channel", types::v1::Channel_Name(request.channel())},
                log::Phone("to", request.recipient())});
}

void IntakeTelemetry::OnRejected(std::string_view caller, const absl::Status& status) {
  const std::string code = absl::StatusCodeToString(status.code());
  requests_.Add({{"caller", std::string(caller)}, {"result", code}}).Increment();
  const std::optional<int64_t> suppressed = AdmitRefusalLine(status);
  if (!suppressed) return;
  logger_.Log(RefusalLevel(status), "alert_refused",
              {{"caller", std::string(caller)},
               {"code", code},
               {"error", std::string(status.message())},
               {"suppressed_before", *suppressed}});
}

void IntakeTelemetry::OnCancelled(std::string_view caller, std::string_view alert_id,
                                  bool already_cancelled, stopped_alerts::StopReason stopped_by) {
  const bool acknowledged = stopped_by == stopped_alerts::StopReason::kAcknowledged;
  const char* result = acknowledged        ? "already_acknowledged"
                       : already_cancelled ? "already_cancelled"
                                           : "cancelled";
  cancels_.Add({{"caller", std::string(caller)}, {"result", result}}).Increment();
  logger_.Info(
      "alert_cancelled",
      {{"alert_id", std::string(alert_id)}, {"caller", std::string(caller)}, {"result", result}});
}

void IntakeTelemetry::OnAcknowledged(std::string_view caller, std::string_view alert_id,
                                     bool already_acknowledged) {
  const char* result = already_acknowledged ? "already_acknowledged" : "acknowledged";
  acknowledgements_.Add({{"caller", std::string(caller)}, {"result", result}}).Increment();
  logger_.Info(
      "alert_acknowledged",
      {{"alert_id", std::string(alert_id)}, {"caller", std::string(caller)}, {"result", result}});
}

void IntakeTelemetry::OnStopRefused(std::string_view caller, stopped_alerts::StopReason asked,
                                    const absl::Status& status) {
  const bool cancel = asked == stopped_alerts::StopReason::kCancelled;
  const std::string code = absl::StatusCodeToString(status.code());
  (cancel ? cancels_ : acknowledgements_)
      .Add({{"caller", std::string(caller)}, {"result", code}})
      .Increment();
  const std::optional<int64_t> suppressed = AdmitRefusalLine(status);
  if (!suppressed) return;
  logger_.Log(RefusalLevel(status), cancel ? "cancel_refused" : "acknowledge_refused",
              {{"caller", std::string(caller)},
               {"code", code},
               {"error", std::string(status.message())},
               {"suppressed_before", *suppressed}});
}

}  // namespace klaxon::ingress
