#pragma once
// The CancelAlert use case (ADR 0007, "Stops"): only the caller that sent an alert may cancel it.
// The stop is written to StoppedAlerts first, which is what workers check before every send and
// escalation step, then a DeliveryEvent{cancel_requested} is published as the durable record
// that audit projects; the caller hears OK only once Kafka acknowledged it. Every step is
// idempotent, so a CancelAlert retried after an error converges.

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/messaging/message.h"
#include "common/stopped_alerts/stopped_alerts.h"
#include "common/timing/clock.h"
#include "klaxon/alerts/v1/alerts.pb.h"
#include "services/ingress/idempotency_store.h"

namespace klaxon::ingress {

struct CancellationOptions {
  std::string topic;  // klaxon.delivery.events, with the deployment's prefix
  absl::Duration publish_timeout = absl::Seconds(5);
  // How long the stop is kept. The idempotency window: ingress knows an alert's owner for that
  // long, and it is longer than any alert's time to live (at most 10 h), so no send outlives it.
  absl::Duration keep_stop_for = absl::Hours(24);
};

// What AlertCancellation reports for metrics and logs.
class CancellationObserver {
 public:
  virtual ~CancellationObserver() = default;
  // `stopped_by` is the stop that holds: kAcknowledged when the recipient acknowledged first.
  virtual void OnCancelled(std::string_view caller, std::string_view alert_id,
                           bool already_cancelled, stopped_alerts::StopReason stopped_by) = 0;
  virtual void OnCancelRefused(std::string_view caller, const absl::Status& status) = 0;
};

class AlertCancellation {
 public:
  // Every reference is borrowed and must outlive this object.
  AlertCancellation(CancellationOptions options, IdempotencyStore& owners,
                    stopped_alerts::StoppedAlerts& stopped, messaging::Publisher& publisher,
                    CancellationObserver& observer, timing::Clock& clock);

  //   kInvalidArgument  alert_id is not a canonical UUID
  //   kNotFound         no alert with that id was sent by `caller` within the idempotency window
  //                     (someone else's alert gets the same answer, so ids cannot be probed)
  //   kUnavailable      Redis or Kafka did not answer: retry, it is safe
  absl::StatusOr<alerts::v1::CancelAlertResponse> Cancel(
      std::string_view caller, const alerts::v1::CancelAlertRequest& request);

 private:
  absl::StatusOr<alerts::v1::CancelAlertResponse> Stop(
      std::string_view caller, const alerts::v1::CancelAlertRequest& request);
  absl::Status PublishCancelRequested(const AlertOwner& owner, std::string_view alert_id,
                                      stopped_alerts::StopReason stopped_by);

  const CancellationOptions options_;
  IdempotencyStore& owners_;
  stopped_alerts::StoppedAlerts& stopped_;
  messaging::Publisher& publisher_;
  CancellationObserver& observer_;
  timing::Clock& clock_;
};

}  // namespace klaxon::ingress
