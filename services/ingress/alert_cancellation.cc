#include "services/ingress/alert_cancellation.h"

#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/ids/uuid.h"
#include "common/prototime/prototime.h"
#include "klaxon/events/v1/events.pb.h"

namespace klaxon::ingress {

using alerts::v1::CancelAlertRequest;
using alerts::v1::CancelAlertResponse;

AlertCancellation::AlertCancellation(CancellationOptions options, IdempotencyStore& owners,
                                     stopped_alerts::StoppedAlerts& stopped,
                                     messaging::Publisher& publisher,
                                     CancellationObserver& observer, timing::Clock& clock)
    : options_(std::move(options)),
      owners_(owners),
      stopped_(stopped),
      publisher_(publisher),
      observer_(observer),
      clock_(clock) {}

absl::StatusOr<CancelAlertResponse> AlertCancellation::Cancel(std::string_view caller,
                                                              const CancelAlertRequest& request) {
  absl::StatusOr<CancelAlertResponse> response = Stop(caller, request);
  if (!response.ok()) observer_.OnCancelRefused(caller, response.status());
  return response;
}

absl::StatusOr<CancelAlertResponse> AlertCancellation::Stop(std::string_view caller,
                                                            const CancelAlertRequest& request) {
  const std::string& alert_id = request.alert_id();
  if (!ids::IsUuid(alert_id)) {
    return absl::InvalidArgumentError("alert_id: must be a canonical UUID as SendAlert returned");
  }
  absl::StatusOr<std::optional<AlertOwner>> owner = owners_.FindOwner(alert_id);
  if (!owner.ok()) return owner.status();
  if (!owner->has_value() || (*owner)->caller != caller) {
    return absl::NotFoundError(
        "alert_id: no alert with this id was sent with your API key in the last day");
  }
  absl::StatusOr<std::optional<stopped_alerts::StopReason>> before = stopped_.Find(alert_id);
  if (!before.ok()) return before.status();
  absl::StatusOr<stopped_alerts::StopReason> holding =
      stopped_.Stop(alert_id, stopped_alerts::StopReason::kCancelled, options_.keep_stop_for);
  if (!holding.ok()) return holding.status();
  // Published on every call, a retry's too: the first publish may be the one that failed, and
  // audit folds a repeated cancel_requested into the same record.
  if (absl::Status published = PublishCancelRequested(**owner, alert_id, *holding);
      !published.ok()) {
    return published;
  }
  CancelAlertResponse response;
  response.set_already_cancelled(before->has_value() &&
                                 **before == stopped_alerts::StopReason::kCancelled);
  observer_.OnCancelled(caller, alert_id, response.already_cancelled(), *holding);
  return response;
}

absl::Status AlertCancellation::PublishCancelRequested(const AlertOwner& owner,
                                                       std::string_view alert_id,
                                                       stopped_alerts::StopReason stopped_by) {
  events::v1::DeliveryEvent event;
  events::v1::EventHeader& header = *event.mutable_header();
  header.set_alert_id(std::string(alert_id));
  header.set_caller(owner.caller);
  header.set_channel(owner.channel);
  // The cancel is about the alert, not one attempt; 1 keeps the header valid for every reader.
  header.set_attempt(1);
  *header.mutable_occurred_at() = prototime::ToProto(clock_.Now());
  event.mutable_cancel_requested()->set_reason(
      stopped_by == stopped_alerts::StopReason::kAcknowledged
          ? "cancelled by the caller after the recipient acknowledged"
          : "cancelled by the caller");
  absl::Status status = publisher_.Publish(
      {.topic = options_.topic, .key = std::string(alert_id), .value = event.SerializeAsString()},
      options_.publish_timeout);
  if (status.ok()) return status;
  return absl::UnavailableError(
      absl::StrCat("the alert is stopped, but the cancellation could not be recorded in Kafka (",
                   status.message(), "); retry CancelAlert"));
}

}  // namespace klaxon::ingress
