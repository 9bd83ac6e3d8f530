#include "services/ingress/alert_stops.h"

#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/ids/uuid.h"
#include "common/prototime/prototime.h"
#include "common/stopped_alerts/escalation_chains.h"

namespace klaxon::ingress {

using alerts::v1::AcknowledgeAlertRequest;
using alerts::v1::AcknowledgeAlertResponse;
using alerts::v1::CancelAlertRequest;
using alerts::v1::CancelAlertResponse;
using stopped_alerts::StopReason;

AlertStops::AlertStops(StopOptions options, IdempotencyStore& owners,
                       stopped_alerts::StoppedAlerts& stopped, messaging::Publisher& publisher,
                       StopObserver& observer, timing::Clock& clock)
    : options_(std::move(options)),
      owners_(owners),
      stopped_(stopped),
      publisher_(publisher),
      observer_(observer),
      clock_(clock) {}

absl::StatusOr<CancelAlertResponse> AlertStops::Cancel(std::string_view caller,
                                                       const CancelAlertRequest& request) {
  absl::StatusOr<CancelAlertResponse> response = StopAsCancelled(caller, request);
  if (!response.ok()) observer_.OnStopRefused(caller, StopReason::kCancelled, response.status());
  return response;
}

absl::StatusOr<AcknowledgeAlertResponse> AlertStops::Acknowledge(
    std::string_view caller, const AcknowledgeAlertRequest& request) {
  absl::StatusOr<AcknowledgeAlertResponse> response = StopAsAcknowledged(caller, request);
  if (!response.ok()) {
    observer_.OnStopRefused(caller, StopReason::kAcknowledged, response.status());
  }
  return response;
}

absl::StatusOr<AlertStops::Stopped> AlertStops::Stop(std::string_view caller,
                                                     std::string_view alert_id, StopReason asked) {
  if (!ids::IsUuid(alert_id)) {
    return absl::InvalidArgumentError("alert_id: must be a canonical UUID as SendAlert returned");
  }
  absl::StatusOr<std::optional<AlertOwner>> owner = owners_.FindOwner(alert_id);
  if (!owner.ok()) return owner.status();
  if (!owner->has_value() || (*owner)->caller != caller) {
    return absl::NotFoundError(
        "alert_id: no alert with this id was sent with your API key in the last day");
  }
  absl::StatusOr<std::optional<StopReason>> before = stopped_.Find(alert_id);
  if (!before.ok()) return before.status();
  absl::StatusOr<StopReason> holding = stopped_.Stop(alert_id, asked, stopped_alerts::kKeepStopFor);
  if (!holding.ok()) return holding.status();
  return Stopped{.owner = **std::move(owner),
                 .already = before->has_value() && **before == asked,
                 .holding = *holding};
}

absl::StatusOr<CancelAlertResponse> AlertStops::StopAsCancelled(std::string_view caller,
                                                                const CancelAlertRequest& request) {
  const std::string& alert_id = request.alert_id();
  absl::StatusOr<Stopped> stopped = Stop(caller, alert_id, StopReason::kCancelled);
  if (!stopped.ok()) return stopped.status();
  // Published on every call, a retry's too: the first publish may be the one that failed, and
  // audit folds a repeated cancel_requested into the same record.
  events::v1::DeliveryEvent event;
  event.mutable_cancel_requested()->set_reason(
      stopped->holding == StopReason::kAcknowledged
          ? "cancelled by the caller after the alert was acknowledged"
          : "cancelled by the caller");
  if (absl::Status published =
          PublishRecord(stopped->owner, alert_id, std::move(event), "CancelAlert");
      !published.ok()) {
    return published;
  }
  CancelAlertResponse response;
  response.set_already_cancelled(stopped->already);
  observer_.OnCancelled(caller, alert_id, response.already_cancelled(), stopped->holding);
  return response;
}

absl::StatusOr<AcknowledgeAlertResponse> AlertStops::StopAsAcknowledged(
    std::string_view caller, const AcknowledgeAlertRequest& request) {
  const std::string& alert_id = request.alert_id();
  absl::StatusOr<Stopped> stopped = Stop(caller, alert_id, StopReason::kAcknowledged);
  if (!stopped.ok()) return stopped.status();
  if (stopped->holding == StopReason::kCancelled) {
    return absl::FailedPreconditionError(
        "alert_id: the alert was cancelled before it was acknowledged; it stays cancelled");
  }
  const std::string reason =
      absl::StrCat("by the caller ", std::string(caller), " through the API");
  // The page's chain is stopped before anything is published (ADR 0029), so a publish that fails
  // leaves no page of it to be sent. Its record names this page, the first one's too (the chain's
  // id is the first page's, stopped above already, and GetAlert shows who acknowledged).
  std::optional<events::v1::DeliveryEvent> chain_record;
  if (const ChainPosition& chain = stopped->owner.chain; chain.step > 0) {
    absl::StatusOr<std::optional<events::v1::DeliveryEvent>> record =
        stopped_alerts::AcknowledgeChain(stopped_,
                                         {.escalation_id = chain.escalation_id,
                                          .step = chain.step,
                                          .alert_id = alert_id,
                                          .caller = std::string(caller),
                                          .channel = stopped->owner.channel},
                                         reason, clock_.Now());
    if (!record.ok()) return record.status();
    chain_record = *std::move(record);
  }
  // Published on every call, as a cancel is: a retry may follow a publish that failed. Each is
  // one more line of the alert's trail; the status stays ACKNOWLEDGED.
  events::v1::DeliveryEvent event;
  event.mutable_acknowledged()->set_reason(absl::StrCat("acknowledged ", reason));
  if (absl::Status published =
          PublishRecord(stopped->owner, alert_id, std::move(event), "AcknowledgeAlert");
      !published.ok()) {
    return published;
  }
  if (chain_record.has_value()) {
    if (absl::Status published = Publish(*chain_record, "AcknowledgeAlert"); !published.ok()) {
      return published;
    }
  }
  AcknowledgeAlertResponse response;
  response.set_already_acknowledged(stopped->already);
  observer_.OnAcknowledged(caller, alert_id, response.already_acknowledged());
  return response;
}

absl::Status AlertStops::PublishRecord(const AlertOwner& owner, std::string_view alert_id,
                                       events::v1::DeliveryEvent event, std::string_view rpc) {
  events::v1::EventHeader& header = *event.mutable_header();
  header.set_alert_id(std::string(alert_id));
  header.set_caller(owner.caller);
  header.set_channel(owner.channel);
  // The stop is about the alert, not one attempt; 1 keeps the header valid for every reader.
  header.set_attempt(1);
  *header.mutable_occurred_at() = prototime::ToProto(clock_.Now());
  return Publish(event, rpc);
}

absl::Status AlertStops::Publish(const events::v1::DeliveryEvent& event, std::string_view rpc) {
  absl::Status status = publisher_.Publish({.topic = options_.topic,
                                            .key = event.header().alert_id(),
                                            .value = event.SerializeAsString()},
                                           options_.publish_timeout);
  if (status.ok()) return status;
  return absl::UnavailableError(absl::StrCat("the alert is stopped, but the stop could not be ",
                                             "recorded in Kafka (", status.message(), "); retry ",
                                             std::string(rpc)));
}

}  // namespace klaxon::ingress
