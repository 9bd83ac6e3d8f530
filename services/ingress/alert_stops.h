#pragma once
// The CancelAlert and AcknowledgeAlert use cases (ADR 0007, "Stops"): only the caller that sent
// an alert may stop it. The stop is written to StoppedAlerts first, which is what workers check
// before every send and escalation step, then the durable record that audit projects is
// published (a DeliveryEvent{cancel_requested} or {acknowledged}, about the alert and none of its
// attempts); the caller hears OK only once Kafka acknowledged it. Every step is idempotent, so a
// call retried after an error converges. The first stop wins: an alert acknowledged stays
// acknowledged when cancelled, and one cancelled cannot be acknowledged. Acknowledging a page of an
// escalation chain stops its chain (docs/adr/0029); cancelling the chain's id cancels every page
// not sent yet, cancelling a later page only that page.

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/messaging/message.h"
#include "common/stopped_alerts/stopped_alerts.h"
#include "common/timing/clock.h"
#include "klaxon/alerts/v1/alerts.pb.h"
#include "klaxon/events/v1/events.pb.h"
#include "services/ingress/idempotency_store.h"

namespace klaxon::ingress {

struct StopOptions {
  std::string topic;  // klaxon.delivery.events, with the deployment's prefix
  absl::Duration publish_timeout = absl::Seconds(5);
};

// What AlertStops reports for metrics and logs.
class StopObserver {
 public:
  virtual ~StopObserver() = default;
  // `stopped_by` is the stop that holds: kAcknowledged when the recipient acknowledged first.
  virtual void OnCancelled(std::string_view caller, std::string_view alert_id,
                           bool already_cancelled, stopped_alerts::StopReason stopped_by) = 0;
  virtual void OnAcknowledged(std::string_view caller, std::string_view alert_id,
                              bool already_acknowledged) = 0;
  // `asked` tells a refused CancelAlert (kCancelled) from a refused AcknowledgeAlert.
  virtual void OnStopRefused(std::string_view caller, stopped_alerts::StopReason asked,
                             const absl::Status& status) = 0;
};

class AlertStops {
 public:
  // Every reference is borrowed and must outlive this object.
  AlertStops(StopOptions options, IdempotencyStore& owners, stopped_alerts::StoppedAlerts& stopped,
             messaging::Publisher& publisher, StopObserver& observer, timing::Clock& clock);

  // Both answer:
  //   kInvalidArgument  alert_id is not a canonical UUID
  //   kNotFound         no alert with that id was sent by `caller` within the idempotency window
  //                     (someone else's alert gets the same answer, so ids cannot be probed)
  //   kUnavailable      Redis or Kafka did not answer: retry, it is safe
  absl::StatusOr<alerts::v1::CancelAlertResponse> Cancel(
      std::string_view caller, const alerts::v1::CancelAlertRequest& request);
  // And kFailedPrecondition when the alert was cancelled before.
  absl::StatusOr<alerts::v1::AcknowledgeAlertResponse> Acknowledge(
      std::string_view caller, const alerts::v1::AcknowledgeAlertRequest& request);

 private:
  // What a stop found and left.
  struct Stopped {
    AlertOwner owner;
    bool already = false;  // the alert was stopped for `asked` before this call
    stopped_alerts::StopReason holding = stopped_alerts::StopReason::kCancelled;
  };

  absl::StatusOr<Stopped> Stop(std::string_view caller, std::string_view alert_id,
                               stopped_alerts::StopReason asked);
  absl::StatusOr<alerts::v1::CancelAlertResponse> StopAsCancelled(
      std::string_view caller, const alerts::v1::CancelAlertRequest& request);
  absl::StatusOr<alerts::v1::AcknowledgeAlertResponse> StopAsAcknowledged(
      std::string_view caller, const alerts::v1::AcknowledgeAlertRequest& request);
  // Publishes `event` about `owner`'s alert as the stop's durable record.
  absl::Status PublishRecord(const AlertOwner& owner, std::string_view alert_id,
                             events::v1::DeliveryEvent event, std::string_view rpc);
  // Publishes a record whose header is made, keyed by the alert it is about.
  absl::Status Publish(const events::v1::DeliveryEvent& event, std::string_view rpc);

  const StopOptions options_;
  IdempotencyStore& owners_;
  stopped_alerts::StoppedAlerts& stopped_;
  messaging::Publisher& publisher_;
  StopObserver& observer_;
  timing::Clock& clock_;
};

}  // namespace klaxon::ingress
