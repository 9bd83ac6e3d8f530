#pragma once
// DispatchObserver for a worker: what an SRE asks of it. How many requests went to Twilio and
// how they ended (by result and Twilio code), how long Twilio took, how often a redelivered
// request only republished its outcome, and how often work was handed back for a retry.

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <string>

#include "common/delivery/dispatcher.h"
#include "common/log/log.h"

namespace klaxon::delivery {

class DispatchTelemetry final : public DispatchObserver {
 public:
  // `channel` labels every series ("sms" or "voice").
  DispatchTelemetry(std::string channel, prometheus::Registry& registry, const log::Logger& logger);

  void OnSent(const events::v1::AlertRequested& request, const SendResult& result,
              absl::Duration latency) override;
  void OnOutcomeRepublished(const events::v1::AlertRequested& request) override;
  void OnHandedBack(const events::v1::AlertRequested& request, const absl::Status& reason) override;

 private:
  const std::string channel_;
  prometheus::Family<prometheus::Counter>& twilio_requests_;
  prometheus::Histogram& twilio_latency_;
  prometheus::Counter& republished_;
  prometheus::Counter& handed_back_;
  const log::Logger& logger_;
};

}  // namespace klaxon::delivery
