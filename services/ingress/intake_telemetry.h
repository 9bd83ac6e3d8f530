#pragma once
// IntakeObserver and StopObserver that answer an SRE's questions about SendAlert, CancelAlert and
// AcknowledgeAlert: how many were accepted or refused and why (by gRPC code), how many were
// repeats, and how long Kafka took to acknowledge. Refusal lines are sampled (log::LineSampler),
// since a caller, or anyone who reaches the port without a key, decides how many there are: those
// of bad input apart from those of our own failures, so a flood of the one never hides the other.
// The metrics count every call.

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <cstdint>
#include <optional>

#include "absl/status/status.h"
#include "common/log/line_sampler.h"
#include "common/log/log.h"
#include "common/timing/clock.h"
#include "services/ingress/alert_intake.h"
#include "services/ingress/alert_stops.h"

namespace klaxon::ingress {

class IntakeTelemetry final : public IntakeObserver, public StopObserver {
 public:
  IntakeTelemetry(prometheus::Registry& registry, const log::Logger& logger, timing::Clock& clock,
                  log::SamplingLimits refusal_lines = {});

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
  // Whether to log this refusal: how many like it were left out before, or nullopt.
  std::optional<int64_t> AdmitRefusalLine(const absl::Status& status);

  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Family<prometheus::Counter>& cancels_;
  prometheus::Family<prometheus::Counter>& acknowledgements_;
  prometheus::Histogram& publish_latency_;
  const log::Logger& logger_;
  log::LineSampler bad_input_lines_;  // refusals logged at info
  log::LineSampler failure_lines_;    // refusals logged as errors (UNAVAILABLE, INTERNAL)
};

}  // namespace klaxon::ingress
