#pragma once
// IntakeObserver and StopObserver that answer an SRE's questions about SendAlert, CancelAlert and
// AcknowledgeAlert: how many were accepted or refused and why (by gRPC code), how many were
// repeats, and how long Kafka took to acknowledge.

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include "common/log/log.h"
#include "services/ingress/alert_intake.h"
#include "services/ingress/alert_stops.h"

namespace klaxon::ingress {

class IntakeTelemetry final : public IntakeObserver, public StopObserver {
 public:
  IntakeTelemetry(prometheus::Registry& registry, const log::Logger& logger);

  void OnAccepted(std::string_view caller, const alerts::v1::SendAlertRequest& request,
                  std::string_view alert_id, bool duplicate,
                  absl::Duration publish_latency) override;
  void OnRejected(std::string_view caller, const absl::Status& status) override;
  void OnCancelled(std::string_view caller, std::string_view alert_id, bool already_cancelled,
                   stopped_alerts::StopReason stopped_by) override;
  void OnAcknowledged(std::string_view caller, std::string_view alert_id,
                      bool already_acknowledged) override;
  void OnStopRefused(std::string_view caller, stopped_alerts::StopReason asked,
                     const absl::Status& status) override;

 private:
  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Family<prometheus::Counter>& cancels_;
  prometheus::Family<prometheus::Counter>& acknowledgements_;
  prometheus::Histogram& publish_latency_;
  const log::Logger& logger_;
};

}  // namespace klaxon::ingress
