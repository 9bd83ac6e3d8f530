#pragma once
// What an SRE needs to know about Twilio's webhooks: requests by route and outcome, how long
// they took, signature failures (a wrong token after a rotation shows up here first), replays
// dropped by dedupe, and how long Kafka took to acknowledge the events.

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <string_view>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "common/log/log.h"

namespace klaxon::ingress {

class WebhookTelemetry {
 public:
  WebhookTelemetry(prometheus::Registry& registry, const log::Logger& logger);

  // One answered request. `outcome` is a short label (accepted, duplicate, forbidden, ...);
  // `detail` says why for refusals and is logged, never holding personal data.
  void OnAnswered(std::string_view route, std::string_view outcome, int http_status,
                  absl::Duration took, std::string_view detail = {});
  void OnSignatureFailure(std::string_view route);
  void OnDuplicate(std::string_view route);
  void OnPublished(absl::Duration kafka_ack_latency);

 private:
  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Family<prometheus::Histogram>& durations_;
  prometheus::Family<prometheus::Counter>& signature_failures_;
  prometheus::Family<prometheus::Counter>& duplicates_;
  prometheus::Histogram& ack_latency_;
  const log::Logger& logger_;
};

}  // namespace klaxon::ingress
