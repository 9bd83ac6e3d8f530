#pragma once
// VerificationObserver that answers an SRE's questions about phone verification: how many codes
// were sent and by which channel, how checks end, how long people take to type the code, and
// which limit refused starts. An approval rate that collapses (starts climbing, approvals not) is
// the sign of SMS pumping: deploy/k8s's alert rules watch it. A check whose audit record was
// lost is counted and logged with its reason (never the code or the number).

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include "common/log/log.h"
#include "services/ingress/verification/verifier.h"

namespace klaxon::ingress::verification {

class VerificationTelemetry final : public VerificationObserver {
 public:
  // Borrowed; both must outlive the telemetry.
  VerificationTelemetry(prometheus::Registry& registry, const log::Logger& logger);

  void OnStarted(types::v1::Channel channel, bool resent) override;
  void OnRefused(StartRefusal refusal) override;
  void OnChecked(verify::v1::VerificationStatus status,
                 std::optional<absl::Duration> time_to_approve) override;
  void OnCheckUnrecorded(const absl::Status& why) override;

 private:
  prometheus::Family<prometheus::Counter>& sends_;
  prometheus::Family<prometheus::Counter>& refusals_;
  prometheus::Family<prometheus::Counter>& checks_;
  prometheus::Histogram& time_to_approve_;
  prometheus::Counter& unrecorded_;
  const log::Logger& logger_;
};

}  // namespace klaxon::ingress::verification
