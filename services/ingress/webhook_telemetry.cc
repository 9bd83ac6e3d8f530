#include "services/ingress/webhook_telemetry.h"

#include <algorithm>
#include <string>
#include <utility>

#include "common/metrics/request_latency_buckets.h"

namespace klaxon::ingress {
namespace {

constexpr size_t kMaskedDigits = 6;

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsNumberSeparator(char c) {
  return c == '+' || c == '-' || c == '.' || c == '(' || c == ')' || c == ' ';
}

}  // namespace

std::string SafeDetail(std::string_view detail, size_t max_bytes) {
  const bool cut = detail.size() > max_bytes;
  if (cut) detail = detail.substr(0, max_bytes);
  std::string safe;
  safe.reserve(detail.size() + 3);
  size_t i = 0;
  while (i < detail.size()) {
    if (IsDigit(detail[i]) || detail[i] == '+') {
      // A run of digits and separators: masked when it holds enough digits to be a number
      // worth hiding.
      size_t end = i;
      size_t digits = 0;
      while (end < detail.size() && (IsDigit(detail[end]) || IsNumberSeparator(detail[end]))) {
        if (IsDigit(detail[end])) ++digits;
        ++end;
      }
      if (digits >= kMaskedDigits) {
        safe.push_back('#');
        i = end;
        continue;
      }
    }
    const auto byte = static_cast<unsigned char>(detail[i]);
    safe.push_back(byte >= 0x20 && byte < 0x7F ? detail[i] : '?');
    ++i;
  }
  if (cut) safe.append("...");
  return safe;
}

WebhookTelemetry::WebhookTelemetry(prometheus::Registry& registry, const log::Logger& logger,
                                   timing::Clock& clock, RefusalLogLimits limits)
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
      server_refusals_(prometheus::BuildCounter()
                           .Name("klaxon_webhook_server_refusals_total")
                           .Help("Requests and connections the webhook HTTP server refused "
                                 "itself (malformed, too large, too slow, over a connection "
                                 "cap), by status and reason")
                           .Register(registry)),
      ack_latency_(prometheus::BuildHistogram()
                       .Name("klaxon_webhook_kafka_ack_latency_seconds")
                       .Help("Time from publishing a Twilio event to Kafka's acknowledgement "
                             "(acks=all)")
                       .Register(registry)
                       .Add({}, metrics::RequestLatencyBuckets())),
      callbacks_lost_at_(prometheus::BuildGauge()
                             .Name("klaxon_webhook_callbacks_lost_timestamp_seconds")
                             .Help("When this replica last noted that Twilio status callbacks may "
                                   "have been lost (a signed one refused, load shed, or its "
                                   "start), Unix time; the status checks then read Twilio")
                             .Register(registry)
                             .Add({})),
      logger_(logger),
      limits_(limits),
      refusal_lines_(clock, {.lines_per_second = limits.lines_per_second, .burst = limits.burst}) {}

void WebhookTelemetry::OnAnswered(std::string_view route, std::string_view outcome, int http_status,
                                  absl::Duration took, std::string_view detail) {
  requests_
      .Add({{"route", std::string(route)},
            {"outcome", std::string(outcome)},
            {"status", std::to_string(http_status)}})
      .Increment();
  durations_.Add({{"route", std::string(route)}}, metrics::RequestLatencyBuckets())
      .Observe(absl::ToDoubleSeconds(took));
  if (http_status < 300 && detail.empty()) return;
  const std::optional<int64_t> suppressed = refusal_lines_.Admit();
  if (!suppressed) return;
  // Refusals of bad requests are the sender's business; 5xx are ours to fix; a 2xx with a
  // detail was accepted with a caveat worth a look.
  const log::Level level = http_status >= 500  ? log::Level::kError
                           : http_status < 300 ? log::Level::kWarn
                                               : log::Level::kInfo;
  logger_.Log(level, http_status < 300 ? "webhook_accepted_with_warning" : "webhook_refused",
              {{"route", std::string(route)},
               {"outcome", std::string(outcome)},
               {"status", http_status},
               {"detail", SafeDetail(detail, limits_.max_detail_bytes)},
               {"suppressed_before", *suppressed}});
}

void WebhookTelemetry::OnServerRefusal(int http_status, std::string_view reason) {
  server_refusals_
      .Add({{"status", std::to_string(http_status)},
            {"reason", SafeDetail(reason, limits_.max_detail_bytes)}})
      .Increment();
  const std::optional<int64_t> suppressed = refusal_lines_.Admit();
  if (!suppressed) return;
  logger_.Info("webhook_refused", {{"route", "unknown"},
                                   {"outcome", "server_refused"},
                                   {"status", http_status},
                                   {"detail", SafeDetail(reason, limits_.max_detail_bytes)},
                                   {"suppressed_before", *suppressed}});
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

void WebhookTelemetry::OnCallbacksMayBeLost(absl::Time at) {
  callbacks_lost_at_.Set(absl::ToDoubleSeconds(at - absl::UnixEpoch()));
}

}  // namespace klaxon::ingress
