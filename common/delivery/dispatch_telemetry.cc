#include "common/delivery/dispatch_telemetry.h"

#include <utility>

namespace klaxon::delivery {
namespace {

std::string_view ResultName(SendResult::Kind kind) {
  switch (kind) {
    case SendResult::Kind::kAccepted:
      return "accepted";
    case SendResult::Kind::kRejected:
      return "rejected";
    case SendResult::Kind::kRetryable:
      return "retryable";
    case SendResult::Kind::kUnknown:
      return "unknown";
  }
  return "unknown";
}

}  // namespace

DispatchTelemetry::DispatchTelemetry(std::string channel, prometheus::Registry& registry,
                                     const log::Logger& logger)
    : channel_(std::move(channel)),
      twilio_requests_(prometheus::BuildCounter()
                           .Name("klaxon_twilio_requests_total")
                           .Help("Requests to Twilio by channel, result (accepted, rejected, "
                                 "retryable, unknown) and Twilio error code")
                           .Register(registry)),
      twilio_latency_(prometheus::BuildHistogram()
                          .Name("klaxon_twilio_request_duration_seconds")
                          .Help("Time Twilio took to answer a create request")
                          .Register(registry)
                          .Add({{"channel", channel_}},
                               prometheus::Histogram::BucketBoundaries{
                                   0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10})),
      republished_(prometheus::BuildCounter()
                       .Name("klaxon_outcomes_republished_total")
                       .Help("Redelivered requests whose attempt was already done: the outcome "
                             "was published again instead of sending twice")
                       .Register(registry)
                       .Add({{"channel", channel_}})),
      handed_back_(prometheus::BuildCounter()
                       .Name("klaxon_dispatch_handed_back_total")
                       .Help("Requests handed back to be retried (Twilio throttling or 5xx, "
                             "Redis or Kafka unavailable)")
                       .Register(registry)
                       .Add({{"channel", channel_}})),
      logger_(logger) {}

void DispatchTelemetry::OnSent(const events::v1::AlertRequested& request, const SendResult& result,
                               absl::Duration latency) {
  twilio_requests_
      .Add({{"channel", channel_},
            {"result", std::string(ResultName(result.kind))},
            {"code", std::to_string(result.error_code)}})
      .Increment();
  twilio_latency_.Observe(absl::ToDoubleSeconds(latency));
  logger_.Log(result.kind == SendResult::Kind::kAccepted ? log::Level::kInfo : log::Level::kWarn,
              "twilio_answered",
              {{"alert_id", request.header().alert_id()},
               {"attempt", request.header().attempt()},
               {"result", ResultName(result.kind)},
               {"sid", result.sid},
               {"code", result.error_code},
               {"reason", result.reason},
               {"latency_ms", absl::ToDoubleMilliseconds(latency)},
               log::Phone("to", request.recipient())});
}

void DispatchTelemetry::OnOutcomeRepublished(const events::v1::AlertRequested& request) {
  republished_.Increment();
  logger_.Info("outcome_republished", {{"alert_id", request.header().alert_id()},
                                       {"attempt", request.header().attempt()}});
}

void DispatchTelemetry::OnHandedBack(const events::v1::AlertRequested& request,
                                     const absl::Status& reason) {
  handed_back_.Increment();
  logger_.Warn("delivery_handed_back", {{"alert_id", request.header().alert_id()},
                                        {"attempt", request.header().attempt()},
                                        {"error", std::string(reason.message())}});
}

}  // namespace klaxon::delivery
