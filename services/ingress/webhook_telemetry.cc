#include "services/ingress/webhook_telemetry.h"

#include <string>

namespace klaxon::ingress {
namespace {

const prometheus::Histogram::BucketBoundaries kLatencyBuckets = {
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};

}  // namespace

WebhookTelemetry::WebhookTelemetry(prometheus::Registry& registry, const log::Logger& logger)
    : requests_(prometheus::BuildCounter()
                    .Name("klaxon_webhook_requests_total")
                    .Help("Twilio webhook requests by route and outcome (accepted, duplicate, "
                          "forbidden, bad_request, unavailable, ...) and HTTP status")
                    .Register(registry)),
      durations_(prometheus::BuildHistogram()
                     .Name("klaxon_webhook_request_duration_seconds")
                     .Help("Time from a complete webhook request to its answer, by route")
                     .Register(registry)),
      signature_failures_(prometheus::BuildCounter()
                              .Name("klaxon_webhook_signature_failures_total")
                              .Help("Webhook requests refused for a missing or wrong "
                                    "X-Twilio-Signature, by route")
                              .Register(registry)),
      duplicates_(prometheus::BuildCounter()
                      .Name("klaxon_webhook_dedupe_hits_total")
                      .Help("Replayed Twilio callbacks acknowledged without a second event")
                      .Register(registry)),
      ack_latency_(prometheus::BuildHistogram()
                       .Name("klaxon_webhook_kafka_ack_latency_seconds")
                       .Help("Time from publishing a Twilio event to Kafka's acknowledgement "
                             "(acks=all)")
                       .Register(registry)
                       .Add({}, kLatencyBuckets)),
      logger_(logger) {}

void WebhookTelemetry::OnAnswered(std::string_view route, std::string_view outcome, int http_status,
                                  absl::Duration took, std::string_view detail) {
  requests_
      .Add({{"route", std::string(route)},
            {"outcome", std::string(outcome)},
            {"status", std::to_string(http_status)}})
      .Increment();
  durations_.Add({{"route", std::string(route)}}, kLatencyBuckets)
      .Observe(absl::ToDoubleSeconds(took));
  if (http_status < 300 && detail.empty()) return;
  // Refusals of bad requests are the sender's business; 5xx are ours to fix; a 2xx with a
  // detail was accepted with a caveat worth a look.
  const log::Level level = http_status >= 500  ? log::Level::kError
                           : http_status < 300 ? log::Level::kWarn
                                               : log::Level::kInfo;
  logger_.Log(level, http_status < 300 ? "webhook_accepted_with_warning" : "webhook_refused",
              {{"route", std::string(route)},
               {"outcome", std::string(outcome)},
               {"status", http_status},
               {"detail", std::string(detail)}});
}

void WebhookTelemetry::OnSignatureFailure(std::string_view route) {
  signature_failures_.Add({{"route", std::string(route)}}).Increment();
}

void WebhookTelemetry::OnDuplicate(std::string_view route) {
  duplicates_.Add({{"route", std::string(route)}}).Increment();
}

void WebhookTelemetry::OnPublished(absl::Duration kafka_ack_latency) {
  ack_latency_.Observe(absl::ToDoubleSeconds(kafka_ack_latency));
}

}  // namespace klaxon::ingress
