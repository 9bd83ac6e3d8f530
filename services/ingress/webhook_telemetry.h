#pragma once
// What an SRE needs to know about Twilio's webhooks: requests by route and outcome, how long
// they took, signature failures (a wrong token after a rotation shows up here first), replays
// dropped by dedupe, requests the HTTP server refused itself, how long Kafka took to
// acknowledge the events, and when status callbacks may last have been lost.
//
// Refusals are logged, but an attacker decides how many there are and what they hold: refusal
// lines are sampled (log::LineSampler: a burst, then a steady rate; each line that is written
// says how many were left out before it) and their detail is cut short, stripped to printable ASCII
// and has every run of six or more digits (a phone number, say) masked. The metrics count every
// refusal.

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "common/log/line_sampler.h"
#include "common/log/log.h"
#include "common/timing/clock.h"

namespace klaxon::ingress {

struct RefusalLogLimits {
  double lines_per_second = 5;
  double burst = 20;
  size_t max_detail_bytes = 120;
};

// `detail` as it may be logged: at most `max_bytes` (then "..."), printable ASCII only, digit
// runs of six or more (separators + - . ( ) and space included) masked as "#".
std::string SafeDetail(std::string_view detail, size_t max_bytes);

class WebhookTelemetry {
 public:
  WebhookTelemetry(prometheus::Registry& registry, const log::Logger& logger, timing::Clock& clock,
                   RefusalLogLimits limits = {});

  // One answered request. `outcome` is a short label (accepted, duplicate, forbidden, ...);
  // `detail` says why for refusals and is logged (sampled, see above).
  void OnAnswered(std::string_view route, std::string_view outcome, int http_status,
                  absl::Duration took, std::string_view detail = {});
  // A request the HTTP server refused before the handler saw it (a framing error, a deadline,
  // a connection cap); `reason` is one of the server's fixed texts.
  void OnServerRefusal(int http_status, std::string_view reason);
  void OnSignatureFailure(std::string_view route);
  void OnDuplicate(std::string_view route);
  void OnPublished(absl::Duration kafka_ack_latency);
  // Status callbacks may have been lost at `at` (docs/adr/0014).
  void OnCallbacksMayBeLost(absl::Time at);

 private:
  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Family<prometheus::Histogram>& durations_;
  prometheus::Family<prometheus::Counter>& signature_failures_;
  prometheus::Family<prometheus::Counter>& duplicates_;
  prometheus::Family<prometheus::Counter>& server_refusals_;
  prometheus::Histogram& ack_latency_;
  prometheus::Gauge& callbacks_lost_at_;
  const log::Logger& logger_;
  const RefusalLogLimits limits_;
  log::LineSampler refusal_lines_;
};

}  // namespace klaxon::ingress
