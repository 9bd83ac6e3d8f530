#pragma once
// IntakeObserver that answers an SRE's questions about SendAlert: how many were accepted or
// refused and why (by gRPC code), how many were repeats, and how long Kafka took to acknowledge.

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include "common/log/log.h"
#include "services/ingress/alert_intake.h"

namespace klaxon::ingress {

class IntakeTelemetry final : public IntakeObserver {
 public:
  IntakeTelemetry(prometheus::Registry& registry, const log::Logger& logger);

  void OnAccepted(std::string_view caller, const alerts::v1::SendAlertRequest& request,
                  std::string_view alert_id, bool duplicate,
                  absl::Duration publish_latency) override;
  void OnRejected(std::string_view caller, const absl::Status& status) override;

 private:
  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Histogram& publish_latency_;
  const log::Logger& logger_;
};

}  // namespace klaxon::ingress
