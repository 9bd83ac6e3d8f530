#include "common/stopped_alerts/escalation_chains.h"

#include "absl/strings/str_cat.h"
#include "common/prototime/prototime.h"

namespace klaxon::stopped_alerts {

absl::StatusOr<std::optional<events::v1::DeliveryEvent>> AcknowledgeChain(StoppedAlerts& stopped,
                                                                          const ChainPage& page,
                                                                          std::string_view reason,
                                                                          absl::Time now) {
  if (page.escalation_id.empty() || page.step == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("alert ", page.alert_id, " is not a page of an escalation chain"));
  }
  absl::StatusOr<StopReason> holding =
      stopped.Stop(page.escalation_id, StopReason::kAcknowledged, kKeepStopFor);
  if (!holding.ok()) return holding.status();
  if (*holding != StopReason::kAcknowledged) return std::nullopt;

  events::v1::DeliveryEvent record;
  events::v1::EventHeader& header = *record.mutable_header();
  header.set_alert_id(page.escalation_id);
  header.set_caller(page.caller);
  header.set_channel(page.channel);
  // The record is about the chain, none of its attempts; 1 keeps the header valid.
  header.set_attempt(1);
  *header.mutable_occurred_at() = prototime::ToProto(now);
  events::v1::AlertAcknowledged& acknowledged = *record.mutable_acknowledged();
  acknowledged.set_reason(absl::StrCat("the escalation was acknowledged at step ", page.step, ", ",
                                       std::string(reason)));
  acknowledged.set_by_alert_id(page.alert_id);
  acknowledged.set_by_step(page.step);
  return record;
}

}  // namespace klaxon::stopped_alerts
